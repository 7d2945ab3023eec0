package app

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/experience/feedback"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/names"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// host is the kernel's implementation of module.Host for one module. It
// records declarations; App.wire applies them after every module's Init.
type host struct {
	app  *App
	info module.Info
	log  *slog.Logger

	models     []any
	migrations []store.Migration
	apis       []func(huma.API)
	pages      []func(fiber.Router)
	templates  []fs.FS
	i18n       []fs.FS
	nav        []web.NavItem
	labels     []labelSet
	handlers   []subscription
	demos      []module.DemoFunc
	jobs       []schedule.Job  // host_schedule.go
	steps      []feedback.Step // host_feedback.go
	mail       fs.FS           // mail/ of Assets: default notification templates
	declErrs   []error         // declarations refused: group kinds (host_groups.go), assets (host_assets.go)
}

type subscription struct {
	event string
	fn    events.Handler
}

var _ module.Host = (*host)(nil)

func newHost(a *App, m module.Module) *host {
	info := m.Info()
	return &host{app: a, info: info, log: a.Log.With("module", info.ID)}
}

func (h *host) Info() module.Info           { return h.info }
func (h *host) Logger() *slog.Logger        { return h.log }
func (h *host) Store() *store.Store         { return h.app.Store }
func (h *host) Config() config.Config       { return h.app.Config }
func (h *host) Events() *events.Bus         { return h.app.Events }
func (h *host) Accounts() *accounts.Service { return h.app.Accounts }
func (h *host) Models(models ...any)        { h.models = append(h.models, models...) }
func (h *host) API(register func(huma.API)) { h.apis = append(h.apis, register) }
func (h *host) Templates(fsys fs.FS)        { h.templates = append(h.templates, fsys) }
func (h *host) Translations(fsys fs.FS)     { h.i18n = append(h.i18n, fsys) }
func (h *host) Demo(fn module.DemoFunc)     { h.demos = append(h.demos, fn) }
func (h *host) Pages(register func(fiber.Router)) {
	h.pages = append(h.pages, register)
}
func (h *host) Migrations(ms ...store.Migration) { h.migrations = append(h.migrations, ms...) }
func (h *host) Nav(items ...web.NavItem) {
	for _, it := range items {
		it.Module = h.info.ID
		h.nav = append(h.nav, it)
	}
}
func (h *host) Labels(kind string, set web.Labels) {
	h.labels = append(h.labels, labelSet{kind, set})
}

type labelSet struct {
	kind string
	set  web.Labels
}

// sharedLabelKinds are the kinds every module may add values to.
var sharedLabelKinds = map[string]bool{"event": true, "unit": true, "mime": true}

func (h *host) On(event string, fn events.Handler) {
	h.handlers = append(h.handlers, subscription{event, fn})
}

// checkGroups reports the group kinds and assets modules declared wrongly.
func (a *App) checkGroups() error {
	var all []error
	for _, h := range a.modules {
		all = append(all, h.declErrs...)
	}
	return errors.Join(all...)
}

// checkModels verifies that every module's tables carry its prefix, so two
// modules can never fight over a table name.
func (a *App) checkModels() error {
	for _, h := range a.modules {
		prefix := h.info.ID + "_"
		for _, m := range h.models {
			stmt := &gorm.Statement{DB: a.Store.DB}
			if err := stmt.Parse(m); err != nil {
				return fmt.Errorf("module %s: model %T: %w", h.info.ID, m, err)
			}
			if !strings.HasPrefix(stmt.Schema.Table, prefix) {
				return fmt.Errorf("module %s: model %T uses table %q; module tables must start with %q", h.info.ID, m, stmt.Schema.Table, prefix)
			}
		}
	}
	return nil
}

func (a *App) migrationSets() []store.MigrationSet {
	var sets []store.MigrationSet
	for _, h := range a.modules {
		if len(h.migrations) > 0 {
			sets = append(sets, store.MigrationSet{Owner: h.info.ID, Migrations: h.migrations})
		}
	}
	return sets
}

// wire applies every module's declarations to the web server and event bus.
func (a *App) wire() error {
	for _, h := range a.modules {
		for _, t := range h.templates {
			if err := a.Web.AddTemplates(h.info.ID, t); err != nil {
				return fmt.Errorf("module %s: templates: %w", h.info.ID, err)
			}
		}
		for _, t := range h.i18n {
			if err := a.Web.AddTranslationsFor(h.info.ID, t); err != nil {
				return fmt.Errorf("module %s: translations: %w", h.info.ID, err)
			}
		}
		for _, s := range h.handlers {
			a.Events.Subscribe(s.event, s.fn)
		}
		if len(h.apis) > 0 {
			grp := huma.NewGroup(a.Web.API, "/api/v1/"+h.info.ID)
			grp.UseMiddleware(accounts.RequireModule(grp, h.info.ID))
			name, id := h.info.Name, h.info.ID
			grp.UseSimpleModifier(func(op *huma.Operation) {
				if len(op.Tags) == 0 {
					op.Tags = []string{name}
				}
				if err := names.Operation(op.OperationID, id); err != nil {
					a.opErrs = append(a.opErrs, fmt.Errorf("module %s: %w", id, err))
				}
				// RequireModule: 404 where the organisation has not
				// enabled the module.
				web.Problems(http.StatusNotFound)(op)
			})
			for _, register := range h.apis {
				if err := declareAPI(register, grp); err != nil {
					return fmt.Errorf("module %s: declaring the API: %w", h.info.ID, err)
				}
			}
		}
		if len(h.pages) > 0 {
			r := a.Web.App.Group("/m/"+h.info.ID, accounts.RequireModulePages(h.info.ID))
			for _, register := range h.pages {
				register(r)
			}
		}
		a.Web.AddNav(h.nav...)
		for _, l := range h.labels {
			if !sharedLabelKinds[l.kind] && !strings.HasPrefix(l.kind, h.info.ID+".") {
				return fmt.Errorf("module %s: labels %q: a module's label kind is \"%s.<what>\" or one of event, unit, mime", h.info.ID, l.kind, h.info.ID)
			}
			if err := a.Web.AddLabels(l.kind, l.set); err != nil {
				return fmt.Errorf("module %s: %w", h.info.ID, err)
			}
		}
	}
	if err := a.coreLabels(); err != nil {
		return err
	}
	// A route or operation ID declared twice, or a module's operation
	// named outside its own prefix, stops start-up naming them.
	if err := errors.Join(append(a.opErrs, a.Web.OperationErr())...); err != nil {
		return err
	}
	a.Web.App.Get("/", a.startPage)
	return a.Web.BuildTemplates()
}

// declareAPI runs a module's API declarations, turning huma's panics on a
// malformed operation (a duplicate operation ID, a bad input type) into an
// error that stops start-up naming the module.
func declareAPI(register func(huma.API), api huma.API) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	register(api)
	return nil
}
