package health

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/live"
	"github.com/portalkit/portalkit/core/store"
)

// LOINC codes of the vital signs the module stores. Each was checked
// against the FHIR R4 vital-signs value set
// (http://hl7.org/fhir/ValueSet/observation-vitalsignresult) or, for
// steps and glucose, against LOINC's published names (docs/verticals/health.md).
const (
	CodeBPPanel     = "85354-9" // Blood pressure panel with all children optional
	CodeSystolic    = "8480-6"  // Systolic blood pressure
	CodeDiastolic   = "8462-4"  // Diastolic blood pressure
	CodeHeartRate   = "8867-4"  // Heart rate
	CodeWeight      = "29463-7" // Body weight
	CodeHeight      = "8302-2"  // Body height
	CodeBMI         = "39156-5" // Body mass index (BMI) [Ratio]
	CodeTemperature = "8310-5"  // Body temperature
	CodeSpO2        = "2708-6"  // Oxygen saturation in Arterial blood
	CodeSpO2Pulse   = "59408-5" // Oxygen saturation in Arterial blood by Pulse oximetry
	CodeGlucose     = "2339-0"  // Glucose [Mass/volume] in Blood
	CodeSteps       = "41950-7" // Number of steps in 24 hour Measured
)

// Vital describes one kind of observation: its unit, the values a body can
// have (outside them a reading is refused) and the normal range (outside
// it a reading is flagged).
type Vital struct {
	Code string `json:"code"`
	// Name is the English label (translated on pages).
	Name string `json:"name"`
	// Unit is the UCUM unit values are stored in.
	Unit     string  `json:"unit"`
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
	Low      float64 `json:"normal_low"`
	High     float64 `json:"normal_high"`
	Decimals int     `json:"decimals"`
	// Same is how far apart two values may be and still be one reading
	// reported by two sources.
	Same float64 `json:"-"`
}

// Vitals is the catalogue, by LOINC code. The blood-pressure panel is
// entered as its two components.
var Vitals = map[string]Vital{
	CodeSystolic:    {CodeSystolic, "Systolic blood pressure", "mm[Hg]", 50, 300, 90, 139, 0, 2},
	CodeDiastolic:   {CodeDiastolic, "Diastolic blood pressure", "mm[Hg]", 20, 200, 60, 89, 0, 2},
	CodeHeartRate:   {CodeHeartRate, "Heart rate", "/min", 20, 250, 50, 100, 0, 2},
	CodeWeight:      {CodeWeight, "Body weight", "kg", 1, 400, 0, 0, 1, 0.2},
	CodeHeight:      {CodeHeight, "Body height", "cm", 30, 260, 0, 0, 0, 1},
	CodeBMI:         {CodeBMI, "Body mass index", "kg/m2", 8, 100, 18.5, 24.9, 1, 0.2},
	CodeTemperature: {CodeTemperature, "Body temperature", "Cel", 25, 45, 35.5, 37.5, 1, 0.1},
	CodeSpO2:        {CodeSpO2, "Oxygen saturation", "%", 50, 100, 95, 100, 0, 1},
	CodeGlucose:     {CodeGlucose, "Blood glucose", "mg/dL", 10, 1500, 70, 140, 0, 2},
	CodeSteps:       {CodeSteps, "Steps", "/d", 0, 150000, 0, 0, 0, 0},
}

// Kinds are what a person picks in the entry form, in order.
var Kinds = []struct{ Key, Label string }{
	{"blood_pressure", "Blood pressure"}, {"heart_rate", "Heart rate"}, {"weight", "Weight"},
	{"temperature", "Temperature"}, {"spo2", "Oxygen saturation"}, {"glucose", "Blood glucose"},
	{"steps", "Steps"}, {"height", "Height"},
}

var kindCode = map[string]string{
	"heart_rate": CodeHeartRate, "weight": CodeWeight, "temperature": CodeTemperature,
	"spo2": CodeSpO2, "glucose": CodeGlucose, "steps": CodeSteps, "height": CodeHeight,
}

