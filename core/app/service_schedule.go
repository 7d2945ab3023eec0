package app

import (
	"fmt"
	"strings"

	"github.com/portalkit/portalkit/core/schedule"
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
	a.AddRunner(a.Schedule)
	return nil
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
