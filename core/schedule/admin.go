package schedule

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Templates are the admin page templates; the kernel adds them to the web
// server under the prefix "schedule".
func Templates() fs.FS {
	sub, _ := fs.Sub(templateFS, "templates")
	return sub
}

// Caller is who asks the admin page or the API for something.
type Caller struct {
	// UserID is recorded on the runs the caller starts.
	UserID uint
	// Admin is true when the caller may see and run jobs (a platform
	// administrator; the accounts wiring decides).
	Admin bool
}

// Who tells the admin page and the API who is calling: ok is false for an
// anonymous caller (401); a caller that is not Admin gets 403. ctx carries
// the request's UserContext values and, as ctx.Value, its Fiber Locals, for
// pages and API operations alike.
type Who func(ctx context.Context) (c Caller, ok bool)

func authorize(ctx context.Context, who Who) (Caller, error) {
	if who == nil {
		return Caller{}, errs.Forbiddenf("jobs are not available")
	}
	c, ok := who(ctx)
	if !ok {
		return Caller{}, errs.Unauthenticatedf("sign in to see jobs")
	}
	if !c.Admin {
		return Caller{}, errs.Forbiddenf("only administrators may see and run jobs")
	}
	return c, nil
}

const localCaller = "schedule.caller"

// requestContext lets who read a page request's Locals as context values,
// as huma does for API operations, so one Who serves both.
type requestContext struct {
	context.Context
	c *fiber.Ctx
}

func (r requestContext) Value(key any) any {
	if v := r.c.Locals(key); v != nil {
		return v
	}
	return r.Context.Value(key)
}

// adminRunsPerJob is how many runs the list shows for each job.
const adminRunsPerJob = 5

// MountAdmin mounts the admin pages on r (for example a group at
// /admin/jobs): the list of jobs with their schedule, next run and last
// runs; one job with its last 50 runs; and "run now" (POST <job>/run, with
// an optional slot field to rerun a missed or failed slot). Forms carry the
// page's CSRF token as _csrf; the accounts middleware checks it.
func (s *Service) MountAdmin(r fiber.Router, who Who) {
	r.Use(func(c *fiber.Ctx) error {
		caller, err := authorize(requestContext{Context: c.UserContext(), c: c}, who)
		if err != nil {
			return err
		}
		c.Locals(localCaller, caller)
		return c.Next()
	})
	r.Get("/", s.adminList)
	r.Get("/:name", s.adminJob)
	r.Post("/:name/run", s.adminRun)
}

type adminJob struct {
	JobInfo
	NextText string
	Runs     []adminRunView
}

type adminRunView struct {
	RunRecord
	StatusClass  string
	DurationText string
	ProgressText string
	SlotText     string
	StartedText  string
}

type adminPage struct {
	Base    string
	Jobs    []adminJob
	Job     *adminJob
	Notice  string
	Problem string
	Now     string
}

func (s *Service) view(j JobInfo) adminJob {
	v := adminJob{JobInfo: j, NextText: "—"}
	if j.Next != nil {
		v.NextText = j.Next.UTC().Format("2006-01-02 15:04 MST")
	}
	for _, r := range j.LastRuns {
		v.Runs = append(v.Runs, runView(r, s.now()))
	}
	return v
}

func runView(r RunRecord, now time.Time) adminRunView {
	v := adminRunView{RunRecord: r, SlotText: r.Slot.UTC().Format("2006-01-02 15:04:05"), StartedText: r.StartedAt.UTC().Format("2006-01-02 15:04:05")}
	switch r.Status {
	case StatusSucceeded:
		v.StatusClass = "ok"
	case StatusFailed:
		v.StatusClass = "error"
	default:
		v.StatusClass = "warn"
	}
	if r.FinishedAt != nil {
		v.DurationText = r.Duration().Round(time.Millisecond).String()
	} else {
		v.DurationText = "running for " + now.Sub(r.StartedAt).Round(time.Second).String()
	}
	switch {
	case r.ProgressTotal > 0:
		v.ProgressText = fmt.Sprintf("%d / %d (%d%%)", r.ProgressDone, r.ProgressTotal, r.Percent())
	case r.ProgressDone > 0:
		v.ProgressText = fmt.Sprintf("%d done", r.ProgressDone)
	default:
		v.ProgressText = "—"
	}
	return v
}

// basePath is the path the pages are mounted at, from a request path that
// ends with suffix.
func basePath(c *fiber.Ctx, suffix string) string {
	p := strings.TrimSuffix(c.Path(), "/")
	p = strings.TrimSuffix(p, suffix)
	return strings.TrimSuffix(p, "/")
}

func (s *Service) adminList(c *fiber.Ctx) error {
	return s.renderList(c, basePath(c, ""), c.Query("started"), "")
}

func (s *Service) renderList(c *fiber.Ctx, base, notice, problem string) error {
	jobs, err := s.Jobs(c.UserContext(), adminRunsPerJob)
	if err != nil {
		return err
	}
	p := adminPage{Base: base, Problem: problem, Now: s.now().Format("2006-01-02 15:04:05 MST")}
	if notice != "" {
		p.Notice = "Started " + notice + "."
	}
	for _, j := range jobs {
		p.Jobs = append(p.Jobs, s.view(j))
	}
	return web.Render(c, "schedule/jobs", "Jobs", p)
}

func (s *Service) adminJob(c *fiber.Ctx) error {
	name := c.Params("name")
	j, err := s.Job(c.UserContext(), name, 50)
	if err != nil {
		return err
	}
	v := s.view(j)
	return web.Render(c, "schedule/job", j.Name, adminPage{
		Base: basePath(c, "/"+name), Job: &v, Now: s.now().Format("2006-01-02 15:04:05 MST"),
		Notice: c.Query("started"),
	})
}

func (s *Service) adminRun(c *fiber.Ctx) error {
	name := c.Params("name")
	caller, _ := c.Locals(localCaller).(Caller)
	base := basePath(c, "/"+name+"/run")
	req := Request{UserID: caller.UserID, Trigger: TriggerAdmin}
	if raw := strings.TrimSpace(c.FormValue("slot")); raw != "" {
		slot, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			c.Status(fiber.StatusUnprocessableEntity)
			return s.renderList(c, base, "", "slot: "+raw+" is not a time like 2025-06-01T06:00:00Z")
		}
		req.Slot = slot
	}
	rec, err := s.Trigger(c.UserContext(), name, req)
	if err != nil {
		if e, ok := errs.As(err); ok && e.Kind != errs.Internal && e.Kind != errs.NotFound {
			c.Status(e.Kind.Status())
			return s.renderList(c, base, "", e.Message)
		}
		return err
	}
	what := fmt.Sprintf("%s (slot %s)", name, rec.Slot.UTC().Format(time.RFC3339))
	return c.Redirect(base+"/?started="+url.QueryEscape(what), fiber.StatusSeeOther)
}

//go:embed i18n/*.json
var translationFS embed.FS

// Translations returns the scheduler's "<locale>.json" translation files.
func Translations() fs.FS {
	sub, _ := fs.Sub(translationFS, "i18n")
	return sub
}
