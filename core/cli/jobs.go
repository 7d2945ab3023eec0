package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/portalkit/portalkit/core/app"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/schedule"
)

const jobsSynopsis = "jobs list | jobs run NAME [--slot TIME] [--config FILE] [--verbose]"

// cmdJobs lists the scheduled jobs or runs one now, in this process.
func cmdJobs(ctx context.Context, env *cliEnv, args []string) error {
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "list":
		return jobsList(ctx, env, args)
	case "run":
		return jobsRun(env, args)
	case "":
		fs := newFlags(env, "jobs", jobsSynopsis)
		fs.String("config", "", "configuration file (default configs/portal.yaml when present)")
		fs.String("slot", "", "with run: a slot of the job's schedule (RFC 3339, e.g. 2025-06-01T06:00:00Z); default a manual slot now")
		fs.Bool("verbose", false, "with run: log at the configured level (default: warnings only)")
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		return usagef("want `portal jobs list` or `portal jobs run NAME [--slot TIME]`")
	default:
		return usagef("unknown jobs command %q (want list or run)", sub)
	}
}

// parseInterleaved parses flags that may come before or after positional
// arguments ("run NAME --slot S" as well as "run --slot S NAME").
func parseInterleaved(fs *flagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.help()
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func jobsList(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "jobs", "jobs list [--config FILE]")
	load := configFlag(env, fs)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	a, err := openApp(ctx, env, load)
	if err != nil {
		return err
	}
	defer a.Close()
	jobs, err := a.Schedule.Jobs(ctx, 1)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSCHEDULE\tNEXT RUN (UTC)\tLAST RUN")
	for _, j := range jobs {
		sched := j.Schedule + " (" + j.TimeZone + ")"
		if !j.Enabled {
			sched = "off"
		}
		if j.Overridden {
			sched += " [overridden; declared " + j.Declared + "]"
		}
		next := "-"
		if j.Next != nil {
			next = j.Next.UTC().Format("2006-01-02 15:04")
		}
		last := "-"
		if len(j.LastRuns) > 0 {
			last = describeRun(j.LastRuns[0])
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", j.Name, sched, next, last)
	}
	if len(jobs) == 0 {
		fmt.Fprintln(tw, "(none)\t\t\t")
	}
	return tw.Flush()
}

// describeRun says in a few words how a run went.
func describeRun(r schedule.RunRecord) string {
	s := fmt.Sprintf("%s, slot %s", r.Status, r.Slot.UTC().Format(time.RFC3339))
	if r.Manual {
		s += " (manual)"
	}
	if r.FinishedAt != nil {
		s += ", took " + r.Duration().Round(time.Millisecond).String()
	}
	if r.ProgressTotal > 0 {
		s += fmt.Sprintf(", %d/%d", r.ProgressDone, r.ProgressTotal)
	}
	return s
}

func jobsRun(env *cliEnv, args []string) error {
	fs := newFlags(env, "jobs", "jobs run NAME [--slot TIME] [--config FILE] [--verbose]")
	load := configFlag(env, fs)
	slotFlag := fs.String("slot", "", "a slot of the job's schedule to run (RFC 3339, e.g. 2025-06-01T06:00:00Z): a missed one, or a failed one, which resumes from its cursor; default a manual slot now")
	verbose := fs.Bool("verbose", false, "log at the configured level (default: warnings only)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one job name: `portal jobs run NAME` (`portal jobs list` shows them)")
	}
	name := pos[0]
	var req schedule.Request
	if *slotFlag != "" {
		slot, err := time.Parse(time.RFC3339, *slotFlag)
		if err != nil {
			return usagef("--slot %q is not an RFC 3339 time such as 2025-06-01T06:00:00Z", *slotFlag)
		}
		req.Slot = slot
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	if !*verbose {
		cfg = quietForCLI(cfg)
	}
	ctx, stop := env.signals()
	defer stop()
	a, err := app.New(ctx, app.Options{Config: cfg, Modules: env.modules(), LogOutput: env.stderr})
	if err != nil {
		return err
	}
	defer a.Close()

	bar := newJobBar(env.stderr, name)
	start := time.Now()
	rec, err := a.Schedule.RunNow(ctx, name, req, bar.update)
	bar.close(err == nil)
	switch {
	case errs.Is(err, errs.NotFound) || errs.Is(err, errs.Invalid):
		e, _ := errs.As(err)
		msg := e.Message + " (`portal jobs list` shows the jobs)"
		if errs.Is(err, errs.Invalid) {
			msg = "--" + e.Message
		}
		return usagef("%s", msg)
	case errs.Is(err, errs.Conflict):
		return err
	case schedule.IsInterrupted(err) && rec.Manual:
		return fmt.Errorf("job %s, manual run of %s: interrupted; the run resumes from its cursor on a running portal (or at its next start)",
			name, rec.Slot.UTC().Format(time.RFC3339))
	case schedule.IsInterrupted(err):
		return fmt.Errorf("job %s, slot %s: interrupted; the run resumes from its cursor on a running portal, or now with `portal jobs run %s --slot %s`",
			name, rec.Slot.UTC().Format(time.RFC3339), name, rec.Slot.UTC().Format(time.RFC3339))
	case err != nil && rec.ID != 0:
		return fmt.Errorf("job %s, slot %s failed: %v", name, rec.Slot.UTC().Format(time.RFC3339), err)
	case err != nil:
		return err
	}
	fmt.Fprintf(env.stdout, "%s: %s (in %v)\n", name, describeRun(rec), time.Since(start).Round(time.Millisecond))
	return nil
}

// jobBar shows a job's progress on the terminal; it appears with the
// job's first progress report.
type jobBar struct {
	w    io.Writer
	name string
	bar  *progressbar.ProgressBar
}

func newJobBar(w io.Writer, name string) *jobBar { return &jobBar{w: w, name: name} }

func (b *jobBar) update(done, total int64) {
	if b.bar == nil {
		max := int64(-1)
		if total > 0 {
			max = total
		}
		b.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(b.w),
			progressbar.OptionSetDescription(b.name),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetSpinnerChangeInterval(0),
			progressbar.OptionClearOnFinish(),
		)
	}
	if total > 0 && b.bar.GetMax64() != total {
		b.bar.ChangeMax64(total)
	}
	_ = b.bar.Set64(done)
}

// close removes the bar, so that what follows is one clean line.
func (b *jobBar) close(ok bool) {
	if b.bar == nil {
		return
	}
	if ok {
		_ = b.bar.Finish()
		return
	}
	_ = b.bar.Clear()
	_ = b.bar.Exit()
}
