package schedule_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/core/store"
)

// A runner that dies without a word (no release, no heartbeat) keeps its
// claim for one lease; then another instance takes the run over and
// resumes it from the cursor of its last committed chunk.
func TestDeadRunnerIsTakenOverAfterTheLease(t *testing.T) {
	const customers = 12
	cfg := schedCfg(t)
	clock := schedule.NewSimClock(t0)
	a := startInstance(t, cfg, newReports("A"), clock)
	db := observer(t, cfg)
	seedCustomers(t, db, customers)

	// The slot runs two chunks and then fails; rewriting the row below
	// turns that into what a crash at that point leaves: a running claim
	// of another instance whose heartbeat has stopped.
	a.mod.setHook(func(ctx context.Context, r *schedule.Run, chunk int) error {
		if chunk == 2 && r.Attempt == 1 {
			return errors.New("power cut")
		}
		return nil
	})
	clock.Set(slotAt("10:00"))
	rec := waitRun(t, db, digestJob, slotAt("10:00"), schedule.StatusFailed)
	a.mod.setHook(nil)
	lastBeat := slotAt("10:00").Add(-10 * time.Second)
	if err := db.Model(&schedule.RunRecord{}).Where("id = ?", rec.ID).Updates(map[string]any{
		"status": schedule.StatusRunning, "instance": "crashed-host", "heartbeat_at": lastBeat,
		"error": "", "finished_at": nil,
	}).Error; err != nil {
		t.Fatal(err)
	}

	// Step through simulated time; the takeover must not come before the
	// lease has run out since the last heartbeat.
	var taken schedule.RunRecord
	for step := 0; step < 20 && taken.ID == 0; step++ {
		clock.Advance(10 * time.Second)
		deadline := time.Now().Add(100 * time.Millisecond)
		for time.Now().Before(deadline) {
			var cur schedule.RunRecord
			if err := db.First(&cur, rec.ID).Error; err != nil {
				t.Fatal(err)
			}
			if cur.Instance != "crashed-host" {
				taken = cur
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if taken.ID == 0 {
		t.Fatal("the dead runner's claim was never taken over")
	}
	rec = waitRun(t, db, digestJob, slotAt("10:00"), schedule.StatusSucceeded)
	if rec.Attempt != 2 || rec.Instance != a.ta.Schedule.Instance() {
		t.Fatalf("finished as attempt %d on %s", rec.Attempt, rec.Instance)
	}
	if age := rec.FinishedAt.Sub(lastBeat); age <= cfg.Schedule.Lease {
		t.Fatalf("taken over %v after the last heartbeat; the lease is %v", age, cfg.Schedule.Lease)
	}
	var starts []attemptStart
	db.Where("slot = ?", slotAt("10:00")).Order("attempt").Find(&starts)
	if len(starts) != 2 || starts[1].Cursor != "10" {
		t.Fatalf("attempts started at %+v; want the takeover to resume after customer 10", starts)
	}
	if rows, distinct := countSent(t, db, slotAt("10:00")); rows != customers || distinct != customers {
		t.Fatalf("%d reports to %d customers; want each of %d once", rows, distinct, customers)
	}
}

// A runner whose claim was taken over while it was stalled cannot commit:
// SaveCursor fails with ErrClaimLost and the chunk, with its side effects
// and idempotency keys, rolls back.
func TestStalledRunnerIsFencedOff(t *testing.T) {
	cfg := schedCfg(t)
	clock := schedule.NewSimClock(t0)
	a := startInstance(t, cfg, newReports("A"), clock)
	db := observer(t, cfg)
	seedCustomers(t, db, 8)

	a.mod.afterChunk = func(r *schedule.Run, chunk int) {
		if chunk == 0 && r.Attempt == 1 {
			// Meanwhile another instance took the run over.
			if err := db.Model(&schedule.RunRecord{}).Where("id = ?", r.ID()).
				Updates(map[string]any{"attempt": 2, "instance": "other"}).Error; err != nil {
				t.Error(err)
			}
		}
	}
	clock.Set(slotAt("10:00"))
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var rec schedule.RunRecord
		db.Where("job = ?", digestJob).First(&rec)
		if rec.Instance == "other" {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := a.ta.Schedule.Wait(ctxTimeout(t)); err != nil {
		t.Fatal(err)
	}
	var rec schedule.RunRecord
	db.Where("job = ?", digestJob).First(&rec)
	if rec.Status != schedule.StatusRunning || rec.Attempt != 2 || rec.Cursor != "5" {
		t.Fatalf("run is %s attempt %d cursor %q; the fenced runner must leave it to its new owner after chunk one", rec.Status, rec.Attempt, rec.Cursor)
	}
	if rows, _ := countSent(t, db, slotAt("10:00")); rows != 5 {
		t.Fatalf("%d reports; only the first chunk (5) may have committed", rows)
	}
	var keys int64
	db.Table("schedule_keys").Where("run_id = ?", rec.ID).Count(&keys)
	if keys != 5 {
		t.Fatalf("%d idempotency keys; the fenced chunk's keys must roll back with it", keys)
	}
}

// At start the slots missed while every instance was down are caught up,
// each once and oldest first, within the grace window; older missed slots
// are not. A job that chooses CatchUpLatest runs only the latest.
func TestCatchUpAfterDowntime(t *testing.T) {
	t.Run("every slot", func(t *testing.T) {
		testCatchUp(t, schedule.CatchUpEvery, "10:00 schedule, 11:40 catch-up, 11:50 catch-up, 12:00 catch-up, 12:30 schedule")
	})
	t.Run("latest slot", func(t *testing.T) {
		testCatchUp(t, schedule.CatchUpLatest, "10:00 schedule, 12:00 catch-up, 12:30 schedule")
	})
}

// A job with no scheduled run on record (a new deployment, or a job new in
// one) was not running before its first start: it runs its latest slot
// only, never every slot of the grace window (a minute job would claim a
// day of minutes).
func TestNewJobCatchesUpItsLatestSlotOnly(t *testing.T) {
	cfg := schedCfg(t, func(s *config.Schedule) { s.Grace = 30 * time.Minute })
	clock := schedule.NewSimClock(slotAt("12:05"))
	db := observer(t, cfg)
	a := startInstance(t, cfg, newReports("A"), clock)
	waitRun(t, db, digestJob, slotAt("12:00"), schedule.StatusSucceeded)
	if err := a.ta.Schedule.Wait(ctxTimeout(t)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range runsOf(t, db, digestJob) {
		got = append(got, r.Slot.Format("15:04")+" "+r.Trigger)
	}
	if want := "12:00 catch-up"; strings.Join(got, ", ") != want {
		t.Fatalf("runs: %s, want %s", strings.Join(got, ", "), want)
	}
	if strings.Contains(a.ta.LogText(), "more missed slots") {
		t.Errorf("a new job's first start warned of missed slots:\n%s", a.ta.LogText())
	}
}

func testCatchUp(t *testing.T, mode schedule.CatchUpMode, want string) {
	base := schedCfg(t)
	clock := schedule.NewSimClock(t0)
	db := observer(t, base)

	reports := func(tag string) *reportsModule { m := newReports(tag); m.catchUp = mode; return m }
	a := startInstance(t, base, reports("A"), clock)
	seedCustomers(t, db, 3)
	clock.Set(slotAt("10:00"))
	waitRun(t, db, digestJob, slotAt("10:00"), schedule.StatusSucceeded)
	a.cancel()
	a.ta.Stop(context.Background())
	a.ta.Close()

	// Down from 10:00 to 12:05: 10:10 ... 12:00 are missed. With a grace
	// of 30 minutes 11:40, 11:50 and 12:00 are in the window.
	clock.Set(slotAt("12:05"))
	generous := base
	generous.Schedule.Grace = 30 * time.Minute
	b := startInstance(t, generous, reports("B"), clock)
	rec := waitRun(t, db, digestJob, slotAt("12:00"), schedule.StatusSucceeded)
	if rec.Trigger != schedule.TriggerCatchUp {
		t.Fatalf("12:00 ran by %q, want catch-up", rec.Trigger)
	}
	if err := b.ta.Schedule.Wait(ctxTimeout(t)); err != nil {
		t.Fatal(err)
	}
	b.cancel()
	b.ta.Stop(context.Background())
	b.ta.Close()

	// Down again until 12:25; 12:20 is five minutes old, beyond a grace of
	// three, so it is not caught up. 12:30 then runs on schedule.
	clock.Set(slotAt("12:25"))
	strict := base
	strict.Schedule.Grace = 3 * time.Minute
	c := startInstance(t, strict, reports("C"), clock)
	clock.Set(slotAt("12:30"))
	waitRun(t, db, digestJob, slotAt("12:30"), schedule.StatusSucceeded)
	if err := c.ta.Schedule.Wait(ctxTimeout(t)); err != nil {
		t.Fatal(err)
	}

	var got []string
	for _, r := range runsOf(t, db, digestJob) {
		got = append(got, r.Slot.Format("15:04")+" "+r.Trigger)
	}
	if strings.Join(got, ", ") != want {
		t.Fatalf("runs: %s, want %s", strings.Join(got, ", "), want)
	}
	for _, r := range runsOf(t, db, digestJob) {
		if rows, distinct := countSent(t, db, r.Slot); rows != 3 || distinct != 3 {
			t.Errorf("slot %s sent %d reports to %d customers, want 3 to 3", r.Slot.Format("15:04"), rows, distinct)
		}
	}
}

// A slot whose claim fails because the database does not answer (here:
// schedule_runs locked by another connection) is claimed and run once the
// database is back, within the slot's grace window: it used to be logged
// as "claiming a slot failed" and never run.
func TestSlotClaimRetriedAfterDatabaseOutage(t *testing.T) {
	defer schedule.SetClaimRetry(100*time.Millisecond, 300*time.Millisecond)()
	cfg := schedCfg(t, func(s *config.Schedule) { s.Grace = time.Hour })
	cfg.Database.StatementTimeout = 300 * time.Millisecond
	cfg.Database.BusyTimeout = 300 * time.Millisecond
	clock := schedule.NewSimClock(t0)
	db := observer(t, cfg)
	a := startInstance(t, cfg, newReports("A"), clock)
	seedCustomers(t, db, 3)

	release := portaltest.LockTable(t, db, "schedule_runs")
	clock.Set(slotAt("10:00")) // the tick's claim fails: the table is locked
	time.Sleep(time.Second)    // several retries fail too
	release()
	rec := waitRun(t, db, digestJob, slotAt("10:00"), schedule.StatusSucceeded)
	if rec.Trigger != schedule.TriggerSchedule {
		t.Errorf("10:00 ran by %q, want schedule", rec.Trigger)
	}
	if err := a.ta.Schedule.Wait(ctxTimeout(t)); err != nil {
		t.Fatal(err)
	}
	if rows, distinct := countSent(t, db, slotAt("10:00")); rows != 3 || distinct != 3 {
		t.Errorf("10:00 sent %d reports to %d customers, want 3 to 3", rows, distinct)
	}
	// One warning for the slot whose claim kept failing, not one per retry.
	// (Other slots' claims may also meet a busy database on a loaded
	// machine — catch-up at start, the core's own jobs — and warn once each.)
	logs := a.ta.Logs.String()
	slot := "slot=" + slotAt("10:00").UTC().Format("2006-01-02T15:04:05.000Z")
	var n int
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "claiming a slot failed") && strings.Contains(line, "job="+digestJob+" ") && strings.Contains(line, slot) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d warnings about the failed claim of %s at 10:00, want one:\n%s", n, digestJob, logs)
	}

	// An outage longer than the grace window: the slot is given up, with
	// an error saying so, and the next slot runs.
	short := schedule.SetClaimRetry(50*time.Millisecond, 50*time.Millisecond)
	defer short()
	release = portaltest.LockTable(t, db, "schedule_runs")
	clock.Set(slotAt("10:10"))
	time.Sleep(400 * time.Millisecond)
	clock.Set(slotAt("11:11")) // 10:10's window (an hour) has passed
	eventually(t, 10*time.Second, func() bool {
		return strings.Contains(a.ta.Logs.String(), "its claim kept failing until its window passed")
	})
	release()
	clock.Set(slotAt("11:20"))
	waitRun(t, db, digestJob, slotAt("11:20"), schedule.StatusSucceeded)
}

// A slot whose job failed stays failed (the next slot still runs); running
// it again by hand resumes it from its cursor with its keys, so nothing is
// sent twice.
func TestFailedRunIsRecordedAndCanBeRetried(t *testing.T) {
	cfg := schedCfg(t)
	clock := schedule.NewSimClock(t0)
	a := startInstance(t, cfg, newReports("A"), clock)
	db := observer(t, cfg)
	seedCustomers(t, db, 9)
	a.mod.setHook(func(ctx context.Context, r *schedule.Run, chunk int) error {
		if r.Slot.Equal(slotAt("10:00")) && r.Attempt == 1 && chunk == 1 {
			return errors.New("mail relay refused the batch")
		}
		return nil
	})
	clock.Set(slotAt("10:00"))
	rec := waitRun(t, db, digestJob, slotAt("10:00"), schedule.StatusFailed)
	if rec.Error != "mail relay refused the batch" || rec.FinishedAt == nil || rec.Cursor != "5" {
		t.Fatalf("failed run recorded as %+v", rec)
	}
	clock.Set(slotAt("10:10"))
	waitRun(t, db, digestJob, slotAt("10:10"), schedule.StatusSucceeded)

	final, err := a.ta.Schedule.RunNow(context.Background(), digestJob, schedule.Request{Slot: slotAt("10:00")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if final.Status != schedule.StatusSucceeded || final.Attempt != 2 || final.Error != "" || final.Trigger != schedule.TriggerCLI {
		t.Fatalf("retry: %+v", final)
	}
	if rows, distinct := countSent(t, db, slotAt("10:00")); rows != 9 || distinct != 9 {
		t.Fatalf("after the retry: %d reports to %d customers, want 9 once each", rows, distinct)
	}

	// A succeeded slot is not run again; a slot off the schedule or in
	// the future is bad input; an unknown job is not found.
	_, err = a.ta.Schedule.RunNow(context.Background(), digestJob, schedule.Request{Slot: slotAt("10:00")}, nil)
	if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "already succeeded") {
		t.Fatalf("rerun of a succeeded slot: %v", err)
	}
	_, err = a.ta.Schedule.RunNow(context.Background(), digestJob, schedule.Request{Slot: slotAt("10:05")}, nil)
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "not a slot") || !strings.Contains(err.Error(), "10:00:00Z") {
		t.Fatalf("slot off the schedule: %v", err)
	}
	_, err = a.ta.Schedule.RunNow(context.Background(), digestJob, schedule.Request{Slot: slotAt("23:00")}, nil)
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "future") {
		t.Fatalf("future slot: %v", err)
	}
	_, err = a.ta.Schedule.RunNow(context.Background(), "reports.nosuch", schedule.Request{}, nil)
	if !errs.Is(err, errs.NotFound) {
		t.Fatalf("unknown job: %v", err)
	}
}

// A panicking job is recovered: the run is failed with the panic, and the
// instance keeps scheduling.
func TestPanickingJobIsRecoveredAndRecorded(t *testing.T) {
	cfg := schedCfg(t)
	clock := schedule.NewSimClock(t0)
	m := newReports("A")
	m.extra = []schedule.Job{{Name: "fragile", Cron: "*/10 * * * *", Run: func(ctx context.Context, r *schedule.Run) error {
		if r.Slot.Equal(slotAt("10:00")) {
			panic("ledger out of balance")
		}
		return nil
	}}}
	a := startInstance(t, cfg, m, clock)
	db := observer(t, cfg)
	clock.Set(slotAt("10:00"))
	rec := waitRun(t, db, "reports.fragile", slotAt("10:00"), schedule.StatusFailed)
	if rec.Error != "panic: ledger out of balance" {
		t.Fatalf("error recorded: %q", rec.Error)
	}
	if !strings.Contains(a.ta.Logs.String(), "job panicked") || !strings.Contains(a.ta.Logs.String(), "recovery_test.go") {
		t.Fatalf("the panic and its stack were not logged:\n%s", a.ta.Logs.String())
	}
	clock.Set(slotAt("10:10"))
	waitRun(t, db, "reports.fragile", slotAt("10:10"), schedule.StatusSucceeded)
	waitRun(t, db, digestJob, slotAt("10:10"), schedule.StatusSucceeded)
}

// Overrides change or turn off a declared schedule; an override naming no
// job, or one that does not parse, stops start-up naming it.
func TestOverridesAndDisabledScheduler(t *testing.T) {
	cleanup := schedule.Job{Name: "cleanup", Cron: "0 3 * * *", Run: func(context.Context, *schedule.Run) error { return nil }}
	cfg := schedCfg(t, func(s *config.Schedule) {
		s.Overrides = map[string]string{digestJob: "off", "reports.cleanup": "*/5 * * * *"}
	})
	clock := schedule.NewSimClock(t0)
	m := newReports("A")
	m.extra = []schedule.Job{cleanup}
	a := startInstance(t, cfg, m, clock) // 09:55 is a slot of */5: caught up at start
	db := observer(t, cfg)
	clock.Set(slotAt("10:00"))
	waitRun(t, db, "reports.cleanup", slotAt("10:00"), schedule.StatusSucceeded)
	clock.Set(slotAt("10:05"))
	waitRun(t, db, "reports.cleanup", slotAt("10:05"), schedule.StatusSucceeded)
	clock.Set(slotAt("10:10"))
	waitRun(t, db, "reports.cleanup", slotAt("10:10"), schedule.StatusSucceeded)
	if err := a.ta.Schedule.Wait(ctxTimeout(t)); err != nil {
		t.Fatal(err)
	}
	if runs := runsOf(t, db, digestJob); len(runs) != 0 {
		t.Fatalf("the job turned off ran: %+v", runs)
	}
	all, err := a.ta.Schedule.Jobs(context.Background(), 5)
	var jobs []schedule.JobInfo
	for _, j := range all { // the module's jobs, not the kernel's own
		if strings.HasPrefix(j.Name, "reports.") {
			jobs = append(jobs, j)
		}
	}
	if err != nil || len(jobs) != 2 {
		t.Fatalf("jobs: %+v %v", jobs, err)
	}
	if j := jobs[0]; j.Name != "reports.cleanup" || j.Schedule != "*/5 * * * *" || j.Declared != "0 3 * * *" || !j.Overridden || j.Next == nil || !j.Next.Equal(slotAt("10:15")) || len(j.LastRuns) != 4 || j.LastRuns[3].Trigger != schedule.TriggerCatchUp {
		t.Errorf("cleanup: %+v", j)
	}
	if j := jobs[1]; j.Name != digestJob || j.Enabled || !j.Overridden || j.Next != nil {
		t.Errorf("digest: %+v", j)
	}
	if _, err := a.ta.Schedule.RunNow(context.Background(), digestJob, schedule.Request{}, nil); !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "turned off") {
		t.Fatalf("running a job that is off: %v", err)
	}

	// schedule.enabled=false: this instance never ticks, but runs by hand.
	off := schedCfg(t, func(s *config.Schedule) { s.Enabled = false })
	idle := startInstance(t, off, newReports("B"), clock)
	idleDB := observer(t, off)
	clock.Set(slotAt("10:30"))
	if _, err := idle.ta.Schedule.Trigger(context.Background(), digestJob, schedule.Request{UserID: 7}); err != nil {
		t.Fatal(err)
	}
	if err := idle.ta.Schedule.Wait(ctxTimeout(t)); err != nil {
		t.Fatal(err)
	}
	runs := runsOf(t, idleDB, digestJob)
	if len(runs) != 1 || !runs[0].Manual || runs[0].TriggeredBy != 7 || runs[0].Status != schedule.StatusSucceeded {
		t.Fatalf("with the scheduler disabled want only the manual run, got %+v", runs)
	}
	if _, err := idle.ta.Schedule.Trigger(context.Background(), digestJob, schedule.Request{}); !errs.Is(err, errs.Conflict) {
		t.Fatalf("a second manual run in the same second: %v", err)
	}

	for _, tc := range []struct {
		overrides map[string]string
		want      string
	}{
		{map[string]string{"reports.nosuch": "off"}, `schedule.overrides: no job named "reports.nosuch"`},
		{map[string]string{digestJob: "61 * * * *"}, "schedule.overrides: job reports.digest"},
		{map[string]string{digestJob: "CRON_TZ=Mars/Olympus 0 * * * *"}, "Mars/Olympus"},
	} {
		bad := schedCfg(t, func(s *config.Schedule) { s.Overrides = tc.overrides })
		err := buildErr(t, bad, newReports("X"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("overrides %v: error %v, want it to name %q", tc.overrides, err, tc.want)
		}
	}

	// A module's own declarations are checked at start too.
	noop := func(context.Context, *schedule.Run) error { return nil }
	for _, tc := range []struct {
		job  schedule.Job
		want string
	}{
		{schedule.Job{Name: "banking.steal", Cron: "@daily", Run: noop}, `module reports: job "banking.steal": a module's jobs are named "reports.<name>"`},
		{schedule.Job{Name: "nightly", Cron: "0 0 * *", Run: noop}, "module reports: job reports.nightly: cron spec"},
		{schedule.Job{Name: "nightly", Cron: "@daily"}, "job reports.nightly: no Run function"},
		{schedule.Job{Name: "digest", Cron: "@daily", Run: noop}, "job reports.digest is declared twice"},
		{schedule.Job{Name: "Nightly", Cron: "@daily", Run: noop}, `job "reports.Nightly": want "<module id>.<name>"`},
	} {
		m := newReports("X")
		m.extra = []schedule.Job{tc.job}
		err := buildErr(t, schedCfg(t), m)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.job.Name, err, tc.want)
		}
	}
}

