package automotive

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func f(v float64) *float64 { return &v }

func goodReading(now time.Time) Diagnostics {
	return Diagnostics{Time: now.Add(-time.Minute), OdometerKm: 42000, BatteryV: 12.6, CoolantC: 90, FuelPct: f(55),
		Tyres: Tyres{230, 230, 220, 220}}
}

func TestValidateDiagnostics(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	g := goodReading(now)
	if ps := g.Validate(now); len(ps) != 0 {
		t.Fatalf("a good reading is refused: %v", ps)
	}
	cases := []struct {
		name  string
		edit  func(*Diagnostics)
		field string
	}{
		{"no time", func(d *Diagnostics) { d.Time = time.Time{} }, "time"},
		{"future", func(d *Diagnostics) { d.Time = now.Add(time.Hour) }, "time"},
		{"negative odometer", func(d *Diagnostics) { d.OdometerKm = -1 }, "odometer_km"},
		{"battery", func(d *Diagnostics) { d.BatteryV = 99 }, "battery_v"},
		{"coolant", func(d *Diagnostics) { d.CoolantC = -60 }, "coolant_c"},
		{"no energy level", func(d *Diagnostics) { d.FuelPct = nil }, "fuel_pct"},
		{"soc", func(d *Diagnostics) { d.SocPct = f(120) }, "soc_pct"},
		{"tyre", func(d *Diagnostics) { d.Tyres.RR = 900 }, "tyres_kpa.rr"},
		{"dtc", func(d *Diagnostics) { d.DTCs = []string{"P0300", "ZZZ"} }, "dtcs[1]"},
		{"position", func(d *Diagnostics) { d.Position = &Position{Lat: 91} }, "position.lat"},
	}
	for _, c := range cases {
		d := goodReading(now)
		c.edit(&d)
		ps := d.Validate(now)
		if len(ps) != 1 || ps[0].Field != c.field {
			t.Errorf("%s: %v", c.name, ps)
		}
	}
	// Every problem is reported.
	d := goodReading(now)
	d.BatteryV, d.CoolantC = -1, 500
	if ps := d.Validate(now); len(ps) != 2 {
		t.Fatalf("all problems: %v", ps)
	}
	var fromJSON Diagnostics
	if err := json.Unmarshal([]byte(`{"time":"2026-11-22T09:59:00Z","odometer_km":1,"battery_v":12.4,"coolant_c":80,"soc_pct":77,"tyres_kpa":{"fl":230,"fr":230,"rl":230,"rr":230},"dtcs":[]}`), &fromJSON); err != nil || len(fromJSON.Validate(now)) != 0 {
		t.Fatalf("the documented JSON shape: %v %v", err, fromJSON.Validate(now))
	}
}

func keys(cs []Condition) string {
	var ks []string
	for _, c := range cs {
		ks = append(ks, c.Key)
	}
	return strings.Join(ks, ",")
}

func TestAlertsRaiseOnceAndClearWithHysteresis(t *testing.T) {
	now := time.Now()
	active := map[string]bool{}
	step := func(edit func(*Diagnostics)) (string, string) {
		d := goodReading(now)
		edit(&d)
		raise, clear := DiffConditions(active, Conditions(&d, active))
		for _, c := range raise {
			active[c.Key] = true
		}
		for _, k := range clear {
			delete(active, k)
		}
		return keys(raise), strings.Join(clear, ",")
	}
	if r, c := step(func(d *Diagnostics) { d.BatteryV = 11.5; d.DTCs = []string{"P0420", "p0420"} }); r != "battery,dtc:P0420" || c != "" {
		t.Fatalf("first bad reading raised %q cleared %q", r, c)
	}
	if r, c := step(func(d *Diagnostics) { d.BatteryV = 11.4; d.DTCs = []string{"P0420"} }); r != "" || c != "" {
		t.Fatalf("the same problems raised again: %q %q", r, c)
	}
	// 12.0 V is above the threshold but not clearly: still active, nothing new.
	if r, c := step(func(d *Diagnostics) { d.BatteryV = 12.0; d.DTCs = []string{"P0420"} }); r != "" || c != "" {
		t.Fatalf("hysteresis: %q %q", r, c)
	}
	if r, c := step(func(d *Diagnostics) { d.BatteryV = 12.5; d.CoolantC = 118 }); r != "overheating" || c != "battery,dtc:P0420" {
		t.Fatalf("clear and raise: %q %q", r, c)
	}
	if r, _ := step(func(d *Diagnostics) { d.BatteryV = 11.0 }); r != "battery" {
		t.Fatalf("a condition that comes back is raised again: %q", r)
	}
}
