package dashboard

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"reflect"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/web"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed i18n/*.json
var translationFS embed.FS

// Templates returns the dashboard's templates (registered under the
// "dashboard" prefix).
func Templates() fs.FS {
	sub, _ := fs.Sub(templateFS, "templates")
	return sub
}

// Translations returns the dashboard's translations ("<locale>.json").
func Translations() fs.FS {
	sub, _ := fs.Sub(translationFS, "i18n")
	return sub
}

// Nav is the dashboard's navigation entry.
func Nav() []web.NavItem {
	return []web.NavItem{{Label: "Dashboard", Path: "/", Roles: []string{string(accounts.Customer), string(accounts.Staff), string(accounts.Admin)}, Order: -100}}
}

// pageRoles have a dashboard page; platform admins keep the start page.
var pageRoles = []accounts.Role{accounts.Customer, accounts.Staff, accounts.Admin}

// HasPage reports whether p's landing page is the dashboard.
func HasPage(p *accounts.Principal) bool { return p != nil && p.UserID != 0 && p.Is(pageRoles...) }

// MountPages adds the dashboard page (GET /dashboard; the kernel also
// serves it at / to signed-in people) and its layout form
// (POST /dashboard/layout).
func (s *Service) MountPages(app *fiber.App, acc *accounts.Service) {
	app.Get("/dashboard", acc.RequirePage(pageRoles...), s.Page)
	app.Post("/dashboard/layout", acc.RequirePage(pageRoles...), s.layoutSubmit)
}

// pageData is what the dashboard template receives as .Data.
type pageData struct {
	Cards  []*Card
	Hidden []*Card
	s      *Service
}

// Body renders a card's body with its widget's template. A template that
// fails or panics becomes the card's error message (logged with the request
// ID), so one widget never breaks the page: {{$.Data.Body $ .}}.
func (d *pageData) Body(page *web.Page, c *Card) template.HTML {
	out, err := page.Fragment(c.Template, c.Data)
	if err != nil {
		d.s.log.Error("dashboard widget template failed", "widget", c.ID, "template", c.Template, "request_id", page.RequestID, "err", err)
		return errorCard(page)
	}
	return out
}

// errorCard is the body of a widget that could not be shown.
func errorCard(page *web.Page) template.HTML {
	return template.HTML(`<div class="widget-error" role="alert"><p>` + template.HTMLEscapeString(page.T(msgWidgetFailed)) +
		`</p><p class="muted">` + template.HTMLEscapeString(page.T("Reference:")) + ` <code>` + template.HTMLEscapeString(page.RequestID) + `</code></p></div>`)
}

// ErrorCard is errorCard for the template of a card whose data failed.
func (d *pageData) ErrorCard(page *web.Page) template.HTML { return errorCard(page) }

// flashes are the messages the page shows after a layout change; the page
// never reflects text from the query string.
var flashes = map[string]string{
	"moved":  "The widget is moved.",
	"hidden": "The widget is hidden. You can show it again below.",
	"shown":  "The widget is shown again.",
	"reset":  "Your dashboard is back to its default layout.",
}

// Page renders the signed-in person's dashboard.
func (s *Service) Page(c *fiber.Ctx) error {
	p, ok := accounts.PrincipalOf(c)
	if !ok || !HasPage(p) {
		return errs.NotFoundf("not found")
	}
	if c.Get("X-Portal-Live") == "1" {
		// live.js refreshing cards after a live event: the event is news
		// the cache (per instance) may not have heard of.
		s.Forget(p.OrgID, p.UserID)
	}
	b, err := s.Board(c.UserContext(), p, web.RequestID(c))
	if err != nil {
		return err
	}
	page := &web.Page{Title: "Dashboard", Data: &pageData{Cards: b.Cards, Hidden: b.Hidden, s: s}}
	if msg, ok := flashes[c.Query("msg")]; ok {
		page.Flash, page.FlashKind = s.t(p.Locale, msg), "ok"
	}
	return web.RenderPage(c, "dashboard/dashboard", page)
}

func (s *Service) layoutSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, action := c.FormValue("widget"), c.FormValue("action")
	if err := s.Change(c.UserContext(), p, id, action); err != nil {
		return err
	}
	msg := map[string]string{ActionUp: "moved", ActionDown: "moved", ActionHide: "hidden", ActionShow: "shown", ActionReset: "reset"}[action]
	target := "/?msg=" + msg
	if action != ActionReset && action != ActionHide {
		target += "#w-" + url.PathEscape(strings.ReplaceAll(id, ".", "-"))
	}
	return c.Redirect(target, fiber.StatusSeeOther)
}

