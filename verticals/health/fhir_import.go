package health

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// MaxImportEntries bounds the entries of one imported bundle.
const MaxImportEntries = 10000

// ImportResult says what an imported bundle changed.
type ImportResult struct {
	// Imported is how many readings were stored (blood pressure counts
	// once); AlreadyPresent how many this patient already had from an
	// earlier import (the same code and time), and were left alone.
	Imported       int `json:"imported"`
	AlreadyPresent int `json:"already_present"`
	// Goals is how many goals were added; GoalsPresent how many the
	// patient already had (same measure, target, start and due date).
	Goals        int `json:"goals"`
	GoalsPresent int `json:"goals_present"`
	// Skipped counts the entries not imported, by resource type: a
	// Patient, medications, and BMI observations (BMI is derived from the
	// weight and the latest height).
	Skipped map[string]int `json:"skipped"`
}

// importReading is one observation entry turned into a reading, with the
// entry it came from.
type importReading struct {
	entry int
	r     NewReading
}

// ImportFHIR stores the Observations of a FHIR R4 Bundle (collection or
// transaction) as readings of patientID with source "import": the
// patient's care team (staff or admin) or an integrator. LOINC codes and
// UCUM units are the module's (blood pressure as the 85354-9 panel with its
// two components); anything else, or an invalid resource, refuses the
// whole bundle with a 422 naming the entry. A reading already imported
// for the patient (same code and time) is not stored again, and one
// already reported by another source is kept but counted once, as for
// every reading.
func (s *Service) ImportFHIR(ctx context.Context, p *accounts.Principal, patientID uint, raw []byte) (*ImportResult, error) {
	if !p.Is(accounts.Staff, accounts.Admin, accounts.Integrator) {
		return nil, errs.NotFoundf("patient not found")
	}
	if _, err := s.write(ctx, p, patientID); err != nil {
		return nil, err
	}
	raw, err := unescapeJSON(raw)
	if err != nil {
		return nil, errs.InvalidField("body", "This is not JSON: "+err.Error())
	}
	var b fhir.Bundle
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, errs.InvalidField("body", "This is not a FHIR R4 Bundle: "+err.Error())
	}
	if b.Type != fhir.BundleTypeCollection && b.Type != fhir.BundleTypeTransaction {
		return nil, errs.InvalidField("body.type", "The bundle must be of type collection or transaction.")
	}
	if len(b.Entry) > MaxImportEntries {
		return nil, errs.InvalidField("body.entry", fmt.Sprintf("A bundle may have at most %d entries.", MaxImportEntries))
	}
	res := &ImportResult{Skipped: map[string]int{}}
	var readings []importReading
	var goals []importGoal
	for i, e := range b.Entry {
		at := fmt.Sprintf("entry[%d].resource", i)
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if len(e.Resource) == 0 || json.Unmarshal(e.Resource, &head) != nil || head.ResourceType == "" {
			return nil, errs.InvalidField(at, "The entry has no resource with a resourceType.")
		}
		if head.ResourceType == "Goal" {
			g, err := goalOf(e.Resource, at, s.now())
			if err != nil {
				return nil, err
			}
			goals = append(goals, importGoal{i, g})
			continue
		}
		if head.ResourceType != "Observation" {
			res.Skipped[head.ResourceType]++
			continue
		}
		o, err := fhir.UnmarshalObservation(e.Resource)
		if err != nil {
			return nil, errs.InvalidField(at, "The Observation is not valid FHIR R4: "+err.Error())
		}
		r, skip, err := readingOf(o, at)
		if err != nil {
			return nil, err
		}
		if skip {
			res.Skipped["Observation (BMI)"]++
			continue
		}
		readings = append(readings, importReading{i, r})
	}
	src := Source{Kind: SourceImport, EnteredBy: p.UserID}
	err = s.st.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var all []Observation
		for _, ir := range readings {
			stored, err := s.Record(ctx, tx, p.OrgID, patientID, src, ir.r)
			if err != nil {
				return entryError(err, ir.entry, ir.r)
			}
			if len(stored) == 0 {
				res.AlreadyPresent++
				continue
			}
			res.Imported++
			all = append(all, stored...)
		}
		for _, ig := range goals {
			added, err := s.importGoal(tx, p, patientID, ig.g)
			if err != nil {
				return err
			}
			if added {
				res.Goals++
			} else {
				res.GoalsPresent++
			}
		}
		return s.publishVitals(ctx, tx, p.OrgID, patientID, all)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// unescapeJSON writes JSON again without escaping <, > and &: the
// library's enum decoders compare the raw text, so a comparator sent as
// "\u003e=" (valid JSON, and what encoding/json writes) would be refused
// (see the export's note in fhir.go).
func unescapeJSON(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(tree)
	return buf.Bytes(), err
}

