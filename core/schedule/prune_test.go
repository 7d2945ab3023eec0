package schedule_test

import (
	"context"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/schedule"
)

// Finished runs older than schedule.retention go, with their idempotency
// keys; recent and unfinished ones stay; such old slots cannot be rerun.
func TestPruneKeepsWhatRetentionSays(t *testing.T) {
	// The ticker is off so that only the runs below exist.
	cfg := schedCfg(t, func(s *config.Schedule) { s.Retention = 48 * time.Hour; s.Enabled = false })
	clock := schedule.NewSimClock(t0)
	a := startInstance(t, cfg, newReports("A"), clock)
	db := observer(t, cfg)
	seedCustomers(t, db, 4)

	// Three slots, three days apart: each run writes four keys.
	for _, d := range []int{0, 3, 6} {
		slot := slotAt("10:00").AddDate(0, 0, d)
		clock.Set(slot)
		if rec, err := a.ta.Schedule.RunNow(context.Background(), digestJob, schedule.Request{Slot: slot}, nil); err != nil || rec.Status != schedule.StatusSucceeded {
			t.Fatalf("%s: %+v %v", slot, rec, err)
		}
	}
	// An interrupted run of an old slot is never pruned: it still resumes.
	if err := db.Model(&schedule.RunRecord{}).Where("slot = ?", slotAt("10:00")).
		Updates(map[string]any{"status": schedule.StatusInterrupted, "finished_at": nil}).Error; err != nil {
		t.Fatal(err)
	}

	rec, err := a.ta.Schedule.RunNow(context.Background(), schedule.PruneJob, schedule.Request{}, nil)
	if err != nil || rec.Status != schedule.StatusSucceeded || rec.ProgressDone != 1 {
		t.Fatalf("prune: %+v %v", rec, err)
	}
	var left []schedule.RunRecord
	db.Where("job = ?", digestJob).Order("slot").Find(&left)
	if len(left) != 2 || !left[0].Slot.Equal(slotAt("10:00")) || !left[1].Slot.Equal(slotAt("10:00").AddDate(0, 0, 6)) {
		t.Fatalf("left after pruning: %+v", left)
	}
	var keys int64
	db.Table("schedule_keys").Count(&keys)
	if keys != 8 {
		t.Fatalf("%d idempotency keys left, want the 8 of the two runs kept", keys)
	}
	_, err = a.ta.Schedule.RunNow(context.Background(), digestJob, schedule.Request{Slot: slotAt("10:00").AddDate(0, 0, 3)}, nil)
	if !errs.Is(err, errs.Invalid) {
		t.Fatalf("rerunning a slot older than the retention: %v", err)
	}
	jobs, _ := a.ta.Schedule.Jobs(context.Background(), 0)
	found := false
	for _, j := range jobs { // the kernel adds core jobs of its own
		found = found || j.Name == schedule.PruneJob && j.Schedule == "17 3 * * *"
	}
	if !found {
		t.Fatalf("the prune job is not listed: %+v", jobs)
	}
}
