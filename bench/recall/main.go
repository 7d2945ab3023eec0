// Command recall benchmarks the automotive recall fan-out on PostgreSQL:
// V vehicles (default 200 000, each with its own owner), one campaign that
// matches half of them, and the time until every affected owner's
// notification is committed (FanOutRecalls returns after the last chunk's
// transaction). The baseline, measured in the same run and database, is a
// bare INSERT … SELECT of one row per affected vehicle: the least work any
// fan-out could do.
//
//	PORTAL_BENCH_DATABASE_URL=postgres://... go run ./bench/recall -vehicles 200000
//
// PORTAL_TEST_DATABASE_URL is used when PORTAL_BENCH_DATABASE_URL is unset.
// The benchmark works in a fresh schema that it drops at the end.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/portalkit/portalkit/bench/benchdb"
	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/app"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/verticals/automotive"
)

func main() {
	vehicles := flag.Int("vehicles", 200_000, "vehicles (one owner each); the campaign matches half")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the fan-out to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench/recall:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*vehicles); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "bench/recall:", err)
		os.Exit(1)
	}
}

func run(vehicles int) error {
	ctx := context.Background()
	dsn, drop, err := benchdb.Schema()
	if err != nil {
		return err
	}
	defer drop()

	cfg := config.Default()
	cfg.DataDir, _ = os.MkdirTemp("", "portal-bench-")
	defer os.RemoveAll(cfg.DataDir)
	cfg.Database.URL = dsn
	cfg.HTTP.BaseURL = "http://portal.bench"
	cfg.Log.Level = "warn"
	mod := &automotive.Module{}
	// The app is built but not started: no scheduler runs the fan-out job
	// behind the benchmark's back, and no dispatcher competes for the CPU.
	a, err := app.New(ctx, app.Options{Config: cfg, Modules: []module.Module{mod}, LogOutput: io.Discard})
	if err != nil {
		return err
	}
	defer a.Close()
	org, err := a.Accounts.CreateOrg(ctx, accounts.NewOrg{Slug: "bench", Name: "Bench Motors", Locale: "en", TimeZone: "Europe/Rome"})
	if err != nil {
		return err
	}
	db := a.Store.DB.WithContext(ctx)

	fmt.Printf("bench/recall: %d vehicles and owners, one campaign matching %d, PostgreSQL, %d CPUs\n", vehicles, vehicles/2, runtime.NumCPU())
	t0 := time.Now()
	seed := []string{
		`INSERT INTO accounts_users (org_id, email, name, role, locale, time_zone, created_at, updated_at)
		 SELECT ?, 'owner' || g || '@bench.example', 'Owner ' || g, 'customer', CASE WHEN g % 3 = 0 THEN 'it' ELSE 'en' END, 'Europe/Rome', now(), now()
		 FROM generate_series(1, ?) g`,
		`INSERT INTO automotive_vehicles (org_id, owner_id, vin, make, model, year, fuel, odometer_km, last_service_km, last_service_at, delivered_at, created_at, updated_at)
		 SELECT u.org_id, u.id, 'ZFA' || lpad(u.id::text, 14, '0'), 'Fiat', CASE WHEN u.id % 2 = 0 THEN 'Panda' ELSE '500' END,
		        2018 + (u.id % 4)::int, 'petrol', 20000, 15000, now() - interval '200 days', now() - interval '3 years', now(), now()
		 FROM accounts_users u WHERE u.org_id = ? AND u.email LIKE '%@bench.example'`,
		`ANALYZE`,
	}
	for i, q := range seed {
		args := []any{}
		switch i {
		case 0:
			args = []any{org.ID, vehicles}
		case 1:
			args = []any{org.ID}
		}
		if err := db.Exec(q, args...).Error; err != nil {
			return fmt.Errorf("seeding: %w", err)
		}
	}
	fmt.Printf("seeded in %s\n", time.Since(t0).Round(time.Millisecond))

	// Baseline: one row per affected vehicle, written by the database alone.
	if err := db.Exec(`CREATE TABLE bench_baseline (id bigserial PRIMARY KEY, org_id bigint NOT NULL, user_id bigint NOT NULL,
		vehicle_id bigint NOT NULL, title text NOT NULL, created_at timestamptz NOT NULL)`).Error; err != nil {
		return err
	}
	t0 = time.Now()
	res := db.Exec(`INSERT INTO bench_baseline (org_id, user_id, vehicle_id, title, created_at)
		SELECT org_id, owner_id, id, 'Recall RC-BENCH: brake hose', now() FROM automotive_vehicles
		WHERE org_id = ? AND LOWER(make) = 'fiat' AND LOWER(model) = 'panda'`, org.ID)
	if res.Error != nil {
		return res.Error
	}
	baseDur := time.Since(t0)
	fmt.Printf("baseline: bare INSERT … SELECT of %d rows: %s\n", res.RowsAffected, baseDur.Round(time.Millisecond))

	r := &automotive.Recall{Code: "RC-BENCH", Title: "Brake hose may chafe", Description: "The front brake hose may rub against the wheel arch.",
		Remedy: "The dealer replaces the hose bracket, free of charge.", Make: "Fiat", Model: "Panda"}
	r.OrgID = org.ID
	if err := store.Org(db, org.ID).Create(r).Error; err != nil {
		return err
	}
	var bar *progressbar.ProgressBar
	var ms runtime.MemStats
	var peak uint64
	t0 = time.Now()
	err = mod.Service().FanOutRecalls(ctx, func(done, total int) {
		if bar == nil {
			bar = progressbar.NewOptions(total, progressbar.OptionSetDescription("owners notified"), progressbar.OptionShowCount(),
				progressbar.OptionShowIts(), progressbar.OptionSetWriter(os.Stderr), progressbar.OptionThrottle(200*time.Millisecond))
		}
		_ = bar.Set(done)
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
	})
	if err != nil {
		return err
	}
	dur := time.Since(t0)
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(os.Stderr)
	}

	// Check the outcome: exactly the affected owners, once each.
	var records, owners, wrong int64
	all := store.AllOrgs(db)
	all.Model(&notify.Record{}).Where("kind = ?", automotive.KindRecall).Count(&records)
	all.Model(&notify.Record{}).Where("kind = ?", automotive.KindRecall).Distinct("user_id").Count(&owners)
	if err := db.Raw(`SELECT count(*) FROM notify_notifications n JOIN automotive_vehicles v ON v.owner_id = n.user_id
		WHERE n.kind = ? AND v.model <> 'Panda'`, automotive.KindRecall).Scan(&wrong).Error; err != nil {
		return err
	}
	fmt.Printf("fan-out: %d owners notified (%d distinct, %d not affected) in %s (%.0f owners/s), peak heap %d MiB\n",
		records, owners, wrong, dur.Round(time.Millisecond), float64(records)/dur.Seconds(), peak>>20)
	fmt.Printf("ratio: fan-out time / bare INSERT time = %.1fx\n", dur.Seconds()/baseDur.Seconds())
	if records != res.RowsAffected || owners != records || wrong != 0 {
		return fmt.Errorf("wrong outcome: %d notifications for %d affected vehicles", records, res.RowsAffected)
	}
	if dur > 30*time.Second {
		fmt.Printf("AIM MISSED: %s > 30s\n", dur.Round(time.Millisecond))
	} else {
		fmt.Printf("aim met: %s < 30s\n", dur.Round(time.Millisecond))
	}
	return nil
}
