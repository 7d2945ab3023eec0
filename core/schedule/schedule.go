// Package schedule runs jobs on cron schedules exactly once per slot across
// every instance of a deployment, and survives restarts.
//
// robfig/cron is only the ticker: it wakes each instance at a job's
// activation times (in UTC, or the job's time zone). Correctness comes from
// the database. Each tick computes its slot (the activation time) and
// claims (job, slot) with a unique key in schedule_runs; only the instance
// whose INSERT wins runs it. A run heartbeats while it works; a run whose
// runner died (no heartbeat for schedule.lease) or was stopped by a
// shutdown is taken over by another instance and resumes from the cursor
// the job saved. At start, the latest slot each job missed while every
// instance was down are caught up (every one, or the latest, as the job
// chooses), within schedule.grace; a claim the database refused is retried
// within that window. Side effects
// are keyed by (job, slot, key) with Run.Once, in the job's own
// transaction, so a resumed or retried run does nothing twice.
//
// Modules declare jobs through module.Host.Job; core services call
// Service.Add. The admin page (MountAdmin), the JSON API (RegisterAPI) and
// `portal jobs` show the jobs and their runs and start a run by hand.
//
// schedule imports config, errs, store and web; it knows nothing of
// modules or accounts.
package schedule

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/names"
	"github.com/portalkit/portalkit/core/stop"
	"github.com/portalkit/portalkit/core/store"
)

// Job is work done on a schedule.
type Job struct {
	// Name is "<module>.<name>" ("banking.monthly_report"). Through
	// module.Host.Job a module may give only "<name>"; the module's ID is
	// prefixed.
	Name string
	// Description says in one sentence what the job does (admin page).
	Description string
	// Cron is a five-field spec ("0 6 1 * *": 06:00 on the 1st), a
	// descriptor (@hourly, @daily, @weekly, @monthly, @yearly) or
	// "@every <duration>" (whole seconds, slots at multiples of the duration
	// since the Unix epoch). It is read in TimeZone; it may instead start
	// with CRON_TZ=<zone>. The deployment may replace it or turn the job off
	// (schedule.overrides).
	Cron string
	// TimeZone is the IANA zone the spec is read in ("Europe/Rome");
	// empty means UTC.
	TimeZone string
	// Run does the work of one slot. It is called again for the same slot
	// (with the cursor it saved) when a run is resumed after a crash or a
	// restart, so it must work in chunks, save its cursor in each chunk's
	// transaction and key its side effects with Run.Once. Returning an error
	// fails the run; a panic is recovered and fails it too.
	Run func(ctx context.Context, r *Run) error
	// CatchUp says which slots missed while every instance was down (or
	// while the database was unreachable) are run at start: every one
	// within schedule.grace, oldest first (CatchUpEvery, the default), or
	// only the latest (CatchUpLatest) for a job whose run covers whatever
	// is due, so that one run does the work of all.
	CatchUp CatchUpMode
}

// CatchUpMode is a job's choice of missed slots to catch up.
type CatchUpMode int

const (
	// CatchUpEvery runs every missed slot within schedule.grace, oldest
	// first, one after another (at most maxCatchUp of them).
	CatchUpEvery CatchUpMode = iota
	// CatchUpLatest runs only the latest missed slot within schedule.grace.
	CatchUpLatest
)

// String names the mode for the admin page and logs.
func (m CatchUpMode) String() string {
	if m == CatchUpLatest {
		return "latest"
	}
	return "every"
}

// ValidateName reports whether name is a valid job name "<module>.<name>"
// (core/names: the rule every module-given name follows).
func ValidateName(name string) error { return names.Qualified("job", name, "") }

// Errors a caller may test for.
var (
	// ErrClaimLost is returned by a Run's writes once another instance
	// has taken the run over; the job must stop (its transaction rolls back).
	ErrClaimLost = errors.New("schedule: this run was taken over by another instance")
	// ErrInterrupted is returned by RunNow when the run was stopped by a
	// shutdown or a cancelled context; it resumes later from its cursor.
	ErrInterrupted = errors.New("schedule: run interrupted; it resumes from its cursor")
)

// entry is a declared job with its effective schedule.
type entry struct {
	job        Job
	spec       string // effective spec; "" when off
	zone       string
	sched      cron.Schedule
	overridden bool
}

