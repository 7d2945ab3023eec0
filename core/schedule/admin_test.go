package schedule_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/schedule"
)

func TestAdminPageAndAPI(t *testing.T) {
	cfg := schedCfg(t, func(s *config.Schedule) { s.Overrides = map[string]string{"reports.cleanup": "off"} })
	clock := schedule.NewSimClock(t0)
	m := newReports("A")
	m.extra = []schedule.Job{{Name: "cleanup", Cron: "0 3 * * *", Run: func(context.Context, *schedule.Run) error { return nil }}}
	in := startInstance(t, cfg, m, clock)
	ta := in.ta
	db := observer(t, cfg)
	seedCustomers(t, db, 7)

	// The kernel mounts the jobs pages at /platform/jobs and the API at
	// /api/v1/admin/jobs for platform admins; sign in for real.
	platformAdmin := ta.User(t, accounts.PlatformOrgSlug, "root@platform.example", accounts.PlatformAdmin)

	m.setHook(func(ctx context.Context, r *schedule.Run, chunk int) error {
		if r.Slot.Equal(slotAt("10:00")) && r.Attempt == 1 && chunk == 1 {
			return errors.New("smtp relay said 451")
		}
		return nil
	})
	clock.Set(slotAt("10:00"))
	waitRun(t, db, digestJob, slotAt("10:00"), schedule.StatusFailed)
	clock.Set(slotAt("10:10"))
	waitRun(t, db, digestJob, slotAt("10:10"), schedule.StatusSucceeded)

	admin := ta.CookieAuth(t, accounts.PlatformOrgSlug, "root@platform.example", accounts.PlatformAdmin)
	admin["Accept"] = "text/html"
	customer := ta.CookieAuth(t, "acme", "ann@acme.example", accounts.Customer)
	customer["Accept"] = "text/html"
	form := func(h map[string]string) map[string]string {
		out := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		for k, v := range h {
			out[k] = v
		}
		return out
	}
	apiAdmin := ta.As(t, accounts.PlatformOrgSlug, "root@platform.example", accounts.PlatformAdmin)
	apiCustomer := ta.As(t, "acme", "ann@acme.example", accounts.Customer)

	portaltest.RunScenarios(t, ta, []portaltest.Scenario{
		{Name: "anonymous", Method: "GET", URL: "/platform/jobs/", Headers: map[string]string{"Accept": "text/html"}, ExpectedStatus: 303},
		{Name: "not an admin", Method: "GET", URL: "/platform/jobs/", Headers: customer, ExpectedStatus: 403},
		{
			Name: "list", Method: "GET", URL: "/platform/jobs/", Headers: admin, ExpectedStatus: 200,
			ExpectedContent: []string{
				"<h1>Jobs</h1>", "reports.digest", "Sends every customer a digest.", "<code>*/10 * * * *</code> (UTC)",
				"2025-03-01 10:20 UTC",                            // next run
				"2025-03-01 10:10:00", "badge-ok", "7 / 7 (100%)", // the last run
				"badge-error", "smtp relay said 451", // the failed run
				`action="/platform/jobs/reports.digest/run"`, `name="_csrf"`,
				"reports.cleanup", "turned off", "overridden",
			},
		},
		{
			Name: "one job", Method: "GET", URL: "/platform/jobs/reports.digest", Headers: admin, ExpectedStatus: 200,
			ExpectedContent: []string{"<h1>reports.digest", "Retry this slot", `value="2025-03-01T10:00:00Z"`, "All jobs"},
		},
		{Name: "unknown job", Method: "GET", URL: "/platform/jobs/reports.nosuch", Headers: admin, ExpectedStatus: 404},
		{
			Name: "run now needs an admin", Method: "POST", URL: "/platform/jobs/reports.digest/run",
			Headers: form(customer), ExpectedStatus: 403,
		},
		{
			Name: "run now", Method: "POST", URL: "/platform/jobs/reports.digest/run", Headers: form(admin),
			ExpectedStatus:  303,
			ExpectedHeaders: map[string]string{"Location": "/platform/jobs/?started=" + url.QueryEscape("reports.digest (slot 2025-03-01T10:10:00Z)")},
		},
		{
			Name: "a slot that is not one", Method: "POST", URL: "/platform/jobs/reports.digest/run", Headers: form(admin),
			Body: "slot=2025-03-01T10:05:00Z", ExpectedStatus: 422,
			ExpectedContent: []string{"flash-error", "2025-03-01T10:05:00Z is not a slot of reports.digest"},
		},
		{
			Name: "a malformed slot", Method: "POST", URL: "/platform/jobs/reports.digest/run", Headers: form(admin),
			Body: "slot=yesterday", ExpectedStatus: 422, ExpectedContent: []string{"is not a time like"},
		},
		{
			Name: "a job that is off", Method: "POST", URL: "/platform/jobs/reports.cleanup/run", Headers: form(admin),
			ExpectedStatus: 409, ExpectedContent: []string{"turned off in this deployment"},
		},
	})
	if err := ta.Schedule.Wait(ctxTimeout(t)); err != nil {
		t.Fatal(err)
	}
	var manual schedule.RunRecord
	if err := db.Where("job = ? AND manual = ?", digestJob, true).First(&manual).Error; err != nil {
		t.Fatal(err)
	}
	if manual.Status != schedule.StatusSucceeded || manual.TriggeredBy != platformAdmin.ID || manual.Trigger != schedule.TriggerAdmin {
		t.Fatalf("manual run: %+v", manual)
	}
	// A manual slot is a slot of its own: its side effects are keyed apart
	// from the scheduled 10:10 slot it shares the second with.
	if rows, distinct := countSent(t, db, manual.Slot); rows != 7*2 || distinct != 7 {
		t.Fatalf("reports at %s: %d to %d customers; want 7 from the slot and 7 from the manual run", manual.Slot, rows, distinct)
	}

	clock.Advance(time.Second)
	portaltest.RunScenarios(t, ta, []portaltest.Scenario{
		{Name: "API anonymous", Method: "GET", URL: "/api/v1/admin/jobs", ExpectedStatus: 401},
		{Name: "API not an admin", Method: "GET", URL: "/api/v1/admin/jobs", Headers: apiCustomer, ExpectedStatus: 403},
		{
			Name: "API list", Method: "GET", URL: "/api/v1/admin/jobs", Headers: apiAdmin, ExpectedStatus: 200,
			ExpectedContent:    []string{`"name":"reports.digest"`, `"schedule":"*/10 * * * *"`, `"next":"2025-03-01T10:20:00Z"`, `"status":"failed"`, `"error":"smtp relay said 451"`, `"enabled":false`},
			NotExpectedContent: []string{`"cursor"`},
		},
		{
			Name: "API runs", Method: "GET", URL: "/api/v1/admin/jobs/reports.digest/runs?limit=2", Headers: apiAdmin, ExpectedStatus: 200,
			After: func(t testing.TB, _ *portaltest.TestApp, res *portaltest.Response) {
				var body struct{ Runs []schedule.RunRecord }
				res.JSON(t, &body)
				if len(body.Runs) != 2 || !body.Runs[0].Manual {
					t.Errorf("runs: %+v", body.Runs)
				}
			},
		},
		{Name: "API runs of an unknown job", Method: "GET", URL: "/api/v1/admin/jobs/reports.nosuch/runs", Headers: apiAdmin, ExpectedStatus: 404},
		{Name: "API limit out of range", Method: "GET", URL: "/api/v1/admin/jobs/reports.digest/runs?limit=0", Headers: apiAdmin, ExpectedStatus: 422, ExpectedContent: []string{"limit"}},
		{
			Name: "API run now", Method: "POST", URL: "/api/v1/admin/jobs/reports.digest/runs", Headers: apiAdmin,
			ExpectedStatus: 202, ExpectedContent: []string{`"manual":true`, `"slot":"2025-03-01T10:10:01Z"`, fmt.Sprintf(`"triggered_by":%d`, platformAdmin.ID)},
		},
		{
			Name: "API retry the failed slot", Method: "POST", URL: "/api/v1/admin/jobs/reports.digest/runs", Headers: apiAdmin,
			Body: map[string]any{"slot": "2025-03-01T10:00:00Z"}, ExpectedStatus: 202,
			ExpectedContent: []string{`"manual":false`, `"attempt":2`, `"status":"running"`},
		},
		{
			Name: "API malformed slot", Method: "POST", URL: "/api/v1/admin/jobs/reports.digest/runs", Headers: apiAdmin,
			Body: map[string]any{"slot": "soon"}, ExpectedStatus: 422, ExpectedContent: []string{`"location":"body.slot"`},
		},
		{
			Name: "API slot off the schedule", Method: "POST", URL: "/api/v1/admin/jobs/reports.digest/runs", Headers: apiAdmin,
			Body: map[string]any{"slot": "2025-03-01T10:01:00Z"}, ExpectedStatus: 422, ExpectedContent: []string{`"location":"body.slot"`, "not a slot"},
		},
		{
			Name: "API a job that is off", Method: "POST", URL: "/api/v1/admin/jobs/reports.cleanup/runs", Headers: apiAdmin,
			ExpectedStatus: 409,
		},
		{
			Name: "API unknown job", Method: "POST", URL: "/api/v1/admin/jobs/reports.nosuch/runs", Headers: apiAdmin,
			ExpectedStatus: 404,
		},
		{
			Name: "the API is in the OpenAPI document", Method: "GET", URL: "/api/openapi.json", ExpectedStatus: 200,
			ExpectedContent: []string{"schedule-list-jobs", "schedule-run-now", "/api/v1/admin/jobs/{name}/runs"},
		},
	})
	rec := waitRun(t, db, digestJob, slotAt("10:00"), schedule.StatusSucceeded)
	if rows, distinct := countSent(t, db, slotAt("10:00")); rows != 7 || distinct != 7 || rec.Attempt != 2 {
		t.Fatalf("retried slot: %d reports to %d customers on attempt %d; want 7 once each", rows, distinct, rec.Attempt)
	}
	if strings.Contains(ta.Logs.String(), "panic") {
		t.Fatalf("logs mention a panic:\n%s", ta.Logs.String())
	}
}
