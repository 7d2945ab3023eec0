package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/store"
)

// Run is one run of a job for one slot, as the job sees it: the slot, a
// logger, a progress reporter, the saved cursor and the idempotency helper.
type Run struct {
	// Job is the job's name.
	Job string
	// Slot is the activation time this run is for (UTC). A job computes the
	// period it covers from it ("the month before Slot"), never from the
	// wall clock, so a late or resumed run does the same work.
	Slot time.Time
	// Manual is true for a run asked for by hand outside the schedule.
	Manual bool
	// Attempt is 1 for the first runner of the slot and grows with each
	// takeover or retry.
	Attempt int
	// Log is tagged with the job, slot and attempt.
	Log *slog.Logger

	svc       *Service
	entry     *entry
	id        uint
	cursor    string
	startedAt time.Time
	sink      func(done, total int64)
	cancel    context.CancelCauseFunc

	kick chan struct{} // Progress was called

	mu          sync.Mutex
	done, total int64
}

// progressEvery throttles progress writes to the database.
const progressEvery = time.Second

func (s *Service) newRun(e *entry, rec *RunRecord, sink func(done, total int64)) *Run {
	return &Run{
		Job: rec.Job, Slot: rec.Slot.UTC(), Manual: rec.Manual, Attempt: rec.Attempt,
		Log: s.log.With("job", rec.Job, "slot", rec.Slot.UTC().Format(time.RFC3339), "run", rec.ID, "attempt", rec.Attempt),
		svc: s, entry: e, id: rec.ID, cursor: rec.Cursor, startedAt: rec.StartedAt, sink: sink,
		done: rec.ProgressDone, total: rec.ProgressTotal, kick: make(chan struct{}, 1),
	}
}

// ID is the run's row in schedule_runs.
func (r *Run) ID() uint { return r.id }

// Cursor is where this attempt starts: the cursor the last committed chunk
// of an earlier attempt saved, or "" for a slot that starts afresh.
func (r *Run) Cursor() string { return r.cursor }

// SaveCursor records cursor as the run's resume point inside tx, the
// transaction of the chunk it follows, so the chunk's writes and the
// cursor commit together. It fails with ErrClaimLost (and the job must
// return, rolling tx back) when another instance has taken the run over.
func (r *Run) SaveCursor(tx *gorm.DB, cursor string) error {
	if tx == nil {
		return errors.New("schedule: SaveCursor needs the chunk's transaction")
	}
	r.mu.Lock()
	done, total := r.done, r.total
	r.mu.Unlock()
	res := tx.Model(&RunRecord{}).
		Where("id = ? AND attempt = ? AND status = ?", r.id, r.Attempt, StatusRunning).
		Updates(map[string]any{
			"cursor": cursor, "heartbeat_at": r.svc.now(),
			"progress_done": done, "progress_total": total,
		})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		r.lost()
		return ErrClaimLost
	}
	return nil
}

// Once reports whether this is the first time the run's slot does the side
// effect named key ("customer/42"): it inserts (job, slot, key) into
// schedule_keys inside tx, the transaction that does the side effect. If tx
// rolls back, so does the key, and a resumed run does the work again; once
// committed, every later call for the same key answers false, however many
// times the slot is resumed or retried.
func (r *Run) Once(tx *gorm.DB, key string) (first bool, err error) {
	firsts, err := r.OnceEach(tx, []string{key})
	if err != nil {
		return false, err
	}
	return firsts[0], nil
}

// onceBatchRows bounds one multi-row insert (5 parameters a row stays far
// below SQLite's and PostgreSQL's parameter limits).
const onceBatchRows = 1000

// OnceEach is Once for many keys in one statement per thousand keys: the
// result says, for each key in order, whether this is the first time the
// slot does it. Use it in chunks of many customers, where one Once per
// customer would cost a round trip each (docs/PERFORMANCE.md). A key
// repeated within keys is first only at its first position.
func (r *Run) OnceEach(tx *gorm.DB, keys []string) ([]bool, error) {
	if tx == nil {
		return nil, errors.New("schedule: Once needs the side effect's transaction")
	}
	first := make([]bool, len(keys))
	now := r.svc.now()
	for start := 0; start < len(keys); start += onceBatchRows {
		part := keys[start:min(start+onceBatchRows, len(keys))]
		args := make([]any, 0, 5*len(part))
		for _, k := range part {
			if k == "" || len(k) > 200 {
				return nil, fmt.Errorf("schedule: Once key %q: want 1 to 200 characters", k)
			}
			args = append(args, r.id, k, r.Job, r.Slot, now)
		}
		rows, err := tx.Raw(store.MultiRow(`INSERT INTO schedule_keys (run_id, "key", job, slot, created_at) VALUES `,
			len(part), 5, ` ON CONFLICT DO NOTHING RETURNING "key"`), args...).Rows()
		if err != nil {
			return nil, err
		}
		inserted := map[string]bool{}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, err
			}
			inserted[k] = true
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for i, k := range part {
			if inserted[k] {
				first[start+i] = true
				delete(inserted, k)
			}
		}
	}
	return first, nil
}

// Key builds an idempotency key for another service's dedupe key (such as
// notify's DedupeKey) from the job, the slot and parts:
// "banking.monthly_report@2025-06-01T06:00:00Z/customer/42".
func (r *Run) Key(parts ...any) string {
	var b strings.Builder
	b.WriteString(r.Job)
	b.WriteByte('@')
	b.WriteString(r.Slot.UTC().Format(time.RFC3339))
	if r.Manual {
		b.WriteString("+manual")
	}
	for _, p := range parts {
		b.WriteByte('/')
		fmt.Fprint(&b, p)
	}
	return b.String()
}

