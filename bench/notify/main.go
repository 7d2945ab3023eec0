// Command notify benchmarks core/notify on PostgreSQL: Send (SendMany in
// job-sized chunks, inside transactions) of N notifications to the in-app
// inbox and email, dispatched concurrently by the service's own workers to an
// in-process SMTP sink. It reports notifications per second and the time
// until the last one is delivered, against two baselines measured in the
// same run: a bare multi-row INSERT of N rows, and raw SMTP throughput of the
// same mailer to the same sink.
//
//	PORTAL_BENCH_DATABASE_URL=postgres://... go run ./bench/notify -n 100000
//
// PORTAL_TEST_DATABASE_URL is used when PORTAL_BENCH_DATABASE_URL is unset.
// The benchmark works in a fresh schema that it drops at the end.
package main

import (
	"context"
	"embed"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/bench/benchdb"
	"github.com/portalkit/portalkit/core/app"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/notify/notifytest"
	"github.com/portalkit/portalkit/core/store"
)

//go:embed kinds
var kindFS embed.FS

func main() {
	n := flag.Int("n", 100_000, "notifications to send")
	users := flag.Int("users", 1000, "recipients (one organisation)")
	chunk := flag.Int("chunk", 500, "notifications per SendMany transaction")
	senders := flag.Int("senders", 2, "concurrent sending goroutines")
	workers := flag.Int("workers", 16, "dispatcher workers")
	batch := flag.Int("batch", 250, "outbox rows per claim")
	smtpBase := flag.Int("smtp-baseline", 20_000, "messages for the raw SMTP baseline")
	flag.Parse()
	if err := run(*n, *users, *chunk, *senders, *workers, *batch, *smtpBase); err != nil {
		fmt.Fprintln(os.Stderr, "bench/notify:", err)
		os.Exit(1)
	}
}

