// Package experience benchmarks the customer-experience services: the
// timeline's write overhead and deep pages, feedback analytics over 100k
// answers and the CSV export. Results and commands: docs/PERFORMANCE.md.
package experience

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/schollz/progressbar/v3"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/experience/feedback"
	"github.com/portalkit/portalkit/core/experience/timeline"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
)

type fixture struct {
	ta       *portaltest.TestApp
	org      uint
	customer uint
	admin    *accounts.Principal
}

func setup(b *testing.B) *fixture {
	b.Helper()
	ta := portaltest.New(b, nil)
	f := &fixture{ta: ta, org: ta.Org(b, "acme").ID}
	f.customer = ta.User(b, "acme", "chiara@acme.example", accounts.Customer).ID
	ta.User(b, "acme", "ada@acme.example", accounts.Admin)
	f.admin = ta.Principal(b, ta.Login(b, "acme", "ada@acme.example"))
	return f
}

// BenchmarkTimelineWrite: one operation = a transaction that saves a form
// draft and publishes an event about the customer. "without" publishes it
// with no summary (the timeline ignores it); "with" gives it a summary, so
// the timeline writes its entry in the same transaction. The two alternate
// in every iteration so that the machine's load hits them alike; the
// metrics are the mean time of each.
func BenchmarkTimelineWrite(b *testing.B) {
	f := setup(b)
	ctx := context.Background()
	op := func(i int, summary string) time.Duration {
		start := time.Now()
		err := f.ta.Store.Tx(ctx, func(tx *gorm.DB) error {
			if _, err := f.ta.Drafts.SaveFor(ctx, tx, f.org, f.customer, "bench.form", map[string]any{"n": strconv.Itoa(i)}); err != nil {
				return err
			}
			return f.ta.App.Events.Publish(ctx, events.Event{Name: "bench.booked", OrgID: f.org, SubjectID: f.customer, Tx: tx,
				Summary: summary, SummaryArgs: []any{i}})
		})
		if err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var without, with time.Duration
	n := 0
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			without += op(i, "")
			with += op(i, "Booked service number %d")
		} else {
			with += op(i, "Booked service number %d")
			without += op(i, "")
		}
		n++
	}
	b.ReportMetric(float64(without.Microseconds())/float64(n), "µs/op-without")
	b.ReportMetric(float64(with.Microseconds())/float64(n), "µs/op-with")
}

const entries = 100_000

// analyze refreshes PostgreSQL's statistics after a bulk load, as
// autovacuum would shortly after in production.
func analyze(b *testing.B, f *fixture, tables ...string) {
	b.Helper()
	if f.ta.Store.Dialect != store.Postgres {
		return
	}
	for _, t := range tables {
		if err := f.ta.Store.DB.Exec("ANALYZE " + t).Error; err != nil {
			b.Fatal(err)
		}
	}
}

