package health_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/verticals/health"
)

// TestImpossibleValuesAreRefused: each refusal is a 422 naming the field
// with a message a person understands, and nothing is written.
func TestImpossibleValuesAreRefused(t *testing.T) {
	ta, _ := newApp(t)
	c := newClinic(t, ta)
	cases := []struct {
		name  string
		body  map[string]any
		field string
		words string
	}{
		{"weight of 900 kg", map[string]any{"kind": "weight", "value": 900}, "body.value", "between 1 and 400 kg"},
		{"weight of 1000 lb", map[string]any{"kind": "weight", "value": 1000, "unit": "lb"}, "body.value", "between 1 and 400 kg"},
		{"systolic 20", map[string]any{"kind": "blood_pressure", "value": 20, "diastolic": 10}, "body.value", "Systolic blood pressure"},
		{"diastolic above systolic", map[string]any{"kind": "blood_pressure", "value": 120, "diastolic": 130}, "body.diastolic", "below the systolic"},
		{"no diastolic", map[string]any{"kind": "blood_pressure", "value": 120}, "body.diastolic", "Diastolic"},
		{"temperature 60 °C", map[string]any{"kind": "temperature", "value": 60}, "body.value", "Body temperature"},
		{"oxygen saturation 104 %", map[string]any{"kind": "spo2", "value": 104}, "body.value", "Oxygen saturation"},
		{"heart rate 0", map[string]any{"kind": "heart_rate", "value": 0}, "body.value", "Heart rate"},
		{"negative steps", map[string]any{"kind": "steps", "value": -5}, "body.value", "Steps"},
		{"weight in litres", map[string]any{"kind": "weight", "value": 80, "unit": "L"}, "body.unit", "not a unit"},
		{"unknown kind", map[string]any{"kind": "mood", "value": 3}, "body.kind", "Choose what you measured"},
		{"unknown code", map[string]any{"code": "1234-5", "value": 3}, "body.code", "not a vital sign"},
		{"in the future", map[string]any{"kind": "heart_rate", "value": 70, "at": fixedNow.Add(time.Hour).Format(time.RFC3339)}, "body.at", "future"},
	}
	for _, tc := range cases {
		r := c.must(t, "POST", c.obsURL(), tc.body, c.patient, 422)
		if !strings.Contains(r.Body, tc.field) || !strings.Contains(r.Body, tc.words) {
			t.Errorf("%s: %s", tc.name, r.Body)
		}
	}
	var n int64
	ta.Store.DB.Session(&gorm.Session{}).Table("health_observations").Count(&n)
	if n != 0 {
		t.Fatalf("%d observations written by refused readings", n)
	}
}

// TestReadingsAreConvertedAndFlagged: pounds become kilograms, Fahrenheit
// Celsius; out-of-range values are stored and flagged; BMI is derived from
// the latest height.
func TestReadingsAreConvertedAndFlagged(t *testing.T) {
	ta, _ := newApp(t)
	c := newClinic(t, ta)
	var got []health.Observation
	c.must(t, "POST", c.obsURL(), map[string]any{"kind": "height", "value": 1.75, "unit": "m", "at": fixedNow.Add(-48 * time.Hour)}, c.rossi, 201).JSON(t, reset(&got))
	if len(got) != 1 || got[0].Value != 175 || got[0].Unit != "cm" || got[0].Source != health.SourceClinician || got[0].EnteredBy != c.rossiID {
		t.Fatalf("height: %+v", got)
	}
	c.must(t, "POST", c.obsURL(), map[string]any{"kind": "weight", "value": 187.4, "unit": "lb"}, c.patient, 201).JSON(t, reset(&got))
	// 187.4 lb = 85.0 kg; BMI 85.0 / 1.75² = 27.8 (high: above 24.9).
	if len(got) != 2 || got[0].Code != health.CodeWeight || got[0].Value != 85 || got[0].Unit != "kg" ||
		got[1].Code != health.CodeBMI || got[1].Value != 27.8 || got[1].Flag != "high" || got[0].Source != health.SourcePatient {
		t.Fatalf("weight and BMI: %+v", got)
	}
	c.must(t, "POST", c.obsURL(), map[string]any{"kind": "temperature", "value": 101.3, "unit": "[degF]"}, c.patient, 201).JSON(t, reset(&got))
	if got[0].Value != 38.5 || got[0].Flag != "high" || got[0].Code != health.CodeTemperature {
		t.Fatalf("temperature: %+v", got)
	}
	c.must(t, "POST", c.obsURL(), map[string]any{"kind": "blood_pressure", "value": 165, "diastolic": 55}, c.patient, 201).JSON(t, reset(&got))
	if len(got) != 2 || got[0].Code != health.CodeSystolic || got[0].Flag != "high" || got[1].Code != health.CodeDiastolic || got[1].Flag != "low" ||
		got[0].Panel != health.CodeBPPanel || got[0].Group == "" || got[0].Group != got[1].Group {
		t.Fatalf("blood pressure: %+v", got)
	}
	c.must(t, "POST", c.obsURL(), map[string]any{"code": health.CodeSpO2Pulse, "value": 97}, c.patient, 201).JSON(t, reset(&got))
	if got[0].Code != health.CodeSpO2 || got[0].Flag != "" {
		t.Fatalf("SpO2 by pulse oximetry: %+v", got)
	}
	c.must(t, "POST", c.obsURL(), map[string]any{"kind": "glucose", "value": 5.5, "unit": "mmol/L"}, c.patient, 201).JSON(t, reset(&got))
	if got[0].Value != 99 || got[0].Unit != "mg/dL" {
		t.Fatalf("glucose: %+v", got)
	}
}

