package schedule

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/portalkit/portalkit/core/errs"
)

// Request asks for a run by hand.
type Request struct {
	// Slot is a slot of the job's schedule to run (a missed or failed one;
	// a failed or interrupted slot resumes from its cursor with its
	// idempotency keys, so it sends nothing twice). Zero asks for a manual
	// slot at the current time.
	Slot time.Time
	// UserID is who asked (0 when unknown, e.g. the CLI).
	UserID uint
	// Trigger is TriggerAdmin (default) or TriggerCLI.
	Trigger string
}

// prepare claims the run a Request asks for. Its errors are errs kinds:
// NotFound for an unknown job, Conflict for a job turned off or a slot that
// already succeeded or is running, Invalid (field "slot") for a slot that
// is in the future or not on the schedule.
func (s *Service) prepare(ctx context.Context, name string, req Request) (*entry, *RunRecord, error) {
	e, ok := s.entry(name)
	if !ok {
		return nil, nil, errs.NotFoundf("no job named %q", name)
	}
	if !e.enabled() {
		return nil, nil, errs.Conflictf("job %s is turned off in this deployment (schedule.overrides)", name)
	}
	trigger := req.Trigger
	if trigger == "" {
		trigger = TriggerAdmin
	}
	now := s.now()
	if req.Slot.IsZero() {
		slot := normSlot(now)
		rec, won, err := s.claim(ctx, name, slot, true, trigger, req.UserID)
		if err != nil {
			return nil, nil, err
		}
		if !won {
			return nil, nil, errs.Conflictf("a manual run of %s was started at %s already; try again in a second", name, slot.Format(time.RFC3339))
		}
		return e, rec, nil
	}
	slot := req.Slot.UTC()
	if !slot.Equal(normSlot(slot)) {
		return nil, nil, errs.InvalidField("slot", "must be a whole second")
	}
	if slot.After(now) {
		return nil, nil, errs.InvalidField("slot", fmt.Sprintf("%s is in the future", slot.Format(time.RFC3339)))
	}
	if s.cfg.Retention > 0 && now.Sub(slot) > s.cfg.Retention {
		// Its run and keys may have been pruned: running it again could
		// repeat side effects.
		return nil, nil, errs.InvalidField("slot", fmt.Sprintf("%s is older than schedule.retention (%v); its records may be pruned", slot.Format(time.RFC3339), s.cfg.Retention))
	}
	if prev := prevSlot(e.sched, slot); !prev.Equal(slot) {
		msg := fmt.Sprintf("%s is not a slot of %s (%s)", slot.Format(time.RFC3339), name, e.spec)
		if !prev.IsZero() {
			msg += "; the slot before it is " + prev.Format(time.RFC3339)
		}
		return nil, nil, errs.InvalidField("slot", msg)
	}
	rec, won, err := s.claim(ctx, name, slot, false, trigger, req.UserID)
	if err != nil {
		return nil, nil, err
	}
	if won {
		return e, rec, nil
	}
	var old RunRecord
	db, cancel := s.bookkeeping(ctx)
	err = db.Where("job = ? AND slot = ? AND manual = ?", name, slot, false).First(&old).Error
	cancel()
	if err != nil {
		return nil, nil, err
	}
	rec, won, err = s.takeOver(ctx, &old, now.Add(-s.cfg.Lease), trigger, true)
	if err != nil {
		return nil, nil, err
	}
	if !won {
		return nil, nil, errs.Conflictf("%s", describeExisting(&old, now, s.cfg.Lease))
	}
	return e, rec, nil
}

// Trigger starts the run req asks for in the background of this instance
// and returns its record as claimed. The scheduler must be started.
func (s *Service) Trigger(ctx context.Context, name string, req Request) (RunRecord, error) {
	s.mu.Lock()
	running := s.started && !s.closing()
	s.mu.Unlock()
	if !running {
		return RunRecord{}, errs.New(errs.Unavailable, "the scheduler is not running in this instance")
	}
	e, rec, err := s.prepare(ctx, name, req)
	if err != nil {
		return RunRecord{}, err
	}
	s.log.Info("run started by hand", "job", name, "slot", rec.Slot, "manual", rec.Manual, "user", req.UserID, "trigger", rec.Trigger)
	s.launch(e, rec)
	return *rec, nil
}

// RunNow runs what req asks for in the calling goroutine (the CLI) and
// returns the run's final record with the job's error, ErrInterrupted if
// ctx ended first (the run then resumes elsewhere from its cursor), or an
// errs kind from the checks (see Trigger). progress, if not nil, sees every
// Progress call of the job.
func (s *Service) RunNow(ctx context.Context, name string, req Request, progress func(done, total int64)) (RunRecord, error) {
	if req.Trigger == "" {
		req.Trigger = TriggerCLI
	}
	e, rec, err := s.prepare(ctx, name, req)
	if err != nil {
		return RunRecord{}, err
	}
	r := s.newRun(e, rec, progress)
	s.mu.Lock()
	s.active[rec.ID] = r
	s.mu.Unlock()
	runErr := s.execute(ctx, r, true)
	final, err := s.run(context.WithoutCancel(ctx), rec.ID)
	if err != nil {
		final = *rec
	}
	return final, runErr
}

// run loads one run by ID.
func (s *Service) run(ctx context.Context, id uint) (RunRecord, error) {
	var rec RunRecord
	db, cancel := s.bookkeeping(ctx)
	defer cancel()
	err := db.First(&rec, id).Error
	return rec, err
}

// IsInterrupted reports whether err says a run stopped because its
// context ended (it resumes later).
func IsInterrupted(err error) bool { return errors.Is(err, ErrInterrupted) }
