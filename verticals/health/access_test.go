package health_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/verticals/health"
)

func TestHealthAuthorizationMatrix(t *testing.T) {
	ta, _ := newApp(t)
	portaltest.AuthorizationMatrix(t, ta)
}

// TestCareTeamReachAndAccessLog: the care team's clinician reads the
// patient's vitals and the read is in the patient's log (who, what, why);
// a clinician of another team and a nurse in no team get 404, and their
// attempts read nothing, so nothing is logged; the patient's own reads are
// not logged; another patient gets 404.
func TestCareTeamReachAndAccessLog(t *testing.T) {
	ta, _ := newApp(t)
	c := newClinic(t, ta)
	c.must(t, "POST", c.obsURL(), map[string]any{"kind": "heart_rate", "value": 71}, c.patient, 201)
	c.must(t, "GET", c.obsURL(), nil, c.patient, 200)
	if l := c.accessLog(t); len(l) != 0 {
		t.Fatalf("the patient's own reads were logged: %+v", l)
	}
	var obs []health.Observation
	c.must(t, "GET", c.obsURL(), nil, c.rossi, 200).JSON(t, &obs)
	if len(obs) != 1 || obs[0].Code != health.CodeHeartRate || obs[0].Value != 71 {
		t.Fatalf("clinician read %+v", obs)
	}
	for who, h := range map[string]map[string]string{"another team's clinician": c.bianchi, "a nurse in no team": c.nurse, "another patient": c.other} {
		if r := ta.Do(t, "GET", c.obsURL(), nil, h); r.Status != 404 {
			t.Errorf("%s: %d, want 404", who, r.Status)
		}
		if r := ta.Do(t, "POST", c.obsURL(), map[string]any{"kind": "heart_rate", "value": 80}, h); r.Status != 404 {
			t.Errorf("%s writing: %d, want 404", who, r.Status)
		}
	}
	l := c.accessLog(t)
	if len(l) != 1 {
		t.Fatalf("access log has %d entries, want 1: %+v", len(l), l)
	}
	e := l[0]
	if e.ActorID != c.rossiID || e.What != "vital signs" || e.Via != health.ViaCareTeam || e.Why != "Cardiology" || e.Flagged || !e.At.Equal(fixedNow) {
		t.Fatalf("entry %+v", e)
	}
	// The clinician's patient page is a read too, and lists the patient.
	b := ta.Browser()
	b.SignIn(t, "clinic", "dr.rossi@clinic.example")
	if r := b.Get(t, "/m/health/patients"); r.Status != 200 || !strings.Contains(r.Body, fmt.Sprintf("/m/health/patients/%d", c.patientID)) {
		t.Fatalf("patients page: %d", r.Status)
	}
	if r := b.Get(t, fmt.Sprintf("/m/health/patients/%d", c.patientID)); r.Status != 200 || !strings.Contains(r.Body, "71") {
		t.Fatalf("patient page: %d", r.Status)
	}
	if n := len(c.accessLog(t)); n != 2 {
		t.Fatalf("after the page view the log has %d entries, want 2", n)
	}
	nb := ta.Browser()
	nb.SignIn(t, "clinic", "nurse@clinic.example")
	if r := nb.Get(t, fmt.Sprintf("/m/health/patients/%d", c.patientID)); r.Status != 404 {
		t.Fatalf("nurse outside the team on the patient page: %d", r.Status)
	}
	if r := nb.Get(t, "/m/health/patients"); strings.Contains(r.Body, "anna") {
		t.Fatal("the nurse's list shows a patient outside her teams")
	}
}

// TestBreakGlass: a nurse outside the team states a reason, reads
// read-only, the read is flagged in the patient's log with the reason, the
// admins and the patient are notified; a too-short reason is refused with
// the field named; the team's own clinician gets 409.
func TestBreakGlass(t *testing.T) {
	ta, _ := newApp(t)
	c := newClinic(t, ta)
	bg := fmt.Sprintf("/api/v1/health/patients/%d/break-glass", c.patientID)
	r := c.must(t, "POST", bg, map[string]any{"reason": "urgent"}, c.nurse, 422)
	if !strings.Contains(r.Body, "body.reason") {
		t.Fatalf("short reason: %s", r.Body)
	}
	c.must(t, "POST", bg, map[string]any{"reason": "Patient collapsed in the waiting room"}, c.rossi, 409)
	if r := ta.Do(t, "POST", fmt.Sprintf("/api/v1/health/patients/%d/break-glass", c.otherID), map[string]any{"reason": "Looking at a colleague's patient"}, c.other); r.Status != 403 {
		t.Fatalf("a customer opening break-glass: %d", r.Status)
	}
	c.must(t, "POST", bg, map[string]any{"reason": "Patient collapsed in the waiting room"}, c.nurse, 201)
	c.must(t, "GET", c.obsURL(), nil, c.nurse, 200)
	if r := ta.Do(t, "POST", c.obsURL(), map[string]any{"kind": "heart_rate", "value": 120}, c.nurse); r.Status != 403 {
		t.Fatalf("a break-glass write: %d, want 403", r.Status)
	}
	l := c.accessLog(t)
	if len(l) != 2 {
		t.Fatalf("log: %+v", l)
	}
	for _, e := range l {
		if !e.Flagged || e.Via != health.ViaBreakGlass || e.Why != "Patient collapsed in the waiting room" || e.ActorID != c.nurseID {
			t.Fatalf("entry %+v", e)
		}
	}
	if l[0].What != "vital signs" || l[1].What != "break-glass access opened" {
		t.Fatalf("what: %q, %q", l[0].What, l[1].What)
	}
	var bgs []health.BreakGlassView
	c.must(t, "GET", "/api/v1/health/break-glass", nil, c.admin, 200).JSON(t, &bgs)
	if len(bgs) != 1 || bgs[0].StaffName != "nurse" || bgs[0].PatientName != "anna" {
		t.Fatalf("admin review list: %+v", bgs)
	}
	var kinds []string
	store.AllOrgs(ta.Store.DB).Table("notify_notifications").Order("kind").Pluck("kind", &kinds)
	if strings.Join(kinds, ",") != health.KindAccessAlert+","+health.KindBreakGlass {
		t.Fatalf("notifications: %v", kinds)
	}
	// The patient's page shows it as emergency access with the reason.
	b := ta.Browser()
	b.SignIn(t, "clinic", "anna@clinic.example")
	page := b.Get(t, "/m/health/access")
	if page.Status != 200 || !strings.Contains(page.Body, "Emergency access") || !strings.Contains(page.Body, "Patient collapsed in the waiting room") {
		t.Fatalf("access page: %d", page.Status)
	}
}