// units converts a typed unit to the code's stored unit.
var units = map[string]map[string]func(float64) float64{
	CodeWeight:      {"kg": same, "lb": func(v float64) float64 { return v * 0.45359237 }},
	CodeHeight:      {"cm": same, "m": func(v float64) float64 { return v * 100 }, "[in_i]": func(v float64) float64 { return v * 2.54 }},
	CodeTemperature: {"Cel": same, "[degF]": func(v float64) float64 { return (v - 32) * 5 / 9 }},
	CodeGlucose:     {"mg/dL": same, "mmol/L": func(v float64) float64 { return v * 18.016 }},
}

func same(v float64) float64 { return v }

// DuplicateWindow is how close in time two sources' readings of the same
// code and value must be to count as one.
const DuplicateWindow = 5 * time.Minute

// NewReading is one reading as typed or sent: a kind ("blood_pressure",
// "weight", ...) or a LOINC code, its value(s) and unit.
type NewReading struct {
	Kind string `json:"kind,omitempty" doc:"blood_pressure, heart_rate, weight, temperature, spo2, glucose, steps or height; or give code"`
	Code string `json:"code,omitempty" doc:"LOINC code instead of kind (8480-6 with diastolic for blood pressure)"`
	// Value is the reading (systolic for blood pressure).
	Value     float64   `json:"value" doc:"the value; systolic for blood pressure"`
	Diastolic float64   `json:"diastolic,omitempty" doc:"blood pressure only"`
	Unit      string    `json:"unit,omitempty" doc:"UCUM unit typed: kg or lb, Cel or [degF], mg/dL or mmol/L, cm, m or [in_i]; empty means the stored unit"`
	At        time.Time `json:"at,omitempty" doc:"when it was measured; empty means now"`
}

// Source says who reports a reading.
type Source struct {
	Kind      string // SourcePatient, SourceDevice, SourceClinician
	DeviceID  string
	EnteredBy uint
}

// validate turns r into the observations to store (values in stored units,
// flagged), or a validation error naming the field.
func (r NewReading) validate(now time.Time, field string) ([]Observation, error) {
	at := r.At
	if at.IsZero() {
		at = now
	}
	at = at.UTC().Truncate(time.Second)
	if at.After(now.Add(5 * time.Minute)) {
		return nil, errs.InvalidField(field+"at", "The time of a reading cannot be in the future.")
	}
	if at.Before(now.AddDate(-5, 0, 0)) {
		return nil, errs.InvalidField(field+"at", "The time of a reading must be within the last five years.")
	}
	kind, code := strings.TrimSpace(r.Kind), strings.TrimSpace(r.Code)
	if kind == "blood_pressure" || code == CodeBPPanel || code == CodeSystolic {
		sys, err := observe(CodeSystolic, r.Value, "", field+"value")
		if err != nil {
			return nil, err
		}
		dia, err := observe(CodeDiastolic, r.Diastolic, "", field+"diastolic")
		if err != nil {
			return nil, err
		}
		if dia.Value >= sys.Value {
			return nil, errs.InvalidField(field+"diastolic", "The diastolic pressure (the lower number) must be below the systolic one.")
		}
		group := fmt.Sprintf("bp-%d", at.Unix())
		for _, o := range []*Observation{sys, dia} {
			o.At, o.Panel, o.Group = at, CodeBPPanel, group
		}
		return []Observation{*sys, *dia}, nil
	}
	if code == "" {
		code = kindCode[kind]
	}
	if code == CodeSpO2Pulse {
		code = CodeSpO2
	}
	if code == "" || code == CodeBMI {
		return nil, errs.InvalidField(field+"kind", "Choose what you measured: blood pressure, heart rate, weight, temperature, oxygen saturation, glucose, steps or height.")
	}
	if _, ok := Vitals[code]; !ok {
		return nil, errs.InvalidField(field+"code", fmt.Sprintf("%q is not a vital sign this portal records.", code))
	}
	o, err := observe(code, r.Value, r.Unit, field+"value")
	if err != nil {
		if e, ok := errs.As(err); ok && len(e.Fields) == 1 && e.Fields[0].Field == field+"value.unit" {
			e.Fields[0].Field = field + "unit"
		}
		return nil, err
	}
	o.At = at
	return []Observation{*o}, nil
}

