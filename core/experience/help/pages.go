package help

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
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

// Templates returns the help pages (registered under the "help" prefix).
func Templates() fs.FS {
	sub, _ := fs.Sub(templateFS, "templates")
	return sub
}

// Translations returns the help centre's translations.
func Translations() fs.FS {
	sub, _ := fs.Sub(translationFS, "i18n")
	return sub
}

// Nav is the help centre's navigation: the help centre for everyone, the
// editor for staff.
func Nav() []web.NavItem {
	return []web.NavItem{
		{Label: "Help", Path: "/help", Public: true, Order: 800},
		{Label: "Help articles", Path: "/help/manage", Roles: []string{string(accounts.Staff), string(accounts.Admin)}, Order: 810},
	}
}

// flashes are the messages pages redirect with (never text from the URL).
var flashes = map[string]string{
	"voted":       "Thank you for your feedback.",
	"saved":       "The article is saved.",
	"created":     "The article is created as a draft. Publish it when it is ready.",
	"published":   "The article is published.",
	"unpublished": "The article is unpublished: readers no longer see it.",
	"deleted":     "The article is deleted.",
	"settings":    "The help centre's settings are saved.",
}

type form struct {
	Values map[string]string
	Errors map[string]string
	Error  string
}

func (f *form) fail(err error) error {
	e, ok := errs.As(err)
	if !ok || e.Kind == errs.Internal {
		return err
	}
	for _, fe := range e.Fields {
		name := strings.TrimPrefix(fe.Field, "body.")
		if _, exists := f.Errors[name]; !exists {
			f.Errors[name] = fe.Message
		}
	}
	if len(e.Fields) == 0 || e.Kind != errs.Invalid {
		f.Error = e.Message
	} else {
		f.Error = "Please correct the fields marked below."
	}
	return nil
}

// pages holds what page handlers share.
type pages struct {
	s   *Service
	acc *accounts.Service
	cat *i18n.Catalog
}

// MountPages adds the help centre pages: /help (index and search),
// /help/a/<slug> (an article, with "was this helpful?") and the staff
// editor under /help/manage.
func (s *Service) MountPages(app *fiber.App, cat *i18n.Catalog) {
	pg := &pages{s: s, acc: s.acc, cat: cat}
	app.Get("/help", pg.index)
	app.Get("/help/search", pg.search)
	app.Get("/help/a/:slug", pg.article)
	app.Post("/help/a/:slug/vote", s.acc.RequirePage(), pg.vote)

	m := app.Group("/help/manage", s.acc.RequirePage(accounts.Staff, accounts.Admin))
	m.Get("/", pg.manage)
	m.Post("/settings", s.acc.RequirePage(accounts.Admin), pg.settingsSubmit)
	m.Get("/new", pg.editPage)
	m.Post("/new", pg.editSubmit)
	m.Get("/:id", pg.editPage)
	m.Post("/:id", pg.editSubmit)
	m.Post("/:id/publish", pg.publishSubmit(true))
	m.Post("/:id/unpublish", pg.publishSubmit(false))
	m.Post("/:id/delete", pg.deleteSubmit)
}

// errSignIn tells a page handler that the visitor was sent to sign in.
var errSignIn = fmt.Errorf("help: visitor sent to sign in")

// readerOf resolves the reader of a page; anonymous visitors of a private
// (or unknown) help centre are sent to sign in (errSignIn, which the
// handler returns as done).
func (pg *pages) readerOf(c *fiber.Ctx) (Reader, error) {
	p, _ := accounts.PrincipalOf(c)
	org := c.Query("org", c.Cookies(accounts.OrgCookie))
	r, err := pg.s.ReaderFor(c.UserContext(), p, org, c.Query("lang"))
	if err != nil && p == nil && (errs.Is(err, errs.Unauthenticated) || errs.Is(err, errs.NotFound)) {
		if rerr := c.Redirect("/login?next="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther); rerr != nil {
			return r, rerr
		}
		return r, errSignIn
	}
	return r, err
}

// done turns errSignIn into a finished request.
func done(err error) error {
	if err == errSignIn {
		return nil
	}
	return err
}

func (pg *pages) render(c *fiber.Ctx, lang, name, title string, data map[string]any) error {
	if msg, ok := flashes[c.Query("msg")]; ok {
		data["Flash"] = msg
	}
	return web.Render(c, "help/"+name, title, data) // English: the layout translates
}

