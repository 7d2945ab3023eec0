package schedule

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// dbTimeout bounds the scheduler's own bookkeeping statements (claims,
// heartbeats, results), which must not hang a tick or a shutdown.
const dbTimeout = 15 * time.Second

func (s *Service) bookkeeping(ctx context.Context) (*gorm.DB, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dbTimeout)
	return s.db.WithContext(ctx), cancel
}

// tickAll ticks every enabled job at now (a SimClock moved).
func (s *Service) tickAll(now time.Time) {
	for _, e := range s.enabledJobs() {
		s.tick(e, now)
	}
}

// tick is called when a job's activation time has come: it computes the
// slot and claims it; if this instance wins, the run starts.
func (s *Service) tick(e *entry, now time.Time) {
	slot := prevSlot(e.sched, now)
	if slot.IsZero() {
		return
	}
	slot = normSlot(slot)
	s.mu.Lock()
	last := s.lastSlot[e.job.Name]
	if !slot.After(last) || s.closing() {
		s.mu.Unlock()
		return
	}
	s.lastSlot[e.job.Name] = slot
	s.mu.Unlock()
	s.claimAndLaunch(e, slot, TriggerSchedule)
}

// maxCatchUp bounds the slots one job catches up at a start: a job every
// minute with a day's grace would otherwise queue 1 440 runs.
const maxCatchUp = 100

// catchUp claims, for every enabled job, the slots at or before now within
// the grace window that nobody has claimed — slots that fell due while
// every instance was down or the database was unreachable: every one,
// oldest first (CatchUpEvery), or only the latest (CatchUpLatest).
func (s *Service) catchUp(now time.Time) {
	for _, e := range s.enabledJobs() {
		latest := prevSlot(e.sched, now)
		if latest.IsZero() {
			continue
		}
		latest = normSlot(latest)
		s.mu.Lock()
		s.lastSlot[e.job.Name] = latest
		s.mu.Unlock()
		if s.cfg.Grace <= 0 || now.Sub(latest) > s.cfg.Grace {
			continue
		}
		slots := []time.Time{latest}
		if from, ok := s.catchUpFrom(e.job.Name, now.Add(-s.cfg.Grace)); ok && e.job.CatchUp == CatchUpEvery {
			slots = missedSlots(e.sched, from, latest)
			if len(slots) > maxCatchUp {
				s.log.Warn("more missed slots than are caught up at once; the oldest are skipped",
					"job", e.job.Name, "missed", len(slots), "caught_up", maxCatchUp, "oldest_run", slots[len(slots)-maxCatchUp])
				slots = slots[len(slots)-maxCatchUp:]
			}
		}
		s.catchUpSlots(e, slots)
	}
}

// catchUpFrom returns where a CatchUpEvery job's missed slots start: its
// last scheduled slot claimed (those before it had their turn) or the grace
// window's start, whichever is later. A job that has no scheduled run on
// record was not running before (a new deployment, or a job new in it), so
// it has nothing to catch up slot by slot: ok is false and only its latest
// slot runs — a minute job's first start does not claim a day of minutes.
// When the database does not answer, the window's start is used: the
// claims tell which slots were taken.
func (s *Service) catchUpFrom(job string, windowStart time.Time) (from time.Time, ok bool) {
	db, cancel := s.bookkeeping(context.Background())
	defer cancel()
	var last []time.Time
	if err := db.Model(&RunRecord{}).Where("job = ? AND manual = ?", job, false).
		Order("slot DESC").Limit(1).Pluck("slot", &last).Error; err != nil {
		return windowStart, true
	}
	if len(last) == 0 {
		return time.Time{}, false
	}
	if last[0].After(windowStart) {
		return last[0], true
	}
	return windowStart, true
}

// missedSlots lists the slots of sched after from, up to and including
// latest, oldest first.
func missedSlots(sched cron.Schedule, from, latest time.Time) []time.Time {
	var out []time.Time
	for t := nextSlot(sched, from.Add(-time.Second)); !t.IsZero() && !t.After(latest); t = nextSlot(sched, t) {
		out = append(out, normSlot(t))
	}
	return out
}

// catchUpSlots claims and runs slots of one job one after another, in the
// background: a slot whose claim fails is retried within its grace window.
func (s *Service) catchUpSlots(e *entry, slots []time.Time) {
	if len(slots) == 1 {
		s.claimAndLaunch(e, slots[0], TriggerCatchUp)
		return
	}
	s.mu.Lock()
	if s.closing() {
		s.mu.Unlock()
		return
	}
	base := s.base
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		for _, slot := range slots {
			if base.Err() != nil {
				return
			}
			rec, won, err := s.claim(context.Background(), e.job.Name, slot, false, TriggerCatchUp, 0)
			switch {
			case err != nil:
				s.retryClaim(e, slot, TriggerCatchUp, err)
			case won:
				if r := s.track(e, rec); r != nil {
					_ = s.execute(base, r, false)
					s.wg.Done()
				}
			}
		}
	}()
}