// DashboardView is the answer of GET /api/v1/dashboard (documented in the
// OpenAPI description; the handler writes it with EncodeJSON).
type DashboardView struct {
	Widgets   []CardJSON `json:"widgets" doc:"The visible widgets, in the caller's order, each with its data or an error"`
	Hidden    []CardJSON `json:"hidden" doc:"The widgets the caller hid (no data)"`
	RequestID string     `json:"request_id" doc:"Quote it when a widget reports an error"`
}

// dashboardOutput carries the encoded DashboardView: huma writes a []byte
// body as it is, without encoding it again.
type dashboardOutput struct {
	ContentType string `header:"Content-Type"`
	Body        []byte
}

type layoutOutput struct {
	Body *LayoutView
}

type layoutInput struct {
	Body struct {
		Order  []string `json:"order,omitempty" maxItems:"100" doc:"Widget IDs in the order wanted; widgets left out follow in default order"`
		Hidden []string `json:"hidden,omitempty" maxItems:"100" doc:"Widget IDs to hide"`
	}
}

// RegisterAPI declares the dashboard operations: GET /api/v1/dashboard and
// GET, PUT, DELETE /api/v1/dashboard/layout. They act on the caller's own
// dashboard and take no IDs, so one person can never read or change
// another's.
func (s *Service) RegisterAPI(api huma.API) {
	tag := func(o *huma.Operation) { o.Tags = []string{"Dashboard"} }
	who := func(ctx context.Context) (*accounts.Principal, error) {
		p, ok := accounts.PrincipalFrom(ctx)
		if !ok || p.UserID == 0 {
			return nil, errs.Forbiddenf("only people have a dashboard")
		}
		return p, nil
	}
	view := api.OpenAPI().Components.Schemas.Schema(reflect.TypeOf(DashboardView{}), true, "DashboardView")
	accounts.Register(api, huma.Operation{OperationID: "dashboard", Method: http.MethodGet, Path: "/api/v1/dashboard",
		Summary: "My dashboard",
		Description: "The caller's visible widgets in their order, each with its data, for mobile apps. A widget that fails carries " +
			"\"error\" instead of \"data\"; the rest of the dashboard is unaffected.",
		Responses: map[string]*huma.Response{"200": {Description: "OK",
			Content: map[string]*huma.MediaType{"application/json": {Schema: view}}}}},
		func(ctx context.Context, _ *struct{}) (*dashboardOutput, error) {
			p, err := who(ctx)
			if err != nil {
				return nil, err
			}
			rid := web.RequestIDFrom(ctx)
			b, err := s.Board(ctx, p, rid)
			if err != nil {
				return nil, err
			}
			return &dashboardOutput{ContentType: "application/json", Body: s.EncodeJSON(b, p.Locale, rid)}, nil
		}, accounts.Allow(dashboardRoles...), tag)

	accounts.Register(api, huma.Operation{OperationID: "dashboard-layout", Method: http.MethodGet, Path: "/api/v1/dashboard/layout",
		Summary: "My dashboard layout", Description: "The order of the caller's widgets, the hidden ones, and every widget available to them."},
		func(ctx context.Context, _ *struct{}) (*layoutOutput, error) {
			p, err := who(ctx)
			if err != nil {
				return nil, err
			}
			v, err := s.Layout(ctx, p)
			if err != nil {
				return nil, err
			}
			return &layoutOutput{Body: v}, nil
		}, accounts.Allow(dashboardRoles...), tag)

	accounts.Register(api, huma.Operation{OperationID: "dashboard-layout-set", Method: http.MethodPut, Path: "/api/v1/dashboard/layout",
		Summary: "Arrange my dashboard",
		Description: "Sets the order of the caller's widgets and which are hidden; the browser and every app show the same. " +
			"An ID that is not a widget available to the caller, or one listed twice, is a 422 naming it, and nothing is changed."},
		func(ctx context.Context, in *layoutInput) (*layoutOutput, error) {
			p, err := who(ctx)
			if err != nil {
				return nil, err
			}
			v, err := s.SetLayout(ctx, p, in.Body.Order, in.Body.Hidden)
			if err != nil {
				return nil, err
			}
			return &layoutOutput{Body: v}, nil
		}, accounts.Allow(dashboardRoles...), tag)

	accounts.Register(api, huma.Operation{OperationID: "dashboard-layout-reset", Method: http.MethodDelete, Path: "/api/v1/dashboard/layout",
		Summary: "Reset my dashboard layout", Description: "Back to the default layout of the caller's role.", DefaultStatus: http.StatusNoContent},
		func(ctx context.Context, _ *struct{}) (*struct{}, error) {
			p, err := who(ctx)
			if err != nil {
				return nil, err
			}
			return nil, s.ResetLayout(ctx, p)
		}, accounts.Allow(dashboardRoles...), tag)
}
