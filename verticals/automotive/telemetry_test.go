package automotive_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/verticals/automotive"
)

func TestCheckDiagnosticsNamesEveryProblem(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	check := automotive.CheckDiagnostics(func() time.Time { return now })
	fuel := 50.0
	good := automotive.Diagnostics{Time: now, OdometerKm: 1000, BatteryV: 12.5, CoolantC: 90, FuelPct: &fuel,
		Tyres: automotive.Tyres{FL: 230, FR: 230, RL: 230, RR: 230}}
	if err := check(good); err != nil {
		t.Fatalf("a good reading was refused: %v", err)
	}
	bad := good
	bad.BatteryV, bad.Tyres.RL, bad.DTCs = 99, -1, []string{"X123"}
	err := check(bad)
	if err == nil {
		t.Fatal("a bad reading was accepted")
	}
	for _, want := range []string{"battery_v: 99 is outside 0–30 V", "tyres_kpa.rl", `dtcs[0]: "X123"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}

func TestSimulatedReadingsAreValidAndDrainTheBattery(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC) // a week boundary of the simulation
	check := automotive.CheckDiagnostics(func() time.Time { return start.Add(8 * 24 * time.Hour) })
	var first, late automotive.Diagnostics
	for h := 0; h < 7*24; h++ {
		d := automotive.SimulateDiagnostics(r, start.Add(time.Duration(h)*time.Hour))
		if err := check(d); err != nil {
			t.Fatalf("hour %d: the simulator made an invalid reading: %v", h, err)
		}
		switch h {
		case 1:
			first = d
		case 6*24 + 20:
			late = d
		}
	}
	if late.BatteryV >= first.BatteryV-0.2 || late.OdometerKm <= first.OdometerKm {
		t.Fatalf("battery %.1f → %.1f V, odometer %.0f → %.0f km: want a draining battery and a growing odometer",
			first.BatteryV, late.BatteryV, first.OdometerKm, late.OdometerKm)
	}
}

// TestDeviceReadingReachesTheLinkedVehicle applies a reading by device ID:
// it lands on the vehicle linked to that device (and raises its alert once
// even when redelivered); a device of no vehicle changes nothing.
func TestDeviceReadingReachesTheLinkedVehicle(t *testing.T) {
	ta, m := newApp(t)
	ta.Demo(t)
	ctx := context.Background()
	var v automotive.Vehicle
	store.AllOrgs(ta.Store.DB).Where("vin = ?", automotive.DemoVIN).First(&v)
	if err := store.Org(ta.Store.DB, v.OrgID).Model(&v).Update("device_id", "dev-golf").Error; err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	fuel := 40.0
	d := automotive.Diagnostics{Time: now, Seq: 7, OdometerKm: float64(v.OdometerKm + 25), BatteryV: 11.2, CoolantC: 90, FuelPct: &fuel,
		Tyres: automotive.Tyres{FL: 230, FR: 230, RL: 230, RR: 230}, DTCs: []string{"P0300"}}
	for range 2 { // a redelivery
		if err := m.Service().ApplyDeviceReading(ctx, v.OrgID, "dev-golf", d); err != nil {
			t.Fatal(err)
		}
	}
	var got automotive.Vehicle
	store.Org(ta.Store.DB, v.OrgID).First(&got, v.ID)
	if got.OdometerKm != v.OdometerKm+25 {
		t.Fatalf("odometer %d, want %d", got.OdometerKm, v.OdometerKm+25)
	}
	var readings, alerts int64
	store.Org(ta.Store.DB, v.OrgID).Model(&automotive.Reading{}).Where("vehicle_id = ? AND seq = 7 AND battery_v = 11.2", v.ID).Count(&readings)
	store.Org(ta.Store.DB, v.OrgID).Model(&automotive.Alert{}).Where("vehicle_id = ? AND cleared_at IS NULL AND key IN ?", v.ID, []string{"battery", "dtc:P0300"}).Count(&alerts)
	if readings != 1 || alerts != 2 {
		t.Fatalf("%d readings and %d alerts, want 1 and 2", readings, alerts)
	}
	// The owner's open pages hear of it live (the car page and the "My car"
	// widget refresh); no one outside the car's audience does.
	var live []struct {
		UserID uint
		Data   string
	}
	ta.Store.DB.Raw(`SELECT user_id, data FROM live_events WHERE org_id = ? AND type = 'module' AND data LIKE ?`, v.OrgID, `%"automotive.reading"%`).Scan(&live)
	if len(live) == 0 {
		t.Fatal("no live event for the reading")
	}
	aud, err := ta.Accounts.Audience(ctx, ta.Store.DB, v.OrgID, v.OwnerID)
	if err != nil {
		t.Fatal(err)
	}
	owner := false
	for _, e := range live {
		owner = owner || e.UserID == v.OwnerID
		if !slices.Contains(aud, e.UserID) || !strings.Contains(e.Data, fmt.Sprintf(`"subject":"vehicle:%d"`, v.ID)) {
			t.Fatalf("live event %+v outside the car's audience %v", e, aud)
		}
	}
	if !owner {
		t.Fatalf("the owner got no live event: %+v", live)
	}
	if err := m.Service().ApplyDeviceReading(ctx, v.OrgID, "dev-unlinked", d); !errors.Is(err, automotive.ErrNoVehicle) {
		t.Fatalf("a device of no vehicle: %v", err)
	}
	if err := m.Service().ApplyDeviceReading(ctx, v.OrgID+1000, "dev-golf", d); !errors.Is(err, automotive.ErrNoVehicle) {
		t.Fatalf("the device ID in another organisation reached the vehicle: %v", err)
	}
}
