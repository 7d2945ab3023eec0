package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/verticals/health"
)

// TestHealthJourney is the seed's story in a real browser: the demo
// clinician, on a laptop, records a visit with the demo patient and sets a
// steps goal; the patient, on a 360 px phone, sees the goal, logs a
// reading with the one form, sees it on the trends chart against the
// goal's range, takes a dose from its reminder, and finds the clinician's
// reads in the access log. No page scrolls sideways on the phone.
func TestHealthJourney(t *testing.T) {
	env := Start(t)
	doc := env.Tab(t, "clinician")
	doc.SignIn("demo", "staff@demo.example")
	doc.Go("/m/health/patients")
	doc.Expect("Patients of my care teams", "Alerts")
	doc.Click("main a[href^='/m/health/patients/']")
	doc.Expect("Record a visit and set a goal", "Goals")
	doc.Do(chromedp.SetValue("#f-measure", "steps"))
	doc.Fill(map[string]string{"#f-notes": "Walk every day after lunch.", "#f-target_low": "8000",
		"#f-due_on": time.Now().AddDate(0, 3, 0).Format("2006-01-02")})
	doc.Click("#visit-form button[type=submit]")
	doc.Expect("The visit is recorded.", "Steps per day", "at least 8,000 steps")

	phone := env.Tab(t, "phone")
	phone.SignIn("demo", "customer@demo.example")
	noSideScroll := func(where string) {
		t.Helper()
		w, err := chromedp.Run(phone.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - document.documentElement.clientWidth`))
		if err != nil || w > 0 {
			phone.Shot("side-scroll-" + where)
			t.Errorf("%s: the page scrolls %d px sideways (%v)", where, w, err)
		}
	}
	phone.Go("/m/health/")
	phone.Expect("My goals", "Steps per day", "Walk every day after lunch.", "Today's doses")
	noSideScroll("home")
	phone.Do(chromedp.SetValue("#f-kind", "steps"))
	phone.Fill(map[string]string{"#f-value": "9500"})
	phone.Click("#reading-form button[type=submit]")
	phone.Expect("Your reading is saved.", "9,500")
	phone.Go("/m/health/trends?measure=steps&period=week")
	phone.Expect("Steps per day", "Goal: at least", "9,500")
	noSideScroll("trends")

	// The dose reminder: the minute job reminds one of today's doses.
	ta := env.App
	ctx := context.Background()
	var d health.Dose
	if err := store.AllOrgs(ta.Store.DB).Joins("JOIN accounts_users u ON u.id = health_doses.patient_id").
		Where("u.email = ? AND health_doses.status = ?", "customer@demo.example", health.DoseDue).Order("health_doses.due_at DESC").First(&d).Error; err != nil {
		t.Fatalf("no dose due for the demo patient: %v", err)
	}
	// The portal's own scheduler runs every minute from its start and
	// catches up the slots missed within schedule.grace (24 h); a slot from
	// before that window is free to run here.
	slot := time.Now().UTC().Add(-72 * time.Hour).Truncate(time.Minute)
	store.AllOrgs(ta.Store.DB).Model(&health.Dose{}).Where("id = ?", d.ID).Update("remind_at", slot.Add(-time.Minute))
	if rec, err := ta.Schedule.RunNow(ctx, "health.dose_reminders", schedule.Request{Slot: slot}, nil); err != nil || rec.Status != schedule.StatusSucceeded {
		t.Fatalf("reminders: %v", err)
	}
	var rec notify.Record
	if err := store.AllOrgs(ta.Store.DB).Where("kind = ?", health.KindDoseReminder).Order("id DESC").First(&rec).Error; err != nil {
		t.Fatalf("no reminder: %v", err)
	}
	i := strings.Index(string(rec.Data), "/m/health/doses/")
	if i < 0 {
		t.Fatalf("reminder without a link: %s", rec.Data)
	}
	link := string(rec.Data)[i:]
	link = link[:strings.IndexAny(link, `"`)]
	phone.Go(link)
	phone.Expect("Your dose", "Taken", "Later")
	noSideScroll("dose")
	phone.Click("button[value=taken]")
	phone.Expect("Noted: dose taken.")

	phone.Go("/m/health/access")
	phone.Expect("Every time someone read my data", "staff", "through your care team Cardiology team")
	noSideScroll("access")
	phone.Shot("access-log")
}