func (s *Service) claimAndLaunch(e *entry, slot time.Time, trigger string) {
	rec, won, err := s.claim(context.Background(), e.job.Name, slot, false, trigger, 0)
	if err != nil {
		s.retryClaim(e, slot, trigger, err)
		return
	}
	if !won {
		s.log.Debug("slot claimed by another instance", "job", e.job.Name, "slot", slot)
		return
	}
	s.launch(e, rec)
}

// retryClaim keeps claiming a slot whose claim failed (the database did not
// answer) with a growing pause, until the claim is decided, the slot's
// grace window (or, without one, the job's next slot) has passed, or the
// scheduler stops. One warning says it started, one line how it ended.
func (s *Service) retryClaim(e *entry, slot time.Time, trigger string, cause error) {
	key := e.job.Name + "@" + slot.Format(time.RFC3339)
	s.mu.Lock()
	if s.closing() || s.retrying[key] {
		s.mu.Unlock()
		return
	}
	s.retrying[key] = true
	base := s.base
	s.wg.Add(1)
	s.mu.Unlock()
	deadline := slot.Add(s.cfg.Grace)
	if s.cfg.Grace <= 0 {
		deadline = nextSlot(e.sched, slot)
	}
	s.log.Warn("claiming a slot failed; retrying until it is claimed or its window passes",
		"job", e.job.Name, "slot", slot, "until", deadline, "err", cause)
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.retrying, key)
			s.mu.Unlock()
		}()
		for wait, attempt := retryFirst, 1; ; wait, attempt = min(wait*2, retryMax), attempt+1 {
			select {
			case <-base.Done():
				return
			case <-time.After(wait):
			}
			if !s.now().Before(deadline) {
				s.log.Error("a slot was not run: its claim kept failing until its window passed",
					"job", e.job.Name, "slot", slot, "attempts", attempt, "err", cause)
				return
			}
			rec, won, err := s.claim(context.Background(), e.job.Name, slot, false, trigger, 0)
			if err != nil {
				cause = err
				continue
			}
			s.log.Info("slot claim decided after retrying", "job", e.job.Name, "slot", slot, "attempts", attempt+1, "won", won)
			if won {
				s.launch(e, rec)
			}
			return
		}
	}()
}

// The pauses between claim retries: doubling from retryFirst to retryMax.
var (
	retryFirst = time.Second
	retryMax   = 30 * time.Second
)

// claim inserts the run of (job, slot, manual); won is false when the row
// already existed, i.e. another claim got there first.
func (s *Service) claim(ctx context.Context, job string, slot time.Time, manual bool, trigger string, by uint) (*RunRecord, bool, error) {
	now := s.now()
	rec := &RunRecord{
		Job: job, Slot: normSlot(slot), Manual: manual, Trigger: trigger, TriggeredBy: by,
		Status: StatusRunning, Instance: s.instance, Attempt: 1,
		StartedAt: now, HeartbeatAt: now,
	}
	db, cancel := s.bookkeeping(ctx)
	defer cancel()
	res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(rec)
	if res.Error != nil {
		return nil, false, res.Error
	}
	return rec, res.RowsAffected == 1, nil
}

// takeOver claims an existing run that is interrupted, failed (retry), or
// running without a heartbeat since before cutoff. The update is
// conditional on the attempt read, so of several instances trying, one
// wins; the attempt it sets fences the previous runner's writes.
func (s *Service) takeOver(ctx context.Context, old *RunRecord, cutoff time.Time, trigger string, retryFailed bool) (*RunRecord, bool, error) {
	now := s.now()
	db, cancel := s.bookkeeping(ctx)
	defer cancel()
	claimable := []Status{StatusInterrupted}
	if retryFailed {
		claimable = append(claimable, StatusFailed)
	}
	res := db.Model(&RunRecord{}).
		Where("id = ? AND attempt = ?", old.ID, old.Attempt).
		Where("status IN ? OR (status = ? AND heartbeat_at < ?)", claimable, StatusRunning, cutoff).
		Updates(map[string]any{
			"status": StatusRunning, "instance": s.instance, "attempt": old.Attempt + 1,
			"heartbeat_at": now, "finished_at": nil, "error": "", "run_trigger": trigger,
		})
	if res.Error != nil {
		return nil, false, res.Error
	}
	if res.RowsAffected != 1 {
		return nil, false, nil
	}
	var rec RunRecord
	if err := db.First(&rec, old.ID).Error; err != nil {
		return nil, false, err
	}
	return &rec, true, nil
}