func langOf(c *fiber.Ctx) string {
	if p, ok := accounts.PrincipalOf(c); ok && i18n.Supported(p.Locale) {
		return p.Locale
	}
	return "en"
}

func (pg *pages) index(c *fiber.Ctx) error {
	r, err := pg.readerOf(c)
	if err != nil {
		return done(err)
	}
	list, err := pg.s.List(c.UserContext(), r, "")
	if err != nil {
		return err
	}
	return pg.render(c, r.Locale, "index", "Help centre", map[string]any{"Reader": r, "Categories": Categories(list), "Query": ""})
}

func (pg *pages) search(c *fiber.Ctx) error {
	r, err := pg.readerOf(c)
	if err != nil {
		return done(err)
	}
	q := c.Query("q")
	data := map[string]any{"Reader": r, "Query": q}
	hits, err := pg.s.Search(c.UserContext(), r, q, 30)
	if err != nil {
		e, ok := errs.As(err)
		if !ok || e.Kind != errs.Invalid {
			return err
		}
		c.Status(fiber.StatusUnprocessableEntity)
		data["Error"] = "Please shorten your search."
	}
	data["Results"] = hits
	if err == nil && len(hits) == 0 && strings.TrimSpace(q) != "" {
		closest, err := pg.s.Closest(c.UserContext(), r, q, 3)
		if err != nil {
			return err
		}
		data["Closest"] = closest
		data["Ask"] = askLink(r, q)
	}
	return pg.render(c, r.Locale, "search", "Search the help centre", data)
}

func (pg *pages) article(c *fiber.Ctx) error {
	r, err := pg.readerOf(c)
	if err != nil {
		return done(err)
	}
	a, err := pg.s.Read(c.UserContext(), r, c.Params("slug"))
	if err != nil {
		return err
	}
	vote, err := pg.s.MyVote(c.UserContext(), r, a.ID)
	if err != nil {
		return err
	}
	related, err := pg.s.List(c.UserContext(), r, a.Module)
	if err != nil {
		return err
	}
	var others []Article
	for _, o := range related {
		if o.Slug != a.Slug && o.Category == a.Category && len(others) < 5 {
			others = append(others, o)
		}
	}
	return web.RenderPage(c, "help/article", &web.Page{Title: a.Title, TitleIsContent: true, Data: map[string]any{"Reader": r, "Article": a, "HTML": template.HTML(a.HTML),
		"Vote": vote, "Related": others, "Flash": flashes[c.Query("msg")]}})
}

func (pg *pages) vote(c *fiber.Ctx) error {
	r, err := pg.readerOf(c)
	if err != nil {
		return done(err)
	}
	a, err := pg.s.Read(c.UserContext(), r, c.Params("slug"))
	if err != nil {
		return err
	}
	var helpful bool
	switch c.FormValue("helpful") {
	case "yes":
		helpful = true
	case "no":
	default:
		return errs.InvalidField("helpful", "answer yes or no")
	}
	if _, err := pg.s.Vote(c.UserContext(), r, a.ID, helpful); err != nil {
		return err
	}
	return c.Redirect("/help/a/"+url.PathEscape(a.Slug)+"?msg=voted#helpful", fiber.StatusSeeOther)
}

// Staff pages.

func (pg *pages) manage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	f := ManageFilter{Locale: c.Query("locale"), Status: c.Query("status"), Query: c.Query("q")}
	list, err := pg.s.Manage(c.UserContext(), p, f)
	if err != nil {
		return err
	}
	set, err := pg.s.Settings(c.UserContext(), p.OrgID)
	if err != nil {
		return err
	}
	return pg.render(c, langOf(c), "manage", "Help articles", map[string]any{"Articles": list, "Filter": f,
		"Settings": set, "IsAdmin": p.Is(accounts.Admin), "Locales": i18n.Locales})
}

func (pg *pages) settingsSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	if _, err := pg.s.SetPublic(c.UserContext(), p, c.FormValue("public") == "on"); err != nil {
		return err
	}
	return c.Redirect("/help/manage?msg=settings", fiber.StatusSeeOther)
}

func articleID(c *fiber.Ctx) (uint, error) {
	return web.PathID(c, "id")
}