// TestSharingWithAnotherTeam: the patient shares with Nutrition, whose
// clinician then reaches the data (logged as shared); after withdrawing,
// 404 again. The care team cannot be withdrawn.
func TestSharingWithAnotherTeam(t *testing.T) {
	ta, _ := newApp(t)
	c := newClinic(t, ta)
	c.must(t, "GET", c.obsURL(), nil, c.bianchi, 404)
	c.must(t, "POST", fmt.Sprintf("/api/v1/health/patients/%d/shares", c.patientID), map[string]any{"team_id": c.nutrition}, c.patient, 204)
	c.must(t, "GET", c.obsURL(), nil, c.bianchi, 200)
	l := c.accessLog(t)
	if len(l) != 1 || l[0].Via != health.ViaSharedTeam || l[0].Why != "Nutrition" {
		t.Fatalf("log %+v", l)
	}
	c.must(t, "DELETE", fmt.Sprintf("/api/v1/health/patients/%d/shares/%d", c.patientID, c.cardiology), nil, c.patient, 404)
	c.must(t, "DELETE", fmt.Sprintf("/api/v1/health/patients/%d/shares/%d", c.patientID, c.nutrition), nil, c.patient, 204)
	c.must(t, "GET", c.obsURL(), nil, c.bianchi, 404)
	c.must(t, "GET", c.obsURL(), nil, c.rossi, 200)
	// Another patient cannot share someone else's data.
	c.must(t, "POST", fmt.Sprintf("/api/v1/health/patients/%d/shares", c.patientID), map[string]any{"team_id": c.nutrition}, c.other, 404)
	// A team of another organisation is not a choice.
	c.must(t, "POST", fmt.Sprintf("/api/v1/health/patients/%d/shares", c.patientID), map[string]any{"team_id": 99999}, c.patient, 422)
}

// TestIntegratorReadsAreLogged: an EHR's token reads and the patient sees it.
func TestIntegratorReadsAreLogged(t *testing.T) {
	ta, _ := newApp(t)
	c := newClinic(t, ta)
	adm := ta.Principal(t, c.admin["Authorization"][len("Bearer "):])
	ct, err := ta.Accounts.CreateToken(context.Background(), adm, accounts.NewToken{Name: "EHR", Scopes: []string{"health:read"}, ExpiresIn: time.Hour}, "")
	if err != nil {
		t.Fatal(err)
	}
	c.must(t, "GET", c.obsURL(), nil, portaltest.Bearer(ct.Secret), 200)
	l := c.accessLog(t)
	if len(l) != 1 || l[0].Via != health.ViaIntegration || l[0].TokenID == 0 {
		t.Fatalf("log %+v", l)
	}
}

// TestVitalsGoLiveOnlyToThePatientAndTheirCareTeam: a stored reading pushes
// one live event (codes, never values) to the patient and the clinician of
// their team — whose open pages refresh — and to no one else: not another
// team's clinician, a nurse in no team, the organisation's admin or another
// patient.
func TestVitalsGoLiveOnlyToThePatientAndTheirCareTeam(t *testing.T) {
	ta, _ := newApp(t)
	c := newClinic(t, ta)
	adminID := uid(t, ta, c.admin)
	at := fixedNow.Add(-time.Hour).Format(time.RFC3339)
	c.must(t, "POST", c.obsURL(), map[string]any{"kind": "heart_rate", "value": 71, "at": at}, c.patient, 201)
	type row struct {
		UserID uint
		Type   string
		Data   string
	}
	var rows []row
	if err := store.AllOrgs(ta.Store.DB).Table("live_events").Select("user_id, type, data").Order("user_id").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	got := map[uint]int{}
	for _, r := range rows {
		if r.Type != "module" || !strings.Contains(r.Data, `"name":"health.vitals"`) {
			continue
		}
		got[r.UserID]++
		if !strings.Contains(r.Data, fmt.Sprintf(`"subject":"patient:%d"`, c.patientID)) || strings.Contains(r.Data, "71") {
			t.Errorf("event %s: want the patient as subject and no value", r.Data)
		}
	}
	if got[c.patientID] != 1 || got[c.rossiID] != 1 || len(got) != 2 {
		t.Fatalf("vitals events per person %v; want one each for the patient (%d) and Dr Rossi (%d) only (not Bianchi %d, the nurse %d, the admin %d, Bruno %d)",
			got, c.patientID, c.rossiID, c.bianchiID, c.nurseID, adminID, c.otherID)
	}
}
