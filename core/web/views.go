package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/chart"
	"github.com/portalkit/portalkit/core/i18n"
)

//go:embed templates/*.html
var coreTemplateFS embed.FS

//go:embed static
var staticFS embed.FS

//go:embed i18n/*.json
var translationFS embed.FS

func coreTranslations() fs.FS {
	sub, _ := fs.Sub(translationFS, "i18n")
	return sub
}

func coreTemplates() fs.FS {
	sub, _ := fs.Sub(coreTemplateFS, "templates")
	return sub
}

// NavItem is one entry of the portal navigation.
type NavItem struct {
	// Module is the owning module's ID ("" for core entries); entries of a
	// module disabled for the organisation are hidden.
	Module string
	Label  string
	Path   string
	// Roles limits the entry to these roles; empty means everyone signed in
	// (or everyone, when Public).
	Roles  []string
	Public bool
	// Order sorts entries; ties by label.
	Order int
	// Group puts the entry in a named menu of the navigation
	// ("Administration") instead of the primary row; see Page.NavMenu.
	Group string
}

// NavGroup is a named menu of navigation entries.
type NavGroup struct {
	Label   string
	Items   []NavItem
	Current bool // one of Items is the page shown
}

// NavMenu is the navigation as the layout shows it: a short primary row
// and menus ("More", "Administration") that open on demand.
type NavMenu struct {
	Primary []NavItem
	Groups  []NavGroup
}

// MaxPrimaryNav is how many ungrouped entries the primary row shows; the
// rest go into the "More" menu, so the navigation stays one row on a
// laptop and short on a phone.
const MaxPrimaryNav = 5

// NavMenu splits the page's navigation into the primary row and its
// menus: entries with a Group go into that group's menu (in the order of
// their first entry), ungrouped entries past MaxPrimaryNav into "More".
func (p *Page) NavMenu() NavMenu {
	var m NavMenu
	var more []NavItem
	index := map[string]int{}
	for _, it := range p.Nav {
		switch {
		case it.Group != "":
			i, ok := index[it.Group]
			if !ok {
				i = len(m.Groups)
				index[it.Group] = i
				m.Groups = append(m.Groups, NavGroup{Label: it.Group})
			}
			m.Groups[i].Items = append(m.Groups[i].Items, it)
			m.Groups[i].Current = m.Groups[i].Current || p.IsCurrent(it.Path)
		case len(m.Primary) < MaxPrimaryNav:
			m.Primary = append(m.Primary, it)
		default:
			more = append(more, it)
		}
	}
	if len(more) > 0 {
		g := NavGroup{Label: "More", Items: more}
		for _, it := range more {
			g.Current = g.Current || p.IsCurrent(it.Path)
		}
		m.Groups = append([]NavGroup{g}, m.Groups...)
	}
	return m
}

// IsCurrent reports whether a navigation path is the page shown or one of
// its ancestors ("/" only for itself).
func (p *Page) IsCurrent(navPath string) bool {
	if p.Path == navPath {
		return true
	}
	if navPath == "/" || navPath == "" {
		return false
	}
	return strings.HasPrefix(p.Path, strings.TrimSuffix(navPath, "/")+"/") || strings.TrimSuffix(p.Path, "/") == strings.TrimSuffix(navPath, "/")
}

// Branding is the organisation's look in the layout.
type Branding struct {
	Name         string
	LogoURL      string
	PrimaryColor string
	StyleURL     string // a stylesheet with the organisation's colours
}

// Viewer is the signed-in person as the layout shows them.
type Viewer struct {
	ID    uint
	Name  string
	Email string
	Role  string
}

// Page is what every template receives. Handlers set Title and Data;
// the server's decorators fill in the rest.
type Page struct {
	// Title is an English key the layout translates, unless TitleIsContent
	// says it is content (an article's or a person's name) shown as it is.
	Title          string
	TitleIsContent bool
	Data           any
	Path           string
	RequestID      string
	Lang           string
	Brand          Branding
	Viewer         *Viewer
	Nav            []NavItem
	CSRF           string
	// Flash is a one-time message shown at the top of the page, in
	// English: the layout shows its translation.
	Flash     string
	FlashKind string // "ok" or "error"
	// Extra carries layout values contributed by core services.
	Extra map[string]any
	// TimeZone is the viewer's time zone for dates (UTC when unknown).
	TimeZone *time.Location

	catalog *i18n.Catalog
	// owner is the module or core service whose template renders the page
	// (the template name's prefix): its own translations win.
	owner  string
	views  *Views
	labels *labelRegistry
}

// T translates key (its English text) into the page's language; with args
// it formats like fmt.Sprintf. Templates: {{.T "Sign in"}}.
func (p *Page) T(key string, args ...any) string {
	return p.catalog.TIn(p.owner, p.Lang, key, args...)
}

