package schedule

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	if !slot.After(last) || s.stopping || s.base.Err() != nil {
		s.mu.Unlock()
		return
	}
	s.lastSlot[e.job.Name] = slot
	s.mu.Unlock()
	s.claimAndLaunch(e, slot, TriggerSchedule)
}

// catchUp claims, for every enabled job, the latest slot at or before now
// when it is within the grace window and nobody has claimed it: the slot
// that fell due while every instance was down. Older missed slots are not
// run; a job that needs every period covered walks them itself from its
// cursor or its own data.
func (s *Service) catchUp(now time.Time) {
	for _, e := range s.enabledJobs() {
		slot := prevSlot(e.sched, now)
		if slot.IsZero() {
			continue
		}
		slot = normSlot(slot)
		s.mu.Lock()
		s.lastSlot[e.job.Name] = slot
		s.mu.Unlock()
		if s.cfg.Grace <= 0 || now.Sub(slot) > s.cfg.Grace {
			continue
		}
		s.claimAndLaunch(e, slot, TriggerCatchUp)
	}
}

func (s *Service) claimAndLaunch(e *entry, slot time.Time, trigger string) {
	rec, won, err := s.claim(context.Background(), e.job.Name, slot, false, trigger, 0)
	if err != nil {
		s.log.Error("claiming a slot failed", "job", e.job.Name, "slot", slot, "err", err)
		return
	}
	if !won {
		s.log.Debug("slot claimed by another instance", "job", e.job.Name, "slot", slot)
		return
	}
	s.launch(e, rec)
}

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
		stopping := s.stopping || s.base.Err() != nil
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
	s.mu.Lock()
	if s.stopping || !s.started || s.base.Err() != nil {
		s.mu.Unlock()
		// Leave the claim for another instance to take over at once.
		s.release(rec, "the instance stopped before the run began")
		return
	}
	base := s.base
	r := s.newRun(e, rec, nil)
	s.active[rec.ID] = r
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		_ = s.execute(base, r, false)
	}()
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
