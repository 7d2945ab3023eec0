package health_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/verticals/health"
)

func fhirURL(patient uint) string { return fmt.Sprintf("/api/v1/health/patients/%d/fhir", patient) }

type reading struct {
	code  string
	at    time.Time
	value float64
}

func readingsOf(t *testing.T, c *clinic, patient uint, h map[string]string) []reading {
	t.Helper()
	var obs []health.Observation
	c.must(t, "GET", fmt.Sprintf("/api/v1/health/patients/%d/observations", patient), nil, h, 200).JSON(t, &obs)
	out := make([]reading, len(obs))
	for i, o := range obs {
		out[i] = reading{o.Code, o.At.UTC(), o.Value}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].at.Equal(out[j].at) {
			return out[i].at.Before(out[j].at)
		}
		return out[i].code < out[j].code
	})
	return out
}

func obsEntry(code string, value float64, unit string, at time.Time) map[string]any {
	return map[string]any{"resource": map[string]any{"resourceType": "Observation", "status": "final", "effectiveDateTime": at.Format(time.RFC3339),
		"code":          map[string]any{"coding": []map[string]any{{"system": "http://loinc.org", "code": code}}},
		"valueQuantity": map[string]any{"value": value, "system": "http://unitsofmeasure.org", "code": unit}}}
}

func bundle(entries ...map[string]any) map[string]any {
	return map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries}
}

// TestFHIRImportRoundTrip: a patient's export imported into another
// patient of the organisation gives the same readings (source import);
// importing it again stores nothing; importing it into the first patient
// counts every reading once.
func TestFHIRImportRoundTrip(t *testing.T) {
	ta, _ := newApp(t)
	c := newClinic(t, ta)
	h := func(d time.Duration) string { return fixedNow.Add(-d).Format(time.RFC3339) }
	for _, r := range []map[string]any{
		{"kind": "blood_pressure", "value": 142, "diastolic": 91, "at": h(48 * time.Hour)},
		{"kind": "heart_rate", "value": 64, "at": h(47 * time.Hour)},
		{"kind": "weight", "value": 81.4, "at": h(30 * time.Hour)},
		{"kind": "steps", "value": 8200, "at": h(26 * time.Hour)},
		{"kind": "glucose", "value": 5.5, "unit": "mmol/L", "at": h(3 * time.Hour)},
		{"kind": "temperature", "value": 36.9, "at": h(2 * time.Hour)},
		{"kind": "spo2", "value": 97, "at": h(time.Hour)},
	} {
		c.must(t, "POST", c.obsURL(), r, c.patient, 201)
	}
	c.must(t, "POST", c.diaryURL("visits"), map[string]any{"goals": []map[string]any{{"measure": "steps", "target_low": 8000, "due_on": "2026-09-01T00:00:00Z"}}}, c.rossi, 201)
	export := c.must(t, "GET", fhirURL(c.patientID), nil, c.rossi, 200).Body
	var doc map[string]any
	if err := json.Unmarshal([]byte(export), &doc); err != nil {
		t.Fatal(err)
	}
	c.must(t, "PUT", fmt.Sprintf("/api/v1/health/patients/%d/care-team", c.otherID), map[string]any{"team_id": c.cardiology}, c.admin, 204)

	var res health.ImportResult
	c.must(t, "POST", fhirURL(c.otherID), doc, c.rossi, 200).JSON(t, &res)
	if res.Imported != 7 || res.AlreadyPresent != 0 || res.Goals != 1 || res.Skipped["Patient"] != 1 || res.Skipped["Goal"] != 0 {
		t.Fatalf("import: %+v", res)
	}
	want, got := readingsOf(t, c, c.patientID, c.patient), readingsOf(t, c, c.otherID, c.other)
	if len(want) != 8 || fmt.Sprint(want) != fmt.Sprint(got) {
		t.Fatalf("round trip:\n got %v\nwant %v", got, want)
	}
	var obs []health.Observation
	c.must(t, "GET", fmt.Sprintf("/api/v1/health/patients/%d/observations", c.otherID), nil, c.other, 200).JSON(t, &obs)
	for _, o := range obs {
		if o.Source != health.SourceImport || o.EnteredBy != c.rossiID {
			t.Fatalf("imported observation %+v", o)
		}
	}

	goalsOf := func(patient uint, h map[string]string) string {
		var gs []health.Goal
		c.must(t, "GET", fmt.Sprintf("/api/v1/health/patients/%d/goals", patient), nil, h, 200).JSON(t, &gs)
		out := ""
		for _, g := range gs {
			out += fmt.Sprintf("%s %v %v %s %s %s;", g.Measure, deref(g.TargetLow), deref(g.TargetHigh), g.StartOn.Format("2006-01-02"), g.DueOn.Format("2006-01-02"), g.Achievement)
		}
		return out
	}
	if want, got := goalsOf(c.patientID, c.patient), goalsOf(c.otherID, c.other); want == "" || want != got {
		t.Fatalf("goals:\n got %s\nwant %s", got, want)
	}

	// The same bundle again, as application/fhir+json, adds nothing.
	fhirJSON := map[string]string{"Content-Type": "application/fhir+json"}
	for k, v := range c.rossi {
		fhirJSON[k] = v
	}
	c.must(t, "POST", fhirURL(c.otherID), doc, fhirJSON, 200).JSON(t, &res)
	if res.Imported != 0 || res.AlreadyPresent != 7 || res.Goals != 0 || res.GoalsPresent != 1 {
		t.Fatalf("second import: %+v", res)
	}
	if again := readingsOf(t, c, c.otherID, c.other); fmt.Sprint(again) != fmt.Sprint(want) {
		t.Fatalf("second import changed the readings: %v", again)
	}
	// Into the patient who typed them: kept, but each counted once.
	c.must(t, "POST", fhirURL(c.patientID), doc, c.rossi, 200).JSON(t, &res)
	if res.Imported != 7 {
		t.Fatalf("import into the source patient: %+v", res)
	}
	if mine := readingsOf(t, c, c.patientID, c.patient); fmt.Sprint(mine) != fmt.Sprint(want) {
		t.Fatalf("readings counted twice: %v", mine)
	}
}