// Content shows text that comes from data but that the portal itself may
// have written (a bank transfer's "Transfer between your accounts", a
// bill's description): translated when the catalogue has it in the page's
// language, else as it is — a shop's name on a statement stays a name.
func (p *Page) Content(s string) string {
	if p.catalog != nil && p.catalog.Has(p.Lang, s) {
		return p.T(s)
	}
	return s
}

// TitleText is the page's title as shown: translated, or as it is when it
// is content.
func (p *Page) TitleText() string {
	if p.TitleIsContent {
		return p.Title
	}
	return p.T(p.Title)
}

// Date formats a date for the viewer's language and time zone.
func (p *Page) Date(t time.Time) string { return i18n.FormatDate(p.Lang, t, p.TimeZone) }

// Day formats a day as a person picks it from a list ("Tue 8 Dec").
func (p *Page) Day(t time.Time) string { return i18n.FormatDay(p.Lang, t, p.TimeZone) }

// LongDay formats a day with its weekday and month in full ("Tuesday 8
// December").
func (p *Page) LongDay(t time.Time) string { return i18n.FormatLongDay(p.Lang, t, p.TimeZone) }

// Clock formats a time of day ("09:30").
func (p *Page) Clock(t time.Time) string { return i18n.FormatClock(t, p.TimeZone) }

// DateTime formats a date and time for the viewer's language and time zone.
func (p *Page) DateTime(t time.Time) string { return i18n.FormatDateTime(p.Lang, t, p.TimeZone) }

// Money formats an amount in minor units of an ISO 4217 currency.
func (p *Page) Money(minor int64, currency string) string {
	return i18n.FormatMoney(p.Lang, minor, currency)
}

// Int formats a whole number (any integer type) with the language's
// grouping.
func (p *Page) Int(n any) string {
	switch n.(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return i18n.FormatInt(p.Lang, toInt64(n))
	}
	return fmt.Sprint(n)
}

// Num formats a measurement with decimals digits.
func (p *Page) Num(v float64, decimals int) string { return i18n.FormatFloat(p.Lang, v, decimals) }

// Chart renders a chart as accessible SVG with its data table, in the
// viewer's language: {{.Chart .Data.Visits}}.
func (p *Page) Chart(c chart.Chart) template.HTML {
	return chart.Render(c, chart.Locale{Lang: p.Lang, T: p.T})
}

// Fragment renders the "content" block of page template name with this
// page's viewer, language and helpers but data as its Data, and returns the
// HTML without the layout. A dashboard uses it to render each widget body
// on its own, so that one failing template is contained; a panic in the
// template is returned as an error.
func (p *Page) Fragment(name string, data any) (out template.HTML, err error) {
	if p.views == nil {
		return "", fmt.Errorf("web: fragment %q: page not rendered by the server", name)
	}
	cp := *p
	cp.Data = data
	var buf bytes.Buffer
	defer func() {
		if r := recover(); r != nil {
			out, err = "", fmt.Errorf("template %s panicked: %v", name, r)
		}
	}()
	if err := p.views.ExecuteBlock(&buf, name, "content", &cp); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil
}

// Render renders the page template name ("<module>/<file>" or a core page
// name) in the layout with title and data, as the response to c.
func Render(c *fiber.Ctx, name, title string, data any) error {
	s, ok := c.Locals(localServer).(*Server)
	if !ok {
		return fmt.Errorf("web.Render: no server on this request")
	}
	return s.render(c, name, &Page{Title: title, Data: data})
}

// RenderPage is Render with the whole page given (for a flash message).
func RenderPage(c *fiber.Ctx, name string, p *Page) error {
	s, ok := c.Locals(localServer).(*Server)
	if !ok {
		return fmt.Errorf("web.RenderPage: no server on this request")
	}
	return s.render(c, name, p)
}

func (s *Server) render(c *fiber.Ctx, name string, p *Page) error {
	p.Path = c.Path()
	p.RequestID = RequestID(c)
	p.catalog = s.catalog
	if i := strings.IndexByte(name, '/'); i > 0 {
		p.owner = name[:i]
	}
	p.views = s.views
	p.labels = &s.labels
	if p.Lang == "" {
		p.Lang = "en"
	}
	if p.Brand.Name == "" {
		p.Brand.Name = "PortalKit"
	}
	s.mu.RLock()
	decorators := s.decorators
	s.mu.RUnlock()
	for _, d := range decorators {
		d(c, p)
	}
	if p.TimeZone == nil {
		p.TimeZone = time.UTC
	}
	if p.Nav == nil {
		p.Nav = s.visibleNav(p.Viewer)
	}
	var buf bytes.Buffer
	if err := s.views.Execute(&buf, name, p); err != nil {
		return err
	}
	c.Type("html", "utf-8")
	return c.Send(buf.Bytes())
}

