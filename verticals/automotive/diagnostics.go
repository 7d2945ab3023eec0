package automotive

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Tyres are the four tyre pressures in kPa.
type Tyres struct {
	FL float64 `json:"fl" doc:"Front left, kPa"`
	FR float64 `json:"fr" doc:"Front right, kPa"`
	RL float64 `json:"rl" doc:"Rear left, kPa"`
	RR float64 `json:"rr" doc:"Rear right, kPa"`
}

// Position is an optional GPS fix.
type Position struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Diagnostics is the payload of the "diagnostics" stream a car publishes on
// t/{org}/d/{device}/automotive/diagnostics.
type Diagnostics struct {
	Time       time.Time `json:"time" doc:"When the car took the reading (RFC 3339)"`
	Seq        int64     `json:"seq,omitempty" doc:"The car's message counter (absorbs redeliveries)"`
	OdometerKm float64   `json:"odometer_km"`
	BatteryV   float64   `json:"battery_v" doc:"12 V system voltage"`
	CoolantC   float64   `json:"coolant_c"`
	// FuelPct is the fuel level (combustion and hybrids), SocPct the state
	// of charge (electric and hybrids); at least one is present.
	FuelPct  *float64  `json:"fuel_pct,omitempty"`
	SocPct   *float64  `json:"soc_pct,omitempty"`
	Tyres    Tyres     `json:"tyres_kpa"`
	DTCs     []string  `json:"dtcs"`
	Position *Position `json:"position,omitempty"`
}

// Problem is one invalid field of a payload.
type Problem struct {
	Field, Message string
}

func (p Problem) String() string { return p.Field + ": " + p.Message }

// Validate checks every field's range and returns every problem (not just
// the first), so a device's reject log says everything that was wrong.
func (d *Diagnostics) Validate(now time.Time) []Problem {
	var ps []Problem
	rng := func(field string, v, lo, hi float64, unit string) {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < lo || v > hi {
			ps = append(ps, Problem{field, fmt.Sprintf("%v is outside %v–%v %s", v, lo, hi, unit)})
		}
	}
	switch {
	case d.Time.IsZero():
		ps = append(ps, Problem{"time", "is required"})
	case d.Time.After(now.Add(5 * time.Minute)):
		ps = append(ps, Problem{"time", "is in the future (the car's clock is off)"})
	case d.Time.Before(now.Add(-90 * 24 * time.Hour)):
		ps = append(ps, Problem{"time", "is more than 90 days old"})
	}
	rng("odometer_km", d.OdometerKm, 0, 2_000_000, "km")
	rng("battery_v", d.BatteryV, 0, 30, "V")
	rng("coolant_c", d.CoolantC, -40, 150, "°C")
	if d.FuelPct == nil && d.SocPct == nil {
		ps = append(ps, Problem{"fuel_pct", "fuel_pct or soc_pct is required"})
	}
	if d.FuelPct != nil {
		rng("fuel_pct", *d.FuelPct, 0, 100, "%")
	}
	if d.SocPct != nil {
		rng("soc_pct", *d.SocPct, 0, 100, "%")
	}
	for name, v := range map[string]float64{"fl": d.Tyres.FL, "fr": d.Tyres.FR, "rl": d.Tyres.RL, "rr": d.Tyres.RR} {
		rng("tyres_kpa."+name, v, 0, 500, "kPa")
	}
	if len(d.DTCs) > 50 {
		ps = append(ps, Problem{"dtcs", "more than 50 codes"})
	}
	for i, c := range d.DTCs {
		if _, ok := ExplainDTC(c); !ok {
			ps = append(ps, Problem{fmt.Sprintf("dtcs[%d]", i), fmt.Sprintf("%q is not an OBD-II code such as P0300", c)})
		}
	}
	if d.Position != nil {
		rng("position.lat", d.Position.Lat, -90, 90, "°")
		rng("position.lon", d.Position.Lon, -180, 180, "°")
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Field < ps[j].Field })
	return ps
}

// Alert thresholds.
const (
	LowBatteryV   = 11.8
	LowTyreKPa    = 180.0
	OverheatingC  = 112.0
	clearBatteryV = 12.2 // hysteresis: a condition clears only clearly above its threshold
	clearTyreKPa  = 200.0
	clearCoolantC = 105.0
)

// Condition is a problem a reading shows, keyed so that the same problem in
// the next reading is recognised ("dtc:P0300", "tyre:fl", "battery",
// "overheating").
type Condition struct {
	Key      string `json:"key"`
	Severity string `json:"severity"` // warning or critical
	Title    string `json:"title"`
	Advice   string `json:"advice"`
}

// Conditions lists the problems in a reading. active is the set of keys
// raised before: a condition already active stays active until its value
// is clearly back to normal (hysteresis), so a value hovering at a
// threshold does not raise an alert with every reading.
func Conditions(d *Diagnostics, active map[string]bool) []Condition {
	var out []Condition
	if d.BatteryV < LowBatteryV || active["battery"] && d.BatteryV < clearBatteryV {
		out = append(out, Condition{"battery", "warning", "Low battery voltage",
			"The 12 V battery is weak. Have it tested; a weak battery may not start the car."})
	}
	if d.CoolantC > OverheatingC || active["overheating"] && d.CoolantC > clearCoolantC {
		out = append(out, Condition{"overheating", "critical", "Engine overheating",
			"Stop as soon as it is safe, switch the engine off and let it cool. Do not open the radiator cap. Book a service."})
	}
	for _, t := range []struct {
		key, name string
		v         float64
	}{{"fl", "front left", d.Tyres.FL}, {"fr", "front right", d.Tyres.FR}, {"rl", "rear left", d.Tyres.RL}, {"rr", "rear right", d.Tyres.RR}} {
		k := "tyre:" + t.key
		if t.v < LowTyreKPa || active[k] && t.v < clearTyreKPa {
			out = append(out, Condition{k, "warning", "Low tyre pressure (" + t.name + ")",
				"Check and inflate the tyre at the next opportunity; look for a puncture if it keeps losing pressure."})
		}
	}
	seen := map[string]bool{}
	for _, c := range d.DTCs {
		dtc, ok := ExplainDTC(c)
		if !ok || seen[dtc.Code] {
			continue
		}
		seen[dtc.Code] = true
		sev := dtc.Severity
		if sev == "info" {
			sev = "warning"
		}
		out = append(out, Condition{"dtc:" + dtc.Code, sev, "Trouble code " + dtc.Code + ": " + dtc.Description, dtc.Advice})
	}
	return out
}

// DiffConditions compares the active condition keys with a reading's
// conditions: what to raise (new) and what to clear (gone).
func DiffConditions(active map[string]bool, now []Condition) (raise []Condition, clear []string) {
	current := map[string]bool{}
	for _, c := range now {
		current[c.Key] = true
		if !active[c.Key] {
			raise = append(raise, c)
		}
	}
	for k := range active {
		if !current[k] {
			clear = append(clear, k)
		}
	}
	sort.Strings(clear)
	return raise, clear
}

// FuelKind is a vehicle's energy.
type FuelKind string

// The fuel kinds.
const (
	Petrol   FuelKind = "petrol"
	Diesel   FuelKind = "diesel"
	Hybrid   FuelKind = "hybrid"
	Electric FuelKind = "electric"
)

// ValidFuel reports whether f is a known fuel kind.
func ValidFuel(f string) bool {
	switch FuelKind(strings.ToLower(f)) {
	case Petrol, Diesel, Hybrid, Electric:
		return true
	}
	return false
}
