package cli

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/app/testdata/sample"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/core/store"
)

// cliJobs is a module with jobs for the CLI's tests.
type cliJobs struct {
	st *store.Store
	// started is told when the slow job is working; it then waits for its
	// context to end. cursors receives the cursor each of its runs starts at.
	started chan struct{}
	cursors chan string
}

func (*cliJobs) Info() module.Info {
	return module.Info{ID: "clijobs", Name: "CLI jobs", Version: "0", Description: "Jobs for the CLI tests."}
}

func (m *cliJobs) Init(h module.Host) error {
	m.st = h.Store()
	h.Job(schedule.Job{Name: "count", Cron: "@hourly", Run: func(ctx context.Context, r *schedule.Run) error {
		for i := int64(1); i <= 40; i++ {
			r.Progress(i, 40)
		}
		return nil
	}})
	h.Job(schedule.Job{Name: "broken", Cron: "@daily", Run: func(ctx context.Context, r *schedule.Run) error {
		r.Progress(3, 10)
		return errors.New("ledger is locked")
	}})
	h.Job(schedule.Job{Name: "daily", Cron: "0 6 * * *", Run: func(ctx context.Context, r *schedule.Run) error { return nil }})
	h.Job(schedule.Job{Name: "legacy", Cron: "@weekly", Run: func(ctx context.Context, r *schedule.Run) error { return nil }})
	h.Job(schedule.Job{Name: "slow", Cron: "@daily", Run: func(ctx context.Context, r *schedule.Run) error {
		m.cursors <- r.Cursor()
		if r.Cursor() == "page-2" {
			return nil
		}
		if err := m.st.Tx(ctx, func(tx *gorm.DB) error { return r.SaveCursor(tx, "page-2") }); err != nil {
			return err
		}
		r.Progress(2, 9)
		m.started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}})
	return nil
}

var _ module.Module = (*cliJobs)(nil)

func jobsEnv(t *testing.T, environ []string, m *cliJobs) (*cliEnv, *strings.Builder, *strings.Builder) {
	env, _, _ := testEnv(t, environ...)
	env.modules = func() []module.Module { return []module.Module{&sample.Module{}, m} }
	var o, e strings.Builder
	env.stdout, env.stderr = &o, &e
	return env, &o, &e
}

// yesterday returns yesterday's hh:00 UTC in RFC 3339: a recent slot of a
// daily job.
func yesterday(hh int) string {
	return time.Now().UTC().Truncate(24 * time.Hour).Add(time.Duration(hh-24) * time.Hour).Format(time.RFC3339)
}

