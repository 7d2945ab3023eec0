package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/dashboard"
	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/experience/feedback"
	"github.com/portalkit/portalkit/core/experience/messages"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/core/store"
)

// workCard returns the WorkList of widget id on the board of the person
// whose bearer headers are h (nil when the widget is not on the board).
func workCard(t *testing.T, ta *portaltest.TestApp, h map[string]string, id string) *dashboard.WorkList {
	t.Helper()
	for _, w := range getBoard(t, ta, h).Widgets {
		if w.ID != id {
			continue
		}
		if w.Error != "" {
			t.Fatalf("widget %s: %s", id, w.Error)
		}
		raw, _ := json.Marshal(w.Data)
		var l dashboard.WorkList
		if err := json.Unmarshal(raw, &l); err != nil {
			t.Fatal(err)
		}
		return &l
	}
	return nil
}

func titlesOf(l *dashboard.WorkList) []string {
	var out []string
	for _, it := range l.Items {
		out = append(out, it.Title)
	}
	return out
}

// TestWorkCards fills every core work card with items of two staff
// members' customers and of another organisation, and checks that each
// person sees exactly their own work, oldest first, with links.
func TestWorkCards(t *testing.T) {
	ta := portaltest.New(t, nil)
	ctx := context.Background()
	admin := ta.As(t, "acme", "admin@acme.example", accounts.Admin)
	s1 := ta.As(t, "acme", "s1@acme.example", accounts.Staff)
	s2 := ta.As(t, "acme", "s2@acme.example", accounts.Staff)
	cust := ta.As(t, "acme", "c@acme.example", accounts.Customer)
	ap := ta.Principal(t, strings.TrimPrefix(admin["Authorization"], "Bearer "))
	id := func(h map[string]string) *accounts.Principal {
		return ta.Principal(t, strings.TrimPrefix(h["Authorization"], "Bearer "))
	}
	c1, c2 := ta.User(t, "acme", "c1@acme.example", accounts.Customer), ta.User(t, "acme", "c2@acme.example", accounts.Customer)
	for _, a := range [][2]uint{{id(s1).UserID, c1.ID}, {id(s2).UserID, c2.ID}} {
		if err := ta.Accounts.Assign(ctx, ap, a[0], a[1], "advisor"); err != nil {
			t.Fatal(err)
		}
	}
	other := ta.As(t, "other", "admin@other.example", accounts.Admin)
	op := id(other)

	// Messages: each customer writes; c1 first.
	var convs []uint
	for _, email := range []string{"c1@acme.example", "c2@acme.example"} {
		p := ta.Principal(t, ta.Login(t, "acme", email))
		c, err := ta.Messages.Start(ctx, p, messages.NewConversation{Subject: "Question from " + email, Body: "Hello?"})
		if err != nil {
			t.Fatal(err)
		}
		convs = append(convs, c.ID)
	}
	// Feedback: a low CSAT from c1, a good one from c2, an old low one from c2.
	now := time.Now().UTC()
	score := func(n int) *int { return &n }
	week := now.AddDate(0, 0, -10)
	for i, pr := range []feedback.Prompt{
		{CustomerID: c1.ID, Kind: feedback.CSAT, Score: score(1), AnsweredAt: &now},
		{CustomerID: c2.ID, Kind: feedback.CSAT, Score: score(5), AnsweredAt: &now},
		{CustomerID: c2.ID, Kind: feedback.NPS, Score: score(2), AnsweredAt: &week},
	} {
		pr.StepID, pr.Module, pr.SubjectRef, pr.Status, pr.CreatedAt = "core.test", "", fmt.Sprintf("t:%d", i), feedback.StatusAnswered, now
		if err := store.Org(ta.Store.DB, ap.OrgID).Create(&pr).Error; err != nil {
			t.Fatal(err)
		}
	}
	// Deliveries: one dead letter here, one in the other organisation.
	for _, org := range []uint{ap.OrgID, op.OrgID} {
		row := notify.OutboxRow{UserID: 1, Channel: notify.ChannelEmail, Key: fmt.Sprintf("k-%d", org), Status: notify.StatusDead,
			Attempts: 8, NextAttemptAt: now, CreatedAt: now}
		if err := store.Org(ta.Store.DB, org).Create(&row).Error; err != nil {
			t.Fatal(err)
		}
	}
	// Devices: never seen, silent for two days, seen now; and another org's.
	twoDays := now.Add(-48 * time.Hour)
	for _, d := range []devices.Device{
		{ID: "dnever", OrgSlug: "acme", Name: "Never seen"},
		{ID: "dsilent", OrgSlug: "acme", Name: "Silent", LastSeenAt: &twoDays},
		{ID: "dfresh", OrgSlug: "acme", Name: "Fresh", LastSeenAt: &now},
		{ID: "dother", OrgSlug: "other", Name: "Other org's", OrgOwned: store.OrgOwned{OrgID: op.OrgID}},
	} {
		d.OwnerID, d.Module, d.Status, d.SecretHash = c1.ID, "test", devices.StatusActive, "x"
		org := ap.OrgID
		if d.OrgSlug == "other" {
			org = op.OrgID
		}
		if err := store.Org(ta.Store.DB, org).Create(&d).Error; err != nil {
			t.Fatal(err)
		}
	}
	// Sign-ups: c2 has not verified the address.
	if err := store.Org(ta.Store.DB, ap.OrgID).Model(&accounts.User{}).Where("id <> ?", c2.ID).Update("email_verified_at", now).Error; err != nil {
		t.Fatal(err)
	}
	if err := store.Org(ta.Store.DB, ap.OrgID).Model(&accounts.User{}).Where("id = ?", c2.ID).Update("email_verified_at", nil).Error; err != nil {
		t.Fatal(err)
	}
	ta.Dashboard.Forget(ap.OrgID, 0)

	t.Run("unanswered messages: each staff member their customers', admins all, oldest first", func(t *testing.T) {
		l1, l2, la := workCard(t, ta, s1, "core.unanswered"), workCard(t, ta, s2, "core.unanswered"), workCard(t, ta, admin, "core.unanswered")
		if l1.Count != 1 || fmt.Sprint(titlesOf(l1)) != "[Question from c1@acme.example]" || l1.Items[0].Link != fmt.Sprintf("/messages/%d", convs[0]) || l1.Items[0].Waiting == "" {
			t.Errorf("s1: %+v", l1)
		}
		if l2.Count != 1 || fmt.Sprint(titlesOf(l2)) != "[Question from c2@acme.example]" {
			t.Errorf("s2: %+v", l2)
		}
		if la.Count != 2 || la.Items[0].Title != "Question from c1@acme.example" {
			t.Errorf("admin: %+v", la)
		}
		if workCard(t, ta, cust, "core.unanswered") != nil {
			t.Error("a customer has the staff card")
		}
	})
	t.Run("low feedback scores of the last week, of the customers reached", func(t *testing.T) {
		l1, l2, la := workCard(t, ta, s1, "core.low_scores"), workCard(t, ta, s2, "core.low_scores"), workCard(t, ta, admin, "core.low_scores")
		if l1.Count != 1 || l1.Items[0].Title != "c1@acme.example" && !strings.Contains(l1.Items[0].Title, "c1") || l1.Items[0].Link != fmt.Sprintf("/staff/customers/%d/timeline", c1.ID) || l1.Items[0].Detail != "CSAT 1 of 5" {
			t.Errorf("s1: %+v", l1)
		}
		if l2.Count != 0 || len(l2.Items) != 0 || la.Count != 1 {
			t.Errorf("s2: %+v, admin: %+v", l2, la)
		}
	})
	t.Run("admin cards: dead letters, offline devices, sign-ups of their organisation only", func(t *testing.T) {
		if workCard(t, ta, s1, "core.deliveries") != nil || workCard(t, ta, s1, "core.offline_devices") != nil || workCard(t, ta, s1, "core.signups") != nil {
			t.Error("staff have admin cards")
		}
		d := workCard(t, ta, admin, "core.deliveries")
		if d.Count != 1 || len(d.Items) != 1 || d.Items[0].Link != notify.AdminPath || !strings.Contains(d.Items[0].Detail, "by e-mail") {
			t.Errorf("deliveries: %+v", d)
		}
		dv := workCard(t, ta, admin, "core.offline_devices")
		if dv.Count != 2 || fmt.Sprint(titlesOf(dv)) != "[Never seen Silent]" || dv.Items[0].Link != "/devices/dnever" {
			t.Errorf("offline devices: %+v", dv)
		}
		su := workCard(t, ta, admin, "core.signups")
		if su.Count != 1 || len(su.Items) != 1 || !strings.Contains(su.Items[0].Title, "c2") || su.Items[0].Link != "/admin/users" {
			t.Errorf("sign-ups: %+v", su)
		}
		od := workCard(t, ta, other, "core.offline_devices")
		if od.Count != 1 || fmt.Sprint(titlesOf(od)) != "[Other org's]" {
			t.Errorf("other organisation's devices: %+v", od)
		}
	})
	t.Run("the page shows the cards with their links, in Italian too", func(t *testing.T) {
		b := ta.Browser()
		b.SignIn(t, "acme", "s1@acme.example")
		p := b.Get(t, "/")
		if !strings.Contains(p.Body, "Messages waiting for an answer") || !strings.Contains(p.Body, fmt.Sprintf(`href="/messages/%d"`, convs[0])) ||
			strings.Contains(p.Body, fmt.Sprintf(`href="/messages/%d"`, convs[1])) || !strings.Contains(p.Body, `href="/messages?filter=unanswered"`) {
			t.Fatalf("staff dashboard: %s", p.Body)
		}
		it := "it"
		if _, err := ta.Accounts.UpdateProfile(ctx, id(s1), accounts.Profile{Locale: &it}); err != nil {
			t.Fatal(err)
		}
		b = ta.Browser()
		b.SignIn(t, "acme", "s1@acme.example")
		if p := b.Get(t, "/"); !strings.Contains(p.Body, "Messaggi in attesa di risposta") || !strings.Contains(p.Body, "in attesa da") {
			t.Fatalf("Italian staff dashboard: %s", p.Body)
		}
	})
}

