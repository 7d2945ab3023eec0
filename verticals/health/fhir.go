package health

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/portalkit/portalkit/core/accounts"
)

// Code systems used in the export.
const (
	systemLOINC       = "http://loinc.org"
	systemUCUM        = "http://unitsofmeasure.org"
	systemObsCategory = "http://terminology.hl7.org/CodeSystem/observation-category"
	systemInterpret   = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
	systemAchievement = "http://terminology.hl7.org/CodeSystem/goal-achievement"
)

// MaxExportObservations bounds the observations one export carries.
const MaxExportObservations = 100000

func str(s string) *string { return &s }

// exportNS makes the resources' URNs: the same object always gets the same
// urn:uuid, so two exports can be compared and references resolve inside
// the bundle.
var exportNS = uuid.MustParse("7c3c1d8e-4b1f-5a8e-9d57-2f0a6b1e5c44")

func urn(kind string, id uint) string {
	return "urn:uuid:" + uuid.NewSHA1(exportNS, []byte(kind+"/"+itoa(id))).String()
}

func ref(kind string, id uint) fhir.Reference {
	return fhir.Reference{Reference: str(urn(kind, id)), Type: str(kind)}
}

func loinc(code, display string) fhir.CodeableConcept {
	return fhir.CodeableConcept{Coding: []fhir.Coding{{System: str(systemLOINC), Code: str(code), Display: str(display)}}, Text: str(display)}
}

func quantity(v float64, unit string) *fhir.Quantity {
	n := json.Number(strconv.FormatFloat(v, 'f', -1, 64))
	return &fhir.Quantity{Value: &n, Unit: str(unitLabels[unit]), System: str(systemUCUM), Code: str(unit)}
}

func fhirTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
func fhirDate(t time.Time) string { return t.Format("2006-01-02") }

// entry marshals a resource into a bundle entry with its full URL.
func entry(kind string, id uint, res any) (fhir.BundleEntry, error) {
	b, err := json.Marshal(res)
	if err != nil {
		return fhir.BundleEntry{}, err
	}
	// The generated MedicationRequest and MedicationStatement always write
	// both choices of medication[x]; FHIR allows exactly one, and we give
	// the concept, so the empty reference is dropped.
	if kind == "MedicationRequest" || kind == "MedicationStatement" {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return fhir.BundleEntry{}, err
		}
		delete(m, "medicationReference")
		if b, err = json.Marshal(m); err != nil {
			return fhir.BundleEntry{}, err
		}
	}
	return fhir.BundleEntry{FullUrl: str(urn(kind, id)), Resource: b}, nil
}

// ExportFHIR returns everything the module holds about a patient as a FHIR
// R4 JSON Bundle (type collection): the Patient, every counted Observation
// (blood pressure as the 85354-9 panel with its two components), the
// Goals with their achievement status, and a MedicationRequest and a
// MedicationStatement per prescription. The patient downloads it; an
// integrator's or clinician's export is logged.
func (s *Service) ExportFHIR(ctx context.Context, p *accounts.Principal, patientID uint) ([]byte, error) {
	out, err := s.exportFHIR(ctx, p, patientID)
	return []byte(out), err
}

