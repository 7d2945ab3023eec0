package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// initSchedule builds the scheduler: its tables migrate before the
// modules', its admin templates join the web server, and it runs as a
// background service. Core services may Add jobs to a.Schedule after it.
func (a *App) initSchedule() error {
	a.Schedule = schedule.New(a.Store, a.Config.Schedule, a.Log)
	a.coreMigrations = append(a.coreMigrations, schedule.Migrations())
	if err := a.Web.AddTemplates("schedule", schedule.Templates()); err != nil {
		return fmt.Errorf("schedule: templates: %w", err)
	}
	if err := a.Web.AddTranslationsFor("schedule", schedule.Translations()); err != nil {
		return fmt.Errorf("schedule: translations: %w", err)
	}
	a.AddRunner(a.Schedule)
	if err := a.idempotencyJobs(); err != nil {
		return err
	}
	return a.wireScheduleUI()
}

// wireSchedule adds the jobs the modules declared, then seals the
// scheduler, which checks that every schedule.overrides entry names a job.
func (a *App) wireSchedule() error {
	for _, h := range a.modules {
		for _, j := range h.jobs {
			if !strings.HasPrefix(j.Name, h.info.ID+".") {
				return fmt.Errorf("module %s: job %q: a module's jobs are named %q", h.info.ID, j.Name, h.info.ID+".<name>")
			}
			if err := a.Schedule.Add(j); err != nil {
				return fmt.Errorf("module %s: %w", h.info.ID, err)
			}
		}
	}
	return a.Schedule.Seal()
}

// scheduleWho is the caller of the jobs API and pages: jobs run for every
// organisation of the deployment, so only platform admins see and run them.
func scheduleWho(ctx context.Context) (schedule.Caller, bool) {
	p, ok := accounts.PrincipalFrom(ctx)
	if !ok {
		return schedule.Caller{}, false
	}
	return schedule.Caller{UserID: p.UserID, Admin: p.Is(accounts.PlatformAdmin)}, true
}

// wireScheduleUI mounts the jobs pages at /platform/jobs and the jobs API at
// /api/v1/admin/jobs for platform admins, and adds the core services' own
// jobs.
func (a *App) wireScheduleUI() error {
	grp := huma.NewGroup(a.Web.API, "/api/v1/admin")
	grp.UseSimpleModifier(func(op *huma.Operation) {
		accounts.Allow(accounts.PlatformAdmin)(op)
		if strings.Contains(op.Path, "{") {
			accounts.MatrixSkip("jobs are deployment-wide objects for platform admins, not an organisation's; " +
				"TestJobsAPIIsForPlatformAdmins checks that everyone else is refused")(op)
		}
		if len(op.Tags) == 0 {
			op.Tags = []string{"Jobs"}
		}
	})
	a.Schedule.RegisterAPI(grp, scheduleWho)
	a.Schedule.MountAdmin(a.Web.App.Group("/platform/jobs", a.Accounts.RequirePage(accounts.PlatformAdmin)), scheduleWho)
	a.Web.AddNav(web.NavItem{Label: "Jobs", Path: "/platform/jobs", Roles: []string{string(accounts.PlatformAdmin)}, Order: 910, Group: "Administration"})
	if a.Store.Dialect == store.SQLite {
		// PostgreSQL's autovacuum keeps its statistics; SQLite has none
		// unless asked (docs/operations.md).
		if err := a.Schedule.Add(schedule.Job{
			Name: "store.optimize", Cron: "17 * * * *", CatchUp: schedule.CatchUpLatest,
			Description: "Refresh the SQLite query planner's statistics (PRAGMA optimize)",
			Run:         func(ctx context.Context, r *schedule.Run) error { return a.Store.Optimize(ctx) },
		}); err != nil {
			return err
		}
	}
	return a.Schedule.Add(schedule.Job{
		Name: "accounts.purge_deleted", Cron: "40 3 * * *", CatchUp: schedule.CatchUpLatest,
		Description: "Anonymise accounts closed longer ago than their organisation's retention period",
		Run: func(ctx context.Context, r *schedule.Run) error {
			n, err := a.Accounts.PurgeDeleted(ctx, r.Slot)
			r.Log.Info("purged closed accounts", "count", n)
			return err
		},
	})
}
