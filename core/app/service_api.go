package app

import (
	"context"

	"github.com/portalkit/portalkit/core/idempotency"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/core/store"
)

// initIdempotency builds the Idempotency-Key service and puts its middleware
// on the API (after the accounts guard: keys belong to the caller).
func (a *App) initIdempotency() error {
	svc, err := idempotency.New(idempotency.Options{Store: a.Store, Config: a.Config, Log: a.Log.With("service", "idempotency"), Now: a.Accounts.Now})
	if err != nil {
		return err
	}
	a.Idempotency = svc
	a.eraseOnDeletion(svc.EraseUser)
	a.coreMigrations = append(a.coreMigrations, store.MigrationSet{Owner: "idempotency", Migrations: svc.Migrations()})
	a.Web.API.UseMiddleware(svc.Middleware(a.Web.API))
	return nil
}

// idempotencyJobs are the Idempotency-Key service's jobs: the hourly purge
// of expired keys.
func (a *App) idempotencyJobs() error {
	return a.Schedule.Add(schedule.Job{
		Name: "idempotency.purge", Cron: "40 * * * *",
		Description: "Delete Idempotency-Keys older than api.idempotency_ttl",
		Run: func(ctx context.Context, r *schedule.Run) error {
			n, err := a.Idempotency.Purge(ctx)
			r.Log.Info("purged expired idempotency keys", "count", n)
			return err
		},
	})
}