// TestJobsCardForPlatformAdmins: the deployment's jobs that need a person
// — the latest run failed, a run stalled, a slot overdue — are on the
// platform admin's board, the longest-standing first, each linking to its
// job page; an organisation's admin does not get the card (jobs run for
// every organisation). A job whose newer run succeeded leaves the card.
func TestJobsCardForPlatformAdmins(t *testing.T) {
	ta := portaltest.New(t, nil)
	ctx := context.Background()
	platform := ta.As(t, accounts.PlatformOrgSlug, "pat@portal.example", accounts.PlatformAdmin)
	orgAdmin := ta.As(t, "acme", "admin@acme.example", accounts.Admin)
	if l := workCard(t, ta, platform, "core.jobs"); l == nil || l.Count != 0 || l.Empty == "" {
		t.Fatalf("platform admin's jobs card with every job fine: %+v", l)
	}
	jobs, err := ta.Schedule.Jobs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var enabled []schedule.JobInfo
	for _, j := range jobs {
		if j.Enabled {
			enabled = append(enabled, j)
		}
	}
	if len(enabled) < 3 {
		t.Fatalf("want three enabled core jobs, have %+v", jobs)
	}
	failed, stalled, late := enabled[0].Name, enabled[1].Name, enabled[2].Name
	now := time.Now().UTC().Truncate(time.Second)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	finished := ago(2 * time.Hour)
	for _, r := range []schedule.RunRecord{
		{Job: failed, Slot: ago(3 * time.Hour), Status: schedule.StatusFailed, StartedAt: ago(3 * time.Hour), HeartbeatAt: finished, FinishedAt: &finished, Error: "database refused the statement"},
		{Job: stalled, Slot: ago(90 * time.Minute), Status: schedule.StatusRunning, StartedAt: ago(90 * time.Minute), HeartbeatAt: ago(time.Hour)},
		{Job: late, Slot: ago(10 * 24 * time.Hour), Status: schedule.StatusSucceeded, StartedAt: ago(10 * 24 * time.Hour), HeartbeatAt: ago(10 * 24 * time.Hour), FinishedAt: &finished},
	} {
		r.Trigger, r.Instance = schedule.TriggerSchedule, "test"
		if err := ta.Store.DB.Create(&r).Error; err != nil {
			t.Fatal(err)
		}
	}
	if l := workCard(t, ta, orgAdmin, "core.jobs"); l != nil {
		t.Errorf("an organisation's admin sees the deployment's jobs: %+v", l)
	}
	pp := ta.Principal(t, strings.TrimPrefix(platform["Authorization"], "Bearer "))
	ta.Dashboard.Forget(pp.OrgID, pp.UserID)
	l := workCard(t, ta, platform, "core.jobs")
	if l == nil || l.Count != 3 || len(l.Items) != 3 {
		t.Fatalf("jobs card: %+v", l)
	}
	for i, want := range []struct{ job, detail string }{
		{late, "did not start on time"}, {failed, "the last run failed: database refused the statement"}, {stalled, "stopped reporting progress"},
	} {
		it := l.Items[i]
		if it.Link != "/platform/jobs/"+want.job || !strings.Contains(it.Detail, want.detail) || it.Waiting == "" || it.Title == "" || it.Title == want.job {
			t.Errorf("item %d: %+v, want job %s (titled by its description) with %q", i, it, want.job, want.detail)
		}
	}
	// The failed job's next run succeeds: it leaves the card.
	if err := ta.Store.DB.Create(&schedule.RunRecord{Job: failed, Slot: ago(time.Minute), Status: schedule.StatusSucceeded, Trigger: schedule.TriggerSchedule,
		Instance: "test", StartedAt: ago(time.Minute), HeartbeatAt: now, FinishedAt: &now}).Error; err != nil {
		t.Fatal(err)
	}
	ta.Dashboard.Forget(pp.OrgID, pp.UserID)
	if l := workCard(t, ta, platform, "core.jobs"); l == nil || l.Count != 2 {
		t.Fatalf("after the failed job succeeded: %+v", l)
	}
}
