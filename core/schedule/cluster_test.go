package schedule_test

import (
	"context"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/schedule"
)

// TestTwoInstancesEverySlotOnceAcrossARestart is the scheduler's promise:
// two instances on one database tick the same slots; each slot runs once,
// and its side effects happen once, even when the instance running a slot
// is stopped in the middle of a chunk and a fresh instance resumes it.
func TestTwoInstancesEverySlotOnceAcrossARestart(t *testing.T) {
	const customers = 23 // five chunks of five, the last one short
	cfg := schedCfg(t)
	clock := schedule.NewSimClock(t0)
	a := startInstance(t, cfg, newReports("A"), clock)
	b := startInstance(t, cfg, newReports("B"), clock)
	db := observer(t, cfg)
	seedCustomers(t, db, customers)

	// 10:00 — both instances tick; one runs the slot.
	clock.Set(slotAt("10:00"))
	waitRun(t, db, digestJob, slotAt("10:00"), schedule.StatusSucceeded)

	// 10:10 — whichever instance wins blocks inside its third chunk (two
	// chunks committed); then it is stopped, as in a rolling restart.
	blocked := make(chan string, 2)
	for _, in := range []*instance{a, b} {
		tag := in.mod.tag
		in.mod.setHook(func(ctx context.Context, r *schedule.Run, chunk int) error {
			if r.Slot.Equal(slotAt("10:10")) && r.Attempt == 1 && chunk == 2 {
				blocked <- tag
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		})
	}
	clock.Set(slotAt("10:10"))
	winner, survivor := a, b
	if within(t, 20*time.Second, blocked) == "B" {
		winner, survivor = b, a
	}
	winner.cancel()
	winner.ta.Stop(context.Background())
	winner.ta.Close()
	survivor.mod.setHook(nil)

	rec := waitRun(t, db, digestJob, slotAt("10:10"), schedule.StatusInterrupted)
	if rec.Cursor != "10" {
		t.Fatalf("interrupted run saved cursor %q, want 10 (two chunks of five committed)", rec.Cursor)
	}
	if rows, _ := countSent(t, db, slotAt("10:10")); rows != 10 {
		t.Fatalf("the interrupted chunk left %d reports, want the 10 of the committed chunks", rows)
	}

	// A fresh instance resumes the slot from its cursor at start.
	c := startInstance(t, cfg, newReports("C"), clock)
	rec = waitRun(t, db, digestJob, slotAt("10:10"), schedule.StatusSucceeded)
	if rec.Attempt != 2 || rec.Instance != c.ta.Schedule.Instance() {
		t.Fatalf("10:10 finished as attempt %d on %s; want attempt 2 on the fresh instance %s", rec.Attempt, rec.Instance, c.ta.Schedule.Instance())
	}
	var starts []attemptStart
	if err := db.Where("slot = ?", slotAt("10:10")).Order("attempt").Find(&starts).Error; err != nil {
		t.Fatal(err)
	}
	if len(starts) != 2 || starts[0].Cursor != "" || starts[1].Cursor != "10" || starts[1].Instance != "C" {
		t.Fatalf("attempts of 10:10 started at %+v; want a fresh start, then C resuming after customer 10", starts)
	}
	if rec.ProgressDone != customers || rec.ProgressTotal != customers {
		t.Fatalf("progress %d/%d, want %d/%d", rec.ProgressDone, rec.ProgressTotal, customers, customers)
	}

	// 10:20 and 10:30 on the two live instances.
	for _, s := range []string{"10:20", "10:30"} {
		clock.Set(slotAt(s))
		waitRun(t, db, digestJob, slotAt(s), schedule.StatusSucceeded)
	}
	for _, in := range []*instance{survivor, c} {
		if err := in.ta.Schedule.Wait(ctxTimeout(t)); err != nil {
			t.Fatal(err)
		}
	}

	runs := runsOf(t, db, digestJob)
	want := []string{"10:00", "10:10", "10:20", "10:30"}
	if len(runs) != len(want) {
		t.Fatalf("%d runs, want one per slot: %+v", len(runs), runs)
	}
	for i, r := range runs {
		if !r.Slot.Equal(slotAt(want[i])) || r.Status != schedule.StatusSucceeded || r.Manual {
			t.Errorf("run %d: slot %s status %s manual %v; want %s succeeded", i, r.Slot, r.Status, r.Manual, want[i])
		}
		rows, distinct := countSent(t, db, slotAt(want[i]))
		if rows != customers || distinct != customers {
			t.Errorf("slot %s sent %d reports to %d customers; want each of %d once", want[i], rows, distinct, customers)
		}
	}
	var total int64
	db.Model(&sentReport{}).Count(&total)
	if total != int64(len(want)*customers) {
		t.Fatalf("%d reports in all, want %d", total, len(want)*customers)
	}
}

func ctxTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