func (pg *pages) editData(c *fiber.Ctx, p *accounts.Principal, a *Article, f *form, preview template.HTML) map[string]any {
	return map[string]any{"Article": a, "Form": f, "Preview": preview, "Locales": i18n.Locales, "Modules": p.Modules}
}

func formOf(a *Article) *form {
	f := &form{Values: map[string]string{"locale": "en"}, Errors: map[string]string{}}
	if a != nil {
		f.Values = map[string]string{"title": a.Title, "slug": a.Slug, "locale": a.Locale, "category": a.Category, "module": a.Module,
			"contexts": strings.Join(a.ContextKeys(), ", "), "body": a.Body}
	}
	return f
}

func (pg *pages) editPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	var a *Article
	title := "New help article"
	if c.Params("id") != "" {
		id, err := articleID(c)
		if err != nil {
			return err
		}
		if a, err = pg.s.Get(c.UserContext(), p, id); err != nil {
			return err
		}
		title = "Edit help article"
	}
	return pg.render(c, langOf(c), "edit", title, pg.editData(c, p, a, formOf(a), ""))
}

func (pg *pages) editSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	f := &form{Values: map[string]string{}, Errors: map[string]string{}}
	for _, k := range []string{"title", "slug", "locale", "category", "module", "contexts", "body"} {
		f.Values[k] = c.FormValue(k)
	}
	in := ArticleInput{Title: f.Values["title"], Slug: f.Values["slug"], Locale: f.Values["locale"], Category: f.Values["category"],
		Module: f.Values["module"], Body: f.Values["body"], Contexts: ParseContexts(f.Values["contexts"])}
	var a *Article
	title := "New help article"
	if c.Params("id") != "" {
		id, err := articleID(c)
		if err != nil {
			return err
		}
		if a, err = pg.s.Get(c.UserContext(), p, id); err != nil {
			return err
		}
		title = "Edit help article"
	}
	if c.FormValue("action") == "preview" {
		html, err := Preview(in.Body)
		if err != nil {
			if ferr := f.fail(err); ferr != nil {
				return ferr
			}
		}
		return pg.render(c, langOf(c), "edit", title, pg.editData(c, p, a, f, html))
	}
	var err error
	msg := "saved"
	if a == nil {
		a, err = pg.s.Create(c.UserContext(), p, in)
		msg = "created"
	} else {
		a, err = pg.s.Update(c.UserContext(), p, a.ID, in)
	}
	if err != nil {
		if ferr := f.fail(err); ferr != nil {
			return ferr
		}
		c.Status(fiber.StatusUnprocessableEntity)
		var cur *Article
		if c.Params("id") != "" {
			id, _ := articleID(c)
			cur, _ = pg.s.Get(c.UserContext(), p, id)
		}
		return pg.render(c, langOf(c), "edit", title, pg.editData(c, p, cur, f, ""))
	}
	return c.Redirect(fmt.Sprintf("/help/manage/%d?msg=%s", a.ID, msg), fiber.StatusSeeOther)
}

func (pg *pages) publishSubmit(published bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, _ := accounts.PrincipalOf(c)
		id, err := articleID(c)
		if err != nil {
			return err
		}
		if _, err := pg.s.SetPublished(c.UserContext(), p, id, published); err != nil {
			return err
		}
		msg := "published"
		if !published {
			msg = "unpublished"
		}
		return c.Redirect(fmt.Sprintf("/help/manage/%d?msg=%s", id, msg), fiber.StatusSeeOther)
	}
}

func (pg *pages) deleteSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := articleID(c)
	if err != nil {
		return err
	}
	if err := pg.s.Delete(c.UserContext(), p, id); err != nil {
		return err
	}
	return c.Redirect("/help/manage?msg=deleted", fiber.StatusSeeOther)
}

// askLink is where a reader whose search found nothing asks a person: a
// customer starts a secure message with the question as its subject; an
// anonymous reader signs in first. Staff and admins are the people asked.
func askLink(r Reader, q string) string {
	switch {
	case !r.SignedIn():
		return "/login?next=" + url.QueryEscape("/messages/new?subject="+url.QueryEscape(q))
	case r.Role == accounts.Customer:
		return "/messages/new?subject=" + url.QueryEscape(q)
	}
	return ""
}