// TestFHIRImportIsAllOrNothing: an unsupported code or unit, an invalid
// resource or an impossible value refuses the bundle with a 422 naming
// the entry, and nothing of it is stored.
func TestFHIRImportIsAllOrNothing(t *testing.T) {
	ta, _ := newApp(t)
	c := newClinic(t, ta)
	ok := obsEntry("8867-4", 70, "/min", fixedNow.Add(-time.Hour))
	bp := func(components ...map[string]any) map[string]any {
		return map[string]any{"resource": map[string]any{"resourceType": "Observation", "status": "final", "effectiveDateTime": fixedNow.Add(-2 * time.Hour).Format(time.RFC3339),
			"code": map[string]any{"coding": []map[string]any{{"system": "http://loinc.org", "code": "85354-9"}}}, "component": components}}
	}
	comp := func(code string, v float64, unit string) map[string]any {
		return map[string]any{"code": map[string]any{"coding": []map[string]any{{"system": "http://loinc.org", "code": code}}},
			"valueQuantity": map[string]any{"value": v, "system": "http://unitsofmeasure.org", "code": unit}}
	}
	noTime := obsEntry("8867-4", 70, "/min", fixedNow)
	delete(noTime["resource"].(map[string]any), "effectiveDateTime")
	cases := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"unsupported code", bundle(ok, obsEntry("1234-5", 3, "1", fixedNow.Add(-time.Hour))), "entry[1].resource.code"},
		{"unsupported unit", bundle(ok, ok, obsEntry("29463-7", 80, "L", fixedNow.Add(-time.Hour))), "entry[2].resource.valueQuantity.code"},
		{"impossible value", bundle(ok, obsEntry("8867-4", 400, "/min", fixedNow.Add(-3*time.Hour))), "entry[1].resource.valueQuantity.value"},
		{"invalid status", bundle(map[string]any{"resource": map[string]any{"resourceType": "Observation", "status": "bogus"}}), "entry[0].resource"},
		{"no time", bundle(ok, noTime), "entry[1].resource.effectiveDateTime"},
		{"panel without diastolic", bundle(ok, bp(comp("8480-6", 120, "mm[Hg]"))), "entry[1].resource.component"},
		{"panel in kPa", bundle(bp(comp("8480-6", 16, "kPa"), comp("8462-4", 10, "kPa"))), "entry[0].resource.component[0].valueQuantity.code"},
		{"goal on an unsupported measure", bundle(ok, map[string]any{"resource": map[string]any{"resourceType": "Goal", "lifecycleStatus": "active",
			"description": map[string]any{"text": "x"}, "subject": map[string]any{"reference": "Patient/1"},
			"target": []map[string]any{{"measure": map[string]any{"coding": []map[string]any{{"system": "http://loinc.org", "code": "8310-5"}}},
				"detailQuantity": map[string]any{"value": 37, "comparator": "<=", "system": "http://unitsofmeasure.org", "code": "Cel"}, "dueDate": "2026-09-01"}}}}), "entry[1].resource.target[0].measure"},
		{"not a bundle type", map[string]any{"resourceType": "Bundle", "type": "searchset", "entry": []any{ok}}, "body.type"},
	}
	for _, tc := range cases {
		r := c.must(t, "POST", fhirURL(c.patientID), tc.body, c.rossi, 422)
		if !strings.Contains(r.Body, tc.field) {
			t.Errorf("%s: %s", tc.name, r.Body)
		}
	}
	if got := readingsOf(t, c, c.patientID, c.patient); len(got) != 0 {
		t.Fatalf("a refused bundle stored %v", got)
	}
	var res health.ImportResult
	c.must(t, "POST", fhirURL(c.patientID), bundle(ok, bp(comp("8480-6", 128, "mm[Hg]"), comp("8462-4", 82, "mm[Hg]"))), c.rossi, 200).JSON(t, &res)
	if res.Imported != 2 || len(readingsOf(t, c, c.patientID, c.patient)) != 3 {
		t.Fatalf("valid bundle: %+v", res)
	}
}