// observe converts and checks one value.
func observe(code string, v float64, unit, field string) (*Observation, error) {
	vt := Vitals[code]
	unit = strings.TrimSpace(unit)
	if unit != "" && unit != vt.Unit {
		conv, ok := units[code][unit]
		if !ok {
			return nil, errs.InvalidField(field+".unit", fmt.Sprintf("%s is measured in %s; %q is not a unit for it.", vt.Name, vt.Unit, unit))
		}
		v = conv(v)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v < vt.Min || v > vt.Max {
		return nil, errs.InvalidField(field, fmt.Sprintf("%s must be between %s and %s %s; check the value and its unit.",
			vt.Name, trimFloat(vt.Min), trimFloat(vt.Max), vt.Unit))
	}
	p := math.Pow(10, float64(vt.Decimals))
	v = math.Round(v*p) / p
	o := &Observation{Code: code, Value: v, Unit: vt.Unit}
	switch {
	case vt.High > 0 && v > vt.High:
		o.Flag = "high"
	case vt.Low > 0 && v < vt.Low:
		o.Flag = "low"
	}
	return o, nil
}

func trimFloat(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}

// Record stores a reading for a patient from a source, in tx: validated,
// flagged, BMI derived from a weight when a height is known, and marked as
// a duplicate of the same reading from another source. A device's reading
// already stored (same device, code and time) is skipped.
func (s *Service) Record(ctx context.Context, tx *gorm.DB, orgID, patientID uint, src Source, r NewReading) ([]Observation, error) {
	obs, err := r.validate(s.now(), "body.")
	if err != nil {
		return nil, err
	}
	db := store.Org(tx, orgID)
	if len(obs) == 1 && obs[0].Code == CodeWeight {
		var h Observation
		if err := db.Where("patient_id = ? AND code = ? AND duplicate_of = 0", patientID, CodeHeight).Order("at DESC").Limit(1).Find(&h).Error; err != nil {
			return nil, err
		}
		if h.ID != 0 {
			m := h.Value / 100
			if bmi, err := observe(CodeBMI, obs[0].Value/(m*m), "", "body.value"); err == nil {
				bmi.At = obs[0].At
				obs = append(obs, *bmi)
			}
		}
	}
	stored := make([]Observation, 0, len(obs))
	for _, o := range obs {
		o.PatientID, o.Source, o.DeviceID, o.EnteredBy = patientID, src.Kind, src.DeviceID, src.EnteredBy
		var dup Observation
		q := db.Where("patient_id = ? AND code = ? AND duplicate_of = 0 AND at BETWEEN ? AND ? AND value BETWEEN ? AND ?",
			patientID, o.Code, o.At.Add(-DuplicateWindow), o.At.Add(DuplicateWindow), o.Value-Vitals[o.Code].Same, o.Value+Vitals[o.Code].Same)
		if src.Kind == SourceDevice {
			q = q.Where("NOT (source = ? AND device_id = ?)", SourceDevice, src.DeviceID)
		} else {
			q = q.Where("source <> ?", src.Kind)
		}
		if err := q.Order("at, id").Limit(1).Find(&dup).Error; err != nil {
			return nil, err
		}
		o.DuplicateOf = dup.ID
		if src.Kind == SourceImport {
			// An import is stored once per (patient, code, time): the same
			// bundle, or an overlapping one, imported again adds nothing.
			var n int64
			if err := db.Model(&Observation{}).Where("patient_id = ? AND code = ? AND at = ? AND source = ?", patientID, o.Code, o.At, SourceImport).Count(&n).Error; err != nil {
				return nil, err
			}
			if n > 0 {
				continue
			}
		}
		res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&o)
		if res.Error != nil {
			return nil, res.Error
		}
		if res.RowsAffected == 1 {
			stored = append(stored, o)
		}
	}
	return stored, s.track(ctx, tx, orgID, patientID, stored)
}