// readingOf turns an Observation into a reading, or says to skip it (BMI,
// derived here), or refuses it naming the element.
func readingOf(o fhir.Observation, at string) (NewReading, bool, error) {
	var r NewReading
	switch o.Status {
	case fhir.ObservationStatusFinal, fhir.ObservationStatusAmended, fhir.ObservationStatusCorrected:
	default:
		return r, false, errs.InvalidField(at+".status", "Only final, amended or corrected observations are imported.")
	}
	when := ""
	if o.EffectiveDateTime != nil {
		when = *o.EffectiveDateTime
	} else if o.EffectiveInstant != nil {
		when = *o.EffectiveInstant
	}
	t, err := time.Parse(time.RFC3339, when)
	if err != nil {
		return r, false, errs.InvalidField(at+".effectiveDateTime", "An observation needs its date and time (effectiveDateTime with a time zone).")
	}
	r.At = t
	code := loincOf(o.Code)
	switch {
	case code == CodeBMI:
		return r, true, nil
	case code == CodeBPPanel:
		r.Code = CodeBPPanel
		var sys, dia bool
		for j, c := range o.Component {
			field := fmt.Sprintf("%s.component[%d].valueQuantity", at, j)
			v, unit, err := quantityOf(c.ValueQuantity, field)
			if err != nil {
				return r, false, err
			}
			if unit != "" && unit != "mm[Hg]" {
				return r, false, errs.InvalidField(field+".code", fmt.Sprintf("Blood pressure is measured in mm[Hg]; %q is not a unit for it.", unit))
			}
			switch loincOf(c.Code) {
			case CodeSystolic:
				r.Value, sys = v, true
			case CodeDiastolic:
				r.Diastolic, dia = v, true
			}
		}
		if !sys || !dia {
			return r, false, errs.InvalidField(at+".component", "A blood-pressure panel needs its systolic (8480-6) and diastolic (8462-4) components.")
		}
		return r, false, nil
	case code == CodeSystolic || code == CodeDiastolic:
		return r, false, errs.InvalidField(at+".code", "Send blood pressure as the 85354-9 panel with its two components.")
	case code == CodeSpO2Pulse:
		code = CodeSpO2
	}
	if _, ok := Vitals[code]; !ok {
		return r, false, errs.InvalidField(at+".code", "No LOINC code of this observation is one the portal records (see GET /api/v1/health/vitals).")
	}
	v, unit, err := quantityOf(o.ValueQuantity, at+".valueQuantity")
	if err != nil {
		return r, false, err
	}
	r.Code, r.Value, r.Unit = code, v, unit
	return r, false, nil
}

// loincOf returns the first LOINC code of a concept.
func loincOf(c fhir.CodeableConcept) string {
	for _, cd := range c.Coding {
		if cd.System != nil && *cd.System == systemLOINC && cd.Code != nil {
			return strings.TrimSpace(*cd.Code)
		}
	}
	return ""
}

// quantityOf reads a quantity's value and UCUM unit code.
func quantityOf(q *fhir.Quantity, field string) (float64, string, error) {
	if q == nil || q.Value == nil {
		return 0, "", errs.InvalidField(field, "The observation has no valueQuantity with a value.")
	}
	v, err := strconv.ParseFloat(string(*q.Value), 64)
	if err != nil {
		return 0, "", errs.InvalidField(field+".value", "The value is not a number.")
	}
	if q.System != nil && *q.System != systemUCUM {
		return 0, "", errs.InvalidField(field+".system", "Units must be UCUM (http://unitsofmeasure.org).")
	}
	if q.Code == nil {
		return 0, "", errs.InvalidField(field+".code", "The quantity needs its UCUM unit code.")
	}
	return v, strings.TrimSpace(*q.Code), nil
}

// entryError names the bundle entry in a reading's validation error.
func entryError(err error, i int, r NewReading) error {
	e, ok := errs.As(err)
	if !ok || len(e.Fields) == 0 {
		return err
	}
	at := fmt.Sprintf("entry[%d].resource.", i)
	names := map[string]string{"body.value": "valueQuantity.value", "body.unit": "valueQuantity.code", "body.at": "effectiveDateTime",
		"body.diastolic": "component", "body.kind": "code", "body.code": "code"}
	if r.Code == CodeBPPanel {
		names["body.value"] = "component"
	}
	f := e.Fields[0]
	name, ok := names[f.Field]
	if !ok {
		name = strings.TrimPrefix(f.Field, "body.")
	}
	return errs.InvalidField(at+name, f.Message)
}

type importGoal struct {
	entry int
	g     Goal
}