func TestJobsCommands(t *testing.T) {
	six := yesterday(6)
	halfPastSix := yesterday(6)[:14] + "30:00Z"
	environ := append(portalEnv(t), "PORTAL_SCHEDULE_OVERRIDES=clijobs.legacy=off")
	m := &cliJobs{started: make(chan struct{}, 1)}
	run := func(args ...string) (int, string, string) {
		env, out, errb := jobsEnv(t, environ, m)
		code := runWith(env, append([]string{"jobs"}, args...))
		return code, out.String(), errb.String()
	}
	oneLine := func(t *testing.T, stderr, want string) {
		t.Helper()
		if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, want) {
			t.Fatalf("stderr %q: want one line containing %q", stderr, want)
		}
		last := stderr[strings.LastIndex(stderr, "\r")+1:]
		if !strings.HasPrefix(last, "portal jobs: ") {
			t.Fatalf("the error line does not stand on its own: %q", stderr)
		}
	}

	code, out, stderr := run("list")
	if code != 0 {
		t.Fatalf("list: exit %d: %s", code, stderr)
	}
	for _, want := range []string{`clijobs\.count\s+@hourly \(UTC\)\s+\d{4}-\d\d-\d\d \d\d:00\s+-`, `clijobs\.legacy\s+off \[overridden; declared @weekly\]\s+-`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Fatalf("list output lacks %s:\n%s", want, out)
		}
	}

	code, out, stderr = run("run", "clijobs.count")
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	if !regexp.MustCompile(`^clijobs\.count: succeeded, slot \S+Z \(manual\), took \S+, 40/40 \(in \S+\)\n$`).MatchString(out) {
		t.Fatalf("run output %q", out)
	}
	if !strings.Contains(stderr, "clijobs.count") || !strings.Contains(stderr, "/40") {
		t.Fatalf("no progress bar on stderr: %q", stderr)
	}

	code, _, stderr = run("run", "clijobs.broken")
	if code != exitError {
		t.Fatalf("failing job: exit %d", code)
	}
	oneLine(t, stderr, "failed: ledger is locked")

	code, _, stderr = run("run", "clijobs.nosuch")
	if code != exitUsage {
		t.Fatalf("unknown job: exit %d", code)
	}
	oneLine(t, stderr, `no job named "clijobs.nosuch"`)

	code, out, stderr = run("run", "clijobs.daily", "--slot", six)
	if code != 0 || !strings.Contains(out, "succeeded, slot "+six+",") {
		t.Fatalf("run a past slot: exit %d, %q %q", code, out, stderr)
	}
	code, _, stderr = run("run", "--slot", six, "clijobs.daily")
	if code != exitError {
		t.Fatalf("rerun of a succeeded slot: exit %d", code)
	}
	oneLine(t, stderr, "already succeeded")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "clijobs.daily", "--slot", halfPastSix}, "--slot: " + halfPastSix + " is not a slot of clijobs.daily"},
		{[]string{"run", "clijobs.daily", "--slot", "2020-01-01T06:00:00Z"}, "is older than schedule.retention"},
		{[]string{"run", "clijobs.daily", "--slot", "yesterday"}, `--slot "yesterday" is not an RFC 3339 time`},
		{[]string{"run"}, "want exactly one job name"},
		{[]string{"run", "a.b", "c.d"}, "want exactly one job name"},
		{[]string{"frob"}, `unknown jobs command "frob"`},
		{[]string{}, "want `portal jobs list`"},
		{[]string{"list", "--bogus"}, "bogus"},
	} {
		code, _, stderr := run(tc.args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d", tc.args, code, exitUsage)
		}
		oneLine(t, stderr, tc.want)
	}

	code, _, stderr = run("run", "clijobs.legacy")
	if code != exitError {
		t.Fatalf("a job that is off: exit %d", code)
	}
	oneLine(t, stderr, "turned off")

	code, out, _ = run("list")
	if code != 0 || !regexp.MustCompile(`clijobs\.daily\s+0 6 \* \* \* \(UTC\)\s+\S+ 06:00\s+succeeded, slot `+six).MatchString(out) {
		t.Fatalf("list after runs:\n%s", out)
	}
}

// Ctrl-C stops the run where it is and leaves it, with its cursor, for a
// running portal to resume; a scheduled slot can also be resumed by hand.
func TestJobsRunInterrupted(t *testing.T) {
	environ := portalEnv(t)
	m := &cliJobs{started: make(chan struct{}, 1), cursors: make(chan string, 4)}
	runCancelled := func(args ...string) (int, string, string) {
		env, out, errb := jobsEnv(t, environ, m)
		ctx, cancel := context.WithCancel(context.Background())
		env.signals = func() (context.Context, context.CancelFunc) { return ctx, cancel }
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			select {
			case <-m.started:
				cancel() // as SIGINT does
			case <-stop:
			}
		}()
		code := runWith(env, append([]string{"jobs", "run"}, args...))
		return code, out.String(), errb.String()
	}

	code, _, msg := runCancelled("clijobs.slow")
	if code != exitError || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "manual run of") || !strings.Contains(msg, "interrupted; the run resumes from its cursor on a running portal") {
		t.Fatalf("exit %d, stderr %q", code, msg)
	}
	cfg, err := config.Load("", true, environ)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var rec schedule.RunRecord
	if err := st.DB.Where("job = ? AND manual = ?", "clijobs.slow", true).First(&rec).Error; err != nil {
		t.Fatal(err)
	}
	if rec.Status != schedule.StatusInterrupted || rec.Cursor != "page-2" || rec.ProgressDone != 2 {
		t.Fatalf("interrupted run recorded as %s, cursor %q, progress %d", rec.Status, rec.Cursor, rec.ProgressDone)
	}

	midnight := yesterday(0)
	code, _, msg = runCancelled("clijobs.slow", "--slot", midnight)
	if code != exitError || !strings.Contains(msg, "now with `portal jobs run clijobs.slow --slot "+midnight+"`") {
		t.Fatalf("exit %d, stderr %q", code, msg)
	}
	code, out, msg := runCancelled("clijobs.slow", "--slot", midnight)
	if code != 0 || !strings.Contains(out, "succeeded, slot "+midnight) {
		t.Fatalf("resume: exit %d, %q %q", code, out, msg)
	}
	got := []string{<-m.cursors, <-m.cursors, <-m.cursors}
	if strings.Join(got, ",") != ",,page-2" {
		t.Fatalf("the job started from cursors %q; want the resumed run to start at page-2", got)
	}
}
