package automotive_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/verticals/automotive"
)

func countNotifications(t *testing.T, ta *portaltest.TestApp, kind string) map[uint]int {
	t.Helper()
	var rows []struct {
		UserID uint
		N      int
	}
	if err := store.AllOrgs(ta.Store.DB).Table("notify_notifications").Select("user_id, COUNT(*) AS n").Where("kind = ?", kind).Group("user_id").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := map[uint]int{}
	for _, r := range rows {
		out[r.UserID] = r.N
	}
	return out
}

// TestRecallNotifiesEachAffectedOwnerOnceAcrossTwoInstances seeds 30
// vehicles (20 matching), runs the fan-out from two instances at once, and
// again: every affected owner has exactly one recall notification.
func TestRecallNotifiesEachAffectedOwnerOnceAcrossTwoInstances(t *testing.T) {
	cfg := portaltest.Config(t)
	ma, mb := &automotive.Module{}, &automotive.Module{}
	a := portaltest.NewWithConfig(t, cfg, []module.Module{ma})
	b := portaltest.NewWithConfig(t, cfg, []module.Module{mb})
	staff := a.As(t, "acme", "sam@acme.example", accounts.Staff)
	owners := map[uint]bool{}
	for i := 0; i < 30; i++ {
		h := a.As(t, "acme", fmt.Sprintf("o%d@acme.example", i), accounts.Customer)
		model := "Golf"
		if i%3 == 0 {
			model = "Polo"
		}
		res := a.Do(t, "POST", "/api/v1/automotive/vehicles", map[string]any{"vin": vin(500 + i), "make": "Volkswagen", "model": model, "year": 2022, "fuel": "diesel"}, h)
		if res.Status != 201 {
			t.Fatal(res.Body)
		}
		if model == "Golf" {
			owners[a.Principal(t, h["Authorization"][7:]).UserID] = true
		}
	}
	if r := a.Do(t, "POST", "/api/v1/automotive/recalls", map[string]any{"code": "R-9", "title": "Brake hose", "description": "d", "remedy": "replace", "make": "Volkswagen", "model": "Golf", "year_from": 2021, "year_to": 2023}, staff); r.Status != 201 {
		t.Fatal(r.Body)
	}
	automotive.SetRecallChunk(t, 7) // several chunks, so the instances interleave
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, m := range []*automotive.Module{ma, mb} {
		wg.Add(1)
		go func(m *automotive.Module) {
			defer wg.Done()
			errs <- m.Service().FanOutRecalls(context.Background(), nil)
		}(m)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := ma.Service().FanOutRecalls(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	got := countNotifications(t, a, automotive.KindRecall)
	if len(got) != len(owners) || len(owners) != 20 {
		t.Fatalf("%d owners notified, want %d", len(got), len(owners))
	}
	for u, n := range got {
		if !owners[u] || n != 1 {
			t.Errorf("user %d: %d notifications (affected %v)", u, n, owners[u])
		}
	}
	var rc automotive.Recall
	store.AllOrgs(a.Store.DB).Where("code = ?", "R-9").First(&rc)
	if rc.CompletedAt == nil || rc.Matched != 20 {
		t.Fatalf("campaign: %+v", rc)
	}
	_ = b
}

func TestAlertsRaiseOnceNotifyAndClear(t *testing.T) {
	ta, m := newApp(t)
	ann := ta.As(t, "acme", "ann@acme.example", accounts.Customer)
	id := addVehicle(t, ta, ann, 42)
	var v automotive.Vehicle
	store.AllOrgs(ta.Store.DB).First(&v, id)
	now := time.Now().UTC()
	fuel := 50.0
	reading := func(at time.Time, battery float64, dtcs ...string) *automotive.Diagnostics {
		return &automotive.Diagnostics{Time: at, OdometerKm: 1200, BatteryV: battery, CoolantC: 90, FuelPct: &fuel,
			Tyres: automotive.Tyres{FL: 230, FR: 230, RL: 230, RR: 230}, DTCs: dtcs}
	}
	apply := func(d *automotive.Diagnostics) {
		t.Helper()
		err := ta.Store.Tx(context.Background(), func(tx *gormDB) error { return m.Service().ApplyReading(context.Background(), tx, &v, d) })
		if err != nil {
			t.Fatal(err)
		}
	}
	apply(reading(now.Add(-3*time.Minute), 11.4, "P0300"))
	apply(reading(now.Add(-2*time.Minute), 11.3, "P0300"))
	apply(reading(now.Add(-2*time.Minute), 11.3, "P0300")) // a redelivery changes nothing
	var n int64
	store.AllOrgs(ta.Store.DB).Model(&automotive.Reading{}).Count(&n)
	if n != 2 {
		t.Fatalf("%d readings stored, want 2", n)
	}
	owner := ta.Principal(t, ann["Authorization"][7:]).UserID
	if got := countNotifications(t, ta, automotive.KindAlert)[owner]; got != 2 {
		t.Fatalf("%d alert notifications, want 2 (battery and P0300), each once", got)
	}
	apply(reading(now.Add(-time.Minute), 12.6))
	var active int64
	store.AllOrgs(ta.Store.DB).Model(&automotive.Alert{}).Where("cleared_at IS NULL").Count(&active)
	if active != 0 {
		t.Fatalf("%d alerts still active after a clean reading", active)
	}
	st := ta.Do(t, "GET", fmt.Sprintf("/api/v1/automotive/vehicles/%d", id), nil, ann)
	if !strings.Contains(st.Body, `"health":"good"`) || !strings.Contains(st.Body, `"battery_v":12.6`) {
		t.Fatalf("status after clearing: %s", st.Body)
	}
	staffU := ta.User(t, "acme", "sam@acme.example", accounts.Staff)
	admin := ta.As(t, "acme", "admin@acme.example", accounts.Admin)
	if err := ta.Accounts.Assign(context.Background(), ta.Principal(t, admin["Authorization"][7:]), staffU.ID, owner, "advisor"); err != nil {
		t.Fatal(err)
	}
	staff := portaltest.Bearer(ta.Login(t, "acme", "sam@acme.example"))
	if r := ta.Do(t, "GET", fmt.Sprintf("/api/v1/automotive/vehicles/%d", id), nil, staff); r.Status != 200 {
		t.Fatalf("the assigned advisor cannot see the car: %d", r.Status)
	}
}

func TestRemindersOncePerDueEvent(t *testing.T) {
	ta, m := newApp(t)
	ta.Demo(t)
	svc := m.Service()
	ctx := context.Background()
	if err := svc.ServiceReminders(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := svc.ServiceReminders(ctx, nil); err != nil {
		t.Fatal(err)
	}
	cust, _ := ta.Accounts.UserByEmail(ctx, ta.Org(t, "demo").ID, "customer@demo.example")
	if got := countNotifications(t, ta, automotive.KindServiceDue)[cust.ID]; got != 1 {
		t.Fatalf("service reminders: %d, want 1 (the demo car is due soon)", got)
	}
	var next automotive.Bill
	store.AllOrgs(ta.Store.DB).Where("status = ?", automotive.BillDue).Order("due_on").First(&next)
	for i := 0; i < 2; i++ {
		if err := svc.BillReminders(ctx, next.DueOn.AddDate(0, 0, -2)); err != nil {
			t.Fatal(err)
		}
	}
	if got := countNotifications(t, ta, automotive.KindBillDue)[cust.ID]; got != 1 {
		t.Fatalf("bill reminders: %d, want 1", got)
	}
	if err := svc.BillReminders(ctx, next.DueOn.AddDate(0, 0, 2)); err != nil {
		t.Fatal(err)
	}
	var b automotive.Bill
	store.AllOrgs(ta.Store.DB).First(&b, next.ID)
	if b.Status != automotive.BillOverdue || countNotifications(t, ta, automotive.KindBillOverdue)[cust.ID] != 1 {
		t.Fatalf("overdue: %s, %d notifications", b.Status, countNotifications(t, ta, automotive.KindBillOverdue)[cust.ID])
	}
	// Rendered e-mail (the dev mailbox) in the customer's language.
	var mail struct{ Subject, Text string }
	err := store.AllOrgs(ta.Store.DB).Table("notify_mailbox").Select("subject, text").Where("subject LIKE ?", "%overdue%").Order("id DESC").Limit(1).Scan(&mail).Error
	if err == nil && mail.Subject != "" && !strings.Contains(mail.Text, "Loan instalment") {
		t.Errorf("overdue e-mail: %+v", mail)
	}
	_ = notify.ChannelEmail
}

func TestDashboardWidgets(t *testing.T) {
	ta, _ := newApp(t)
	ta.Demo(t)
	cust := portaltest.Bearer(ta.Login(t, "demo", "customer@demo.example"))
	res := ta.Do(t, "GET", "/api/v1/dashboard", nil, cust)
	for _, want := range []string{`"automotive.status"`, `"automotive.recalls"`, `"automotive.payment"`, "VW-23R7", "Financing paid back"} {
		if !strings.Contains(res.Body, want) {
			t.Fatalf("dashboard JSON lacks %q: %s", want, res.Body)
		}
	}
	if strings.Contains(res.Body, `"error"`) {
		t.Fatalf("a widget failed: %s", res.Body)
	}
	b := ta.Browser()
	b.SignIn(t, "demo", "customer@demo.example")
	page := b.Get(t, "/")
	for _, want := range []string{"Golfino", "Rear seat-belt buckle", "<svg"} {
		if !strings.Contains(page.Body, want) {
			t.Fatalf("dashboard page lacks %q", want)
		}
	}
}
