// Package dashboard is the portal's landing page after sign-in: a grid of
// widgets that modules and core services declare, filtered by the viewer's
// role and the modules enabled for their organisation, arranged by a
// default layout that each person can change (hide, show, reorder) and that
// is kept server-side, so the phone app shows the same dashboard as the
// browser.
//
// A widget is a data function and a template. Data functions of one
// dashboard run concurrently under one deadline (dashboard.widget_timeout);
// a widget whose data function fails, panics or times out, or whose
// template fails, becomes a contained error card carrying the request ID and
// never breaks the page or the JSON API (GET /api/v1/dashboard).
//
// docs/dashboards.md explains how a module declares a widget.
//
// dashboard imports accounts, chart, config, errs, i18n, store and web; it
// never imports core/module or core/app.
package dashboard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/i18n"
	"github.com/portalkit/portalkit/core/names"
	"github.com/portalkit/portalkit/core/store"
)

// Size is how much room a widget takes in the grid: small (one column),
// medium (two columns on wide screens) or large (the whole row). On a phone
// every widget takes the whole width.
type Size string

// The widget sizes.
const (
	Small  Size = "small"
	Medium Size = "medium"
	Large  Size = "large"
)

// DataFunc computes a widget's data for the signed-in person p. It must be
// quick, read only what p may see (scope queries with store.Org(db,
// p.OrgID) and check objects with the accounts policy) and honour ctx,
// which carries the dashboard's deadline. The result is passed to the
// widget's template as .Data and sent as the widget's "data" in the JSON
// API, so it must marshal to JSON (chart.Chart does).
type DataFunc func(ctx context.Context, p *accounts.Principal) (any, error)

// Widget is one dashboard card, declared by a module through
// module.Host.Widget or by a core service.
type Widget struct {
	// ID identifies the widget within its owner: lowercase letters, digits
	// and underscores ("balance"). The dashboard addresses it as
	// "<owner>.<ID>" ("banking.balance"; "core.account" for the core's own).
	ID string
	// Title is shown on the card: English text, translated for the viewer
	// (give it an Italian translation in the owner's i18n/it.json).
	Title string
	// Roles may see the widget; empty means every person (customer, staff,
	// admin). Platform admins see only widgets naming them.
	Roles []accounts.Role
	// Size is the card's width in the grid (default Medium).
	Size Size
	// Order places the widget in the default layout: lower first, ties by
	// ID. People may reorder their own dashboard.
	Order int
	// Data computes the widget's data for the viewer.
	Data DataFunc
	// Template names the template rendering the card's body: for a module,
	// one of its template files without ".html" ("widget_balance", found as
	// "<module>/widget_balance"). The file defines a "content" block; it
	// receives the page (so {{.T}}, {{.Chart}}, {{.Money}} work) with .Data
	// set to the widget's data.
	Template string
	// MaxAge bounds how long the widget's data is reused from the
	// dashboard cache: 0 means dashboard.cache_ttl, a positive value at
	// most that long, NoCache never. Events about the person and their
	// own changes drop it earlier either way.
	MaxAge time.Duration
	// LiveOn names the live events (core/live) that refresh the card on an
	// open dashboard: "notification", "unread", "message", or a module's
	// event "<module>.<name>" ("automotive.reading"). The card's body is
	// fetched again; its data is computed afresh.
	LiveOn []string
}

// NoCache as a Widget's MaxAge computes the widget's data on every load
// (for truly live data).
const NoCache time.Duration = -1

// CoreOwner owns the widgets of core services ("core.account").
const CoreOwner = "core"

// registered is a widget with its owner resolved.
type registered struct {
	Widget
	key    string // "<owner>.<id>"
	anchor string // the card's HTML id, "w-<owner>-<id>"
	owner  string
	module bool   // owned by a module: hidden when the module is disabled for the org
	live   string // the data-live spec of its card (LiveOn)
}

// Options builds a Service.
type Options struct {
	Store  *store.Store
	Config config.Config
	Log    *slog.Logger
	// Catalog translates widget titles and error messages for the JSON API.
	Catalog *i18n.Catalog
	// Now overrides the clock (tests).
	Now func() time.Time
}

// Service is the dashboard service: the widget registry, layouts, the
// dashboard page and API.
type Service struct {
	st      *store.Store
	log     *slog.Logger
	catalog *i18n.Catalog
	timeout time.Duration
	now     func() time.Time

	mu      sync.RWMutex
	widgets []*registered // sorted by Order, then key, once sealed
	byKey   map[string]*registered
	errs    []error
	sealed  bool

	services func() []ServiceLink

	// cache keeps widgets' data and layouts per person (nil: off).
	cache *boardCache
	// heads are the cards' encoded {"id","title","size"} by language.
	heads sync.Map // headKey -> []byte
}

// New returns the dashboard service.
func New(o Options) *Service {
	s := &Service{st: o.Store, log: o.Log, catalog: o.Catalog, timeout: o.Config.Dashboard.WidgetTimeout, now: o.Now,
		byKey: map[string]*registered{}, cache: newBoardCache(o.Config.Dashboard.CacheTTL, o.Config.Dashboard.CachePeople)}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = func() time.Time { return time.Now().UTC() }
	}
	if s.timeout <= 0 {
		s.timeout = config.Default().Dashboard.WidgetTimeout
	}
	if s.catalog == nil {
		s.catalog = i18n.NewCatalog()
	}
	return s
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Forget drops everything the dashboard cache holds about person userID of
// organisation orgID, so their next dashboard is computed afresh. The
// kernel calls it for the subject and actor of every core event and after
// every state-changing request a person makes. A module whose data changes
// without such a request publishes an event naming the person (SubjectID).
func (s *Service) Forget(orgID, userID uint) {
	if s.cache == nil || userID == 0 {
		return
	}
	s.cache.forget(personKey{orgID, userID}, s.now())
}