// publishVitals tells the patient's open pages, and those of their care
// team, that readings were stored: their readings, trends and panel
// refresh on commit. Health's reach is its care teams, narrower than the
// module area, so the event names its recipients (the patient and the
// members of the teams linked to them) instead of an owner; it carries the
// codes only, never a value.
func (s *Service) publishVitals(ctx context.Context, tx *gorm.DB, orgID, patientID uint, stored []Observation) error {
	if len(stored) == 0 {
		return nil
	}
	var team []uint
	err := tx.WithContext(ctx).Table("health_team_members AS m").Distinct("m.staff_id").
		Joins("JOIN health_patient_teams pt ON pt.team_id = m.team_id AND pt.org_id = m.org_id").
		Where("m.org_id = ? AND pt.patient_id = ?", orgID, patientID).Pluck("m.staff_id", &team).Error
	if err != nil {
		return err
	}
	codes := make([]string, 0, len(stored))
	for _, o := range stored {
		codes = append(codes, o.Code)
	}
	return s.live.Publish(ctx, tx, live.Event{OrgID: orgID, Name: "vitals", To: append([]uint{patientID}, team...),
		Subject: "patient:" + itoa(patientID), Data: map[string]any{"patient": patientID, "codes": codes}})
}

// RecordFor is Record for a caller: the patient (source patient), a
// clinician of their team (source clinician) or an integrator (source
// clinician, entered by the token's EHR).
func (s *Service) RecordFor(ctx context.Context, p *accounts.Principal, patientID uint, r NewReading) ([]Observation, error) {
	g, err := s.write(ctx, p, patientID)
	if err != nil {
		return nil, err
	}
	src := Source{Kind: SourceClinician, EnteredBy: p.UserID}
	if g.Self {
		src.Kind = SourcePatient
	}
	var out []Observation
	err = s.st.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if out, err = s.Record(ctx, tx, p.OrgID, patientID, src, r); err != nil {
			return err
		}
		return s.publishVitals(ctx, tx, p.OrgID, patientID, out)
	})
	return out, err
}

// ObservationFilter narrows a patient's observations.
type ObservationFilter struct {
	Code     string
	From, To time.Time
	// WithDuplicates includes readings counted under another source's.
	WithDuplicates bool
	Limit          int
}

// Observations returns a patient's observations, newest first; a read by
// anyone but the patient is logged.
func (s *Service) Observations(ctx context.Context, p *accounts.Principal, patientID uint, f ObservationFilter) ([]Observation, error) {
	if _, err := s.read(ctx, p, patientID, "vital signs"); err != nil {
		return nil, err
	}
	return s.observations(ctx, p.OrgID, patientID, f)
}

func (s *Service) observations(ctx context.Context, orgID, patientID uint, f ObservationFilter) ([]Observation, error) {
	q := s.db(ctx, orgID).Where("patient_id = ?", patientID)
	if f.Code != "" {
		q = q.Where("code = ?", f.Code)
	}
	if !f.From.IsZero() {
		q = q.Where("at >= ?", f.From)
	}
	if !f.To.IsZero() {
		q = q.Where("at < ?", f.To)
	}
	if !f.WithDuplicates {
		q = q.Where("duplicate_of = 0")
	}
	if f.Limit <= 0 || f.Limit > 5000 {
		f.Limit = 1000
	}
	out := []Observation{}
	return out, q.Order("at DESC, id DESC").Limit(f.Limit).Find(&out).Error
}
