package schedule_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/schedule"
)

// On the wall clock robfig/cron does the ticking; Stop ends every
// goroutine the scheduler started.
func TestRealClockTicksAndStopsCleanly(t *testing.T) {
	var ran atomic.Int64
	m := newReports("A")
	m.extra = []schedule.Job{{Name: "heartbeat", Cron: "@every 1s", Run: func(ctx context.Context, r *schedule.Run) error {
		ran.Add(1)
		return nil
	}}}
	cfg := schedCfg(t)
	ta := portaltest.NewWithConfig(t, cfg, []module.Module{m})
	db := observer(t, cfg)
	before := runtime.NumGoroutine()
	if err := ta.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	var byCron int64
	for time.Now().Before(deadline) && byCron == 0 {
		db.Model(&schedule.RunRecord{}).Where("job = ? AND run_trigger = ? AND status = ?", "reports.heartbeat", schedule.TriggerSchedule, schedule.StatusSucceeded).Count(&byCron)
		time.Sleep(20 * time.Millisecond)
	}
	if byCron == 0 {
		t.Fatal("robfig/cron never ticked the job")
	}
	ta.Stop(context.Background())
	if err := ta.Schedule.Wait(ctxTimeout(t)); err != nil {
		t.Fatal(err)
	}
	var running int64
	db.Model(&schedule.RunRecord{}).Where("status = ?", schedule.StatusRunning).Count(&running)
	if running != 0 {
		t.Fatalf("%d runs left running after Stop", running)
	}
	deadline = time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines after Stop, %d before Start:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
	if ran.Load() == 0 {
		t.Fatal("the job's function never ran")
	}
}