// AddModuleWidget declares a widget of module moduleID. Mistakes (a bad ID,
// a duplicate, no data function) are collected and reported by Seal, so a
// module's Init stays declarative.
func (s *Service) AddModuleWidget(moduleID string, w Widget) { s.add(moduleID, true, w) }

// AddCoreWidget declares a widget of a core service, addressed as
// "core.<id>" and shown whatever modules are enabled.
func (s *Service) AddCoreWidget(w Widget) { s.add(CoreOwner, false, w) }

func (s *Service) add(owner string, module bool, w Widget) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := owner + "." + w.ID
	fail := func(format string, args ...any) {
		s.errs = append(s.errs, fmt.Errorf("dashboard: widget %q of %s: %s", key, owner, fmt.Sprintf(format, args...)))
	}
	switch {
	case s.sealed:
		fail("declared after start-up")
		return
	case names.Local("widget", w.ID) != nil:
		fail("%v", names.Local("widget", w.ID))
		return
	case s.byKey[key] != nil:
		fail("declared twice")
		return
	case w.Data == nil:
		fail("has no Data function")
		return
	case strings.TrimSpace(w.Title) == "":
		fail("has no Title")
		return
	case strings.TrimSpace(w.Template) == "":
		fail("has no Template")
		return
	}
	switch w.Size {
	case "":
		w.Size = Medium
	case Small, Medium, Large:
	default:
		fail("size %q is not small, medium or large", w.Size)
		return
	}
	if module && !strings.Contains(w.Template, "/") {
		w.Template = owner + "/" + w.Template
	}
	for _, r := range w.Roles {
		if !r.Valid() {
			fail("role %q is not a person's role", r)
			return
		}
	}
	var live []string
	for _, e := range w.LiveOn {
		switch {
		case e == "notification" || e == "unread" || e == "message":
			live = append(live, e)
		case liveEvent.MatchString(e):
			live = append(live, "module:"+e)
		default:
			fail("live event %q is not notification, unread, message or \"<module>.<name>\"", e)
			return
		}
	}
	r := &registered{Widget: w, key: key, anchor: "w-" + owner + "-" + w.ID, owner: owner, module: module, live: strings.Join(live, " ")}
	s.widgets = append(s.widgets, r)
	s.byKey[key] = r
}

var liveEvent = regexp.MustCompile(`^[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*$`)

// Seal ends the declarations: it drops the widgets of modules that did not
// load (keep reports whether a module is loaded), checks that every
// widget's template exists and reports every mistake found, naming the
// widget. The kernel calls it once templates are built.
func (s *Service) Seal(keep func(module string) bool, hasTemplate func(name string) bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.widgets[:0]
	for _, w := range s.widgets {
		if w.module && !keep(w.owner) {
			delete(s.byKey, w.key)
			continue
		}
		if !hasTemplate(w.Template) {
			s.errs = append(s.errs, fmt.Errorf("dashboard: widget %q: template %q does not exist", w.key, w.Template))
		}
		kept = append(kept, w)
	}
	s.widgets = kept
	sort.SliceStable(s.widgets, func(i, j int) bool {
		if s.widgets[i].Order != s.widgets[j].Order {
			return s.widgets[i].Order < s.widgets[j].Order
		}
		return s.widgets[i].key < s.widgets[j].key
	})
	s.sealed = true
	return errors.Join(s.errs...)
}

// WidgetInfo describes a declared widget.
type WidgetInfo struct {
	ID    string          `json:"id" doc:"<owner>.<id>, e.g. core.account"`
	Title string          `json:"title" doc:"The title in the caller's language"`
	Size  Size            `json:"size" enum:"small,medium,large"`
	Roles []accounts.Role `json:"-"`
}

// Widgets lists every declared widget in default order (titles in English).
func (s *Service) Widgets() []WidgetInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]WidgetInfo, len(s.widgets))
	for i, w := range s.widgets {
		out[i] = WidgetInfo{ID: w.key, Title: w.Title, Size: w.Size, Roles: w.Roles}
	}
	return out
}

// Dashboard roles: who has a dashboard at all.
var dashboardRoles = []accounts.Role{accounts.Customer, accounts.Staff, accounts.Admin, accounts.PlatformAdmin}

// available returns the widgets p may see, in default order: their role is
// allowed and, for a module's widget, the module is enabled for p's
// organisation.
func (s *Service) available(p *accounts.Principal) []*registered {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*registered
	for _, w := range s.widgets {
		if !allowed(w, p) {
			continue
		}
		out = append(out, w)
	}
	return out
}

func allowed(w *registered, p *accounts.Principal) bool {
	if p == nil || p.UserID == 0 {
		return false
	}
	if len(w.Roles) == 0 {
		if !p.Is(accounts.PersonRoles...) {
			return false
		}
	} else if !slices.Contains(w.Roles, p.Role) {
		return false
	}
	return !w.module || p.ModuleEnabled(w.owner)
}

// t translates key for locale.
func (s *Service) t(locale, key string) string { return s.catalog.T(locale, key) }
