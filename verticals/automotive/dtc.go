package automotive

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"strings"
	"sync"
)

//go:embed data/obd2-dtc.csv
var dtcCSV []byte

// DTC explains a diagnostic trouble code to a vehicle owner.
type DTC struct {
	Code        string `json:"code"`
	Description string `json:"description"`
	System      string `json:"system"`
	// Severity is "info", "warning" or "critical".
	Severity string `json:"severity"`
	// Advice says what to do, in words an owner understands.
	Advice string `json:"advice"`
}

var dtcTable = sync.OnceValue(func() map[string]string {
	r := csv.NewReader(bytes.NewReader(dtcCSV))
	rows, err := r.ReadAll()
	if err != nil {
		panic("automotive: embedded DTC table is broken: " + err.Error())
	}
	m := make(map[string]string, len(rows))
	for _, row := range rows[1:] {
		m[row[0]] = row[1]
	}
	return m
})

var systems = map[byte]string{'P': "Powertrain", 'B': "Body", 'C': "Chassis", 'U': "Network"}

// critical codes: misfires, overheating, oil pressure, brakes, airbags.
func severityOf(code string) string {
	switch {
	case strings.HasPrefix(code, "P030"), strings.HasPrefix(code, "P0217"), strings.HasPrefix(code, "P0118"),
		strings.HasPrefix(code, "P0520"), strings.HasPrefix(code, "P0524"), strings.HasPrefix(code, "C00"),
		strings.HasPrefix(code, "B00"):
		return "critical"
	case strings.HasPrefix(code, "P04"), strings.HasPrefix(code, "P01"), strings.HasPrefix(code, "U0"):
		return "warning"
	}
	return "info"
}

var advice = map[string]string{
	"critical": "Stop when it is safe and book a service now; continuing to drive may damage the vehicle or be unsafe.",
	"warning":  "The vehicle is safe to drive, but book a check in the next few days.",
	"info":     "No urgent action is needed; we will look at it at your next service.",
}

// ExplainDTC returns what a code means. Unknown but well-formed codes get
// a generic explanation; ok is false for malformed codes.
func ExplainDTC(code string) (DTC, bool) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if len(code) != 5 || systems[code[0]] == "" {
		return DTC{}, false
	}
	for _, r := range code[1:] {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'F') {
			return DTC{}, false
		}
	}
	d := DTC{Code: code, System: systems[code[0]], Severity: severityOf(code)}
	if desc, ok := dtcTable()[code]; ok {
		d.Description = desc
	} else {
		d.Description = "Manufacturer-specific or unlisted " + strings.ToLower(d.System) + " code"
	}
	d.Advice = advice[d.Severity]
	return d, true
}
