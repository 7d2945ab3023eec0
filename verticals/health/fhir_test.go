package health_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/portalkit/portalkit/verticals/health"
)

type jsonObj = map[string]any

func obj(t *testing.T, v any, path string) jsonObj {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: not an object: %v", path, v)
	}
	return m
}

func list(t *testing.T, v any, path string) []any {
	t.Helper()
	l, ok := v.([]any)
	if !ok || len(l) == 0 {
		t.Fatalf("%s: not a non-empty array: %v", path, v)
	}
	return l
}

// require checks the elements R4 marks 1..1 or 1..* are there.
func require(t *testing.T, m jsonObj, path string, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if v, ok := m[k]; !ok || v == nil || v == "" {
			t.Errorf("%s: required %s missing", path, k)
		}
	}
}

// coding returns the first coding of a CodeableConcept, checking it has a
// system and a code.
func coding(t *testing.T, v any, path string) jsonObj {
	t.Helper()
	c := obj(t, list(t, obj(t, v, path)["coding"], path+".coding")[0], path+".coding[0]")
	require(t, c, path+".coding[0]", "system", "code")
	return c
}

func quantityOK(t *testing.T, v any, path, unit string) float64 {
	t.Helper()
	q := obj(t, v, path)
	require(t, q, path, "value", "system", "code")
	if q["system"] != "http://unitsofmeasure.org" || (unit != "" && q["code"] != unit) {
		t.Errorf("%s: %v", path, q)
	}
	f, _ := q["value"].(float64)
	return f
}

