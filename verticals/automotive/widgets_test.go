package automotive_test

import (
	"context"
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
