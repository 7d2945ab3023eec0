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

// Jobs lists every declared job by name, each with its lastRuns latest runs.
func (s *Service) Jobs(ctx context.Context, lastRuns int) ([]JobInfo, error) {
	s.mu.Lock()
	names := make([]string, 0, len(s.jobs))
	for n := range s.jobs {
		names = append(names, n)
	}
	s.mu.Unlock()
	sort.Strings(names)
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
