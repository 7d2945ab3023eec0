package cityworks_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"

	"example.com/portal-examples/cityworks"
)

// TestWorkLifecycle: a citizen reports a broken street light; only they,
// the works department's staff and admins see the report; the planner
// schedules a crew member, who moves the job forward from the phone page's
// API with their position; done publishes the work at once — the public
// feed (no sign-in, no personal data) and the organisation's webhook
// endpoint — and tells the citizen.
func TestWorkLifecycle(t *testing.T) {
	recv := portaltest.NewWebhookReceiver(t)

	ta, m := newApp(t)
	c := newCouncil(t, ta, m)
	var hook struct {
		Secret string `json:"secret"`
	}
	c.must(t, "POST", "/api/v1/notifications/admin/webhooks", map[string]any{"url": recv.URL, "kinds": []string{cityworks.KindWorkDone}}, c.admin, 201).JSON(t, &hook)
	recv.SetSecret(hook.Secret)
	if err := ta.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ta.Stop(context.Background()) })

	var rep cityworks.Report
	c.must(t, "POST", "/api/v1/cityworks/reports", map[string]any{"problem": "street_light", "place": "Via Roma 12",
		"description": "Out for three nights; call Anna on 333 1234567", "segment_id": c.roma}, c.anna, 201).JSON(t, &rep)
	if rep.Status != cityworks.ReportOpen || rep.DepartmentID != c.works {
		t.Fatalf("the report: %+v", rep)
	}
	url := "/api/v1/cityworks/reports/" + itoa(rep.ID)
	c.must(t, "GET", url, nil, c.anna, 200)
	c.must(t, "GET", url, nil, c.rossi, 200) // works department
	c.must(t, "GET", url, nil, c.bruno, 404) // another citizen
	c.must(t, "GET", url, nil, c.verdi, 404) // parks
	c.must(t, "GET", url, nil, c.otherAdmin, 404)
	var list []cityworks.ReportView
	c.must(t, "GET", "/api/v1/cityworks/reports", nil, c.bruno, 200).JSON(t, &list)
	if len(list) != 0 {
		t.Fatalf("bruno lists anna's report: %+v", list)
	}
	c.must(t, "GET", "/api/v1/cityworks/reports", nil, c.anna, 200).JSON(t, &list)
	if len(list) != 1 || list[0].ID != rep.ID {
		t.Fatalf("anna's reports: %+v", list)
	}

	// Parks may not plan the works department's report; the crew must be
	// of the department.
	c.must(t, "POST", url+"/job", map[string]any{"crew_id": c.verdiID, "on": "2026-12-10"}, c.verdi, 404)
	if res := c.ta.Do(t, "POST", url+"/job", map[string]any{"crew_id": c.verdiID, "on": "2026-12-10"}, c.rossi); res.Status != 422 || !strings.Contains(res.Body, "body.crew_id") {
		t.Fatalf("a crew outside the department: %d %s", res.Status, res.Body)
	}
	var job cityworks.Job
	c.must(t, "POST", url+"/job", map[string]any{"crew_id": c.crewID, "on": "2026-12-10", "note": "Bring a ladder"}, c.rossi, 201).JSON(t, &job)
	c.must(t, "POST", url+"/job", map[string]any{"crew_id": c.crewID, "on": "2026-12-11"}, c.rossi, 409)
	var view cityworks.ReportView
	c.must(t, "GET", url, nil, c.anna, 200).JSON(t, &view)
	if view.Status != cityworks.ReportScheduled || view.Job == nil || view.Job.Status != cityworks.JobScheduled {
		t.Fatalf("anna's view after planning: %+v", view)
	}

	jurl := "/api/v1/cityworks/jobs/" + itoa(job.ID)
	c.must(t, "PATCH", jurl, map[string]any{"status": "on_the_way"}, c.rossi, 404) // not rossi's job
	c.must(t, "PATCH", jurl, map[string]any{"status": "on_the_way", "lat": 45.0703, "lon": 7.6869}, c.crew, 200)
	c.must(t, "PATCH", jurl, map[string]any{"status": "in_progress"}, c.crew, 200)
	if res := c.ta.Do(t, "PATCH", jurl, map[string]any{"status": "on_the_way"}, c.crew); res.Status != 422 || !strings.Contains(res.Body, "body.status") {
		t.Fatalf("a job going backwards: %d %s", res.Status, res.Body)
	}
	// Nothing is public before it is done.
	feed := c.must(t, "GET", "/api/v1/cityworks/public/works?org=council", nil, nil, 200)
	if strings.Contains(feed.Body, "Via Roma 12") {
		t.Fatalf("an unfinished work in the public feed: %s", feed.Body)
	}
	c.must(t, "PATCH", jurl, map[string]any{"status": "done"}, c.crew, 200)

	feed = c.must(t, "GET", "/api/v1/cityworks/public/works?org=council", nil, nil, 200)
	if !strings.Contains(feed.Body, "Via Roma 12") || !strings.Contains(feed.Body, "street_light") {
		t.Fatalf("the finished work is not in the public feed: %s", feed.Body)
	}
	for _, personal := range []string{"anna", "Anna", "333", "three nights", "crew", "reporter", "45.07", fmt.Sprintf(`"%d"`, c.annaID)} {
		if strings.Contains(feed.Body, personal) {
			t.Errorf("the public feed shows %q: %s", personal, feed.Body)
		}
	}
	c.must(t, "GET", "/api/v1/cityworks/public/works?org=other", nil, nil, 200)
	if other := c.must(t, "GET", "/api/v1/cityworks/public/works?org=other", nil, nil, 200); strings.Contains(other.Body, "Via Roma 12") {
		t.Fatalf("another council's feed shows the work: %s", other.Body)
	}
	page := ta.Browser().Get(t, "/m/cityworks/works/council")
	if page.Status != 200 || !strings.Contains(page.Body, "Via Roma 12") || !strings.Contains(page.Body, "Broken street light") || strings.Contains(page.Body, "three nights") {
		t.Fatalf("the public page: %d", page.Status)
	}

	waitFor(t, 20*time.Second, "the webhook", func() bool {
		got, _, _ := recv.Received()
		return len(got) >= 1
	})
	time.Sleep(200 * time.Millisecond)
	got, raw, _ := recv.Received()
	if len(got) != 1 || got[0].Type != cityworks.KindWorkDone || got[0].UserID != 0 || got[0].OrgID != c.org || got[0].Data["place"] != "Via Roma 12" {
		t.Errorf("webhook deliveries: %+v", got)
	}
	for _, personal := range []string{"anna", "333", "three nights"} {
		if len(raw) > 0 && strings.Contains(raw[0], personal) {
			t.Errorf("the webhook carries %q: %s", personal, raw[0])
		}
	}

	var n int64
	store.Org(ta.Store.DB, c.org).Model(&notify.Record{}).Where("user_id = ? AND kind = ?", c.annaID, cityworks.KindReportDone).Count(&n)
	if n != 1 {
		t.Fatalf("%d report-done notifications for anna, want 1", n)
	}
	c.must(t, "GET", url, nil, c.anna, 200).JSON(t, &view)
	if view.Status != cityworks.ReportDone || view.Job.Status != cityworks.JobDone {
		t.Fatalf("anna's view after the work: %+v", view)
	}
	// Each status change reached anna's open pages; nobody else's but the
	// staff who reach her and the admins.
	moved := func(h map[string]string, status string) bool {
		var n int64
		ta.Store.DB.Raw("SELECT COUNT(*) FROM live_events WHERE user_id = ? AND type = ? AND data LIKE ? AND data LIKE ?", uid(t, ta, h), "module",
			`%"name":"cityworks.report"%`, `%"status":"`+status+`"%`).Scan(&n)
		return n == 1
	}
	for _, st := range []string{"scheduled", "on_the_way", "in_progress", "done"} {
		if !moved(c.anna, st) || !moved(c.rossi, st) || moved(c.bruno, st) || moved(c.verdi, st) {
			t.Errorf("live %s: anna %v, rossi %v, bruno %v, verdi %v", st, moved(c.anna, st), moved(c.rossi, st), moved(c.bruno, st), moved(c.verdi, st))
		}
	}
}

