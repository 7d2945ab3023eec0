package health_test

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/verticals/health"
)

func (c *clinic) diaryURL(what string) string {
	return fmt.Sprintf("/api/v1/health/patients/%d/%s", c.patientID, what)
}

// TestDiaryMealsAndOneTapRelog: a meal logged an hour ago is logged again
// now with one call, with the same food and numbers; only its patient can
// re-log or delete it.
func TestDiaryMealsAndOneTapRelog(t *testing.T) {
	ta, _ := newApp(t)
	c := newClinic(t, ta)
	var m, again health.Meal
	c.must(t, "POST", c.diaryURL("meals"), map[string]any{"text": "Oatmeal with berries", "calories": 350, "protein": 12, "carbs": 55, "fat": 8,
		"at": fixedNow.Add(-time.Hour).Format(time.RFC3339)}, c.patient, 201).JSON(t, &m)
	c.must(t, "POST", fmt.Sprintf("/api/v1/health/meals/%d/again", m.ID), nil, c.other, 404)
	c.must(t, "POST", fmt.Sprintf("/api/v1/health/meals/%d/again", m.ID), nil, c.patient, 201).JSON(t, &again)
	if again.ID == m.ID || again.Text != m.Text || *again.Calories != 350 || *again.Protein != 12 || *again.Carbs != 55 || *again.Fat != 8 || !again.At.Equal(fixedNow) {
		t.Fatalf("re-logged meal %+v from %+v", again, m)
	}
	var meals []health.Meal
	c.must(t, "GET", c.diaryURL("meals"), nil, c.patient, 200).JSON(t, &meals)
	if len(meals) != 2 || meals[0].ID != again.ID {
		t.Fatalf("meals %+v", meals)
	}
	c.must(t, "DELETE", fmt.Sprintf("/api/v1/health/meals/%d", m.ID), nil, c.other, 404)
	c.must(t, "DELETE", fmt.Sprintf("/api/v1/health/meals/%d", m.ID), nil, c.patient, 204)
	c.must(t, "GET", c.diaryURL("meals"), nil, c.patient, 200).JSON(t, &meals)
	if len(meals) != 1 || meals[0].ID != again.ID {
		t.Fatalf("after delete: %+v", meals)
	}

	// The page's button does the same.
	b := ta.Browser()
	b.SignIn(t, "clinic", "anna@clinic.example")
	page := b.Get(t, "/m/health/diary")
	expectPage(t, "diary", page, 200, "Oatmeal with berries", "350 kcal", "Log again now")
	ids := map[string]int{}
	for _, m := range regexp.MustCompile(` id="([^"]+)"`).FindAllStringSubmatch(page.Body, -1) {
		if ids[m[1]]++; ids[m[1]] == 2 {
			t.Errorf("id %q twice on the diary page", m[1])
		}
	}
	future := b.Post(t, "/m/health/diary/meals", url.Values{"text": {"Pizza"}, "meal_at": {"2026-06-16T20:00"}})
	expectPage(t, "meal in the future", future, 422, `id="e-meal_at"`, "The time cannot be in the future.")
	r := b.Post(t, fmt.Sprintf("/m/health/diary/meals/%d/again", again.ID), nil)
	if r.Status != 303 {
		t.Fatalf("page re-log: %d", r.Status)
	}
	c.must(t, "GET", c.diaryURL("meals"), nil, c.patient, 200).JSON(t, &meals)
	if len(meals) != 2 {
		t.Fatalf("after the page's re-log: %d meals", len(meals))
	}
}

