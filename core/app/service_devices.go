package app

import (
	"context"
	"fmt"

	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/schedule"
)

// initDevices builds the device registry and MQTT gateway: its tables,
// API, pages and navigation, the /readyz check of the broker connection,
// the retention job, and the background runner (embedded broker and
// ingest). Modules declare their streams with Host.Topic.
func (a *App) initDevices() error {
	a.Devices = devices.New(devices.Options{Config: a.Config, Store: a.Store, Accounts: a.Accounts, Events: a.Events,
		Log: a.Log.With("service", "devices")})
	a.eraseOnDeletion(a.Devices.EraseUser)
	a.coreMigrations = append(a.coreMigrations, devices.Migrations())
	if err := a.Web.AddTemplates("devices", devices.Templates()); err != nil {
		return fmt.Errorf("devices: templates: %w", err)
	}
	if err := a.Web.AddTranslations(devices.Translations()); err != nil {
		return fmt.Errorf("devices: translations: %w", err)
	}
	a.Devices.RegisterAPI(a.Web.API)
	a.Devices.MountPages(a.Web.App, a.Accounts, a.Web.Catalog())
	a.Web.AddNav(devices.Nav()...)
	a.Web.AddReadyCheck("mqtt", a.Devices.Ready)
	a.Web.Metrics().Registry.MustRegister(a.Devices.Collectors()...)
	// The gateway starts first: if its port is taken the portal stops
	// before any job has run or anything was written.
	a.runners = append([]Runner{a.Devices}, a.runners...)
	return a.Schedule.Add(schedule.Job{
		Name: "devices.retention", Cron: "15 * * * *", CatchUp: schedule.CatchUpLatest, // one run rolls up everything past retention
		Description: "Roll raw device readings older than devices.retention into hourly aggregates and delete them",
		Run: func(ctx context.Context, r *schedule.Run) error {
			n, err := a.Devices.Retain(ctx, r.Slot)
			r.Log.Info("device readings rolled up", "count", n)
			return err
		},
	})
}

// Topic implements module.Host: the stream is registered with the device
// router under the module's ID.
func (h *host) Devices() *devices.Service { return h.app.Devices }

func (h *host) Topic(stream string, handler devices.Handler) {
	h.app.Devices.Topic(h.info.ID, stream, handler)
}