func seedTimeline(b *testing.B, f *fixture) {
	b.Helper()
	bar := progressbar.Default(entries, "seeding timeline entries")
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	err := f.ta.Store.Tx(context.Background(), func(tx *gorm.DB) error {
		batch := make([]timeline.Entry, 0, 1000)
		for i := 0; i < entries; i++ {
			batch = append(batch, timeline.Entry{CustomerID: f.customer, Event: "bench.booked", Module: "bench", Summary: "Booked service number %d",
				Args: "[" + strconv.Itoa(i) + "]", At: base.Add(time.Duration(i) * time.Minute)})
			if len(batch) == cap(batch) {
				if err := store.Org(tx, f.org).CreateInBatches(batch, 500).Error; err != nil {
					return err
				}
				_ = bar.Add(len(batch))
				batch = batch[:0]
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	analyze(b, f, "timeline_entries")
}

// BenchmarkTimelinePage: the first page and a page 90 000 entries deep
// (cursor), through the service (scoping check, translation of 50
// summaries) and as raw SQL: the same keyset query, and OFFSET.
func BenchmarkTimelinePage(b *testing.B) {
	f := setup(b)
	seedTimeline(b, f)
	ctx := context.Background()
	// Walk to the deep cursor once.
	var deep timeline.Entry
	if err := store.Org(f.ta.Store.DB, f.org).Where("customer_id = ?", f.customer).Order("at DESC, id DESC").Offset(90_000).Take(&deep).Error; err != nil {
		b.Fatal(err)
	}
	page, err := f.ta.Timeline.List(ctx, f.admin, f.customer, timeline.Filter{Limit: 1}, "en")
	if err != nil {
		b.Fatal(err)
	}
	_ = page
	cursor := timelineCursor(deep)
	for _, c := range []struct {
		name string
		run  func() (int, error)
	}{
		{"service_first_page", func() (int, error) {
			p, err := f.ta.Timeline.List(ctx, f.admin, f.customer, timeline.Filter{Limit: 50}, "en")
			return len(p.Items), err
		}},
		{"service_deep_page", func() (int, error) {
			p, err := f.ta.Timeline.List(ctx, f.admin, f.customer, timeline.Filter{Limit: 50, Cursor: cursor}, "en")
			if err != nil {
				return 0, err
			}
			return len(p.Items), nil
		}},
		{"raw_keyset_deep_page", func() (int, error) {
			var rows []timeline.Entry
			err := f.ta.Store.DB.Raw(`SELECT * FROM timeline_entries WHERE org_id = ? AND customer_id = ? AND (at, id) < (?, ?) ORDER BY at DESC, id DESC LIMIT 50`,
				f.org, f.customer, deep.At, deep.ID).Scan(&rows).Error
			return len(rows), err
		}},
		{"raw_offset_deep_page", func() (int, error) {
			var rows []timeline.Entry
			err := f.ta.Store.DB.Raw(`SELECT * FROM timeline_entries WHERE org_id = ? AND customer_id = ? ORDER BY at DESC, id DESC LIMIT 50 OFFSET 90001`,
				f.org, f.customer).Scan(&rows).Error
			return len(rows), err
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				n, err := c.run()
				if err != nil || n != 50 {
					b.Fatalf("%d rows, %v", n, err)
				}
			}
		})
	}
}

// timelineCursor builds the cursor the service would return after e.
func timelineCursor(e timeline.Entry) string {
	return timeline.CursorAfter(e)
}

const answers = 100_000

func seedAnswers(b *testing.B, f *fixture) {
	b.Helper()
	if err := feedback.Declare(feedback.Step{ID: "bench.booked", Module: "bench", Kind: feedback.NPS, Question: "Recommend?"},
		feedback.Step{ID: "bench.served", Module: "bench", Kind: feedback.CSAT, Question: "Satisfied?"},
		feedback.Step{ID: "bench.paid", Module: "bench", Kind: feedback.CES, Question: "Easy?"}); err != nil {
		b.Fatal(err)
	}
	// 1000 customers, 100 journeys each.
	var users []accounts.User
	for i := 0; i < 1000; i++ {
		users = append(users, accounts.User{Email: fmt.Sprintf("c%04d@acme.example", i), Name: fmt.Sprintf("Customer %d", i), Role: accounts.Customer})
	}
	if err := store.Org(f.ta.Store.DB, f.org).CreateInBatches(users, 500).Error; err != nil {
		b.Fatal(err)
	}
	bar := progressbar.Default(answers, "seeding feedback answers")
	kinds := []struct {
		step string
		kind feedback.Kind
		max  int
	}{{"bench.booked", feedback.NPS, 11}, {"bench.served", feedback.CSAT, 5}, {"bench.paid", feedback.CES, 7}}
	base := time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC)
	err := f.ta.Store.Tx(context.Background(), func(tx *gorm.DB) error {
		batch := make([]feedback.Prompt, 0, 1000)
		for i := 0; i < answers; i++ {
			k := kinds[i%3]
			score := i % k.max
			if k.kind != feedback.NPS {
				score++
			}
			at := base.Add(time.Duration(i) * 3 * time.Minute) // ~30 weeks
			wd := (int(at.Weekday()) + 6) % 7
			batch = append(batch, feedback.Prompt{CustomerID: users[i%1000].ID, StepID: k.step, Module: "bench", Kind: k.kind,
				SubjectRef: "journey:" + strconv.Itoa(i), Status: feedback.StatusAnswered, Score: &score, Comment: "Fine, \"really\" = good",
				CreatedAt: at, AnsweredAt: &at, Week: at.AddDate(0, 0, -wd).Format("2006-01-02")})
			if len(batch) == cap(batch) {
				if err := store.Org(tx, f.org).CreateInBatches(batch, 500).Error; err != nil {
					return err
				}
				_ = bar.Add(len(batch))
				batch = batch[:0]
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	analyze(b, f, "feedback_prompts", "accounts_users")
}

// BenchmarkFeedbackAnalytics: the analytics report (overall, per module,
// step and week) over 100 000 answers, and the CSV export of all of them.
func BenchmarkFeedbackAnalytics(b *testing.B) {
	f := setup(b)
	seedAnswers(b, f)
	ctx := context.Background()
	b.Run("report_100k", func(b *testing.B) {
		for b.Loop() {
			r, err := f.ta.Feedback.Analytics(ctx, f.admin, feedback.Filter{})
			if err != nil || r.Total != answers {
				b.Fatalf("%v, %v", r, err)
			}
		}
	})
	b.Run("csv_100k", func(b *testing.B) {
		rows := 0
		for b.Loop() {
			n, err := f.ta.Feedback.WriteCSV(ctx, io.Discard, f.admin, feedback.Filter{})
			if err != nil || n != answers {
				b.Fatalf("%d rows, %v", n, err)
			}
			rows += n
		}
		b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	})
}
