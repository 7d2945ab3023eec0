// Command banking benchmarks the banking module's monthly report job on
// PostgreSQL: N customers with 100 transactions each over February–May
// 2026 (seeded with generate_series), then the job for May: the time until
// every report is stored and its notification (with the PDF) committed,
// and the peak Go heap while it runs. The floor, measured in the same run,
// is one SQL aggregation over the same rows (the job's own spending query
// without chunks), read to the end.
//
//	PORTAL_BENCH_DATABASE_URL=postgres://... go run ./bench/banking -n 20000
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
	"sync"
	"sync/atomic"
	"time"

	"github.com/portalkit/portalkit/bench/benchdb"
	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/app"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/verticals/banking"
)

func main() {
	n := flag.Int("n", 2000, "customers (100 transactions each)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the job to this file")
	flag.Parse()
	profile = *cpuprofile
	if err := run(*n); err != nil {
		fmt.Fprintln(os.Stderr, "bench/banking:", err)
		os.Exit(1)
	}
}

// runAt is the job's slot: 00:05 UTC on 1 June 2026 (the customers' zone
// is the organisation's, UTC), so it reports on May.
var runAt = time.Date(2026, 6, 1, 0, 5, 0, 0, time.UTC)

var profile string

func run(n int) error {
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
	cfg.Database.MaxOpenConns = 8
	cfg.Database.StatementTimeout = time.Hour // seeding 10 million rows is one statement
	cfg.Log.Level = "warn"
	m := &banking.Module{Now: func() time.Time { return runAt }}
	a, err := app.New(ctx, app.Options{Config: cfg, Modules: []module.Module{m}, LogOutput: io.Discard})
	if err != nil {
		return err
	}
	defer a.Close()
	org, err := a.Accounts.CreateOrg(ctx, accounts.NewOrg{Slug: "bench", Name: "Bench bank", Locale: "en", TimeZone: "UTC", Modules: []string{"banking"}})
	if err != nil {
		return err
	}
	fmt.Printf("bench/banking: %d customers x 100 transactions (%d rows), PostgreSQL, GOMAXPROCS=%d\n", n, n*100, runtime.GOMAXPROCS(0))

	t0 := time.Now()
	db := a.Store.DB.WithContext(ctx)
	for _, q := range []string{
		`INSERT INTO accounts_users (org_id, email, name, role, locale, time_zone, created_at, updated_at)
		 SELECT @org, 'c' || g || chr(64) || 'bench.example', 'Customer ' || g, 'customer', CASE WHEN g % 3 = 0 THEN 'it' ELSE 'en' END, '', now(), now()
		 FROM generate_series(1, @n) g`,
		`INSERT INTO banking_accounts (org_id, owner_id, kind, name, iban, currency, created_at)
		 SELECT @org, u.id, 'current', 'Current account', 'IT00BENCH' || u.id, 'EUR', now() FROM accounts_users u WHERE u.org_id = @org AND u.role = 'customer'`,
		`INSERT INTO banking_entries (org_id, account_id, owner_id, external_id, booked_on, description, merchant, mcc, amount, currency, category, category_source, created_at)
		 SELECT a.org_id, a.id, a.owner_id, 'b' || i, date '2026-02-01' + ((i * 37 + a.id) % 120)::int,
		        m.name, m.name, 0,
		        CASE WHEN i % 25 = 0 THEN 250000 ELSE -(500 + (i * 97 + a.id) % 9000) END, 'EUR',
		        CASE WHEN i % 25 = 0 THEN 'income' ELSE (ARRAY['groceries','restaurants','transport','fuel','utilities','shopping','entertainment','health'])[1 + i % 8] END,
		        'default', now()
		 FROM banking_accounts a CROSS JOIN generate_series(1, 100) i
		 CROSS JOIN LATERAL (SELECT (ARRAY['ESSELUNGA','CONAD','ENI','TRENITALIA','ENEL','AMAZON','NETFLIX','FARMACIA','BAR CENTRALE','ZARA'])[1 + (i * 7 + a.id) % 10] AS name) m
		 WHERE a.org_id = @org`,
		`INSERT INTO banking_goals (org_id, owner_id, name, target, saved, currency, deadline, priority)
		 SELECT @org, u.id, 'Holiday', 200000, (u.id % 10) * 10000, 'EUR', date '2026-12-31', 1 FROM accounts_users u WHERE u.org_id = @org AND u.role = 'customer'`,
		`INSERT INTO banking_budgets (org_id, owner_id, category, amount, currency, alert_pct)
		 SELECT @org, u.id, 'groceries', 40000, 'EUR', 80 FROM accounts_users u WHERE u.org_id = @org AND u.role = 'customer' AND u.id % 2 = 0`,
	} {
		if err := db.Exec(q, map[string]any{"org": org.ID, "n": n}).Error; err != nil {
			return err
		}
	}
	// VACUUM sets the visibility map as autovacuum does on an insert-only
	// ledger, so the report's index-only scans need not visit the heap.
	if err := db.Exec("VACUUM ANALYZE").Error; err != nil {
		return err
	}
	fmt.Printf("seeded in %s\n", time.Since(t0).Round(time.Millisecond))

	// The floor: the job's spending aggregation over every customer at once.
	m0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	t0 = time.Now()
	rows, err := db.Raw(`SELECT owner_id, category, CASE WHEN booked_on >= ? THEN 0 WHEN booked_on >= ? THEN 1 WHEN booked_on >= ? THEN 2 ELSE 3 END AS bucket,
		CAST(SUM(CASE WHEN amount < 0 THEN -amount ELSE 0 END) AS BIGINT), CAST(SUM(CASE WHEN amount > 0 THEN amount ELSE 0 END) AS BIGINT)
		FROM banking_entries WHERE org_id = ? AND booked_on >= ? AND booked_on < ? AND category <> 'savings' GROUP BY 1, 2, 3`,
		m0, m0.AddDate(0, -1, 0), m0.AddDate(0, -2, 0), org.ID, m0.AddDate(0, -3, 0), m0.AddDate(0, 1, 0)).Rows()
	if err != nil {
		return err
	}
	groups := 0
	for rows.Next() {
		var owner, bucket, spent, income int64 // read as the job reads them
		var cat string
		if err := rows.Scan(&owner, &cat, &bucket, &spent, &income); err != nil {
			return err
		}
		groups++
	}
	rows.Close()
	floor := time.Since(t0)
	fmt.Printf("floor: one SQL aggregation over %d rows -> %d groups: %s\n", n*100, groups, floor.Round(time.Millisecond))

	// The job, with the heap sampled every 50 ms.
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	var done atomic.Int64
	t0 = time.Now()
	sent, err := m.Service().MonthlyReports(ctx, runAt, func(k int64) {
		if d := done.Add(k); d%10000 < k {
			fmt.Fprintf(os.Stderr, "  %d reports after %s\n", d, time.Since(t0).Round(time.Second))
		}
	})
	job := time.Since(t0)
	if profile != "" {
		pprof.StopCPUProfile()
	}
	close(stop)
	wg.Wait()
	if err != nil {
		return err
	}
	var stored, notified, pdfs int64
	db.Table("banking_reports").Where("month = ? AND data <> ''", "2026-05").Count(&stored)
	db.Table("notify_notifications").Where("kind = ?", banking.KindMonthlyReport).Count(&notified)
	db.Table("notify_attachments").Count(&pdfs)
	if int(stored) != n || int(notified) != n || int(pdfs) != n || sent != n {
		return fmt.Errorf("the job sent %d: %d reports stored, %d notifications, %d PDFs; want %d each", sent, stored, notified, pdfs, n)
	}
	fmt.Printf("job: %d reports stored and notified (with PDFs) in %s (%.0f customers/s), %.1fx the floor\n",
		n, job.Round(time.Millisecond), float64(n)/job.Seconds(), job.Seconds()/floor.Seconds())
	fmt.Printf("peak Go heap in use during the job: %.1f MiB (%.1f MiB before)\n", float64(peak.Load())/(1<<20), float64(before.HeapInuse)/(1<<20))
	return nil
}
