package timeline

import (
	"embed"
	"io/fs"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/web"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed i18n/*.json
var translationFS embed.FS

// Templates returns the timeline pages (prefix "timeline").
func Templates() fs.FS {
	sub, _ := fs.Sub(templateFS, "templates")
	return sub
}

// Translations returns the timeline's texts.
func Translations() fs.FS {
	sub, _ := fs.Sub(translationFS, "i18n")
	return sub
}

// Nav is "My activity" for customers and "Customers" for staff and admins.
func Nav() []web.NavItem {
	return []web.NavItem{
		{Label: "My activity", Path: "/activity", Roles: []string{string(accounts.Customer)}, Order: 700},
		{Label: "Customers", Path: "/staff/customers", Roles: []string{string(accounts.Staff), string(accounts.Admin)}, Order: 705},
	}
}

// MountPages adds /activity, /staff/customers and
// /staff/customers/:id/timeline.
func (s *Service) MountPages(app *fiber.App) {
	app.Get("/activity", s.acc.RequirePage(accounts.Customer), s.activityPage)
	staff := app.Group("/staff/customers", s.acc.RequirePage(accounts.Staff, accounts.Admin))
	staff.Get("/", s.customersPage)
	staff.Get("/:id/timeline", s.customerPage)
}

func (s *Service) activityPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	return s.renderTimeline(c, p, p.UserID, "My activity", "/activity", nil)
}

func (s *Service) customerPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	cust, err := s.CustomerFor(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	return s.renderTimeline(c, p, cust.ID, "Customer timeline", "/staff/customers/"+strconv.FormatUint(uint64(id), 10)+"/timeline", cust)
}

func (s *Service) renderTimeline(c *fiber.Ctx, p *accounts.Principal, customerID uint, title, base string, cust *Customer) error {
	q := TimelineQuery{Module: c.Query("module"), Event: c.Query("event"), From: c.Query("from"), To: c.Query("to"), Cursor: c.Query("cursor"), Limit: 50}
	data := map[string]any{"Customer": cust, "Query": q, "Base": base}
	f, err := q.filter(p)
	var page *Page
	if err == nil {
		page, err = s.List(c.UserContext(), p, customerID, f, langFor(p, ""))
	}
	if err != nil {
		e, ok := errs.As(err)
		if !ok || e.Kind != errs.Invalid {
			return err
		}
		c.Status(fiber.StatusUnprocessableEntity)
		data["Error"] = "Please check the filters: dates are written YYYY-MM-DD and the end comes after the start."
		page = &Page{}
	}
	mods, err := s.Modules(c.UserContext(), p.OrgID, customerID)
	if err != nil {
		return err
	}
	data["Page"], data["Modules"] = page, mods
	if page.NextCursor != "" {
		v := url.Values{}
		for k, val := range map[string]string{"module": q.Module, "event": q.Event, "from": q.From, "to": q.To, "cursor": page.NextCursor} {
			if val != "" {
				v.Set(k, val)
			}
		}
		data["Next"] = base + "?" + v.Encode()
	}
	return web.Render(c, "timeline/timeline", title, data)
}

func (s *Service) customersPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	pageNo, _ := strconv.Atoi(c.Query("page", "1"))
	if pageNo < 1 {
		pageNo = 1
	}
	const size = 50
	list, err := s.Customers(c.UserContext(), p, c.Query("q"), (pageNo-1)*size, size+1)
	if err != nil {
		return err
	}
	data := map[string]any{"Query": c.Query("q"), "Page": pageNo, "IsAdmin": p.Is(accounts.Admin)}
	if len(list) > size {
		list = list[:size]
		data["NextPage"] = pageNo + 1
	}
	if pageNo > 1 {
		data["PrevPage"] = pageNo - 1
	}
	data["Customers"] = list
	return web.Render(c, "timeline/customers", "Customers", data)
}
