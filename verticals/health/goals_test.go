package health_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/verticals/health"
)

func f(v float64) *float64 { return &v }

// series builds daily values ending on the day before 2026-06-15: the last
// value is 14 June.
func series(values ...float64) []health.DayValue {
	end := time.Date(2026, 6, 14, 0, 0, 0, 0, time.UTC)
	out := make([]health.DayValue, len(values))
	for i, v := range values {
		out[i] = health.DayValue{Day: end.AddDate(0, 0, i-len(values)+1), Value: v}
	}
	return out
}

// TestGoalStatusFromHandMadeSeries: a systolic target of at most 130
// (tolerance 2), assessed on 14 June with a due date in September, from
// fourteen days of readings worked out by hand.
func TestGoalStatusFromHandMadeSeries(t *testing.T) {
	today := time.Date(2026, 6, 14, 0, 0, 0, 0, time.UTC)
	due := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	atMost130 := health.Target{High: f(130)}
	cases := []struct {
		name   string
		values []float64
		prev   string
		target health.Target
		want   string
		latest float64
	}{
		// week before 146 (distance 16), this week 140 (distance 10): closer by 6 > 2.
		{"improving", []float64{146, 146, 146, 146, 146, 146, 146, 140, 140, 140, 140, 140, 140, 140}, health.AchInProgress, atMost130, health.AchImproving, 140},
		// 136 → 141: farther by 5.
		{"worsening", []float64{136, 136, 136, 136, 136, 136, 136, 141, 141, 141, 141, 141, 141, 141}, health.AchImproving, atMost130, health.AchWorsening, 141},
		// 139 → 140: within the tolerance.
		{"no change", []float64{139, 139, 139, 139, 139, 139, 139, 140, 141, 139, 140, 140, 141, 139}, health.AchImproving, atMost130, health.AchNoChange, 140},
		// This week's mean is (131+129+128+130+127+129+128)/7 = 128.9: in range the first time.
		{"achieved", []float64{135, 134, 133, 133, 132, 132, 131, 131, 129, 128, 130, 127, 129, 128}, health.AchImproving, atMost130, health.AchAchieved, 128.9},
		// Still in range after an achieved week.
		{"sustaining", []float64{129, 129, 129, 129, 129, 129, 129, 126, 127, 128, 129, 130, 127, 128}, health.AchAchieved, atMost130, health.AchSustaining, 127.9},
		// Out of range after being achieved.
		{"worsening after achieved", []float64{128, 128, 128, 128, 128, 128, 128, 133, 133, 133, 133, 133, 133, 133}, health.AchSustaining, atMost130, health.AchWorsening, 133},
		// Only four readings this week and none before: in progress.
		{"first week", []float64{150, 149, 151, 148}, "", atMost130, health.AchInProgress, 149.5},
		// Steps at least 8000: 6000 → 7500, closer by 1500 > 300.
		{"improving upwards", []float64{6000, 6000, 6000, 6000, 6000, 6000, 6000, 7500, 7500, 7500, 7500, 7500, 7500, 7500}, health.AchInProgress, health.Target{Low: f(8000)}, health.AchImproving, 7500},
		// A weight range 70–75: 76.5 → 75.0 is in range.
		{"range reached", []float64{77, 77, 77, 76, 76, 76, 76, 75, 75, 75, 75, 75, 75, 75}, health.AchImproving, health.Target{Low: f(70), High: f(75)}, health.AchAchieved, 75},
	}
	for _, tc := range cases {
		got, latest := health.Assess(tc.target, 2, series(tc.values...), tc.prev, today, due)
		if tc.name == "improving upwards" {
			got, latest = health.Assess(tc.target, 300, series(tc.values...), tc.prev, today, due)
		}
		if got != tc.want || latest == nil || *latest != tc.latest {
			l := "nil"
			if latest != nil {
				l = fmt.Sprint(*latest)
			}
			t.Errorf("%s: %s (latest %s), want %s (latest %v)", tc.name, got, l, tc.want, tc.latest)
		}
	}
	// Past the due date, out of range: not achieved; no readings: unchanged.
	if got, _ := health.Assess(atMost130, 2, series(140, 140), health.AchImproving, today, today.AddDate(0, 0, -1)); got != health.AchNotAchieved {
		t.Errorf("past due: %s", got)
	}
	if got, latest := health.Assess(atMost130, 2, nil, health.AchImproving, today, due); got != health.AchImproving || latest != nil {
		t.Errorf("no readings: %s", got)
	}
}