// TestBadInputNamesTheField: 422s name the field.
func TestBadInputNamesTheField(t *testing.T) {
	ta, m := newApp(t)
	c := newCouncil(t, ta, m)
	for _, tc := range []struct {
		method, url string
		body        any
		h           map[string]string
		field       string
	}{
		{"POST", "/api/v1/cityworks/reports", map[string]any{"problem": "dragon", "place": "Via Roma"}, c.anna, "body.problem"},
		{"POST", "/api/v1/cityworks/reports", map[string]any{"problem": "pothole", "place": "   "}, c.anna, "body.place"},
		{"POST", "/api/v1/cityworks/reports", map[string]any{"problem": "pothole", "place": "Via Po", "segment_id": 99999}, c.anna, "body.segment_id"},
		{"POST", "/api/v1/cityworks/segments", map[string]any{"code": "Via Roma", "name": "x", "department_id": c.works}, c.admin, "body.code"},
		{"POST", "/api/v1/cityworks/segments", map[string]any{"code": "via-po", "name": "Via Po", "department_id": 99999}, c.admin, "body.department_id"},
		{"POST", "/api/v1/cityworks/departments", map[string]any{"code": "works", "name": "Again"}, c.admin, "body.code"},
		{"GET", fmt.Sprintf("/api/v1/cityworks/segments/%d/day?day=yesterday", c.roma), nil, c.rossi, "day"},
		{"GET", "/api/v1/cityworks/public/works", nil, nil, "org"},
		{"POST", fmt.Sprintf("/api/v1/cityworks/segments/%d/shares", c.roma), map[string]any{"department_id": c.works}, c.rossi, "body.department_id"},
	} {
		res := ta.Do(t, tc.method, tc.url, tc.body, tc.h)
		if res.Status != 422 || !strings.Contains(res.Body, tc.field) {
			t.Errorf("%s %s %v: %d %s, want 422 naming %s", tc.method, tc.url, tc.body, res.Status, res.Body, tc.field)
		}
	}
	var rep cityworks.Report
	c.must(t, "POST", "/api/v1/cityworks/reports", map[string]any{"problem": "pothole", "place": "Via Po 3"}, c.anna, 201).JSON(t, &rep)
	if res := ta.Do(t, "POST", "/api/v1/cityworks/reports/"+itoa(rep.ID)+"/job", map[string]any{"crew_id": c.crewID, "on": "tomorrow"}, c.rossi); res.Status != 422 || !strings.Contains(res.Body, "body.on") {
		t.Errorf("a bad day: %d %s", res.Status, res.Body)
	}
	var job cityworks.Job
	c.must(t, "POST", "/api/v1/cityworks/reports/"+itoa(rep.ID)+"/job", map[string]any{"crew_id": c.crewID, "on": "2026-12-10"}, c.rossi, 201).JSON(t, &job)
	if res := ta.Do(t, "PATCH", "/api/v1/cityworks/jobs/"+itoa(job.ID), map[string]any{"lat": 120, "lon": 7}, c.crew); res.Status != 422 || !strings.Contains(res.Body, "body.lat") {
		t.Errorf("a bad latitude: %d %s", res.Status, res.Body)
	}
	if res := ta.Do(t, "PATCH", "/api/v1/cityworks/jobs/"+itoa(job.ID), map[string]any{"lat": 45}, c.crew); res.Status != 422 || !strings.Contains(res.Body, "body.lon") {
		t.Errorf("a latitude without longitude: %d %s", res.Status, res.Body)
	}
	c.must(t, "GET", "/api/v1/cityworks/reports/99999", nil, c.anna, 404)
	c.must(t, "PATCH", "/api/v1/cityworks/jobs/99999", map[string]any{"status": "done"}, c.crew, 404)
	c.must(t, "GET", "/api/v1/cityworks/public/works?org=nowhere", nil, nil, 404)
}
