package health

import (
	"context"
	"math"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/experience/feedback"
	"github.com/portalkit/portalkit/core/store"
)

// Visit is a clinician's visit with a patient: notes for the patient and
// private notes only the care team reads.
type Visit struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	PatientID   uint      `gorm:"not null;index" json:"patient_id"`
	ClinicianID uint      `gorm:"not null" json:"clinician_id"`
	On          time.Time `gorm:"column:visited_on;not null" json:"on" doc:"the visit's date"`
	Notes       string    `gorm:"type:text;not null" json:"notes" doc:"notes for the patient"`
	// PrivateNotes are for the care team; the patient's views leave them out.
	PrivateNotes string    `gorm:"type:text;not null" json:"private_notes,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

// TableName keeps the table in the module's namespace.
func (Visit) TableName() string { return "health_visits" }

// Achievement statuses: FHIR R4 Goal.achievementStatus
// (http://terminology.hl7.org/CodeSystem/goal-achievement).
const (
	AchInProgress  = "in-progress"
	AchImproving   = "improving"
	AchWorsening   = "worsening"
	AchNoChange    = "no-change"
	AchAchieved    = "achieved"
	AchSustaining  = "sustaining"
	AchNotAchieved = "not-achieved"
)

// Goal is a target set with the patient at a visit: a measure, a target
// range (either end may be open) and a due date. Its achievement is
// assessed daily from the patient's readings.
type Goal struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	PatientID uint   `gorm:"not null;index" json:"patient_id"`
	VisitID   uint   `gorm:"not null;default:0" json:"visit_id,omitempty"`
	SetBy     uint   `gorm:"not null" json:"set_by"`
	Measure   string `gorm:"size:20;not null" json:"measure" enum:"weight,blood_pressure,heart_rate,steps,glucose"`
	// Code is the LOINC code the measure is assessed on.
	Code       string    `gorm:"size:16;not null" json:"code"`
	TargetLow  *float64  `json:"target_low,omitempty"`
	TargetHigh *float64  `json:"target_high,omitempty"`
	StartOn    time.Time `gorm:"not null" json:"start_on"`
	DueOn      time.Time `gorm:"not null" json:"due_on"`
	// Baseline is the measure's mean over the week before the goal was set.
	Baseline *float64 `json:"baseline,omitempty"`
	// Achievement is the FHIR achievement status; AchievementSince when it
	// began; AssessedOn the day it was last assessed for.
	Achievement      string     `gorm:"size:16;not null;index" json:"achievement"`
	AchievementSince time.Time  `gorm:"not null" json:"achievement_since"`
	AssessedOn       *time.Time `json:"assessed_on,omitempty"`
	// Latest is the mean of the last week's daily values.
	Latest     *float64   `json:"latest,omitempty"`
	AchievedAt *time.Time `json:"achieved_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

// TableName keeps the table in the module's namespace.
func (Goal) TableName() string { return "health_goals" }

// measure is how a goal's measure is read from observations.
type measure struct {
	Code  string
	Label string
	// Tolerance is the change between two weeks that counts as a change.
	Tolerance float64
	// DayMax takes a day's largest value (steps counters) instead of its mean.
	DayMax bool
}

var measures = map[string]measure{
	"weight":         {CodeWeight, "Weight", 0.3, false},
	"blood_pressure": {CodeSystolic, "Blood pressure (systolic)", 2, false},
	"heart_rate":     {CodeHeartRate, "Resting heart rate", 2, false},
	"steps":          {CodeSteps, "Steps per day", 300, true},
	"glucose":        {CodeGlucose, "Blood glucose", 3, false},
}

// MeasureKeys are the measures a goal may have, in form order.
var MeasureKeys = []string{"blood_pressure", "weight", "steps", "heart_rate", "glucose"}

// DayValue is one day's value of a measure.
type DayValue struct {
	Day   time.Time
	Value float64
}

// Target is a goal's range; a nil end is open.
type Target struct{ Low, High *float64 }

func (t Target) contains(v float64) bool {
	return (t.Low == nil || v >= *t.Low) && (t.High == nil || v <= *t.High)
}

// distance is how far v is from the range (0 inside).
func (t Target) distance(v float64) float64 {
	switch {
	case t.Low != nil && v < *t.Low:
		return *t.Low - v
	case t.High != nil && v > *t.High:
		return v - *t.High
	}
	return 0
}