func (e *entry) enabled() bool { return e.sched != nil }

// Service is the scheduler of one portal instance.
type Service struct {
	db       *gorm.DB
	cfg      config.Schedule
	log      *slog.Logger
	instance string

	// addErr is an error adding the scheduler's own job (a bad override
	// of schedule.prune); Seal reports it.
	addErr error

	mu       sync.Mutex
	jobs     map[string]*entry
	sealed   bool
	clock    Clock
	started  bool
	stopping bool
	// claimsOff is set by StopClaiming: no slot is claimed and no run
	// starts any more, while runs in progress go on until Stop.
	claimsOff bool
	base      context.Context
	cancel    context.CancelFunc
	cron      *cron.Cron
	untick    func()
	lastSlot  map[string]time.Time
	active    map[uint]*Run
	// retrying holds the (job, slot) claims being retried after a
	// database error.
	retrying map[string]bool
	wg       sync.WaitGroup
}

// New returns the scheduler for st, configured by cfg, with its own
// PruneJob when schedule.retention is set. Jobs are added with Add; Seal
// ends the declarations; the app starts it as a background service
// (Start/Stop).
func New(st *store.Store, cfg config.Schedule, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	host, _ := os.Hostname()
	var raw [4]byte
	_, _ = rand.Read(raw[:])
	instance := fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(raw[:]))
	if len(instance) > 100 {
		instance = instance[len(instance)-100:]
	}
	s := &Service{
		db: st.DB, cfg: cfg, log: log.With("service", "schedule"), instance: instance,
		jobs: map[string]*entry{}, clock: RealClock{},
		lastSlot: map[string]time.Time{}, active: map[uint]*Run{}, retrying: map[string]bool{},
	}
	if cfg.Retention > 0 {
		s.addErr = s.Add(s.pruneJob())
	}
	return s
}

// Instance is this instance's ID, recorded on the runs it claims.
func (s *Service) Instance() string { return s.instance }

// SetClock replaces the wall clock (tests pass a SimClock). It must be
// called before Start.
func (s *Service) SetClock(c Clock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		panic("schedule: SetClock after Start")
	}
	s.clock = c
}

// Add declares a job. Core services call it while the app is built;
// modules declare jobs through module.Host.Job. A bad name, a spec that
// does not parse, a duplicate name or an override that does not parse is an
// error naming the job.
func (s *Service) Add(j Job) error {
	if err := ValidateName(j.Name); err != nil {
		return err
	}
	if j.Run == nil {
		return fmt.Errorf("job %s: no Run function", j.Name)
	}
	sched, loc, err := parseSpec(j.Cron, j.TimeZone)
	if err != nil {
		return fmt.Errorf("job %s: %w", j.Name, err)
	}
	e := &entry{job: j, spec: strings.TrimSpace(j.Cron), zone: loc.String(), sched: sched}
	if o, ok := s.cfg.Overrides[j.Name]; ok {
		e.overridden = true
		if strings.EqualFold(strings.TrimSpace(o), "off") {
			e.spec, e.sched = "", nil
		} else {
			sched, loc, err := parseSpec(o, j.TimeZone)
			if err != nil {
				return fmt.Errorf("config: schedule.overrides: job %s: %w", j.Name, err)
			}
			e.spec, e.zone, e.sched = strings.TrimSpace(o), loc.String(), sched
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sealed {
		return fmt.Errorf("job %s: declared after the scheduler was sealed", j.Name)
	}
	if _, dup := s.jobs[j.Name]; dup {
		return fmt.Errorf("job %s is declared twice", j.Name)
	}
	s.jobs[j.Name] = e
	return nil
}

// Seal ends the declarations: every override in the configuration must
// name a declared job (a typo would otherwise leave a job running that the
// operator meant to turn off). The kernel calls it once every module has
// initialised.
func (s *Service) Seal() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sealed = true
	if s.addErr != nil {
		return s.addErr
	}
	var unknown []string
	for name := range s.cfg.Overrides {
		if _, ok := s.jobs[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		declared := make([]string, 0, len(s.jobs))
		for name := range s.jobs {
			declared = append(declared, name)
		}
		sort.Strings(declared)
		if len(declared) > 12 {
			declared = append(declared[:12], "...")
		}
		return fmt.Errorf("config: schedule.overrides: no job named %q is declared (declared: %s)", unknown[0], strings.Join(declared, ", "))
	}
	return nil
}

// Name implements app.Runner.
func (s *Service) Name() string { return "schedule" }

// Start starts the scheduler: when schedule.enabled, it catches up missed
// slots, takes over abandoned runs and starts ticking. Manual runs work
// either way. Cancelling ctx interrupts the runs in progress (they resume
// elsewhere or at the next start).
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("schedule: already started")
	}
	s.started, s.sealed = true, true
	s.base, s.cancel = context.WithCancel(ctx)
	clock := s.clock
	s.mu.Unlock()

	if !s.cfg.Enabled {
		s.log.Info("scheduler disabled in this instance (schedule.enabled=false); jobs run only by hand")
		return nil
	}
	now := clock.Now()
	s.catchUp(now)
	s.reap(now)

	if t, ok := clock.(Ticker); ok {
		s.untick = t.OnTick(s.tickAll)
	} else {
		c := cron.New(
			cron.WithLocation(time.UTC),
			cron.WithParser(parser),
			cron.WithLogger(cronLogger{s.log}),
			cron.WithChain(cron.Recover(cronLogger{s.log})),
		)
		for _, e := range s.enabledJobs() {
			e := e
			c.Schedule(e.sched, cron.FuncJob(func() { s.tick(e, clock.Now()) }))
		}
		c.Start()
		s.cron = c
	}
	s.wg.Add(1)
	go s.reapLoop()
	s.log.Info("scheduler started", "instance", s.instance, "jobs", len(s.enabledJobs()), "grace", s.cfg.Grace, "lease", s.cfg.Lease)
	return nil
}