// Progress reports that done of total items are finished (total 0 when
// unknown). It is shown by `portal jobs run` at once and on the admin page
// within a second: the run's heartbeat goroutine writes it, so Progress
// never touches the database itself and may be called inside a chunk's
// transaction (on SQLite a second write from the same goroutine would wait
// for that transaction forever).
func (r *Run) Progress(done, total int64) {
	r.mu.Lock()
	r.done, r.total = done, total
	r.mu.Unlock()
	if r.sink != nil {
		r.sink(done, total)
	}
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

func (r *Run) progress() (int64, int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done, r.total
}

// lost stops the run: another instance owns it now.
func (r *Run) lost() {
	if r.cancel != nil {
		r.cancel(ErrClaimLost)
	}
}

// execute runs the job for r under parent, heartbeating while it works,
// and records the outcome. It returns the job's error, ErrInterrupted when
// parent ended first, or ErrClaimLost when another instance took over.
func (s *Service) execute(parent context.Context, r *Run, foreground bool) error {
	defer func() {
		s.mu.Lock()
		delete(s.active, r.id)
		s.mu.Unlock()
	}()
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	r.cancel = cancel

	beat := make(chan struct{})
	beating := make(chan struct{})
	go func() {
		defer close(beating)
		s.heartbeat(ctx, r, beat)
	}()
	if r.Attempt > 1 {
		r.Log.Info("run resumes", "cursor", r.cursor)
	} else {
		r.Log.Info("run starts")
	}
	err, panicked := s.call(ctx, r)
	cause := context.Cause(ctx)
	close(beat)
	<-beating

	switch {
	case errors.Is(cause, ErrClaimLost) || errors.Is(err, ErrClaimLost):
		r.Log.Warn("run taken over by another instance; this runner stops")
		return ErrClaimLost
	case panicked:
		s.finish(r, StatusFailed, err.Error())
		return err
	case err == nil:
		s.finish(r, StatusSucceeded, "")
		return nil
	case parent.Err() != nil:
		done, total := r.progress()
		s.release(&RunRecord{ID: r.id, Job: r.Job, Slot: r.Slot, Attempt: r.Attempt, ProgressDone: done, ProgressTotal: total}, "stopped: "+err.Error())
		return fmt.Errorf("%w (%v)", ErrInterrupted, err)
	default:
		if foreground {
			r.Log.Info("run failed", "err", err)
		} else {
			r.Log.Error("run failed", "err", err)
		}
		s.finish(r, StatusFailed, err.Error())
		return err
	}
}

// call runs the job, turning a panic into an error.
func (s *Service) call(ctx context.Context, r *Run) (err error, panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			r.Log.Error("job panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err, panicked = fmt.Errorf("panic: %v", v), true
		}
	}()
	return r.entry.job.Run(ctx, r), false
}

// heartbeat keeps the run's claim fresh every quarter lease, and writes
// the progress the job reports at most once a second, until stop is
// closed. If the claim is gone it stops the run.
func (s *Service) heartbeat(ctx context.Context, r *Run, stop <-chan struct{}) {
	s.mu.Lock()
	clock := s.clock
	s.mu.Unlock()
	every := s.cfg.Lease / 4
	beat := clock.After(every)
	var flush <-chan time.Time
	var written time.Time
	for {
		fields := map[string]any{}
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case now := <-beat:
			beat = clock.After(every)
			fields["heartbeat_at"] = now.UTC()
		case <-r.kick:
			if flush == nil {
				flush = time.After(max(0, progressEvery-time.Since(written)))
			}
			continue
		case <-flush:
			flush = nil
		}
		written = time.Now()
		fields["progress_done"], fields["progress_total"] = r.progress()
		db, cancel := s.bookkeeping(ctx)
		res := db.Model(&RunRecord{}).
			Where("id = ? AND attempt = ? AND status = ?", r.id, r.Attempt, StatusRunning).
			Updates(fields)
		cancel()
		switch {
		case res.Error != nil:
			r.Log.Warn("heartbeat failed", "err", res.Error)
		case res.RowsAffected != 1:
			r.lost()
			return
		}
	}
}

// maxErrorText bounds the error text kept with a run.
const maxErrorText = 4000

// finish records the outcome, fenced by the attempt.
func (s *Service) finish(r *Run, status Status, errText string) {
	if len(errText) > maxErrorText {
		errText = errText[:maxErrorText] + "…"
	}
	now := s.now()
	done, total := r.progress()
	db, cancel := s.bookkeeping(context.Background())
	defer cancel()
	res := db.Model(&RunRecord{}).
		Where("id = ? AND attempt = ? AND status = ?", r.id, r.Attempt, StatusRunning).
		Updates(map[string]any{
			"status": status, "finished_at": now, "duration_ms": now.Sub(r.startedAt).Milliseconds(),
			"heartbeat_at": now, "error": errText, "progress_done": done, "progress_total": total,
		})
	switch {
	case res.Error != nil:
		r.Log.Error("recording the run's outcome failed", "status", status, "err", res.Error)
	case res.RowsAffected != 1:
		r.Log.Warn("run was taken over before it could record its outcome", "status", status)
	default:
		r.Log.Info("run finished", "status", status, "duration", now.Sub(r.startedAt))
	}
}
