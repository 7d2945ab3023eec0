package automotive_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/verticals/automotive"
)

// The dashboard caches the car's status for the customer, and an alert the
// car raises (an event about the owner, published by the device's reading,
// not by the customer) shows on their next dashboard at once.
func TestDashboardShowsARaisedAlertAtOnce(t *testing.T) {
	ta, m := newApp(t)
	ta.Demo(t)
	cust := portaltest.Bearer(ta.Login(t, "demo", "customer@demo.example"))
	// Past the sign-in event's settle time, so loads are cached.
	ta.Dashboard.SetClock(func() time.Time { return time.Now().UTC().Add(2 * time.Second) })
	ctx := context.Background()
	owner, err := ta.Accounts.UserByEmail(ctx, ta.Org(t, "demo").ID, "customer@demo.example")
	if err != nil {
		t.Fatal(err)
	}
	var v automotive.Vehicle
	if err := store.AllOrgs(ta.Store.DB).Where("owner_id = ?", owner.ID).Order("id").First(&v).Error; err != nil {
		t.Fatal(err)
	}
	board := func() string {
		t.Helper()
		r := ta.Do(t, "GET", "/api/v1/dashboard", nil, cust)
		if r.Status != 200 || strings.Contains(r.Body, `"error"`) {
			t.Fatalf("dashboard: %d %s", r.Status, r.Body)
		}
		return r.Body
	}
	before := board()
	if strings.Contains(before, "P0301") {
		t.Fatalf("the demo car already reports P0301: %s", before)
	}
	// A change without an event or a request of the customer's stays
	// cached: the cache is really in use.
	if err := store.AllOrgs(ta.Store.DB).Model(&automotive.Vehicle{}).Where("id = ?", v.ID).Update("nickname", "Cached-Nick").Error; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(board(), "Cached-Nick") {
		t.Fatal("the status widget was not cached")
	}
	// The car reports a misfire: the alert (event automotive.alert_raised
	// about the owner, inside the reading's transaction) shows at once.
	fuel := 40.0
	d := &automotive.Diagnostics{Time: time.Now().UTC().Add(-time.Minute), OdometerKm: float64(v.OdometerKm + 10), BatteryV: 12.6, CoolantC: 90, FuelPct: &fuel,
		Tyres: automotive.Tyres{FL: 230, FR: 230, RL: 230, RR: 230}, DTCs: []string{"P0301"}}
	if err := ta.Store.Tx(ctx, func(tx *gormDB) error { return m.Service().ApplyReading(ctx, tx, &v, d) }); err != nil {
		t.Fatal(err)
	}
	after := board()
	if !strings.Contains(after, "P0301") || !strings.Contains(after, "Cached-Nick") {
		t.Fatalf("after the alert, the dashboard still shows the old status: %s", after)
	}
}

// The staff work cards list the bookings of today and tomorrow and the
// customers with open warnings of the customers the viewer looks after
// only, each linking to the car.
func TestStaffWorkCards(t *testing.T) {
	ta, _ := newApp(t)
	ta.Demo(t)
	ctx := context.Background()
	org := ta.Org(t, "demo").ID
	owner, err := ta.Accounts.UserByEmail(ctx, org, "customer@demo.example")
	if err != nil {
		t.Fatal(err)
	}
	var v automotive.Vehicle
	if err := store.Org(ta.Store.DB, org).Where("owner_id = ?", owner.ID).Order("id").First(&v).Error; err != nil {
		t.Fatal(err)
	}
	var centre automotive.Centre
	if err := store.Org(ta.Store.DB, org).Order("id").First(&centre).Error; err != nil {
		t.Fatal(err)
	}
	db := store.Org(ta.Store.DB, org)
	now := time.Now().UTC()
	for _, at := range []time.Time{now.Add(time.Hour), now.AddDate(0, 0, 3)} {
		slot := automotive.Slot{CentreID: centre.ID, StartsAt: at, Capacity: 1, Booked: 1}
		if err := db.Create(&slot).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Create(&automotive.Booking{SlotID: slot.ID, VehicleID: v.ID, OwnerID: owner.ID, Status: automotive.BookingBooked}).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Create(&automotive.Alert{VehicleID: v.ID, OwnerID: owner.ID, Key: "test", Severity: "warning",
		Title: "Battery voltage is low", Advice: "x", RaisedAt: now.Add(-time.Hour)}).Error; err != nil {
		t.Fatal(err)
	}
	staff := portaltest.Bearer(ta.Login(t, "demo", "staff@demo.example"))
	lonely := ta.As(t, "demo", "lonely@demo.example", "staff")
	card := func(h map[string]string, id string) (count float64, body string) {
		t.Helper()
		r := ta.Do(t, "GET", "/api/v1/dashboard", nil, h)
		var b struct {
			Widgets []struct {
				ID    string
				Data  map[string]any
				Error string
			}
		}
		r.JSON(t, &b)
		for _, w := range b.Widgets {
			if w.ID == id {
				if w.Error != "" {
					t.Fatalf("%s: %s", id, w.Error)
				}
				raw, _ := json.Marshal(w.Data)
				return w.Data["count"].(float64), string(raw)
			}
		}
		t.Fatalf("no widget %s: %s", id, r.Body)
		return 0, ""
	}
	link := fmt.Sprintf(`"link":"/m/automotive/vehicles/%d"`, v.ID)
	if n, body := card(staff, "automotive.bookings_soon"); n < 1 || !strings.Contains(body, link) || !strings.Contains(body, centre.Name) {
		t.Errorf("staff bookings: %v %s", n, body)
	}
	if n, body := card(staff, "automotive.open_alerts"); n < 1 || !strings.Contains(body, link) || !strings.Contains(body, `"note":`) {
		t.Errorf("staff alerts: %v %s", n, body)
	}
	for _, id := range []string{"automotive.bookings_soon", "automotive.open_alerts"} {
		if n, body := card(lonely, id); n != 0 || strings.Contains(body, link) {
			t.Errorf("a staff member without customers sees %s: %s", id, body)
		}
	}
}