// TestGoalStatusJob: a clinician records a visit with a goal (baseline from
// the week before); the daily job assesses it from readings as they come,
// tells the patient once when it is achieved and the care team when it
// worsens, and a second run for the same day changes nothing.
func TestGoalStatusJob(t *testing.T) {
	// The scheduler keeps runs for schedule.retention back from the real
	// clock, so this test's days are the last six weeks.
	m := &health.Module{}
	ta := portaltest.New(t, []module.Module{m})
	c := newClinic(t, ta)
	org := ta.Principal(t, c.patient["Authorization"][len("Bearer "):]).OrgID
	ctx := context.Background()
	y, mo, dd := time.Now().UTC().AddDate(0, 0, -40).Date()
	start := time.Date(y, mo, dd, 0, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return start.Add(8*time.Hour).AddDate(0, 0, d) }
	iso := func(t time.Time) string { return t.Format(time.RFC3339) }
	bp := func(d int, sys float64) {
		t.Helper()
		c.must(t, "POST", c.obsURL(), map[string]any{"kind": "blood_pressure", "value": sys, "diastolic": 80, "at": day(d)}, c.patient, 201)
	}
	for d := -5; d <= 0; d++ {
		bp(d, 150)
	}
	var visit struct {
		Goals []health.Goal `json:"goals"`
	}
	c.must(t, "POST", fmt.Sprintf("/api/v1/health/patients/%d/visits", c.patientID), map[string]any{"on": iso(start),
		"notes": "Less salt; walk 30 minutes a day.", "private_notes": "Consider an ACE inhibitor if no progress.",
		"goals": []map[string]any{{"measure": "blood_pressure", "target_high": 130, "due_on": iso(start.AddDate(0, 3, 0))}}}, c.rossi, 201).JSON(t, &visit)
	if len(visit.Goals) != 1 || visit.Goals[0].Baseline == nil || *visit.Goals[0].Baseline != 150 || visit.Goals[0].Achievement != health.AchInProgress {
		t.Fatalf("goal at the visit: %+v", visit.Goals)
	}
	// Another clinician cannot set goals; a bad goal names its field.
	c.must(t, "POST", fmt.Sprintf("/api/v1/health/patients/%d/visits", c.patientID), map[string]any{"notes": "x"}, c.bianchi, 404)
	r := c.must(t, "POST", fmt.Sprintf("/api/v1/health/patients/%d/visits", c.patientID), map[string]any{"on": iso(start), "notes": "x",
		"goals": []map[string]any{{"measure": "blood_pressure", "target_high": 130, "due_on": iso(start.AddDate(0, -1, 0))}}}, c.rossi, 422)
	if !strings.Contains(r.Body, "body.goals[0].due_on") {
		t.Fatalf("bad due date: %s", r.Body)
	}
	run := func(d int) health.Goal {
		t.Helper()
		slot := start.Add(3*time.Hour).AddDate(0, 0, d+1) // assesses day d
		if rec, err := ta.Schedule.RunNow(ctx, "health.goal_status", schedule.Request{Slot: slot}, nil); err != nil || rec.Status != schedule.StatusSucceeded {
			t.Fatalf("job for day %d: %v %+v", d, err, rec)
		}
		var gs []health.Goal
		c.must(t, "GET", fmt.Sprintf("/api/v1/health/patients/%d/goals", c.patientID), nil, c.patient, 200).JSON(t, &gs)
		return gs[0]
	}
	notes := func(kind string) int {
		var n int64
		store.AllOrgs(ta.Store.DB).Model(&notify.Record{}).Where("kind = ?", kind).Count(&n)
		return int(n)
	}
	// Week 1: 142 every day → improving from 150.
	for d := 1; d <= 7; d++ {
		bp(d, 142)
	}
	if g := run(7); g.Achievement != health.AchImproving || g.Latest == nil || *g.Latest != 142 {
		t.Fatalf("day 7: %s %v", g.Achievement, g.Latest)
	}
	// Week 2: 128 → achieved; the patient is told once.
	for d := 8; d <= 14; d++ {
		bp(d, 128)
	}
	if g := run(14); g.Achievement != health.AchAchieved || g.AchievedAt == nil {
		t.Fatalf("day 14: %s", g.Achievement)
	}
	// Assessing the same day again (a retried chunk) changes nothing.
	if err := m.Service().AssessGoals(ctx, org, c.patientID, day(14)); err != nil {
		t.Fatal(err)
	}
	if g := run(-1); g.Achievement != health.AchAchieved {
		t.Fatalf("day 14 again: %s", g.Achievement)
	}
	if n := notes(health.KindGoalAchieved); n != 1 {
		t.Fatalf("%d achieved notifications, want 1", n)
	}
	// Week 3: 127 → sustaining, nobody told.
	for d := 15; d <= 21; d++ {
		bp(d, 127)
	}
	if g := run(21); g.Achievement != health.AchSustaining {
		t.Fatalf("day 21: %s", g.Achievement)
	}
	// Week 4: 138 → worsening; the care team (Rossi) is told, not Bianchi.
	for d := 22; d <= 28; d++ {
		bp(d, 138)
	}
	if g := run(28); g.Achievement != health.AchWorsening {
		t.Fatalf("day 28: %s", g.Achievement)
	}
	var worsening []uint
	store.AllOrgs(ta.Store.DB).Model(&notify.Record{}).Where("kind = ?", health.KindGoalWorsening).Pluck("user_id", &worsening)
	if len(worsening) != 1 || worsening[0] != c.rossiID || notes(health.KindGoalAchieved) != 1 {
		t.Fatalf("worsening notified to %v", worsening)
	}
	// The patient sees the visit's notes but not the private ones.
	var visits []health.Visit
	c.must(t, "GET", fmt.Sprintf("/api/v1/health/patients/%d/visits", c.patientID), nil, c.patient, 200).JSON(t, &visits)
	if len(visits) != 1 || visits[0].Notes == "" || visits[0].PrivateNotes != "" {
		t.Fatalf("patient's visits: %+v", visits)
	}
	c.must(t, "GET", fmt.Sprintf("/api/v1/health/patients/%d/visits", c.patientID), nil, c.rossi, 200).JSON(t, &visits)
	if visits[0].PrivateNotes == "" {
		t.Fatal("the care team does not see its private notes")
	}
}