// StopClaiming makes the scheduler claim no more slots and start no more
// runs — scheduled, caught up, retried, taken over or by hand — while the
// runs in progress go on until Stop interrupts them. The app calls it
// first thing at shutdown, before HTTP drains (issue 19, item 17).
func (s *Service) StopClaiming() {
	s.mu.Lock()
	if !s.started || s.claimsOff {
		s.mu.Unlock()
		return
	}
	s.claimsOff = true
	c, untick := s.cron, s.untick
	s.cron, s.untick = nil, nil
	s.mu.Unlock()
	if untick != nil {
		untick()
	}
	if c != nil {
		<-c.Stop().Done() // a tick under way finds claimsOff set
	}
}

// closing reports, with s.mu held, whether the scheduler takes no more
// work: stopping, claims switched off or its context ended.
func (s *Service) closing() bool {
	return s.stopping || s.claimsOff || s.base.Err() != nil
}

// Stop stops ticking, interrupts the runs in progress (each records where
// it stopped, so another instance resumes it at once) and waits for them
// until ctx ends.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	if !s.started || s.stopping {
		s.mu.Unlock()
		return nil
	}
	s.stopping = true
	c, untick, cancel := s.cron, s.untick, s.cancel
	s.mu.Unlock()
	if untick != nil {
		untick()
	}
	if c != nil {
		<-c.Stop().Done() // ticks only claim; they end quickly
	}
	cancel()
	if err := stop.Wait(ctx, &s.wg); err != nil {
		return fmt.Errorf("schedule: runs still finishing: %w", err)
	}
	return nil
}

// Wait blocks until no run started by this instance is in progress, or ctx
// ends. Tests use it after moving a SimClock.
func (s *Service) Wait(ctx context.Context) error {
	for {
		s.mu.Lock()
		n := len(s.active)
		s.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (s *Service) enabledJobs() []*entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*entry
	for _, e := range s.jobs {
		if e.enabled() {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].job.Name < out[j].job.Name })
	return out
}

func (s *Service) entry(name string) (*entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.jobs[name]
	return e, ok
}

// now is the scheduler's clock reading.
func (s *Service) now() time.Time {
	s.mu.Lock()
	c := s.clock
	s.mu.Unlock()
	return c.Now().UTC()
}

// cronLogger sends robfig/cron's logs to slog: its routine chatter at
// debug, its errors (recovered panics) at error.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append([]any{"err", err}, kv...)...)
}
