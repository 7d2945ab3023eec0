package device

import "time"

// The payloads of the shipped modules, with the same JSON as the server's
// types (a test in the server's module checks that they pass its
// validators, so a drift fails CI).

// CarDiagnostics is a car's diagnostics reading, the automotive module's
// stream "automotive/diagnostics" (docs/verticals/automotive.md).
type CarDiagnostics struct {
	// Time is when the car took the reading; at most 90 days old.
	Time time.Time `json:"time"`
	// Seq is the car's message counter (optional).
	Seq        int64   `json:"seq,omitempty"`
	OdometerKm float64 `json:"odometer_km"`
	// BatteryV is the 12 V system's voltage (0–30).
	BatteryV float64 `json:"battery_v"`
	CoolantC float64 `json:"coolant_c"`
	// FuelPct (combustion, hybrid) or SocPct (electric, hybrid), 0–100: at
	// least one.
	FuelPct *float64 `json:"fuel_pct,omitempty"`
	SocPct  *float64 `json:"soc_pct,omitempty"`
	// Tyres are the four pressures in kPa.
	Tyres Tyres `json:"tyres_kpa"`
	// DTCs are OBD-II trouble codes such as P0300 (at most 50).
	DTCs     []string  `json:"dtcs"`
	Position *Position `json:"position,omitempty"`
}

// Stream implements Reading.
func (CarDiagnostics) Stream() string { return "automotive/diagnostics" }

// CommandRefreshDiagnostics is the command a car answers by publishing a
// fresh CarDiagnostics.
const CommandRefreshDiagnostics = "refresh_diagnostics"

// Tyres are tyre pressures in kPa.
type Tyres struct {
	FL float64 `json:"fl"`
	FR float64 `json:"fr"`
	RL float64 `json:"rl"`
	RR float64 `json:"rr"`
}

// Position is a GPS fix.
type Position struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Wearable is the kind of health device, which is also its stream.
type Wearable string

// The health module's wearables and what each may send.
const (
	Watch Wearable = "watch" // heart_rate, spo2, steps
	Cuff  Wearable = "cuff"  // blood_pressure, heart_rate
	Scale Wearable = "scale" // weight
)

// VitalsBatch is what a wearable publishes on "health/{watch|cuff|scale}":
// 1 to 500 readings, so a device that was offline sends its backlog in a
// few messages (docs/verticals/health.md).
type VitalsBatch struct {
	// Device chooses the stream; it is not part of the payload.
	Device   Wearable `json:"-"`
	Readings []Vital  `json:"readings"`
}

// Stream implements Reading.
func (b VitalsBatch) Stream() string { return "health/" + string(b.Device) }

// Vital is one reading of a VitalsBatch: a kind (heart_rate, spo2, steps,
// blood_pressure, weight) or a LOINC code, the value in the stored unit
// (systolic for blood pressure, with Diastolic), or Unit when it differs,
// and when it was taken.
type Vital struct {
	Kind      string    `json:"kind,omitempty"`
	Code      string    `json:"code,omitempty"`
	Value     float64   `json:"value"`
	Diastolic float64   `json:"diastolic,omitempty"`
	Unit      string    `json:"unit,omitempty"`
	Time      time.Time `json:"time"`
}