// visibleNav is the navigation for a viewer when no decorator computed it:
// public entries, plus role-matching entries for a signed-in viewer.
func (s *Server) visibleNav(v *Viewer) []NavItem {
	var out []NavItem
	for _, it := range s.Nav() {
		if it.Public || (v != nil && roleAllowed(it.Roles, v.Role)) {
			out = append(out, it)
		}
	}
	SortNav(out)
	return out
}

// SortNav orders entries by Order, then label.
func SortNav(items []NavItem) {
	sort.SliceStable(items, func(i, j int) bool {
		if items[i].Order != items[j].Order {
			return items[i].Order < items[j].Order
		}
		return items[i].Label < items[j].Label
	})
}

func roleAllowed(roles []string, role string) bool {
	if len(roles) == 0 {
		return true
	}
	for _, r := range roles {
		if r == role {
			return true
		}
	}
	return false
}

// Views parses page templates together with the core layout.
type Views struct {
	mu    sync.RWMutex
	files map[string]string // page name -> source
	pages map[string]*template.Template
	funcs template.FuncMap
}

func newViews() *Views {
	return &Views{files: map[string]string{}, funcs: Funcs()}
}

// Funcs returns the template functions every page may use.
func Funcs() template.FuncMap {
	return template.FuncMap{
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict: odd number of arguments")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
		// datetime and date are English and in the server's time zone;
		// pages use {{$.DateTime t}} and {{$.Date t}}, which follow the
		// viewer's language and time zone. These two remain so that
		// existing module templates keep working.
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.Format("2 Jan 2006 15:04 MST")
		},
		"date": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.Format("2 Jan 2006")
		},
		"isoTime":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"hasPrefix": strings.HasPrefix,
		"join":      strings.Join,
		"add":       func(a, b int) int { return a + b },
		"list":      func(items ...any) []any { return items },
	}
}

// Add reads every *.html file of fsys as a page named prefix/<name>.
// Files whose name starts with "_" are partials shared by all pages of the
// same prefix.
func (v *Views) Add(prefix string, fsysAny any) error {
	fsys, ok := fsysAny.(fs.FS)
	if !ok {
		return fmt.Errorf("templates for %q: not an fs.FS", prefix)
	}
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".html") {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(p, ".html")
		if prefix != "" {
			name = path.Join(prefix, name)
		}
		v.mu.Lock()
		defer v.mu.Unlock()
		if _, dup := v.files[name]; dup {
			return fmt.Errorf("template %q is defined twice", name)
		}
		v.files[name] = string(b)
		return nil
	})
}

// Build parses every page with the layout and the partials of its prefix.
func (v *Views) Build() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	layout, ok := v.files["layout"]
	if !ok {
		return fmt.Errorf("templates: core layout missing")
	}
	base, err := template.New("layout").Funcs(v.funcs).Parse(layout)
	if err != nil {
		return fmt.Errorf("template layout: %w", err)
	}
	// The core's partials (templates/_*.html: the shared components) are
	// part of every page, whoever owns it.
	for pname, psrc := range v.files {
		if path.Dir(pname) == "." && strings.HasPrefix(pname, "_") {
			if _, err := base.New(pname).Parse(psrc); err != nil {
				return fmt.Errorf("template %s: %w", pname, err)
			}
		}
	}
	pages := map[string]*template.Template{}
	for name, src := range v.files {
		if name == "layout" || strings.HasPrefix(path.Base(name), "_") {
			continue
		}
		t, err := base.Clone()
		if err != nil {
			return err
		}
		dir := path.Dir(name)
		for pname, psrc := range v.files {
			if dir != "." && path.Dir(pname) == dir && strings.HasPrefix(path.Base(pname), "_") {
				if _, err := t.New(pname).Parse(psrc); err != nil {
					return fmt.Errorf("template %s: %w", pname, err)
				}
			}
		}
		if _, err := t.New(name).Parse(src); err != nil {
			return fmt.Errorf("template %s: %w", name, err)
		}
		if t.Lookup("content") == nil {
			return fmt.Errorf("template %s: defines no \"content\" block", name)
		}
		pages[name] = t
	}
	v.pages = pages
	return nil
}

// Execute renders page name in the layout.
func (v *Views) Execute(w *bytes.Buffer, name string, p *Page) error {
	v.mu.RLock()
	t, ok := v.pages[name]
	v.mu.RUnlock()
	if !ok {
		return fmt.Errorf("template %q not found (was BuildTemplates called?)", name)
	}
	return t.ExecuteTemplate(w, "layout", p)
}

// ExecuteBlock renders only the block named block of page name (no layout).
func (v *Views) ExecuteBlock(w *bytes.Buffer, name, block string, p *Page) error {
	v.mu.RLock()
	t, ok := v.pages[name]
	v.mu.RUnlock()
	if !ok {
		return fmt.Errorf("template %q not found (was BuildTemplates called?)", name)
	}
	return t.ExecuteTemplate(w, block, p)
}

// Has reports whether page name exists.
func (v *Views) Has(name string) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	_, ok := v.pages[name]
	return ok
}
