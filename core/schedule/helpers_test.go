package schedule_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/app"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/core/store"
)

// The test module "reports" has customers and a digest job that "sends"
// each customer one report per slot, in chunks, with a cursor and Once
// keys. Its sent table has no unique key on purpose: a duplicate side
// effect would show as a second row.

type customer struct {
	ID   uint   `gorm:"primaryKey"`
	Name string `gorm:"size:50;not null"`
}

func (customer) TableName() string { return "reports_customers" }

type sentReport struct {
	ID         uint      `gorm:"primaryKey"`
	Slot       time.Time `gorm:"not null"`
	CustomerID uint      `gorm:"not null"`
	Attempt    int       `gorm:"not null"`
	Instance   string    `gorm:"size:20;not null"`
}

func (sentReport) TableName() string { return "reports_sent" }

// attemptStart records where each attempt of a slot began.
type attemptStart struct {
	ID       uint      `gorm:"primaryKey"`
	Slot     time.Time `gorm:"not null"`
	Attempt  int       `gorm:"not null"`
	Cursor   string    `gorm:"size:50;not null"`
	Instance string    `gorm:"size:20;not null"`
}

func (attemptStart) TableName() string { return "reports_starts" }

// hookFunc runs inside each chunk's transaction, before its writes;
// chunk counts from 0 within one attempt.
type hookFunc func(ctx context.Context, r *schedule.Run, chunk int) error

type reportsModule struct {
	tag     string // which instance this is, recorded on sent rows
	spec    string
	catchUp schedule.CatchUpMode
	chunk   int
	extra   []schedule.Job

	// afterChunk, if set before the app starts, runs after each chunk
	// has committed.
	afterChunk func(r *schedule.Run, chunk int)

	st   *store.Store
	mu   sync.Mutex
	hook hookFunc
}

var _ module.Module = (*reportsModule)(nil)

const digestJob = "reports.digest"

func newReports(tag string) *reportsModule {
	return &reportsModule{tag: tag, spec: "*/10 * * * *", chunk: 5}
}

func (*reportsModule) Info() module.Info {
	return module.Info{ID: "reports", Name: "Reports", Version: "0", Description: "Test module for the scheduler."}
}

func (m *reportsModule) Init(h module.Host) error {
	m.st = h.Store()
	h.Models(&customer{}, &sentReport{}, &attemptStart{})
	h.Migrations(store.Migration{ID: "0001", Up: store.CreateTables(&customer{}, &sentReport{}, &attemptStart{})})
	h.Job(schedule.Job{Name: "digest", Description: "Sends every customer a digest.", Cron: m.spec, Run: m.digest, CatchUp: m.catchUp})
	for _, j := range m.extra {
		h.Job(j)
	}
	return nil
}

func (m *reportsModule) setHook(h hookFunc) {
	m.mu.Lock()
	m.hook = h
	m.mu.Unlock()
}

func (m *reportsModule) getHook() hookFunc {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hook
}

// digest is written the way docs/jobs.md tells a module to write a job.
func (m *reportsModule) digest(ctx context.Context, r *schedule.Run) error {
	db := m.st.DB.WithContext(ctx)
	var total int64
	if err := db.Model(&customer{}).Count(&total).Error; err != nil {
		return err
	}
	var after uint64
	if c := r.Cursor(); c != "" {
		var err error
		if after, err = strconv.ParseUint(c, 10, 64); err != nil {
			return fmt.Errorf("bad cursor %q: %w", c, err)
		}
	}
	if err := db.Create(&attemptStart{Slot: r.Slot, Attempt: r.Attempt, Cursor: r.Cursor(), Instance: m.tag}).Error; err != nil {
		return err
	}
	var done int64
	if err := db.Model(&customer{}).Where("id <= ?", after).Count(&done).Error; err != nil {
		return err
	}
	for chunk := 0; ; chunk++ {
		var batch []customer
		err := m.st.Tx(ctx, func(tx *gorm.DB) error {
			if err := tx.Where("id > ?", after).Order("id").Limit(m.chunk).Find(&batch).Error; err != nil {
				return err
			}
			if len(batch) == 0 {
				return nil
			}
			if h := m.getHook(); h != nil {
				if err := h(ctx, r, chunk); err != nil {
					return err
				}
			}
			for _, c := range batch {
				first, err := r.Once(tx, fmt.Sprintf("customer/%d", c.ID))
				if err != nil {
					return err
				}
				if first {
					if err := tx.Create(&sentReport{Slot: r.Slot, CustomerID: c.ID, Attempt: r.Attempt, Instance: m.tag}).Error; err != nil {
						return err
					}
				}
			}
			return r.SaveCursor(tx, strconv.FormatUint(uint64(batch[len(batch)-1].ID), 10))
		})
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		after = uint64(batch[len(batch)-1].ID)
		done += int64(len(batch))
		r.Progress(done, total)
		if m.afterChunk != nil {
			m.afterChunk(r, chunk)
		}
	}
}

