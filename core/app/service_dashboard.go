package app

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/dashboard"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/store"
)

// initDashboard builds the dashboard service with the core's own widgets,
// its API, pages, templates, translations and navigation entry. Modules add
// widgets through Host.Widget during their Init.
func (a *App) initDashboard() error {
	d := dashboard.New(dashboard.Options{
		Store: a.Store, Config: a.Config, Log: a.Log.With("service", "dashboard"),
		Catalog: a.Web.Catalog(), Now: a.Accounts.Now,
	})
	a.Dashboard = d
	a.eraseOnDeletion(d.EraseUser)
	// Every event about a person (its subject) or by them (its actor)
	// drops their cached dashboard, on this instance.
	a.Events.SubscribeBatch("*", func(_ context.Context, es []events.Event) error {
		for _, e := range es {
			d.Forget(e.OrgID, e.SubjectID)
			if e.ActorID != e.SubjectID {
				d.Forget(e.OrgID, e.ActorID)
			}
		}
		return nil
	})
	a.coreMigrations = append(a.coreMigrations, store.MigrationSet{Owner: "dashboard", Migrations: d.Migrations()})
	d.AddCoreWidgets()
	d.SetServices(func() []dashboard.ServiceLink {
		links := make([]dashboard.ServiceLink, 0, len(a.modules))
		for _, h := range a.modules {
			l := dashboard.ServiceLink{Module: h.info.ID, Name: h.info.Name, Description: h.info.Description}
			if len(h.pages) > 0 {
				l.Path = "/m/" + h.info.ID + "/"
			}
			links = append(links, l)
		}
		return links
	})
	d.RegisterAPI(a.Web.API)
	d.MountPages(a.Web.App, a.Accounts)
	a.Web.AddNav(dashboard.Nav()...)
	if err := a.Web.AddTranslationsFor("dashboard", dashboard.Translations()); err != nil {
		return err
	}
	return a.Web.AddTemplates("dashboard", dashboard.Templates())
}

// sealDashboard ends widget declarations once every module is initialised
// and the templates are built: widgets of modules that did not load are
// dropped, and a widget naming a template that does not exist stops
// start-up, naming both.
func (a *App) sealDashboard() error {
	loaded := map[string]bool{}
	for _, h := range a.modules {
		loaded[h.info.ID] = true
	}
	return a.Dashboard.Seal(func(id string) bool { return loaded[id] }, a.Web.HasTemplate)
}

// startPage is "/": the dashboard for a signed-in person, the public start
// page (with its sign-in button) for everyone else.
func (a *App) startPage(c *fiber.Ctx) error {
	if p, ok := accounts.PrincipalOf(c); ok && dashboard.HasPage(p) {
		return a.Dashboard.Page(c)
	}
	return a.home(c)
}

// forgetDashboardAfterWrites drops a person's cached dashboard once any
// state-changing request they made has been answered (its transaction has
// committed), whether or not it published an event: a person never sees
// their own change late on the instance that made it. The kernel installs
// it ahead of every route.
func (a *App) forgetDashboardAfterWrites(c *fiber.Ctx) error {
	err := c.Next()
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return err
	}
	if p, ok := accounts.PrincipalOf(c); ok && p.UserID != 0 && a.Dashboard != nil {
		a.Dashboard.Forget(p.OrgID, p.UserID)
	}
	return err
}
