package automotive

import "testing"

func TestExplainDTC(t *testing.T) {
	cases := []struct {
		code, desc, sev string
		ok              bool
	}{
		{"P0300", "Random/Multiple Cylinder Misfire Detected", "critical", true},
		{"p0420", "Catalyst System Efficiency Below Threshold Bank 1", "warning", true},
		{"U0100", "Lost Communication With ECM/PCM A", "warning", true},
		{"P1234", "Manufacturer-specific or unlisted powertrain code", "info", true},
		{"X0300", "", "", false},
		{"P030", "", "", false},
		{"P03G0", "", "", false},
	}
	for _, c := range cases {
		d, ok := ExplainDTC(c.code)
		if ok != c.ok || ok && (d.Description != c.desc || d.Severity != c.sev || d.Advice == "") {
			t.Errorf("ExplainDTC(%s) = %+v, %v", c.code, d, ok)
		}
	}
	if n := len(dtcTable()); n != 9341 {
		t.Errorf("the table has %d codes, want 9341", n)
	}
}