func run(n, users, chunk, senders, workers, batch, smtpBase int) error {
	ctx := context.Background()
	dsn, drop, err := benchdb.Schema()
	if err != nil {
		return err
	}
	defer drop()

	sink, err := notifytest.NewSMTPSink()
	if err != nil {
		return err
	}
	sink.Keep = false
	defer sink.Close()

	cfg := config.Default()
	cfg.DataDir, _ = os.MkdirTemp("", "portal-bench-")
	defer os.RemoveAll(cfg.DataDir)
	cfg.Database.URL = dsn
	cfg.Database.MaxOpenConns = 24
	cfg.HTTP.BaseURL = "http://portal.bench"
	cfg.Log.Level = "warn"
	cfg.Notify.Workers = workers
	cfg.Notify.BatchSize = batch
	cfg.Notify.PollInterval = 20 * time.Millisecond
	cfg.Notify.SMTP = config.SMTP{Host: sink.Host, Port: sink.Port, TLS: "none", From: "Portal <no-reply@portal.bench>", Timeout: 30 * time.Second}
	a, err := app.New(ctx, app.Options{Config: cfg, LogOutput: io.Discard})
	if err != nil {
		return err
	}
	defer a.Close()
	dir := notifytest.NewDirectory()
	for u := 1; u <= users; u++ {
		loc := "en"
		if u%3 == 0 {
			loc = "it"
		}
		dir.Add(1, uint(u), notify.Recipient{Email: fmt.Sprintf("user%d@example.com", u), Name: fmt.Sprintf("User %d", u), Locale: loc, TimeZone: "Europe/Rome"})
	}
	svc := a.Notify
	svc.SetDirectory(dir)
	sub, _ := fs.Sub(kindFS, "kinds")
	svc.Declare("bench", notify.Kind{ID: "bench.report", Title: "Monthly report", Mutable: true,
		DefaultChannels: []string{notify.ChannelInApp, notify.ChannelEmail}, Templates: sub})
	if err := svc.Err(); err != nil {
		return err
	}
	fmt.Printf("bench/notify: %d notifications to %d users, in-app + email, PostgreSQL, %d senders x %d per tx, %d workers x %d per claim\n",
		n, users, senders, chunk, workers, batch)

	// Baseline 1: a bare INSERT of n rows, in the same chunk size.
	if err := a.Store.DB.Exec(`CREATE TABLE bench_baseline (id bigserial PRIMARY KEY, org_id bigint NOT NULL, user_id bigint NOT NULL,
		title text NOT NULL, body text NOT NULL, created_at timestamptz NOT NULL)`).Error; err != nil {
		return err
	}
	t0 := time.Now()
	if err := parallelChunks(n, chunk, senders, func(from, to int) error {
		return a.Store.Tx(ctx, func(tx *gorm.DB) error {
			var sb strings.Builder
			args := make([]any, 0, (to-from)*5)
			sb.WriteString("INSERT INTO bench_baseline (org_id, user_id, title, body, created_at) VALUES ")
			for i := from; i < to; i++ {
				if i > from {
					sb.WriteString(",")
				}
				sb.WriteString("(?,?,?,?,?)")
				args = append(args, 1, 1+i%users, "Your monthly report 2025-05", "Hello, your report is ready.", time.Now().UTC())
			}
			return tx.Exec(sb.String(), args...).Error
		})
	}); err != nil {
		return err
	}
	insertDur := time.Since(t0)
	fmt.Printf("baseline: bare INSERT of %d rows: %s (%.0f rows/s)\n", n, insertDur.Round(time.Millisecond), float64(n)/insertDur.Seconds())

	// Baseline 2: raw SMTP throughput of the same mailer to the same sink.
	mailer, err := notify.NewSMTPMailer(cfg.Notify.SMTP)
	if err != nil {
		return err
	}
	t0 = time.Now()
	if err := parallelChunks(smtpBase, batch, workers, func(from, to int) error {
		emails := make([]*notify.Email, 0, to-from)
		for i := from; i < to; i++ {
			emails = append(emails, &notify.Email{MessageID: fmt.Sprintf("baseline-%d@portal.bench", i), From: cfg.Notify.SMTP.From,
				ToName: "User", ToAddress: "user@example.com", Subject: "Your monthly report 2025-05",
				Text: "Hello, your report is ready.", HTML: "<p>Hello, your report is ready.</p>"})
		}
		for _, err := range mailer.Send(ctx, emails) {
			if err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	smtpDur := time.Since(t0)
	smtpRate := float64(smtpBase) / smtpDur.Seconds()
	fmt.Printf("baseline: raw SMTP, %d messages, %d connections in parallel: %s (%.0f msgs/s)\n", smtpBase, workers, smtpDur.Round(time.Millisecond), smtpRate)
	baseCount := sink.Count()

	// The measured run: send while the service's workers dispatch.
	if err := a.Start(ctx); err != nil {
		return err
	}
	defer a.Stop(ctx)
	bar := progressbar.NewOptions(n, progressbar.OptionSetDescription("delivered"), progressbar.OptionShowCount(),
		progressbar.OptionShowIts(), progressbar.OptionSetWriter(os.Stderr), progressbar.OptionThrottle(200*time.Millisecond))
	var sent atomic.Int64
	start := time.Now()
	sendErr := make(chan error, 1)
	var sendDur time.Duration
	go func() {
		err := parallelChunks(n, chunk, senders, func(from, to int) error {
			ns := make([]notify.Notification, 0, to-from)
			for i := from; i < to; i++ {
				ns = append(ns, notify.Notification{OrgID: 1, UserID: uint(1 + i%users), Kind: "bench.report",
					Data:      map[string]any{"month": "2025-05", "amount": i % 997},
					DedupeKey: fmt.Sprintf("report:2025-05:%d", i)})
			}
			err := a.Store.Tx(ctx, func(tx *gorm.DB) error {
				_, err := svc.SendMany(ctx, tx, ns)
				return err
			})
			sent.Add(int64(to - from))
			return err
		})
		sendDur = time.Since(start)
		sendErr <- err
	}()
	var sendDone bool
	for {
		var pending int64
		if err := store.AllOrgs(a.Store.DB).Model(&notify.OutboxRow{}).Where("status = ?", notify.StatusPending).Count(&pending).Error; err != nil {
			return err
		}
		mails := sink.Count() - baseCount
		_ = bar.Set(int(mails))
		if !sendDone {
			select {
			case err := <-sendErr:
				if err != nil {
					return err
				}
				sendDone = true
			default:
			}
		}
		if sendDone && pending == 0 && mails >= int64(n) {
			break
		}
		if time.Since(start) > 15*time.Minute {
			return fmt.Errorf("not delivered after 15 minutes: %d emails, %d rows pending", mails, pending)
		}
		time.Sleep(100 * time.Millisecond)
	}
	total := time.Since(start)
	_ = bar.Finish()
	fmt.Fprintln(os.Stderr)

	var dead, rows, inbox int64
	db := store.AllOrgs(a.Store.DB)
	db.Model(&notify.OutboxRow{}).Where("status = ?", notify.StatusDead).Count(&dead)
	db.Model(&notify.OutboxRow{}).Count(&rows)
	db.Model(&notify.Record{}).Where("in_app").Count(&inbox)
	dups := 0
	for id, c := range sink.MessageIDs() {
		if c > 1 && !strings.HasPrefix(id, "<baseline-") {
			dups++
		}
	}
	rate := float64(n) / total.Seconds()
	fmt.Printf("send: %d notifications written (%d outbox rows) in %s (%.0f/s)\n", n, rows, sendDur.Round(time.Millisecond), float64(n)/sendDur.Seconds())
	fmt.Printf("delivered: last of %d in-app + %d emails at %s after the first Send: %.0f notifications/s\n", inbox, sink.Count()-baseCount, total.Round(time.Millisecond), rate)
	fmt.Printf("dead letters: %d; duplicate Message-IDs: %d\n", dead, dups)
	fmt.Printf("ratio: end-to-end time / bare INSERT time = %.1fx; email rate / raw SMTP rate = %.2f\n",
		total.Seconds()/insertDur.Seconds(), rate/smtpRate)
	if total > time.Minute {
		fmt.Printf("AIM MISSED: %s > 60s\n", total.Round(time.Millisecond))
	} else {
		fmt.Printf("aim met: %s < 60s\n", total.Round(time.Millisecond))
	}
	return nil
}

// parallelChunks calls fn for [0,n) in chunks, from par goroutines.
func parallelChunks(n, chunk, par int, fn func(from, to int) error) error {
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for w := 0; w < par; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for from := range next {
				if err := fn(from, min(from+chunk, n)); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for from := 0; from < n; from += chunk {
		next <- from
	}
	close(next)
	wg.Wait()
	return first
}