// t0 is where simulated time starts: five minutes before a digest slot.
var t0 = time.Date(2025, 3, 1, 9, 55, 0, 0, time.UTC)

func slotAt(hhmm string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", "2025-03-01 "+hhmm)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// schedCfg is a test configuration with scheduler settings suited to a
// simulated clock.
func schedCfg(t *testing.T, edit ...func(*config.Schedule)) config.Config {
	cfg := portaltest.Config(t)
	cfg.Log.Level = "warn"
	cfg.Schedule = config.Schedule{Enabled: true, Grace: time.Minute, Lease: time.Minute}
	for _, e := range edit {
		e(&cfg.Schedule)
	}
	return cfg
}

// instance is one running app on the shared database.
type instance struct {
	ta     *portaltest.TestApp
	mod    *reportsModule
	cancel context.CancelFunc
}

// startInstance builds an app on cfg hosting m, on clock, and starts its
// background services.
func startInstance(t *testing.T, cfg config.Config, m *reportsModule, clock schedule.Clock) *instance {
	t.Helper()
	ta := portaltest.NewWithConfig(t, cfg, []module.Module{m})
	ta.Schedule.SetClock(clock)
	ctx, cancel := context.WithCancel(context.Background())
	if err := ta.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); ta.Stop(context.Background()) })
	return &instance{ta: ta, mod: m, cancel: cancel}
}

// observer opens the test's own handle on the shared database, which
// outlives every instance.
func observer(t *testing.T, cfg config.Config) *gorm.DB {
	t.Helper()
	st, err := store.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st.DB
}

// buildErr builds an app on cfg and returns the error that stopped it.
func buildErr(t *testing.T, cfg config.Config, mods ...module.Module) error {
	t.Helper()
	a, err := app.New(context.Background(), app.Options{Config: cfg, Modules: mods, LogOutput: io.Discard})
	if err == nil {
		a.Close()
	}
	return err
}

func seedCustomers(t *testing.T, db *gorm.DB, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		if err := db.Create(&customer{Name: fmt.Sprintf("customer %d", i)}).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// waitRun polls until the run of job at slot (not manual) has status.
func waitRun(t *testing.T, db *gorm.DB, job string, slot time.Time, status schedule.Status) schedule.RunRecord {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var rec schedule.RunRecord
	for time.Now().Before(deadline) {
		rec = schedule.RunRecord{}
		err := db.Where("job = ? AND slot = ? AND manual = ?", job, slot, false).First(&rec).Error
		if err == nil && rec.Status == status {
			return rec
		}
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("run %s at %s never became %s (last seen: %+v)", job, slot.Format(time.RFC3339), status, rec)
	return rec
}

func runsOf(t *testing.T, db *gorm.DB, job string) []schedule.RunRecord {
	t.Helper()
	var runs []schedule.RunRecord
	if err := db.Where("job = ?", job).Order("slot, id").Find(&runs).Error; err != nil {
		t.Fatal(err)
	}
	return runs
}

func countSent(t *testing.T, db *gorm.DB, slot time.Time) (rows, distinct int64) {
	t.Helper()
	if err := db.Model(&sentReport{}).Where("slot = ?", slot).Count(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Model(&sentReport{}).Where("slot = ?", slot).Distinct("customer_id").Count(&distinct).Error; err != nil {
		t.Fatal(err)
	}
	return rows, distinct
}

func within(t *testing.T, d time.Duration, ch <-chan string) string {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("nothing happened within %v", d)
	}
	return ""
}
