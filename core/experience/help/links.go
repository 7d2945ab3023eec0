package help

import (
	"context"
	"fmt"
	"html/template"
	"log/slog"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/web"
)

// Links connects a portal page to the help articles about it. The kernel
// puts one in every page's layout data as .Extra.Help; a module's template
// asks for the articles of its context key:
//
//	{{.Extra.Help.For "automotive.vehicle"}}
//
// which renders a small "Help" box linking the published articles whose
// front matter lists that key (nothing when there are none). Articles
// gives the same list for a template that lays it out itself.
type Links struct {
	s       *Service
	ctx     context.Context
	p       *accounts.Principal
	orgSlug string
	page    *web.Page
	log     *slog.Logger
}

// Decorator returns the page decorator that adds .Extra.Help to every page.
// Nothing is queried until a template asks.
func (s *Service) Decorator() func(*fiber.Ctx, *web.Page) {
	return func(c *fiber.Ctx, page *web.Page) {
		if page.Extra == nil {
			page.Extra = map[string]any{}
		}
		p, _ := accounts.PrincipalOf(c)
		page.Extra["Help"] = &Links{s: s, ctx: c.UserContext(), p: p, orgSlug: c.Query("org", c.Cookies(accounts.OrgCookie)), page: page, log: s.log}
	}
}

// Articles returns the published articles linked to key that the viewer may
// read (none for a visitor of a private help centre).
func (l *Links) Articles(key string) []Article {
	if l == nil {
		return nil
	}
	r, err := l.s.ReaderFor(l.ctx, l.p, l.orgSlug, l.page.Lang)
	if err != nil {
		return nil
	}
	list, err := l.s.ForContext(l.ctx, r, key)
	if err != nil {
		// A help box must never break the page it decorates.
		l.log.Warn("help: context links failed", "key", key, "err", err)
		return nil
	}
	return list
}

// For renders the "Help" box of the page with context key.
func (l *Links) For(key string) template.HTML {
	list := l.Articles(key)
	if len(list) == 0 {
		return ""
	}
	id := "help-" + strings.NewReplacer(".", "-", ":", "-").Replace(key)
	var b strings.Builder
	fmt.Fprintf(&b, `<aside class="help-links card" aria-labelledby="%s"><h2 id="%s">%s</h2><ul>`,
		template.HTMLEscapeString(id), template.HTMLEscapeString(id), template.HTMLEscapeString(l.page.T("Help")))
	for _, a := range list {
		fmt.Fprintf(&b, `<li><a href="/help/a/%s">%s</a></li>`, template.HTMLEscapeString(url.PathEscape(a.Slug)), template.HTMLEscapeString(a.Title))
	}
	fmt.Fprintf(&b, `</ul><p><a href="/help">%s</a></p></aside>`, template.HTMLEscapeString(l.page.T("All help articles")))
	return template.HTML(b.String())
}
