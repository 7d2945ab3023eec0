// Package bench holds PortalKit's benchmarks; results and the commands
// that produced them are in docs/PERFORMANCE.md.
package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/core/store"
)

// A job walks every customer in chunks of 500 and writes one row per
// customer (its side effect). The baseline keys nothing and saves no
// cursor; "once" keys each row with Run.Once, "once_each" keys a chunk
// with one Run.OnceEach; both save the cursor in each chunk. The ratios
// are the cost of the scheduler's guarantees on a job's hot path.

const (
	benchCustomers = 10000
	benchChunk     = 500
)

type benchCustomer struct {
	ID   uint   `gorm:"primaryKey"`
	Name string `gorm:"size:40;not null"`
}

func (benchCustomer) TableName() string { return "benchjobs_customers" }

type benchSent struct {
	ID         uint      `gorm:"primaryKey"`
	Slot       time.Time `gorm:"not null"`
	CustomerID uint      `gorm:"not null"`
}

func (benchSent) TableName() string { return "benchjobs_sent" }

type benchModule struct{ st *store.Store }

func (*benchModule) Info() module.Info {
	return module.Info{ID: "benchjobs", Name: "Bench jobs", Version: "0"}
}

func (m *benchModule) Init(h module.Host) error {
	m.st = h.Store()
	h.Models(&benchCustomer{}, &benchSent{})
	h.Migrations(store.Migration{ID: "0001", Up: store.CreateTables(&benchCustomer{}, &benchSent{})})
	h.Job(schedule.Job{Name: "baseline", Cron: "@yearly", Run: m.walk(plain)})
	h.Job(schedule.Job{Name: "once", Cron: "@yearly", Run: m.walk(perKey)})
	h.Job(schedule.Job{Name: "once_each", Cron: "@yearly", Run: m.walk(perChunk)})
	return nil
}

// How a variant keys its side effects.
type keying int

const (
	plain    keying = iota // no keys, no cursor: the baseline
	perKey                 // Run.Once per customer, SaveCursor per chunk
	perChunk               // Run.OnceEach per chunk, SaveCursor per chunk
)

func (m *benchModule) walk(k keying) func(context.Context, *schedule.Run) error {
	return func(ctx context.Context, r *schedule.Run) error {
		var after uint
		for {
			var batch []benchCustomer
			err := m.st.Tx(ctx, func(tx *gorm.DB) error {
				if err := tx.Where("id > ?", after).Order("id").Limit(benchChunk).Find(&batch).Error; err != nil || len(batch) == 0 {
					return err
				}
				first := make([]bool, len(batch))
				switch k {
				case plain:
					for i := range first {
						first[i] = true
					}
				case perKey:
					for i, c := range batch {
						var err error
						if first[i], err = r.Once(tx, fmt.Sprintf("customer/%d", c.ID)); err != nil {
							return err
						}
					}
				case perChunk:
					keys := make([]string, len(batch))
					for i, c := range batch {
						keys[i] = fmt.Sprintf("customer/%d", c.ID)
					}
					var err error
					if first, err = r.OnceEach(tx, keys); err != nil {
						return err
					}
				}
				rows := make([]benchSent, 0, len(batch))
				for i, c := range batch {
					if first[i] {
						rows = append(rows, benchSent{Slot: r.Slot, CustomerID: c.ID})
					}
				}
				if err := tx.CreateInBatches(rows, 250).Error; err != nil {
					return err
				}
				if k == plain {
					return nil
				}
				return r.SaveCursor(tx, fmt.Sprint(batch[len(batch)-1].ID))
			})
			if err != nil || len(batch) == 0 {
				return err
			}
			after = batch[len(batch)-1].ID
		}
	}
}

// BenchmarkJobChunks runs one slot of each job per iteration over 10 000
// customers: go test ./bench -run '^$' -bench JobChunks -benchtime 3x
func BenchmarkJobChunks(b *testing.B) {
	cfg := portaltest.Config(b)
	cfg.Log.Level = "warn"
	ta := portaltest.NewWithConfig(b, cfg, []module.Module{&benchModule{}})
	clock := schedule.NewSimClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	ta.Schedule.SetClock(clock)
	customers := make([]benchCustomer, benchCustomers)
	for i := range customers {
		customers[i].Name = fmt.Sprintf("customer %d", i+1)
	}
	if err := ta.Store.DB.CreateInBatches(customers, 500).Error; err != nil {
		b.Fatal(err)
	}
	for _, job := range []string{"benchjobs.baseline", "benchjobs.once", "benchjobs.once_each"} {
		b.Run(job[len("benchjobs."):], func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				clock.Advance(time.Second) // a fresh manual slot each time
				rec, err := ta.Schedule.RunNow(context.Background(), job, schedule.Request{}, nil)
				if err != nil || rec.Status != schedule.StatusSucceeded {
					b.Fatalf("%+v %v", rec, err)
				}
				var sent int64
				ta.Store.DB.Model(&benchSent{}).Where("slot = ?", rec.Slot).Count(&sent)
				if sent != benchCustomers {
					b.Fatalf("slot %s wrote %d rows, want %d", rec.Slot, sent, benchCustomers)
				}
			}
			b.ReportMetric(float64(b.N*benchCustomers)/b.Elapsed().Seconds(), "customers/s")
		})
	}
}