// Assess computes a goal's achievement on day today from its daily values:
// the mean of the last seven days (today included) against the target,
// and against the seven days before to say whether it moves towards it.
//
//   - in range: achieved the first time, sustaining while it stays;
//   - out of range after the due date: not achieved;
//   - out of range: improving or worsening when the distance to the
//     range changed by more than tol since the week before, else no change
//     (after an achieved week, falling out is worsening);
//   - no readings this week: the previous status stands (in progress at
//     first), since there is nothing new to judge.
func Assess(t Target, tol float64, series []DayValue, prev string, today, due time.Time) (status string, latest *float64) {
	today = dayOf(today)
	recent, before := meanIn(series, today.AddDate(0, 0, -6), today), meanIn(series, today.AddDate(0, 0, -13), today.AddDate(0, 0, -7))
	if prev == "" {
		prev = AchInProgress
	}
	if recent == nil {
		if today.After(dayOf(due)) && prev != AchAchieved && prev != AchSustaining {
			return AchNotAchieved, nil
		}
		return prev, nil
	}
	if t.contains(*recent) {
		if prev == AchAchieved || prev == AchSustaining {
			return AchSustaining, recent
		}
		return AchAchieved, recent
	}
	if today.After(dayOf(due)) {
		return AchNotAchieved, recent
	}
	if prev == AchAchieved || prev == AchSustaining {
		return AchWorsening, recent
	}
	if before == nil {
		return AchInProgress, recent
	}
	dNow, dBefore := t.distance(*recent), t.distance(*before)
	switch {
	case dNow < dBefore-tol:
		return AchImproving, recent
	case dNow > dBefore+tol:
		return AchWorsening, recent
	}
	return AchNoChange, recent
}

func meanIn(series []DayValue, from, to time.Time) *float64 {
	var sum float64
	n := 0
	for _, d := range series {
		day := dayOf(d.Day)
		if !day.Before(from) && !day.After(to) {
			sum += d.Value
			n++
		}
	}
	if n == 0 {
		return nil
	}
	m := math.Round(sum/float64(n)*10) / 10
	return &m
}

func dayOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// dailyValues buckets observations into days of loc: the mean of each day,
// or its largest value for counters.
func dailyValues(obs []Observation, loc *time.Location, dayMax bool) []DayValue {
	type acc struct {
		sum, max float64
		n        int
	}
	days := map[time.Time]*acc{}
	for _, o := range obs {
		d := dayOf(o.At.In(loc))
		a := days[d]
		if a == nil {
			a = &acc{max: o.Value}
			days[d] = a
		}
		a.sum += o.Value
		a.n++
		a.max = math.Max(a.max, o.Value)
	}
	out := make([]DayValue, 0, len(days))
	for d, a := range days {
		v := a.sum / float64(a.n)
		if dayMax {
			v = a.max
		}
		out = append(out, DayValue{Day: d, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day.Before(out[j].Day) })
	return out
}

// NewGoal is a goal as a clinician sets it.
type NewGoal struct {
	Measure    string    `json:"measure" enum:"weight,blood_pressure,heart_rate,steps,glucose"`
	TargetLow  *float64  `json:"target_low,omitempty" doc:"at least this (open when absent)"`
	TargetHigh *float64  `json:"target_high,omitempty" doc:"at most this (open when absent); for blood pressure, the systolic"`
	DueOn      time.Time `json:"due_on" doc:"the date the goal is due"`
}

// NewVisit is a visit as a clinician records it, with the goals set in it.
type NewVisit struct {
	On           time.Time `json:"on,omitempty" doc:"the visit's date (today when absent)"`
	Notes        string    `json:"notes,omitempty" maxLength:"5000" doc:"notes for the patient"`
	PrivateNotes string    `json:"private_notes,omitempty" maxLength:"5000" doc:"notes for the care team only"`
	Goals        []NewGoal `json:"goals,omitempty" maxItems:"10"`
}

func (g NewGoal) check(i int, on time.Time) error {
	f := func(name string) string { return "body.goals[" + itoa(uint(i)) + "]." + name }
	m, ok := measures[g.Measure]
	if !ok {
		return errs.InvalidField(f("measure"), "Choose a measure: blood pressure, weight, steps, heart rate or glucose.")
	}
	if g.TargetLow == nil && g.TargetHigh == nil {
		return errs.InvalidField(f("target_high"), "Give a target: at least, at most, or both.")
	}
	v := Vitals[m.Code]
	for name, x := range map[string]*float64{"target_low": g.TargetLow, "target_high": g.TargetHigh} {
		if x != nil && (*x < v.Min || *x > v.Max) {
			return errs.InvalidField(f(name), "A target must be a value a body can have.")
		}
	}
	if g.TargetLow != nil && g.TargetHigh != nil && *g.TargetLow > *g.TargetHigh {
		return errs.InvalidField(f("target_low"), "The lower end of the target is above the upper end.")
	}
	if g.DueOn.IsZero() || !dayOf(g.DueOn).After(dayOf(on)) {
		return errs.InvalidField(f("due_on"), "The due date must be after the visit.")
	}
	return nil
}

// RecordVisit records a visit and its goals (the patient's care team). The
// goals start in progress, with the last week's mean as baseline.
func (s *Service) RecordVisit(ctx context.Context, p *accounts.Principal, patientID uint, in NewVisit) (*Visit, []Goal, error) {
	if !p.Is(accounts.Staff, accounts.Admin) {
		return nil, nil, errs.NotFoundf("patient not found")
	}
	if _, err := s.write(ctx, p, patientID); err != nil {
		return nil, nil, err
	}
	now := s.now()
	if in.On.IsZero() {
		in.On = now
	}
	in.On = dayOf(in.On)
	if in.On.After(now) {
		return nil, nil, errs.InvalidField("body.on", "A visit cannot be recorded before it happens.")
	}
	in.Notes, in.PrivateNotes = strings.TrimSpace(in.Notes), strings.TrimSpace(in.PrivateNotes)
	if utf8.RuneCountInString(in.Notes) > 5000 || utf8.RuneCountInString(in.PrivateNotes) > 5000 {
		return nil, nil, errs.InvalidField("body.notes", "Notes have at most 5000 characters.")
	}
	for i, g := range in.Goals {
		if err := g.check(i, in.On); err != nil {
			return nil, nil, err
		}
	}
	v := Visit{PatientID: patientID, ClinicianID: p.UserID, On: in.On, Notes: in.Notes, PrivateNotes: in.PrivateNotes}
	var goals []Goal
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		db := store.Org(tx, p.OrgID)
		if err := db.Create(&v).Error; err != nil {
			return err
		}
		for _, ng := range in.Goals {
			m := measures[ng.Measure]
			var base struct{ Avg *float64 }
			if err := db.Model(&Observation{}).Select("AVG(value) AS avg").
				Where("patient_id = ? AND code = ? AND duplicate_of = 0 AND at >= ? AND at < ?", patientID, m.Code, in.On.AddDate(0, 0, -7), in.On.AddDate(0, 0, 1)).
				Scan(&base).Error; err != nil {
				return err
			}
			if base.Avg != nil {
				r := math.Round(*base.Avg*10) / 10
				base.Avg = &r
			}
			g := Goal{PatientID: patientID, VisitID: v.ID, SetBy: p.UserID, Measure: ng.Measure, Code: m.Code,
				TargetLow: ng.TargetLow, TargetHigh: ng.TargetHigh, StartOn: in.On, DueOn: dayOf(ng.DueOn),
				Baseline: base.Avg, Achievement: AchInProgress, AchievementSince: in.On}
			if err := db.Create(&g).Error; err != nil {
				return err
			}
			goals = append(goals, g)
		}
		// The patient is asked once per visit how it went (CSAT); the
		// core throttles and expires the prompt.
		_, err := feedback.Ask(ctx, tx, p.OrgID, patientID, StepVisit, "visit:"+itoa(v.ID))
		return err
	})
	return &v, goals, err
}

// Visits lists a patient's visits, newest first. The patient does not see
// private notes; a read by staff is logged.
func (s *Service) Visits(ctx context.Context, p *accounts.Principal, patientID uint) ([]Visit, error) {
	g, err := s.read(ctx, p, patientID, "visits")
	if err != nil {
		return nil, err
	}
	out := []Visit{}
	if err := s.db(ctx, p.OrgID).Where("patient_id = ?", patientID).Order("visited_on DESC, id DESC").Limit(100).Find(&out).Error; err != nil {
		return nil, err
	}
	if g.Self {
		for i := range out {
			out[i].PrivateNotes = ""
		}
	}
	return out, nil
}

// Goals lists a patient's goals, newest first; a read by staff is logged.
func (s *Service) Goals(ctx context.Context, p *accounts.Principal, patientID uint) ([]Goal, error) {
	if _, err := s.read(ctx, p, patientID, "goals"); err != nil {
		return nil, err
	}
	return s.goals(ctx, p.OrgID, patientID)
}

func (s *Service) goals(ctx context.Context, orgID, patientID uint) ([]Goal, error) {
	out := []Goal{}
	return out, s.db(ctx, orgID).Where("patient_id = ?", patientID).Order("due_on DESC, id DESC").Limit(100).Find(&out).Error
}