// TestDiaryRefusesImpossibleEntries: each refusal is a 422 naming the
// field, and nothing is written.
func TestDiaryRefusesImpossibleEntries(t *testing.T) {
	ta, _ := newApp(t)
	c := newClinic(t, ta)
	cases := []struct {
		name, what string
		body       map[string]any
		field      string
	}{
		{"negative calories", "meals", map[string]any{"text": "Toast", "calories": -10}, "body.calories"},
		{"negative fat", "meals", map[string]any{"text": "Toast", "fat": -1}, "body.fat"},
		{"no text", "meals", map[string]any{"text": "  "}, "body.text"},
		{"meal in the future", "meals", map[string]any{"text": "Toast", "at": fixedNow.Add(time.Hour).Format(time.RFC3339)}, "body.at"},
		{"duration 0", "exercise", map[string]any{"type": "walking", "minutes": 0, "intensity": "low"}, "body.minutes"},
		{"more than 24 hours", "exercise", map[string]any{"type": "walking", "minutes": 1441, "intensity": "low"}, "body.minutes"},
		{"unknown intensity", "exercise", map[string]any{"type": "walking", "minutes": 30, "intensity": "extreme"}, "body.intensity"},
		{"unknown type", "exercise", map[string]any{"type": "chess", "minutes": 30, "intensity": "low"}, "body.type"},
		{"negative steps", "exercise", map[string]any{"type": "walking", "minutes": 30, "intensity": "low", "steps": -4}, "body.steps"},
	}
	for _, tc := range cases {
		r := c.must(t, "POST", c.diaryURL(tc.what), tc.body, c.patient, 422)
		if !strings.Contains(r.Body, tc.field) {
			t.Errorf("%s: %s", tc.name, r.Body)
		}
	}
	var meals []health.Meal
	var sessions []health.ExerciseSession
	c.must(t, "GET", c.diaryURL("meals"), nil, c.patient, 200).JSON(t, &meals)
	c.must(t, "GET", c.diaryURL("exercise"), nil, c.patient, 200).JSON(t, &sessions)
	if len(meals)+len(sessions) != 0 {
		t.Fatalf("refused entries written: %v %v", meals, sessions)
	}
}

// TestDiaryReach: the care team reads the diary, and each read is in the
// patient's access log; a clinician of another team, a nurse in no team
// and another patient get 404; staff cannot write it.
func TestDiaryReach(t *testing.T) {
	ta, _ := newApp(t)
	c := newClinic(t, ta)
	c.must(t, "POST", c.diaryURL("meals"), map[string]any{"text": "Soup"}, c.patient, 201)
	c.must(t, "POST", c.diaryURL("exercise"), map[string]any{"type": "yoga", "minutes": 20, "intensity": "low"}, c.patient, 201)
	var meals []health.Meal
	c.must(t, "GET", c.diaryURL("meals"), nil, c.rossi, 200).JSON(t, &meals)
	if len(meals) != 1 {
		t.Fatalf("the care team reads %d meals", len(meals))
	}
	c.must(t, "GET", c.diaryURL("exercise"), nil, c.rossi, 200)
	for _, h := range []map[string]string{c.bianchi, c.nurse, c.other} {
		c.must(t, "GET", c.diaryURL("meals"), nil, h, 404)
		c.must(t, "GET", c.diaryURL("exercise"), nil, h, 404)
		c.must(t, "GET", c.diaryURL("exercise/week"), nil, h, 404)
	}
	c.must(t, "POST", c.diaryURL("meals"), map[string]any{"text": "Soup"}, c.rossi, 403)
	log := c.accessLog(t)
	whats := map[string]bool{}
	for _, e := range log {
		if e.ActorID != c.rossiID || e.Via != health.ViaCareTeam {
			t.Errorf("unexpected log entry %+v", e)
		}
		whats[e.What] = true
	}
	if !whats["food diary"] || !whats["exercise diary"] || len(log) != 2 {
		t.Fatalf("access log %+v", log)
	}
	// The clinician's page is logged too; other staff do not reach it.
	s := ta.Browser()
	s.SignIn(t, "clinic", "dr.rossi@clinic.example")
	expectPage(t, "clinician's diary", s.Get(t, fmt.Sprintf("/m/health/patients/%d/diary", c.patientID)), 200, "Soup", "Yoga or stretching")
	if n := len(c.accessLog(t)); n != 5 {
		t.Fatalf("%d log entries after the page (want 5: meals, exercise, summary)", n)
	}
	n := ta.Browser()
	n.SignIn(t, "clinic", "nurse@clinic.example")
	if r := n.Get(t, fmt.Sprintf("/m/health/patients/%d/diary", c.patientID)); r.Status != 404 {
		t.Fatalf("nurse outside the team: %d", r.Status)
	}
}