// TestFHIRImportReach: the care team imports; a clinician of another
// team, a nurse in no team, an admin outside the team and another
// organisation's clinician get 404; break-glass is read-only (403); a
// patient may not import (403).
func TestFHIRImportReach(t *testing.T) {
	ta, _ := newApp(t)
	c := newClinic(t, ta)
	b := bundle(obsEntry("8867-4", 70, "/min", fixedNow.Add(-time.Hour)))
	elsewhere := ta.As(t, "elsewhere", "dr.verdi@elsewhere.example", accounts.Staff)
	for name, h := range map[string]map[string]string{"other team": c.bianchi, "no team": c.nurse, "admin outside the team": c.admin, "other organisation": elsewhere} {
		if r := c.ta.Do(t, "POST", fhirURL(c.patientID), b, h); r.Status != 404 {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	c.must(t, "POST", fhirURL(c.patientID), b, c.patient, 403)
	c.must(t, "POST", fmt.Sprintf("/api/v1/health/patients/%d/break-glass", c.patientID), map[string]any{"reason": "Patient collapsed in the waiting room"}, c.nurse, 201)
	c.must(t, "POST", fhirURL(c.patientID), b, c.nurse, 403)
	if got := readingsOf(t, c, c.patientID, c.patient); len(got) != 0 {
		t.Fatalf("refused imports stored %v", got)
	}
	c.must(t, "POST", fhirURL(c.patientID), b, c.rossi, 200)
}

func deref(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}