// goalOf turns a FHIR Goal into a goal: its first target's LOINC measure
// (one the goals assess), its range or ">=" / "<=" quantity in the
// measure's unit, its due date; start date and achievement status when
// given.
func goalOf(raw []byte, at string, now time.Time) (Goal, error) {
	var g Goal
	fg, err := fhir.UnmarshalGoal(raw)
	if err != nil {
		return g, errs.InvalidField(at, "The Goal is not valid FHIR R4: "+err.Error())
	}
	if len(fg.Target) == 0 || fg.Target[0].Measure == nil {
		return g, errs.InvalidField(at+".target", "A goal needs a target with its LOINC measure.")
	}
	t := fg.Target[0]
	code := loincOf(*t.Measure)
	for _, key := range MeasureKeys {
		if measures[key].Code == code {
			g.Measure, g.Code = key, code
		}
	}
	if g.Measure == "" {
		return g, errs.InvalidField(at+".target[0].measure", "Goals are set on blood pressure (8480-6), weight, steps, heart rate or glucose.")
	}
	unit := Vitals[code].Unit
	value := func(q *fhir.Quantity, field string) (*float64, error) {
		v, u, err := quantityOf(q, field)
		if err != nil {
			return nil, err
		}
		if u != unit {
			return nil, errs.InvalidField(field+".code", fmt.Sprintf("%s is measured in %s; %q is not its unit.", Vitals[code].Name, unit, u))
		}
		return &v, nil
	}
	switch {
	case t.DetailRange != nil:
		if t.DetailRange.Low != nil {
			if g.TargetLow, err = value(t.DetailRange.Low, at+".target[0].detailRange.low"); err != nil {
				return g, err
			}
		}
		if t.DetailRange.High != nil {
			if g.TargetHigh, err = value(t.DetailRange.High, at+".target[0].detailRange.high"); err != nil {
				return g, err
			}
		}
	case t.DetailQuantity != nil && t.DetailQuantity.Comparator != nil:
		v, err := value(t.DetailQuantity, at+".target[0].detailQuantity")
		if err != nil {
			return g, err
		}
		switch *t.DetailQuantity.Comparator {
		case fhir.QuantityComparatorLessOrEquals, fhir.QuantityComparatorLessThan:
			g.TargetHigh = v
		case fhir.QuantityComparatorGreaterOrEquals, fhir.QuantityComparatorGreaterThan:
			g.TargetLow = v
		}
	}
	if g.TargetLow == nil && g.TargetHigh == nil {
		return g, errs.InvalidField(at+".target[0].detail", "A goal's target is a range or a quantity with <= or >=.")
	}
	g.StartOn = dayOf(now)
	if fg.StartDate != nil {
		d, err := time.Parse("2006-01-02", *fg.StartDate)
		if err != nil {
			return g, errs.InvalidField(at+".startDate", "The start date must be a date (YYYY-MM-DD).")
		}
		g.StartOn = d
	}
	due := ""
	if t.DueDate != nil {
		due = *t.DueDate
	}
	d, err := time.Parse("2006-01-02", due)
	if err != nil {
		return g, errs.InvalidField(at+".target[0].dueDate", "A goal needs its due date (YYYY-MM-DD).")
	}
	g.DueOn = d
	ng := NewGoal{Measure: g.Measure, TargetLow: g.TargetLow, TargetHigh: g.TargetHigh, DueOn: g.DueOn}
	if err := ng.check(0, g.StartOn); err != nil {
		if e, ok := errs.As(err); ok && len(e.Fields) == 1 {
			return g, errs.InvalidField(at+".target[0]", e.Fields[0].Message)
		}
		return g, err
	}
	g.Achievement = AchInProgress
	if fg.AchievementStatus != nil {
		for _, c := range fg.AchievementStatus.Coding {
			if c.System != nil && *c.System == systemAchievement && c.Code != nil && achievementLabels[*c.Code] != "" {
				g.Achievement = *c.Code
			}
		}
	}
	g.AchievementSince = g.StartOn
	return g, nil
}

// importGoal adds g unless the patient has the same goal (measure, target,
// start and due date); its baseline is the week before its start, as for
// a goal set at a visit.
func (s *Service) importGoal(tx *gorm.DB, p *accounts.Principal, patientID uint, g Goal) (bool, error) {
	db := store.Org(tx, p.OrgID)
	var same []Goal
	if err := db.Where("patient_id = ? AND measure = ? AND start_on = ? AND due_on = ?", patientID, g.Measure, g.StartOn, g.DueOn).Find(&same).Error; err != nil {
		return false, err
	}
	eq := func(a, b *float64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
	for _, o := range same {
		if eq(o.TargetLow, g.TargetLow) && eq(o.TargetHigh, g.TargetHigh) {
			return false, nil
		}
	}
	var base struct{ Avg *float64 }
	if err := db.Model(&Observation{}).Select("AVG(value) AS avg").
		Where("patient_id = ? AND code = ? AND duplicate_of = 0 AND at >= ? AND at < ?", patientID, g.Code, g.StartOn.AddDate(0, 0, -7), g.StartOn.AddDate(0, 0, 1)).
		Scan(&base).Error; err != nil {
		return false, err
	}
	if base.Avg != nil {
		r := math.Round(*base.Avg*10) / 10
		base.Avg = &r
	}
	g.PatientID, g.SetBy, g.Baseline = patientID, p.UserID, base.Avg
	return true, db.Create(&g).Error
}
