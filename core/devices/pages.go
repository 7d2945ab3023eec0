package devices

import (
	"embed"
	"io/fs"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/i18n"
	"github.com/portalkit/portalkit/core/web"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed i18n/*.json
var translationFS embed.FS

// Templates returns the devices pages (registered under "devices").
func Templates() fs.FS {
	sub, _ := fs.Sub(templateFS, "templates")
	return sub
}

// Translations returns the devices translations.
func Translations() fs.FS {
	sub, _ := fs.Sub(translationFS, "i18n")
	return sub
}

// Nav is the devices entry of the navigation.
func Nav() []web.NavItem {
	return []web.NavItem{{Label: "Devices", Path: "/devices", Roles: []string{string(accounts.Customer), string(accounts.Staff), string(accounts.Admin)}, Order: 750}}
}

var flashes = map[string]string{
	"disabled": "The device is disabled and disconnected.",
	"enabled":  "The device is enabled.",
	"deleted":  "The device is deleted.",
}

type pages struct {
	s *Service
}

// MountPages adds /devices (list, and a registration form for staff and
// admins), /devices/<id> (details, reject log, latest readings) and its
// action forms.
// The layout translates the pages' texts; the catalog is not needed here.
func (s *Service) MountPages(app *fiber.App, acc *accounts.Service, _ *i18n.Catalog) {
	pg := &pages{s: s}
	g := app.Group("/devices", acc.RequirePage(people...))
	g.Get("/", pg.list)
	g.Post("/", pg.create)
	g.Get("/:id", pg.detail)
	g.Post("/:id/disable", pg.action("disable"))
	g.Post("/:id/enable", pg.action("enable"))
	g.Post("/:id/rotate", pg.action("rotate"))
	g.Post("/:id/delete", pg.action("delete"))
}

func (pg *pages) render(c *fiber.Ctx, p *accounts.Principal, name, title string, data map[string]any) error {
	page := &web.Page{Title: title, Data: data} // English: the layout translates
	if msg, ok := flashes[c.Query("msg")]; ok {
		page.Flash, page.FlashKind = msg, "ok"
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.RenderPage(c, "devices/"+name, page)
}

// devicesPageSize is how many devices the list page shows at once.
const devicesPageSize = 100

type deviceForm struct {
	Values map[string]string
	Errors map[string]string
	Error  string
}

func (pg *pages) listData(c *fiber.Ctx, p *accounts.Principal, f *deviceForm, created *Created) (map[string]any, error) {
	page := max(0, c.QueryInt("page"))
	list, err := pg.s.List(c.UserContext(), ActorOf(p), ListFilter{Offset: page * devicesPageSize, Limit: devicesPageSize + 1})
	if err != nil {
		return nil, err
	}
	var prev, next string
	if page > 0 {
		prev = "/devices?page=" + strconv.Itoa(page-1)
	}
	if len(list) > devicesPageSize {
		list, next = list[:devicesPageSize], "/devices?page="+strconv.Itoa(page+1)
	}
	if f == nil {
		f = &deviceForm{Values: map[string]string{}, Errors: map[string]string{}}
	}
	return map[string]any{"Devices": list, "Prev": prev, "Next": next, "Manager": p.Is(managers...), "Modules": p.Modules, "Form": f, "Created": created}, nil
}

func (pg *pages) list(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	data, err := pg.listData(c, p, nil, nil)
	if err != nil {
		return err
	}
	return pg.render(c, p, "list", "Devices", data)
}

func (pg *pages) create(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	if !p.Is(managers...) {
		return errs.Forbiddenf("only staff and administrators register devices here")
	}
	f := &deviceForm{Values: map[string]string{}, Errors: map[string]string{}}
	for _, k := range []string{"owner", "module", "name", "kind"} {
		f.Values[k] = strings.TrimSpace(c.FormValue(k))
	}
	in := NewDevice{Module: f.Values["module"], Name: f.Values["name"], Kind: f.Values["kind"]}
	var created *Created
	u, err := pg.s.accounts.UserByEmail(c.UserContext(), p.OrgID, strings.ToLower(f.Values["owner"]))
	if err != nil || u.Role != accounts.Customer {
		err = errs.InvalidField("owner", "no customer with this e-mail address in the organisation")
	} else {
		in.OwnerID = u.ID
		created, err = pg.s.Create(c.UserContext(), ActorOf(p), in)
	}
	if err != nil {
		e, ok := errs.As(err)
		if !ok || e.Kind != errs.Invalid {
			return err
		}
		for _, fe := range e.Fields {
			name := fe.Field
			if name == "owner_id" {
				name = "owner"
			}
			f.Errors[name] = fe.Message
		}
		if len(e.Fields) == 0 {
			f.Error = e.Message
		}
		c.Status(fiber.StatusUnprocessableEntity)
		created = nil
	}
	data, derr := pg.listData(c, p, f, created)
	if derr != nil {
		return derr
	}
	return pg.render(c, p, "list", "Devices", data)
}

func (pg *pages) detail(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	return pg.showDetail(c, p, nil)
}

func (pg *pages) showDetail(c *fiber.Ctx, p *accounts.Principal, rotated *Created) error {
	ctx, a, id := c.UserContext(), ActorOf(p), c.Params("id")
	d, err := pg.s.Get(ctx, a, id)
	if err != nil {
		return err
	}
	rejects, err := pg.s.Rejects(ctx, a, id)
	if err != nil {
		return err
	}
	readings, err := pg.s.Readings(ctx, a, id, 20)
	if err != nil {
		return err
	}
	return pg.render(c, p, "detail", "Device", map[string]any{"Device": d, "Topics": d.Topics(), "Rejects": rejects,
		"Readings": readings, "Manager": p.Is(managers...), "Admin": p.Is(admins...), "Rotated": rotated})
}

func (pg *pages) action(what string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, _ := accounts.PrincipalOf(c)
		ctx, a, id := c.UserContext(), ActorOf(p), c.Params("id")
		var err error
		switch what {
		case "disable":
			_, err = pg.s.Disable(ctx, a, id)
		case "enable":
			_, err = pg.s.Enable(ctx, a, id)
		case "delete":
			if err = pg.s.Delete(ctx, a, id); err == nil {
				return c.Redirect("/devices?msg=deleted", fiber.StatusSeeOther)
			}
		case "rotate":
			var cr *Created
			if cr, err = pg.s.Rotate(ctx, a, id); err == nil {
				return pg.showDetail(c, p, cr)
			}
		}
		if err != nil {
			return err
		}
		return c.Redirect("/devices/"+id+"?msg="+what+"d", fiber.StatusSeeOther)
	}
}
