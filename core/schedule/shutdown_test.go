package schedule_test

import (
	"context"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/schedule"
)

// Once StopClaiming was called (the app's first step at shutdown) no slot
// is claimed and no run starts, on schedule, on catch-up or by hand, while
// a run already going finishes (issue 19, item 17).
func TestStopClaimingStartsNoRun(t *testing.T) {
	cfg := schedCfg(t)
	db := observer(t, cfg)
	clock := schedule.NewSimClock(t0)
	m := newReports("A")
	in := startInstance(t, cfg, m, clock)
	seedCustomers(t, db, 3)

	// The 10:00 slot runs, holding its first chunk until released.
	release := make(chan struct{})
	m.setHook(func(ctx context.Context, r *schedule.Run, chunk int) error {
		<-release
		return nil
	})
	clock.Set(slotAt("10:00"))
	waitRun(t, db, digestJob, slotAt("10:00"), schedule.StatusRunning)

	in.ta.Schedule.StopClaiming()
	close(release)
	waitRun(t, db, digestJob, slotAt("10:00"), schedule.StatusSucceeded)

	clock.Set(slotAt("10:10"))
	clock.Set(slotAt("10:20").Add(time.Second))
	if _, err := in.ta.Schedule.Trigger(context.Background(), digestJob, schedule.Request{UserID: 7}); !errs.Is(err, errs.Unavailable) {
		t.Errorf("a run by hand after StopClaiming: %v, want unavailable", err)
	}
	time.Sleep(200 * time.Millisecond)
	if runs := runsOf(t, db, digestJob); len(runs) != 1 {
		t.Fatalf("%d runs after StopClaiming, want only the 10:00 one: %+v", len(runs), runs)
	}
}