// TestSameReadingFromTwoSourcesCountedOnce: the cuff sends 132/84 at 08:00;
// the patient types 132/84 at 08:03. Both rows are kept, the typed one is
// marked a duplicate and the list shows one reading. A different value, or
// one 10 minutes later, is a reading of its own; the same source twice is
// two readings.
func TestSameReadingFromTwoSourcesCountedOnce(t *testing.T) {
	ta, m := newApp(t)
	c := newClinic(t, ta)
	at := time.Date(2026, 6, 15, 8, 0, 0, 0, time.UTC)
	org := ta.Principal(t, c.patient["Authorization"][len("Bearer "):]).OrgID
	err := ta.Store.DB.Transaction(func(tx *gorm.DB) error {
		_, err := m.Service().Record(context.Background(), tx, org, c.patientID, health.Source{Kind: health.SourceDevice, DeviceID: "watch-7"},
			health.NewReading{Kind: "blood_pressure", Value: 132, Diastolic: 84, At: at})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []health.Observation
	c.must(t, "POST", c.obsURL(), map[string]any{"kind": "blood_pressure", "value": 132, "diastolic": 84, "at": at.Add(3 * time.Minute)}, c.patient, 201).JSON(t, reset(&got))
	if len(got) != 2 || got[0].DuplicateOf == 0 || got[1].DuplicateOf == 0 {
		t.Fatalf("typed copy not marked: %+v", got)
	}
	c.must(t, "POST", c.obsURL(), map[string]any{"kind": "blood_pressure", "value": 150, "diastolic": 95, "at": at.Add(4 * time.Minute)}, c.patient, 201)
	c.must(t, "POST", c.obsURL(), map[string]any{"kind": "blood_pressure", "value": 132, "diastolic": 84, "at": at.Add(10 * time.Minute)}, c.patient, 201)
	c.must(t, "POST", c.obsURL(), map[string]any{"kind": "blood_pressure", "value": 132, "diastolic": 84, "at": at.Add(11 * time.Minute)}, c.patient, 201)
	var counted, all []health.Observation
	c.must(t, "GET", c.obsURL()+"?code="+health.CodeSystolic, nil, c.patient, 200).JSON(t, &counted)
	c.must(t, "GET", c.obsURL()+"?code="+health.CodeSystolic+"&with_duplicates=true", nil, c.patient, 200).JSON(t, &all)
	if len(counted) != 4 || len(all) != 5 {
		t.Fatalf("counted %d (want 4), all %d (want 5)", len(counted), len(all))
	}
	// The device sending the same reading again stores nothing.
	err = ta.Store.DB.Transaction(func(tx *gorm.DB) error {
		out, err := m.Service().Record(context.Background(), tx, org, c.patientID, health.Source{Kind: health.SourceDevice, DeviceID: "watch-7"},
			health.NewReading{Kind: "blood_pressure", Value: 132, Diastolic: 84, At: at})
		if len(out) != 0 {
			t.Errorf("a redelivered device reading was stored again: %+v", out)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// reset empties *s before decoding into it: json.Unmarshal keeps the
// fields of reused elements that the new JSON omits.
func reset(s *[]health.Observation) *[]health.Observation {
	*s = nil
	return s
}

// TestSimulatedWearablesSendValidBatches: what `portal simulate` publishes
// for each health stream passes that stream's own checks, over a simulated
// day, and a watch cannot send blood pressure.
func TestSimulatedWearablesSendValidBatches(t *testing.T) {
	ta, _ := newApp(t)
	streams := ta.Devices.Streams(health.ID)
	for _, name := range []string{"watch", "cuff", "scale"} {
		h, ok := streams[name]
		if !ok {
			t.Fatalf("stream %s not declared", name)
		}
		r := rand.New(rand.NewPCG(3, 4))
		for i := 0; i < 48; i++ {
			at := fixedNow.Add(-time.Duration(i) * 30 * time.Minute)
			p := h.Sample(r, at)
			if _, err := h.Decode(p); err != nil {
				t.Fatalf("%s at %s: %s rejected: %v", name, at, p, err)
			}
		}
	}
	_, err := streams["watch"].Decode([]byte(`{"readings":[{"kind":"blood_pressure","value":120,"diastolic":80,"time":"2026-06-15T08:00:00Z"}]}`))
	if err == nil || !strings.Contains(err.Error(), `a watch does not send "blood_pressure"`) {
		t.Fatalf("a watch sending blood pressure: %v", err)
	}
	if _, err := streams["scale"].Decode([]byte(`{"readings":[]}`)); err == nil {
		t.Fatal("an empty batch was accepted")
	}
}