func (s *Service) exportFHIR(ctx context.Context, p *accounts.Principal, patientID uint) (string, error) {
	if _, err := s.read(ctx, p, patientID, "FHIR export of all health data"); err != nil {
		return "", err
	}
	u, err := s.patient(ctx, p, patientID)
	if err != nil {
		return "", err
	}
	obs, err := s.observations(ctx, p.OrgID, patientID, ObservationFilter{Limit: MaxExportObservations})
	if err != nil {
		return "", err
	}
	goals, err := s.goals(ctx, p.OrgID, patientID)
	if err != nil {
		return "", err
	}
	rxs, err := s.prescriptions(ctx, p.OrgID, patientID)
	if err != nil {
		return "", err
	}
	subject := ref("Patient", patientID)
	var entries []fhir.BundleEntry
	add := func(kind string, id uint, res any) error {
		e, err := entry(kind, id, res)
		if err == nil {
			entries = append(entries, e)
		}
		return err
	}
	active := true
	email := fhir.ContactPointSystemEmail
	pat := fhir.Patient{Id: str("P" + itoa(patientID)), Active: &active, Name: []fhir.HumanName{{Text: str(u.Name)}},
		Telecom: []fhir.ContactPoint{{System: &email, Value: str(u.Email)}}}
	if err := add("Patient", patientID, pat); err != nil {
		return "", err
	}
	for i := 0; i < len(obs); i++ {
		o := obs[i]
		v := Vitals[o.Code]
		category := "vital-signs"
		if o.Code == CodeSteps {
			category = "activity"
		}
		res := fhir.Observation{Id: str("O" + itoa(o.ID)), Status: fhir.ObservationStatusFinal, Subject: &subject, EffectiveDateTime: str(fhirTime(o.At)),
			Category: []fhir.CodeableConcept{{Coding: []fhir.Coding{{System: str(systemObsCategory), Code: str(category)}}}}}
		if o.Source == SourcePatient {
			res.Performer = []fhir.Reference{subject}
		}
		if o.Source == SourceDevice {
			res.Device = &fhir.Reference{Display: str("device " + o.DeviceID)}
		}
		flag := o.Flag
		if o.Panel == CodeBPPanel && i+1 < len(obs) && obs[i+1].Group == o.Group && obs[i+1].Source == o.Source {
			sys, dia := o, obs[i+1]
			if sys.Code != CodeSystolic {
				sys, dia = dia, sys
			}
			i++
			res.Code = loinc(CodeBPPanel, "Blood pressure panel with all children optional")
			res.Component = []fhir.ObservationComponent{
				{Code: loinc(CodeSystolic, Vitals[CodeSystolic].Name), ValueQuantity: quantity(sys.Value, "mm[Hg]"), Interpretation: interpretation(sys.Flag)},
				{Code: loinc(CodeDiastolic, Vitals[CodeDiastolic].Name), ValueQuantity: quantity(dia.Value, "mm[Hg]"), Interpretation: interpretation(dia.Flag)},
			}
			if err := add("Observation", sys.ID, res); err != nil {
				return "", err
			}
			continue
		}
		res.Code = loinc(o.Code, v.Name)
		res.ValueQuantity = quantity(o.Value, v.Unit)
		res.Interpretation = interpretation(flag)
		if err := add("Observation", o.ID, res); err != nil {
			return "", err
		}
	}
	for _, g := range goals {
		m := measures[g.Measure]
		v := Vitals[m.Code]
		target := fhir.GoalTarget{Measure: &[]fhir.CodeableConcept{loinc(m.Code, v.Name)}[0], DueDate: str(fhirDate(g.DueOn))}
		switch {
		case g.TargetLow != nil && g.TargetHigh != nil:
			target.DetailRange = &fhir.Range{Low: quantity(*g.TargetLow, v.Unit), High: quantity(*g.TargetHigh, v.Unit)}
		case g.TargetHigh != nil:
			q := quantity(*g.TargetHigh, v.Unit)
			c := fhir.QuantityComparatorLessOrEquals
			q.Comparator = &c
			target.DetailQuantity = q
		case g.TargetLow != nil:
			q := quantity(*g.TargetLow, v.Unit)
			c := fhir.QuantityComparatorGreaterOrEquals
			q.Comparator = &c
			target.DetailQuantity = q
		}
		lifecycle := fhir.GoalLifecycleStatusActive
		if g.Achievement == AchNotAchieved || (g.Achievement == AchAchieved || g.Achievement == AchSustaining) && s.now().After(g.DueOn) {
			lifecycle = fhir.GoalLifecycleStatusCompleted
		}
		res := fhir.Goal{Id: str("G" + itoa(g.ID)), LifecycleStatus: lifecycle, Subject: subject, StartDate: str(fhirDate(g.StartOn)),
			Description: fhir.CodeableConcept{Text: str(m.Label)}, Target: []fhir.GoalTarget{target},
			AchievementStatus: &fhir.CodeableConcept{Coding: []fhir.Coding{{System: str(systemAchievement), Code: str(g.Achievement), Display: str(achievementLabels[g.Achievement])}}}}
		if g.AssessedOn != nil {
			res.StatusDate = str(fhirDate(*g.AssessedOn))
		}
		if err := add("Goal", g.ID, res); err != nil {
			return "", err
		}
	}
	for _, rx := range rxs {
		status, stmt := "active", "active"
		if last := rx.lastDay(); last != nil && last.Before(dayOf(s.now())) {
			status, stmt = "completed", "completed"
		}
		if rx.StoppedOn != nil {
			status, stmt = "stopped", "stopped"
		}
		times := strings.Split(rx.Times, ",")
		tod := make([]string, len(times))
		for i, t := range times {
			tod[i] = t + ":00"
		}
		bounds := &fhir.Period{Start: str(fhirDate(rx.StartOn))}
		if last := rx.lastDay(); last != nil {
			bounds.End = str(fhirDate(*last))
		}
		med := fhir.CodeableConcept{Text: str(rx.Medicine)}
		dosage := fhir.Dosage{Text: str(fmt.Sprintf("%s at %s", rx.Dose, strings.Join(times, ", "))),
			Timing: &fhir.Timing{Repeat: &fhir.TimingRepeat{TimeOfDay: tod, BoundsPeriod: bounds}}}
		req := fhir.MedicationRequest{Id: str("M" + itoa(rx.ID)), Status: status, Intent: "order", MedicationCodeableConcept: med, Subject: subject,
			AuthoredOn: str(fhirTime(rx.CreatedAt)), Requester: &fhir.Reference{Display: str("prescriber #" + itoa(rx.PrescriberID))}, DosageInstruction: []fhir.Dosage{dosage}}
		if err := add("MedicationRequest", rx.ID, req); err != nil {
			return "", err
		}
		st := fhir.MedicationStatement{Id: str("M" + itoa(rx.ID)), Status: stmt, MedicationCodeableConcept: med, Subject: subject,
			BasedOn: []fhir.Reference{ref("MedicationRequest", rx.ID)}, EffectivePeriod: bounds, DateAsserted: str(fhirTime(s.now())), Dosage: []fhir.Dosage{dosage}}
		if err := add("MedicationStatement", rx.ID, st); err != nil {
			return "", err
		}
	}
	total := len(entries)
	b := fhir.Bundle{Id: str(fmt.Sprintf("export-%d-%d", patientID, s.now().Unix())), Type: fhir.BundleTypeCollection, Timestamp: str(fhirTime(s.now())), Total: &total, Entry: entries}
	out, err := json.Marshal(b)
	if err != nil {
		return "", err
	}
	// encoding/json writes <, > and & as \u003c, \u003e, \u0026, inside the
	// generated types' own MarshalJSON too. That is valid JSON, but the
	// library's enum decoders (a Quantity's comparator "<=") compare the raw
	// text and refuse it, and so might other readers: decode and encode once
	// more without HTML escaping.
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tree); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

func interpretation(flag string) []fhir.CodeableConcept {
	code := map[string]string{"high": "H", "low": "L"}[flag]
	if code == "" {
		code = "N"
	}
	return []fhir.CodeableConcept{{Coding: []fhir.Coding{{System: str(systemInterpret), Code: str(code)}}}}
}