// TestDiaryWeeklySummary: minutes per day and in all over the last seven
// days against 150; steps per day (the day's counter when there is one,
// else the sessions' steps) against the steps goal.
func TestDiaryWeeklySummary(t *testing.T) {
	ta, _ := newApp(t)
	c := newClinic(t, ta)
	c.must(t, "POST", c.diaryURL("visits"), map[string]any{"on": fixedNow.AddDate(0, 0, -10).Format(time.RFC3339),
		"goals": []map[string]any{{"measure": "steps", "target_low": 8000, "due_on": "2026-09-01T00:00:00Z"}}}, c.rossi, 201)
	day := func(d int, h int) string {
		return fixedNow.AddDate(0, 0, -d).Add(time.Duration(h) * time.Hour).Format(time.RFC3339)
	}
	for _, s := range []map[string]any{
		{"type": "walking", "minutes": 30, "intensity": "moderate", "steps": 3000, "at": day(0, -2)},
		{"type": "running", "minutes": 25, "intensity": "vigorous", "steps": 2500, "at": day(1, 0)},
		{"type": "gym", "minutes": 20, "intensity": "moderate", "at": day(1, 2)},
		{"type": "cycling", "minutes": 40, "intensity": "moderate", "steps": 100, "at": day(2, 0)},
		{"type": "swimming", "minutes": 60, "intensity": "vigorous", "at": day(7, 0)}, // eight days ago: outside
	} {
		c.must(t, "POST", c.diaryURL("exercise"), s, c.patient, 201)
	}
	// Two days ago the watch's counter says 9 000 (its largest of the day).
	c.must(t, "POST", c.obsURL(), map[string]any{"kind": "steps", "value": 4000, "at": day(2, -4)}, c.patient, 201)
	c.must(t, "POST", c.obsURL(), map[string]any{"kind": "steps", "value": 9000, "at": day(2, 4)}, c.patient, 201)
	var w health.WeekSummary
	c.must(t, "GET", c.diaryURL("exercise/week"), nil, c.patient, 200).JSON(t, &w)
	if len(w.Days) != 7 || !w.Days[6].Day.Equal(time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)) || !w.Days[0].Day.Equal(time.Date(2026, 6, 9, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("days %+v", w.Days)
	}
	if w.Minutes != 115 || w.MinutesGoal != 150 || w.Days[6].Minutes != 30 || w.Days[5].Minutes != 45 || w.Days[4].Minutes != 40 {
		t.Fatalf("minutes %d/%d, days %+v", w.Minutes, w.MinutesGoal, w.Days)
	}
	steps := func(i int) float64 {
		if w.Days[i].Steps == nil {
			return -1
		}
		return *w.Days[i].Steps
	}
	if steps(6) != 3000 || steps(5) != 2500 || steps(4) != 9000 || steps(3) != -1 {
		t.Fatalf("steps per day %v %v %v %v", steps(6), steps(5), steps(4), steps(3))
	}
	if w.StepsGoal == nil || *w.StepsGoal != 8000 || w.DaysStepsMet != 1 || w.StepsMean == nil || *w.StepsMean != 4833 {
		t.Fatalf("goal %v met %d mean %v", w.StepsGoal, w.DaysStepsMet, w.StepsMean)
	}
	ex, st := w.Exercise, w.Steps
	if ex.Title == "" || ex.ValueName == "" || ex.LabelHeader == "" || st.ValueName == "" || st.LabelHeader == "" {
		t.Fatalf("charts must name both axes: %+v %+v", ex, st)
	}
	if len(ex.Series) != 1 || ex.Series[0].Values[6] != 30 || len(st.Series) != 2 || st.Series[1].Name != "Goal: at least" || st.Series[1].Values[0] != 8000 {
		t.Fatalf("chart series %+v %+v", ex.Series, st.Series)
	}
}
