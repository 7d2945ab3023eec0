package health_test

import (
	"context"
	"fmt"
	"net/url"
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

func june(d int) time.Time { return time.Date(2026, 6, d, 0, 0, 0, 0, time.UTC) }

// days marks June days covered.
func days(from, to int, except ...int) map[time.Time]bool {
	out := map[time.Time]bool{}
	for d := from; d <= to; d++ {
		out[june(d)] = true
	}
	for _, d := range except {
		delete(out, june(d))
	}
	return out
}

// TestPDCAgainstHandComputedCases: June 1–30.
//
//	A: all June, every day taken but 10–15       → 24/30 = 0.800, adherent (the threshold)
//	B: 11–30 (overlaps A), all but the 20th       → 19/20 = 0.950
//	C: stopped early, last day the 10th, all taken → 10/10 = 1.000 (its days only)
//	D: started 20 May, taken 1–5 then nothing     → clipped to June: 5/30 = 0.167
//
// Overall without D: a day counts when every medicine running that day was
// taken: 1–9 (A, C), 16–19 (A, B), 21–30 (A, B) = 23 of 30 days = 0.767,
// not adherent.
func TestPDCAgainstHandComputedCases(t *testing.T) {
	courses := []health.Course{{ID: 1, First: june(1), Last: june(30)}, {ID: 2, First: june(11), Last: june(30)}, {ID: 3, First: june(1), Last: june(10)}}
	covered := map[uint]map[time.Time]bool{1: days(1, 30, 10, 11, 12, 13, 14, 15), 2: days(11, 30, 20), 3: days(1, 10)}
	per, overall := health.PDC(courses, covered, june(1), june(30))
	want := []struct {
		days, covered int
		pdc           float64
		adherent      bool
	}{{30, 24, 0.8, true}, {20, 19, 0.95, true}, {10, 10, 1, true}}
	for i, w := range want {
		a := per[i]
		if a.Days != w.days || a.Covered != w.covered || a.PDC != w.pdc || a.Adherent != w.adherent {
			t.Errorf("medicine %d: %+v, want %+v", i+1, a, w)
		}
	}
	if overall.Days != 30 || overall.Covered != 23 || overall.PDC != 0.767 || overall.Adherent {
		t.Errorf("overall: %+v", overall)
	}
	per, _ = health.PDC([]health.Course{{ID: 4, First: june(1).AddDate(0, 0, -12), Last: june(30)}}, map[uint]map[time.Time]bool{4: days(1, 5)}, june(1), june(30))
	if per[0].Days != 30 || per[0].Covered != 5 || per[0].PDC != 0.167 || per[0].Adherent {
		t.Errorf("clipped course: %+v", per[0])
	}
	_, none := health.PDC(nil, nil, june(1), june(30))
	if none.Days != 0 || none.Adherent {
		t.Errorf("no medicines: %+v", none)
	}
}

// TestDoseRemindersAtLocalTime: a prescription at 08:00 and at a minute just
// past, in the patient's time zone (Europe/Rome); the hourly job creates the
// day's doses at those local times, the minute job reminds the one due,
// once; the patient answers "later" from the reminder's page and is
// reminded again when the half hour has passed; "taken" ends the reminders;
// twice a day with one dose missed is a day not covered.
func TestDoseRemindersAtLocalTime(t *testing.T) {
	ta := portaltest.New(t, []module.Module{&health.Module{}}) // the scheduler refuses slots from its real clock's past retention
	c := newClinic(t, ta)
	ctx := context.Background()
	rome, _ := time.LoadLocation("Europe/Rome")
	due := time.Now().UTC().Add(-2 * time.Minute).Truncate(time.Minute)
	local := due.In(rome).Format("15:04")
	times := []string{local}
	if local != "08:00" {
		times = append(times, "08:00")
	}
	r := c.must(t, "POST", fmt.Sprintf("/api/v1/health/patients/%d/prescriptions", c.patientID),
		map[string]any{"medicine": "Ramipril", "dose": "5 mg", "times": times, "start_on": due.AddDate(0, 0, -1)}, c.rossi, 201)
	var rx health.Prescription
	r.JSON(t, &rx)
	c.must(t, "POST", fmt.Sprintf("/api/v1/health/patients/%d/prescriptions", c.patientID), map[string]any{"medicine": "X", "dose": "1", "times": []string{"8:00"}}, c.rossi, 422)
	c.must(t, "POST", fmt.Sprintf("/api/v1/health/patients/%d/prescriptions", c.patientID), map[string]any{"medicine": "X", "dose": "1", "times": []string{"08:00"}}, c.bianchi, 404)
	runJob := func(name string, slot time.Time) {
		t.Helper()
		if rec, err := ta.Schedule.RunNow(ctx, name, schedule.Request{Slot: slot}, nil); err != nil || rec.Status != schedule.StatusSucceeded {
			t.Fatalf("%s at %s: %v %+v", name, slot, err, rec)
		}
	}
	runJob("health.dose_schedule", due.Truncate(time.Hour).Add(-10*time.Minute))
	var doses []health.Dose
	store.AllOrgs(ta.Store.DB).Where("prescription_id = ?", rx.ID).Order("due_at").Find(&doses)
	var at8, now *health.Dose
	for i := range doses {
		l := doses[i].DueAt.In(rome)
		if l.Format("15:04") == "08:00" {
			at8 = &doses[i]
		}
		if doses[i].DueAt.Equal(due) {
			now = &doses[i]
		}
	}
	if at8 == nil || now == nil {
		t.Fatalf("doses %+v: none at 08:00 Rome time or at %s", doses, due)
	}
	reminders := func() int {
		var n int64
		store.AllOrgs(ta.Store.DB).Model(&notify.Record{}).Where("user_id = ? AND kind = ?", c.patientID, health.KindDoseReminder).Count(&n)
		return int(n)
	}
	runJob("health.dose_reminders", due)
	runJob("health.dose_reminders", due.Add(time.Minute)) // inside the window again: no second reminder
	if n := reminders(); n != 1 {
		t.Fatalf("%d reminders, want 1", n)
	}
	var rec notify.Record
	store.AllOrgs(ta.Store.DB).Where("user_id = ? AND kind = ?", c.patientID, health.KindDoseReminder).Take(&rec)
	link := fmt.Sprintf("/m/health/doses/%d", now.ID)
	if !strings.Contains(string(rec.Data), link) || !strings.Contains(string(rec.Data), local) {
		t.Fatalf("reminder data %s", rec.Data)
	}
	// From the reminder: later.
	b := ta.Browser()
	b.SignIn(t, "clinic", "anna@clinic.example")
	expectPage(t, "dose page", b.Get(t, link), 200, "Ramipril", "5 mg", local)
	if res := b.Post(t, link, url.Values{"action": {"later"}, "from": {"dose"}}); res.Status != 303 {
		t.Fatalf("later: %d", res.Status)
	}
	var d health.Dose
	store.AllOrgs(ta.Store.DB).Where("id = ?", now.ID).Take(&d)
	if d.Status != health.DoseLater || d.RemindAt == nil || d.RemindAt.Sub(*d.AnsweredAt) != health.LaterBy {
		t.Fatalf("after later: %+v", d)
	}
	// Half an hour passes.
	next := time.Now().UTC().Truncate(time.Minute)
	store.AllOrgs(ta.Store.DB).Model(&health.Dose{}).Where("id = ?", d.ID).Update("remind_at", next.Add(-time.Minute))
	runJob("health.dose_reminders", next)
	if n := reminders(); n != 2 {
		t.Fatalf("%d reminders after later, want 2", n)
	}
	// Another patient cannot answer it; an unknown action names the field.
	c.must(t, "POST", fmt.Sprintf("/api/v1/health/doses/%d", d.ID), map[string]any{"action": "taken"}, c.other, 404)
	c.must(t, "POST", fmt.Sprintf("/api/v1/health/doses/%d", d.ID), map[string]any{"action": "taken"}, c.patient, 200)
	store.AllOrgs(ta.Store.DB).Model(&health.Dose{}).Where("id = ?", d.ID).Update("remind_at", due.Add(-2*time.Minute))
	runJob("health.dose_reminders", due.Add(-time.Minute))
	if n := reminders(); n != 2 {
		t.Fatalf("a taken dose was reminded again: %d", n)
	}
	// Today's list shows both doses; stopping the prescription from today
	// leaves today's doses and removes later ones.
	var today []health.Dose
	c.must(t, "GET", fmt.Sprintf("/api/v1/health/patients/%d/doses/today", c.patientID), nil, c.patient, 200).JSON(t, &today)
	if len(today) == 0 || today[0].Medicine != "Ramipril" {
		t.Fatalf("today: %+v", today)
	}
	c.must(t, "POST", fmt.Sprintf("/api/v1/health/prescriptions/%d/stop", rx.ID), nil, c.rossi, 200)
	c.must(t, "POST", fmt.Sprintf("/api/v1/health/prescriptions/%d/stop", rx.ID), nil, c.bianchi, 404)
}

// TestAdherenceFromDoses: twice a day from 11 June; on the 12th one dose
// is missed and on the 13th both are skipped; by the 15th (yesterday =
// 14th) the PDC is 2 of 4 days = 0.5 and the clinician's page shows it as
// low adherence.
func TestAdherenceFromDoses(t *testing.T) {
	ta, m := newApp(t)
	c := newClinic(t, ta)
	ctx := context.Background()
	org := ta.Principal(t, c.patient["Authorization"][len("Bearer "):]).OrgID
	var rx health.Prescription
	c.must(t, "POST", fmt.Sprintf("/api/v1/health/patients/%d/prescriptions", c.patientID),
		map[string]any{"medicine": "Metformin", "dose": "500 mg", "times": []string{"20:00", "08:00"}, "start_on": "2026-06-11T00:00:00Z"}, c.rossi, 201).JSON(t, &rx)
	if rx.Times != "08:00,20:00" {
		t.Fatalf("times %q", rx.Times)
	}
	if err := m.Service().ScheduleDoses(ctx, org, june(11), june(15)); err != nil {
		t.Fatal(err)
	}
	var doses []health.Dose
	store.AllOrgs(ta.Store.DB).Where("prescription_id = ?", rx.ID).Order("due_at").Find(&doses)
	if len(doses) < 8 {
		t.Fatalf("%d doses", len(doses))
	}
	answer := map[int]string{0: "taken", 1: "taken", 2: "taken", 4: "skipped", 5: "skipped", 6: "taken", 7: "taken"} // index 3 (12th, evening) never answered
	for i, a := range answer {
		c.must(t, "POST", fmt.Sprintf("/api/v1/health/doses/%d", doses[i].ID), map[string]any{"action": a}, c.patient, 200)
	}
	var adh struct {
		Medicines []health.Adherence `json:"medicines"`
		Overall   health.Adherence   `json:"overall"`
	}
	c.must(t, "GET", fmt.Sprintf("/api/v1/health/patients/%d/adherence?days=30", c.patientID), nil, c.rossi, 200).JSON(t, &adh)
	if len(adh.Medicines) != 1 || adh.Medicines[0].Days != 4 || adh.Medicines[0].Covered != 2 || adh.Medicines[0].PDC != 0.5 || adh.Medicines[0].Adherent || adh.Overall.PDC != 0.5 {
		t.Fatalf("adherence %+v", adh)
	}
	b := ta.Browser()
	b.SignIn(t, "clinic", "dr.rossi@clinic.example")
	expectPage(t, "clinician", b.Get(t, fmt.Sprintf("/m/health/patients/%d", c.patientID)), 200, "Metformin", "PDC 50% over 4 days", "low adherence")
}

// TestTodaysDosesReadFirst guards the read-first path of today's doses (the
// dashboard's "Today's doses"): the patient's first read creates the rows,
// a second read returns the same rows without creating more, a prescription
// added later shows at the next read; their clinician sees the same list,
// another patient gets not found and never sees these doses in their own.
func TestTodaysDosesReadFirst(t *testing.T) {
	ta := portaltest.New(t, []module.Module{&health.Module{}})
	c := newClinic(t, ta)
	start := time.Now().UTC().AddDate(0, 0, -1)
	prescribe := func(medicine string, times ...string) {
		t.Helper()
		c.must(t, "POST", fmt.Sprintf("/api/v1/health/patients/%d/prescriptions", c.patientID),
			map[string]any{"medicine": medicine, "dose": "5 mg", "times": times, "start_on": start}, c.rossi, 201)
	}
	today := func(h map[string]string, patient uint, want int) []health.Dose {
		t.Helper()
		var ds []health.Dose
		res := c.must(t, "GET", fmt.Sprintf("/api/v1/health/patients/%d/doses/today", patient), nil, h, want)
		if want == 200 {
			res.JSON(t, &ds)
		}
		return ds
	}
	rows := func() int64 {
		var n int64
		store.AllOrgs(ta.Store.DB).Model(&health.Dose{}).Where("patient_id = ?", c.patientID).Count(&n)
		return n
	}
	prescribe("Ramipril", "08:00", "20:00")
	first := today(c.patient, c.patientID, 200)
	if len(first) != 2 || first[0].Medicine != "Ramipril" || first[0].LocalTime != "08:00" || first[1].LocalTime != "20:00" {
		t.Fatalf("first read: %+v", first)
	}
	again := today(c.patient, c.patientID, 200)
	if len(again) != 2 || again[0].ID != first[0].ID || again[1].ID != first[1].ID || rows() != 2 {
		t.Fatalf("second read: %+v (%d rows)", again, rows())
	}
	prescribe("Aspirin", "12:00")
	after := today(c.patient, c.patientID, 200)
	if len(after) != 3 || after[1].Medicine != "Aspirin" || after[1].LocalTime != "12:00" || rows() != 3 {
		t.Fatalf("after a new prescription: %+v (%d rows)", after, rows())
	}
	staff := today(c.rossi, c.patientID, 200)
	if len(staff) != 3 || staff[0].ID != after[0].ID || staff[2].ID != after[2].ID {
		t.Fatalf("clinician: %+v", staff)
	}
	today(c.other, c.patientID, 404)
	for _, d := range today(c.other, c.otherID, 200) {
		if d.PatientID == c.patientID {
			t.Fatalf("another patient sees %+v", d)
		}
	}
}
