package schedule

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/portalkit/portalkit/core/errs"
)

// JobInfo is a declared job as the admin page and the API show it.
type JobInfo struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Schedule is the effective spec ("" when the job is off).
	Schedule string `json:"schedule"`
	// Declared is the spec the module declared.
	Declared string `json:"declared_schedule"`
	TimeZone string `json:"time_zone"`
	Enabled  bool   `json:"enabled"`
	// Overridden is true when schedule.overrides changed or turned off
	// the declared schedule.
	Overridden bool `json:"overridden"`
	// Next is the next slot (absent when off).
	Next *time.Time `json:"next,omitempty"`
	// LastRuns are the latest runs, newest first.
	LastRuns []RunRecord `json:"last_runs"`
}

// names returns the declared jobs' names, sorted.
func (s *Service) names() []string {
	s.mu.Lock()
	names := make([]string, 0, len(s.jobs))
	for n := range s.jobs {
		names = append(names, n)
	}
	s.mu.Unlock()
	sort.Strings(names)
	return names
}

// Jobs lists every declared job by name, each with its lastRuns latest runs.
func (s *Service) Jobs(ctx context.Context, lastRuns int) ([]JobInfo, error) {
	names := s.names()
	out := make([]JobInfo, 0, len(names))
	for _, n := range names {
		j, err := s.Job(ctx, n, lastRuns)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

// Job describes one job with its lastRuns latest runs; an unknown name is
// errs.NotFound.
func (s *Service) Job(ctx context.Context, name string, lastRuns int) (JobInfo, error) {
	e, ok := s.entry(name)
	if !ok {
		return JobInfo{}, errs.NotFoundf("no job named %q", name)
	}
	j := JobInfo{
		Name: name, Description: e.job.Description, Schedule: e.spec, Declared: strings.TrimSpace(e.job.Cron),
		TimeZone: e.zone, Enabled: e.enabled(), Overridden: e.overridden,
	}
	if e.enabled() {
		if n := nextSlot(e.sched, s.now()); !n.IsZero() {
			j.Next = &n
		}
	}
	runs, err := s.Runs(ctx, name, lastRuns)
	if err != nil {
		return JobInfo{}, err
	}
	j.LastRuns = runs
	return j, nil
}

// Runs returns the latest limit runs of a job, newest first.
func (s *Service) Runs(ctx context.Context, name string, limit int) ([]RunRecord, error) {
	if _, ok := s.entry(name); !ok {
		return nil, errs.NotFoundf("no job named %q", name)
	}
	if limit <= 0 {
		return []RunRecord{}, nil
	}
	runs := []RunRecord{}
	err := s.db.WithContext(ctx).Where("job = ?", name).Order("id DESC").Limit(limit).Find(&runs).Error
	return runs, err
}

// Trouble is a job that needs a person: its latest run failed, a run
// stopped sending heartbeats (stalled), or one of its slots is overdue
// with no run started for it (late: no instance runs the scheduler, or
// every one was down).
type Trouble struct {
	Job         string
	Description string
	// Kind is TroubleFailed, TroubleStalled or TroubleLate.
	Kind string
	// Since is when it began: the failed run's end, the stalled run's last
	// heartbeat, the overdue slot.
	Since time.Time
	// Error is a failed run's error.
	Error string
}

// The kinds of Trouble.
const (
	TroubleFailed  = "failed"
	TroubleStalled = "stalled"
	TroubleLate    = "late"
)

// LateAfter is how long past its slot a scheduled run may go unstarted
// before the job counts as late (a slot is claimed within a tick of it).
const LateAfter = 15 * time.Minute

// Troubles lists the jobs that need a person, in job-name order, for the
// platform admin's dashboard. A job counts as late only once it ran on
// schedule at least once here: a deployment's first start has no record
// to miss a slot against.
func (s *Service) Troubles(ctx context.Context) ([]Trouble, error) {
	db := s.db.WithContext(ctx)
	// Two reads for every job at once: each job's latest run, and its
	// latest scheduled slot.
	var latest []RunRecord
	if err := db.Where("id IN (SELECT MAX(id) FROM schedule_runs GROUP BY job)").Find(&latest).Error; err != nil {
		return nil, err
	}
	var slots []RunRecord
	if err := db.Select("job, slot").Where("manual = ? AND slot = (SELECT MAX(r2.slot) FROM schedule_runs r2 WHERE r2.job = schedule_runs.job AND r2.manual = ?)", false, false).
		Find(&slots).Error; err != nil {
		return nil, err
	}
	lastRun := make(map[string]RunRecord, len(latest))
	for _, r := range latest {
		lastRun[r.Job] = r
	}
	lastSlot := make(map[string]time.Time, len(slots))
	for _, r := range slots {
		lastSlot[r.Job] = r.Slot
	}
	now := s.now()
	var out []Trouble
	for _, n := range s.names() {
		e, ok := s.entry(n)
		if !ok {
			continue
		}
		t := Trouble{Job: n, Description: e.job.Description}
		if r, ok := lastRun[n]; ok {
			switch {
			case r.Status == StatusFailed:
				t.Kind, t.Since, t.Error = TroubleFailed, r.StartedAt, r.Error
				if r.FinishedAt != nil {
					t.Since = *r.FinishedAt
				}
			case r.Status == StatusRunning && now.Sub(r.HeartbeatAt) > s.cfg.Lease:
				t.Kind, t.Since = TroubleStalled, r.HeartbeatAt
			}
		}
		if slot, ok := lastSlot[n]; ok && t.Kind == "" && e.enabled() {
			if due := nextSlot(e.sched, slot); !due.IsZero() && now.Sub(due) > LateAfter {
				t.Kind, t.Since = TroubleLate, due
			}
		}
		if t.Kind != "" {
			out = append(out, t)
		}
	}
	return out, nil
}