// Progress may be reported inside a chunk's transaction (no second write
// competes for SQLite's one writer) and reaches the runs table while the
// job is still working.
func TestProgressIsVisibleWhileTheJobRuns(t *testing.T) {
	cfg := schedCfg(t)
	clock := schedule.NewSimClock(t0)
	seen := make(chan struct{})
	m := newReports("A")
	var st *store.Store
	m.extra = []schedule.Job{{Name: "long", Cron: "0 * * * *", Run: func(ctx context.Context, r *schedule.Run) error {
		err := st.Tx(ctx, func(tx *gorm.DB) error {
			r.Progress(3, 10)
			return r.SaveCursor(tx, "3")
		})
		if err != nil {
			return err
		}
		r.Progress(4, 10)
		select {
		case <-seen:
			r.Progress(10, 10)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}}
	a := startInstance(t, cfg, m, clock)
	st = a.ta.Store
	db := observer(t, cfg)
	clock.Set(slotAt("10:00"))
	deadline := time.Now().Add(10 * time.Second)
	var rec schedule.RunRecord
	for time.Now().Before(deadline) {
		rec = schedule.RunRecord{}
		db.Where("job = ?", "reports.long").First(&rec)
		if rec.ProgressDone == 4 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if rec.Status != schedule.StatusRunning || rec.ProgressDone != 4 || rec.ProgressTotal != 10 {
		t.Fatalf("while running: %s %d/%d", rec.Status, rec.ProgressDone, rec.ProgressTotal)
	}
	close(seen)
	rec = waitRun(t, db, "reports.long", slotAt("10:00"), schedule.StatusSucceeded)
	if rec.ProgressDone != 10 || rec.Cursor != "3" {
		t.Fatalf("finished with %d/%d, cursor %q", rec.ProgressDone, rec.ProgressTotal, rec.Cursor)
	}
}

// eventually polls cond until it holds, failing the test after d.
func eventually(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", d)
		}
	}
}