// TestFHIRBundleStructure: the patient's download is a FHIR R4 collection
// Bundle whose every entry has a fullUrl and a resource with the elements
// R4 requires; references resolve inside the bundle; codes are LOINC and
// units UCUM; blood pressure is one panel with two components; goals carry
// the achievement vocabulary; a medication has exactly one medication[x];
// duplicates are not exported; the library's own parser reads it back; a
// clinician's export is logged; another patient gets 404.
func TestFHIRBundleStructure(t *testing.T) {
	ta, _ := newApp(t)
	c := newClinic(t, ta)
	c.must(t, "POST", c.obsURL(), map[string]any{"kind": "height", "value": 170}, c.rossi, 201)
	c.must(t, "POST", c.obsURL(), map[string]any{"kind": "weight", "value": 80}, c.patient, 201)
	c.must(t, "POST", c.obsURL(), map[string]any{"kind": "blood_pressure", "value": 150, "diastolic": 95, "at": "2026-06-14T07:00:00Z"}, c.patient, 201)
	c.must(t, "POST", c.obsURL(), map[string]any{"kind": "blood_pressure", "value": 150, "diastolic": 95, "at": "2026-06-14T07:01:00Z"}, c.rossi, 201) // a duplicate
	c.must(t, "POST", fmt.Sprintf("/api/v1/health/patients/%d/visits", c.patientID), map[string]any{"notes": "x",
		"goals": []map[string]any{{"measure": "blood_pressure", "target_high": 130, "due_on": "2026-09-01T00:00:00Z"}, {"measure": "weight", "target_low": 70, "target_high": 75, "due_on": "2026-09-01T00:00:00Z"}}}, c.rossi, 201)
	c.must(t, "POST", fmt.Sprintf("/api/v1/health/patients/%d/prescriptions", c.patientID), map[string]any{"medicine": "Ramipril", "dose": "5 mg", "times": []string{"08:00", "20:00"}, "end_on": "2026-12-31T00:00:00Z"}, c.rossi, 201)

	res := c.must(t, "GET", fmt.Sprintf("/api/v1/health/patients/%d/fhir", c.patientID), nil, c.patient, 200)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
		t.Fatalf("content type %q", ct)
	}
	var b jsonObj
	if err := json.Unmarshal([]byte(res.Body), &b); err != nil {
		t.Fatal(err)
	}
	if b["resourceType"] != "Bundle" || b["type"] != "collection" {
		t.Fatalf("bundle: %v %v", b["resourceType"], b["type"])
	}
	entries := list(t, b["entry"], "entry")
	if int(b["total"].(float64)) != len(entries) {
		t.Errorf("total %v for %d entries", b["total"], len(entries))
	}
	urls := map[string]string{}
	byType := map[string][]jsonObj{}
	for i, e := range entries {
		em := obj(t, e, fmt.Sprintf("entry[%d]", i))
		require(t, em, fmt.Sprintf("entry[%d]", i), "fullUrl", "resource")
		r := obj(t, em["resource"], fmt.Sprintf("entry[%d].resource", i))
		kind, _ := r["resourceType"].(string)
		url := em["fullUrl"].(string)
		if !strings.HasPrefix(url, "urn:uuid:") || urls[url] != "" {
			t.Errorf("entry[%d]: fullUrl %q", i, url)
		}
		urls[url] = kind
		byType[kind] = append(byType[kind], r)
	}
	counts := fmt.Sprintf("Patient %d, Observation %d, Goal %d, MedicationRequest %d, MedicationStatement %d",
		len(byType["Patient"]), len(byType["Observation"]), len(byType["Goal"]), len(byType["MedicationRequest"]), len(byType["MedicationStatement"]))
	// Observations: height, weight, BMI, one blood pressure panel (the duplicate is left out).
	if counts != "Patient 1, Observation 4, Goal 2, MedicationRequest 1, MedicationStatement 1" {
		t.Fatalf("resources: %s", counts)
	}
	resolves := func(v any, path, kind string) {
		t.Helper()
		r := obj(t, v, path)
		if s, _ := r["reference"].(string); urls[s] != kind {
			t.Errorf("%s: reference %v does not resolve to a %s in the bundle", path, r["reference"], kind)
		}
	}
	pat := byType["Patient"][0]
	if n := obj(t, list(t, pat["name"], "Patient.name")[0], "Patient.name[0]"); n["text"] != "anna" {
		t.Errorf("patient name %v", n)
	}
	codes := map[string]bool{}
	for i, o := range byType["Observation"] {
		path := fmt.Sprintf("Observation[%d]", i)
		require(t, o, path, "status", "code", "subject", "effectiveDateTime", "category")
		resolves(o["subject"], path+".subject", "Patient")
		c := coding(t, o["code"], path+".code")
		if c["system"] != "http://loinc.org" {
			t.Errorf("%s: system %v", path, c["system"])
		}
		code := c["code"].(string)
		codes[code] = true
		if code == health.CodeBPPanel {
			if o["valueQuantity"] != nil {
				t.Errorf("%s: a panel carries its values in components", path)
			}
			comps := list(t, o["component"], path+".component")
			if len(comps) != 2 {
				t.Fatalf("%s: %d components", path, len(comps))
			}
			for j, want := range []string{health.CodeSystolic, health.CodeDiastolic} {
				cm := obj(t, comps[j], path+".component")
				if got := coding(t, cm["code"], path+".component.code")["code"]; got != want {
					t.Errorf("%s: component %d is %v", path, j, got)
				}
				v := quantityOK(t, cm["valueQuantity"], path+".component.valueQuantity", "mm[Hg]")
				if (j == 0 && v != 150) || (j == 1 && v != 95) {
					t.Errorf("%s: component %d value %v", path, j, v)
				}
				if interp := coding(t, list(t, cm["interpretation"], "interpretation")[0], "interpretation"); interp["code"] != "H" {
					t.Errorf("%s: interpretation %v", path, interp)
				}
			}
			continue
		}
		unit := map[string]string{health.CodeWeight: "kg", health.CodeHeight: "cm", health.CodeBMI: "kg/m2"}[code]
		quantityOK(t, o["valueQuantity"], path+".valueQuantity", unit)
	}
	for _, want := range []string{health.CodeBPPanel, health.CodeWeight, health.CodeHeight, health.CodeBMI} {
		if !codes[want] {
			t.Errorf("no Observation with LOINC %s", want)
		}
	}
	for i, g := range byType["Goal"] {
		path := fmt.Sprintf("Goal[%d]", i)
		require(t, g, path, "lifecycleStatus", "description", "subject", "target", "achievementStatus")
		resolves(g["subject"], path+".subject", "Patient")
		if a := coding(t, g["achievementStatus"], path+".achievementStatus"); a["system"] != "http://terminology.hl7.org/CodeSystem/goal-achievement" || a["code"] != health.AchInProgress {
			t.Errorf("%s: achievement %v", path, a)
		}
		tg := obj(t, list(t, g["target"], path+".target")[0], path+".target[0]")
		require(t, tg, path+".target[0]", "measure", "dueDate")
		if tg["detailRange"] == nil && obj(t, tg["detailQuantity"], path+".detailQuantity")["comparator"] != "<=" {
			t.Errorf("%s: target %v", path, tg)
		}
	}
	mr := byType["MedicationRequest"][0]
	require(t, mr, "MedicationRequest", "status", "intent", "subject", "medicationCodeableConcept", "dosageInstruction")
	if _, both := mr["medicationReference"]; both {
		t.Error("MedicationRequest has two medication[x] choices")
	}
	resolves(mr["subject"], "MedicationRequest.subject", "Patient")
	ms := byType["MedicationStatement"][0]
	require(t, ms, "MedicationStatement", "status", "subject", "medicationCodeableConcept")
	resolves(list(t, ms["basedOn"], "basedOn")[0], "MedicationStatement.basedOn", "MedicationRequest")
	timing := obj(t, obj(t, obj(t, list(t, mr["dosageInstruction"], "dosage")[0], "dosage")["timing"], "timing")["repeat"], "repeat")
	if tod := list(t, timing["timeOfDay"], "timeOfDay"); len(tod) != 2 || tod[0] != "08:00:00" {
		t.Errorf("timeOfDay %v", tod)
	}

	// The library's own parser reads every resource back.
	bundle, err := fhir.UnmarshalBundle([]byte(res.Body))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range bundle.Entry {
		var rt struct{ ResourceType string }
		_ = json.Unmarshal(e.Resource, &rt)
		switch rt.ResourceType {
		case "Observation":
			if _, err := fhir.UnmarshalObservation(e.Resource); err != nil {
				t.Error(err)
			}
		case "Goal":
			if _, err := fhir.UnmarshalGoal(e.Resource); err != nil {
				t.Error(err)
			}
		case "Patient":
			if _, err := fhir.UnmarshalPatient(e.Resource); err != nil {
				t.Error(err)
			}
		}
	}

	// A clinician's export is logged; another patient gets 404.
	c.must(t, "GET", fmt.Sprintf("/api/v1/health/patients/%d/fhir", c.patientID), nil, c.rossi, 200)
	if l := c.accessLog(t); len(l) == 0 || l[0].What != "FHIR export of all health data" {
		t.Fatalf("log: %+v", l)
	}
	c.must(t, "GET", fmt.Sprintf("/api/v1/health/patients/%d/fhir", c.patientID), nil, c.other, 404)
	b2 := ta.Browser()
	b2.SignIn(t, "clinic", "anna@clinic.example")
	if r := b2.Get(t, "/m/health/export"); r.Status != 200 || !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") || !strings.Contains(r.Body, `"resourceType":"Bundle"`) {
		t.Fatalf("download: %d %s", r.Status, r.Header.Get("Content-Disposition"))
	}
}