// reap takes over the runs of this instance's enabled jobs that were
// interrupted or whose runner stopped heartbeating more than a lease ago,
// and resumes them.
func (s *Service) reap(now time.Time) {
	names := []string{}
	byName := map[string]*entry{}
	for _, e := range s.enabledJobs() {
		names = append(names, e.job.Name)
		byName[e.job.Name] = e
	}
	if len(names) == 0 {
		return
	}
	cutoff := now.Add(-s.cfg.Lease)
	db, cancel := s.bookkeeping(context.Background())
	var stale []RunRecord
	err := db.Where("job IN ?", names).
		Where("status = ? OR (status = ? AND heartbeat_at < ?)", StatusInterrupted, StatusRunning, cutoff).
		Order("slot").Limit(100).Find(&stale).Error
	cancel()
	if err != nil {
		s.log.Error("looking for abandoned runs failed", "err", err)
		return
	}
	for i := range stale {
		old := &stale[i]
		s.mu.Lock()
		_, mine := s.active[old.ID]
		stopping := s.closing()
		s.mu.Unlock()
		if mine || stopping {
			continue
		}
		rec, won, err := s.takeOver(context.Background(), old, cutoff, old.Trigger, false)
		if err != nil {
			s.log.Error("taking over a run failed", "job", old.Job, "slot", old.Slot, "err", err)
			continue
		}
		if !won {
			continue
		}
		s.log.Info("resuming a run", "job", rec.Job, "slot", rec.Slot, "attempt", rec.Attempt,
			"previous_instance", old.Instance, "was", old.Status)
		s.launch(byName[rec.Job], rec)
	}
}

// reapLoop looks for abandoned runs every half lease.
func (s *Service) reapLoop() {
	defer s.wg.Done()
	s.mu.Lock()
	clock, base := s.clock, s.base
	s.mu.Unlock()
	every := s.cfg.Lease / 2
	for {
		select {
		case <-base.Done():
			return
		case now := <-clock.After(every):
			s.reap(now)
		}
	}
}

// launch runs rec in the background, tracked so Stop waits for it.
func (s *Service) launch(e *entry, rec *RunRecord) {
	r := s.track(e, rec)
	if r == nil {
		return
	}
	s.mu.Lock()
	base := s.base
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		_ = s.execute(base, r, false)
	}()
}

// track registers a claimed run as active (Stop waits for it: the caller
// runs it and then calls s.wg.Done), or, when the instance is stopping,
// releases the claim for another instance and returns nil.
func (s *Service) track(e *entry, rec *RunRecord) *Run {
	s.mu.Lock()
	if !s.started || s.closing() {
		s.mu.Unlock()
		// Leave the claim for another instance to take over at once.
		s.release(rec, "the instance stopped before the run began")
		return nil
	}
	r := s.newRun(e, rec, nil)
	s.active[rec.ID] = r
	s.wg.Add(1)
	s.mu.Unlock()
	return r
}

// release marks a claimed run interrupted, with the progress in rec, so
// that any instance may resume it without waiting for the lease.
func (s *Service) release(rec *RunRecord, why string) {
	db, cancel := s.bookkeeping(context.Background())
	defer cancel()
	res := db.Model(&RunRecord{}).Where("id = ? AND attempt = ? AND status = ?", rec.ID, rec.Attempt, StatusRunning).
		Updates(map[string]any{
			"status": StatusInterrupted, "heartbeat_at": s.now(),
			"progress_done": rec.ProgressDone, "progress_total": rec.ProgressTotal,
		})
	if res.Error != nil {
		s.log.Error("releasing a run failed", "job", rec.Job, "slot", rec.Slot, "err", res.Error)
		return
	}
	s.log.Info("run interrupted; it resumes from its cursor", "job", rec.Job, "slot", rec.Slot, "why", why)
}

// describeExisting explains why a slot asked for by hand cannot run.
func describeExisting(old *RunRecord, now time.Time, lease time.Duration) error {
	switch {
	case old.Status == StatusSucceeded:
		return fmt.Errorf("slot %s of %s already succeeded at %s", old.Slot.Format(time.RFC3339), old.Job, old.FinishedAt.UTC().Format(time.RFC3339))
	case old.Status == StatusRunning && now.Sub(old.HeartbeatAt) <= lease:
		return fmt.Errorf("slot %s of %s is running on instance %s", old.Slot.Format(time.RFC3339), old.Job, old.Instance)
	}
	return errors.New("another instance took the run over first")
}
