package health_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/verticals/health"
)

// TestTrendsAgainstTheGoal: the month's chart has one point per day (the
// day's mean, in the patient's time zone), gaps where nothing was measured,
// and the goal's upper end as a flat line; "since the last visit" starts at
// the visit; the clinician's view is logged; the panel shows the worsening
// goal and the low adherence (the high reading's alert closed with the next
// normal one).
func TestTrendsAgainstTheGoal(t *testing.T) {
	ta, m := newApp(t)
	c := newClinic(t, ta)
	// Two readings on 13 June (mean 140), one on 14 June.
	for _, r := range []struct {
		at       string
		sys, dia float64
	}{{"2026-06-13T07:00:00Z", 138, 88}, {"2026-06-13T18:00:00Z", 142, 90}, {"2026-06-14T07:00:00Z", 131, 84}} {
		c.must(t, "POST", c.obsURL(), map[string]any{"kind": "blood_pressure", "value": r.sys, "diastolic": r.dia, "at": r.at}, c.patient, 201)
	}
	c.must(t, "POST", fmt.Sprintf("/api/v1/health/patients/%d/visits", c.patientID), map[string]any{"on": "2026-06-10T00:00:00Z", "notes": "Walk daily.",
		"goals": []map[string]any{{"measure": "blood_pressure", "target_high": 130, "due_on": "2026-09-01T00:00:00Z"}}}, c.rossi, 201)
	var tr health.Trend
	c.must(t, "GET", fmt.Sprintf("/api/v1/health/patients/%d/trends?measure=blood_pressure&period=month", c.patientID), nil, c.patient, 200).JSON(t, &tr)
	ch := tr.Chart
	if len(ch.Labels) != 30 || ch.Labels[29] != "2026-06-15" || len(ch.Series) != 3 || ch.Series[2].Name != "Goal: at most" {
		t.Fatalf("chart: %d labels, last %q, %d series", len(ch.Labels), ch.Labels[len(ch.Labels)-1], len(ch.Series))
	}
	sys, goal := ch.Series[0].Values, ch.Series[2].Values
	if sys[27] != 140 || sys[28] != 131 || !math.IsNaN(sys[26]) || !math.IsNaN(sys[29]) || goal[0] != 130 || goal[29] != 130 || ch.Series[1].Values[27] != 89 {
		t.Fatalf("values: %v", sys[25:])
	}
	c.must(t, "GET", fmt.Sprintf("/api/v1/health/patients/%d/trends?period=visit", c.patientID), nil, c.patient, 200).JSON(t, &tr)
	if len(tr.Chart.Labels) != 6 || tr.Chart.Labels[0] != "2026-06-10" {
		t.Fatalf("since the visit: %v", tr.Chart.Labels)
	}
	var since health.SinceVisit
	c.must(t, "GET", fmt.Sprintf("/api/v1/health/patients/%d/since-last-visit", c.patientID), nil, c.patient, 200).JSON(t, &since)
	if since.Visit == nil || since.Readings != 6 || len(since.Goals) != 1 || since.Visit.PrivateNotes != "" {
		t.Fatalf("since the visit: %+v", since)
	}
	b := ta.Browser()
	b.SignIn(t, "clinic", "anna@clinic.example")
	expectPage(t, "trends", b.Get(t, "/m/health/trends?measure=blood_pressure&period=week"), 200, "Goal: at most", "<svg", "140", "Since the last visit", "6 readings since")
	before := len(c.accessLog(t))
	s := ta.Browser()
	s.SignIn(t, "clinic", "dr.rossi@clinic.example")
	expectPage(t, "clinician trends", s.Get(t, fmt.Sprintf("/m/health/patients/%d/trends", c.patientID)), 200, "Systolic blood pressure")
	log := c.accessLog(t)
	if len(log) != before+2 || log[0].What != "since-last-visit summary" || log[1].What != "vital sign trends" {
		t.Fatalf("log after the clinician's trends: %+v", log[:2])
	}
	nurse := ta.Browser()
	nurse.SignIn(t, "clinic", "nurse@clinic.example")
	if r := nurse.Get(t, fmt.Sprintf("/m/health/patients/%d/trends", c.patientID)); r.Status != 404 {
		t.Fatalf("nurse outside the team: %d", r.Status)
	}

	// The panel: a worsening goal and low adherence.
	org := ta.Principal(t, c.patient["Authorization"][len("Bearer "):]).OrgID
	store.AllOrgs(ta.Store.DB).Model(&health.Goal{}).Where("patient_id = ?", c.patientID).Updates(map[string]any{"achievement": health.AchWorsening, "achievement_since": "2026-06-14"})
	var rx health.Prescription
	c.must(t, "POST", fmt.Sprintf("/api/v1/health/patients/%d/prescriptions", c.patientID), map[string]any{"medicine": "Ramipril", "dose": "5 mg", "times": []string{"08:00"}, "start_on": "2026-06-05T00:00:00Z"}, c.rossi, 201).JSON(t, &rx)
	if err := m.Service().ScheduleDoses(context.Background(), org, time.Date(2026, 6, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 14, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	store.AllOrgs(ta.Store.DB).Model(&health.Dose{}).Where("prescription_id = ? AND day <= ?", rx.ID, time.Date(2026, 6, 7, 0, 0, 0, 0, time.UTC)).Update("status", health.DoseTaken)
	var panel health.Panel
	c.must(t, "GET", "/api/v1/health/panel", nil, c.rossi, 200).JSON(t, &panel)
	if len(panel.Goals) != 1 || panel.Goals[0].Achievement != health.AchWorsening || len(panel.LowAdherence) != 1 || panel.LowAdherence[0].PDC != 0.3 || len(panel.Alerts) != 0 {
		t.Fatalf("panel %+v", panel)
	}
	c.must(t, "GET", "/api/v1/health/panel", nil, c.bianchi, 200).JSON(t, &panel)
	if len(panel.Goals)+len(panel.LowAdherence)+len(panel.Alerts) != 0 {
		t.Fatalf("another team's panel shows this patient: %+v", panel)
	}
	expectPage(t, "panel", s.Get(t, "/m/health/patients"), 200, "Goals needing attention", "PDC 30% over 10 days")
}
