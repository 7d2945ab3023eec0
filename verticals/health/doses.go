package health

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// Prescription is a medicine a clinician prescribed: a dose at given
// local times of day, from a start date to an end date (open when none),
// possibly stopped early.
type Prescription struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	PatientID    uint       `gorm:"not null;index" json:"patient_id"`
	PrescriberID uint       `gorm:"not null" json:"prescriber_id"`
	Medicine     string     `gorm:"size:120;not null" json:"medicine"`
	Dose         string     `gorm:"size:60;not null" json:"dose"`
	Times        string     `gorm:"size:60;not null" json:"times" doc:"local times of day, comma-separated (08:00,20:00)"`
	StartOn      time.Time  `gorm:"not null" json:"start_on"`
	EndOn        *time.Time `json:"end_on,omitempty"`
	StoppedOn    *time.Time `json:"stopped_on,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
}

// TableName keeps the table in the module's namespace.
func (Prescription) TableName() string { return "health_prescriptions" }

// Dose statuses.
const (
	DoseDue     = "due"
	DoseTaken   = "taken"
	DoseSkipped = "skipped"
	DoseLater   = "later"
)

// LaterBy is how long "later" puts a reminder off.
const LaterBy = 30 * time.Minute

// Dose is one scheduled dose of a prescription: due at a local time of a
// local day (stored in UTC), and what the patient did.
type Dose struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	PrescriptionID uint      `gorm:"not null;uniqueIndex:health_doses_u" json:"prescription_id"`
	PatientID      uint      `gorm:"not null;index:health_doses_patient_day" json:"patient_id"`
	DueAt          time.Time `gorm:"not null;uniqueIndex:health_doses_u;index:health_doses_due" json:"due_at"`
	// Day is the patient's local date of the dose.
	Day        time.Time  `gorm:"not null;index:health_doses_patient_day" json:"day"`
	Status     string     `gorm:"size:8;not null;default:due" json:"status" enum:"due,taken,skipped,later"`
	RemindAt   *time.Time `gorm:"index:health_doses_remind" json:"remind_at,omitempty"`
	RemindedAt *time.Time `json:"reminded_at,omitempty"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
	Medicine   string     `gorm:"-" json:"medicine,omitempty"`
	DoseText   string     `gorm:"-" json:"dose,omitempty"`
	LocalTime  string     `gorm:"-" json:"local_time,omitempty"`
}

// TableName keeps the table in the module's namespace.
func (Dose) TableName() string { return "health_doses" }

var timeOfDay = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)

// NewPrescription is a prescription as a clinician writes it.
type NewPrescription struct {
	Medicine string     `json:"medicine" maxLength:"120"`
	Dose     string     `json:"dose" maxLength:"60" doc:"e.g. 10 mg, one tablet"`
	Times    []string   `json:"times" minItems:"1" maxItems:"6" doc:"local times of day, HH:MM"`
	StartOn  time.Time  `json:"start_on,omitempty" doc:"today when absent"`
	EndOn    *time.Time `json:"end_on,omitempty" doc:"open-ended when absent"`
}

// Prescribe writes a prescription (the patient's care team).
func (s *Service) Prescribe(ctx context.Context, p *accounts.Principal, patientID uint, in NewPrescription) (*Prescription, error) {
	if !p.Is(accounts.Staff, accounts.Admin) {
		return nil, errs.NotFoundf("patient not found")
	}
	if _, err := s.write(ctx, p, patientID); err != nil {
		return nil, err
	}
	in.Medicine, in.Dose = strings.TrimSpace(in.Medicine), strings.TrimSpace(in.Dose)
	if in.Medicine == "" || utf8.RuneCountInString(in.Medicine) > 120 {
		return nil, errs.InvalidField("body.medicine", "Name the medicine (at most 120 characters).")
	}
	if in.Dose == "" || utf8.RuneCountInString(in.Dose) > 60 {
		return nil, errs.InvalidField("body.dose", "Give the dose, such as 10 mg (at most 60 characters).")
	}
	if len(in.Times) == 0 || len(in.Times) > 6 {
		return nil, errs.InvalidField("body.times", "Give one to six times of day, such as 08:00.")
	}
	seen := map[string]bool{}
	for i, t := range in.Times {
		t = strings.TrimSpace(t)
		if !timeOfDay.MatchString(t) || seen[t] {
			return nil, errs.InvalidField(fmt.Sprintf("body.times[%d]", i), "Write each time of day once, as HH:MM (08:00).")
		}
		seen[t], in.Times[i] = true, t
	}
	sort.Strings(in.Times)
	if in.StartOn.IsZero() {
		in.StartOn = s.now()
	}
	start := dayOf(in.StartOn)
	var end *time.Time
	if in.EndOn != nil {
		e := dayOf(*in.EndOn)
		if e.Before(start) {
			return nil, errs.InvalidField("body.end_on", "The end date cannot be before the start.")
		}
		end = &e
	}
	rx := Prescription{PatientID: patientID, PrescriberID: p.UserID, Medicine: in.Medicine, Dose: in.Dose, Times: strings.Join(in.Times, ","), StartOn: start, EndOn: end}
	return &rx, s.db(ctx, p.OrgID).Create(&rx).Error
}

// StopPrescription stops a prescription from today (the care team).
func (s *Service) StopPrescription(ctx context.Context, p *accounts.Principal, id uint) (*Prescription, error) {
	var rx Prescription
	if err := s.db(ctx, p.OrgID).Where("id = ?", id).Take(&rx).Error; err != nil {
		return nil, errs.NotFoundf("prescription not found")
	}
	if !p.Is(accounts.Staff, accounts.Admin) {
		return nil, errs.NotFoundf("prescription not found")
	}
	if _, err := s.write(ctx, p, rx.PatientID); err != nil {
		return nil, errs.NotFoundf("prescription not found")
	}
	if rx.StoppedOn != nil {
		return &rx, nil
	}
	today := dayOf(s.now().In(s.zoneOf(ctx, p.OrgID, rx.PatientID)))
	rx.StoppedOn = &today
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		db := store.Org(tx, p.OrgID)
		if err := db.Model(&rx).Update("stopped_on", today).Error; err != nil {
			return err
		}
		// Doses after today are no longer due.
		return db.Where("prescription_id = ? AND day > ? AND status = ?", rx.ID, today, DoseDue).Delete(&Dose{}).Error
	})
	return &rx, err
}

// activeOn reports whether rx is taken on local day d.
func (rx Prescription) activeOn(d time.Time) bool {
	last := rx.lastDay()
	return !d.Before(rx.StartOn) && (last == nil || !d.After(*last))
}

// lastDay is the last day of the course: the end, or the day it was
// stopped, whichever is first (nil: open).
func (rx Prescription) lastDay() *time.Time {
	var last *time.Time
	if rx.EndOn != nil {
		e := dayOf(*rx.EndOn)
		last = &e
	}
	if rx.StoppedOn != nil && (last == nil || rx.StoppedOn.Before(*last)) {
		st := dayOf(*rx.StoppedOn)
		last = &st
	}
	return last
}

// dueAt is the UTC instant of the dose at local time hhmm on local day d.
func dueAt(d time.Time, hhmm string, loc *time.Location) time.Time {
	var h, m int
	fmt.Sscanf(hhmm, "%d:%d", &h, &m)
	return time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, loc).UTC()
}

func (s *Service) zoneOf(ctx context.Context, orgID, patientID uint) *time.Location {
	z, err := s.zones(s.st.DB.WithContext(ctx), orgID, []uint{patientID})
	if err != nil || z[patientID] == nil {
		return time.UTC
	}
	return z[patientID]
}

// ensureDoses creates the dose rows of the patient's local day d for every
// prescription active that day (existing rows are kept).
func (s *Service) ensureDoses(tx *gorm.DB, orgID uint, rxs []Prescription, d time.Time, loc *time.Location) error {
	var rows []Dose
	for _, rx := range rxs {
		if !rx.activeOn(d) {
			continue
		}
		for _, t := range strings.Split(rx.Times, ",") {
			due := dueAt(d, t, loc)
			rows = append(rows, Dose{PrescriptionID: rx.ID, PatientID: rx.PatientID, DueAt: due, Day: d, Status: DoseDue, RemindAt: &due})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	return store.Org(tx, orgID).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 500).Error
}

// Prescriptions lists a patient's prescriptions, newest first; a read by
// staff is logged.
func (s *Service) Prescriptions(ctx context.Context, p *accounts.Principal, patientID uint) ([]Prescription, error) {
	if _, err := s.read(ctx, p, patientID, "prescriptions"); err != nil {
		return nil, err
	}
	return s.prescriptions(ctx, p.OrgID, patientID)
}

func (s *Service) prescriptions(ctx context.Context, orgID, patientID uint) ([]Prescription, error) {
	out := []Prescription{}
	return out, s.db(ctx, orgID).Where("patient_id = ?", patientID).Order("start_on DESC, id DESC").Limit(100).Find(&out).Error
}

// TodaysDoses returns the patient's doses of their local today, by time
// (the patient; created if the reminder job has not yet). The doses are
// read first and written only when one is missing: a dashboard load, which
// asks on every visit, is then two reads and never a write.
func (s *Service) TodaysDoses(ctx context.Context, p *accounts.Principal, patientID uint) ([]Dose, error) {
	if _, err := s.read(ctx, p, patientID, "doses"); err != nil {
		return nil, err
	}
	var loc *time.Location
	if self(p, patientID) {
		loc = loadZone(p.TimeZone) // the user's zone, else the organisation's, as zoneOf reads them
	} else {
		loc = s.zoneOf(ctx, p.OrgID, patientID)
	}
	today := dayOf(s.now().In(loc))
	rxs, err := s.prescriptions(ctx, p.OrgID, patientID)
	if err != nil {
		return nil, err
	}
	doses, err := s.dosesOn(ctx, p.OrgID, patientID, today)
	if err != nil {
		return nil, err
	}
	if missingDoses(rxs, doses, today, loc) {
		if err := s.st.Tx(ctx, func(tx *gorm.DB) error { return s.ensureDoses(tx, p.OrgID, rxs, today, loc) }); err != nil {
			return nil, err
		}
		if doses, err = s.dosesOn(ctx, p.OrgID, patientID, today); err != nil {
			return nil, err
		}
	}
	byID := map[uint]Prescription{}
	for _, rx := range rxs {
		byID[rx.ID] = rx
	}
	for i := range doses {
		rx := byID[doses[i].PrescriptionID]
		doses[i].Medicine, doses[i].DoseText, doses[i].LocalTime = rx.Medicine, rx.Dose, doses[i].DueAt.In(loc).Format("15:04")
	}
	return doses, nil
}

// dosesOn reads the patient's dose rows of local day d, by time.
func (s *Service) dosesOn(ctx context.Context, orgID, patientID uint, d time.Time) ([]Dose, error) {
	var doses []Dose
	err := s.db(ctx, orgID).Where("patient_id = ? AND day = ?", patientID, d).Order("due_at, id").Find(&doses).Error
	return doses, err
}

// missingDoses reports whether a dose that ensureDoses would create for
// day d is not among doses.
func missingDoses(rxs []Prescription, doses []Dose, d time.Time, loc *time.Location) bool {
	type key struct {
		rx  uint
		due int64
	}
	have := make(map[key]bool, len(doses))
	for _, x := range doses {
		have[key{x.PrescriptionID, x.DueAt.Unix()}] = true
	}
	for _, rx := range rxs {
		if !rx.activeOn(d) {
			continue
		}
		for _, t := range strings.Split(rx.Times, ",") {
			if !have[key{rx.ID, dueAt(d, t, loc).Unix()}] {
				return true
			}
		}
	}
	return false
}

// AnswerDose records what the patient did with a dose: taken, skipped, or
// later (reminded again in LaterBy). Only the patient answers.
func (s *Service) AnswerDose(ctx context.Context, p *accounts.Principal, id uint, action string) (*Dose, error) {
	var d Dose
	err := s.db(ctx, p.OrgID).Where("id = ?", id).Take(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && (p.Role != accounts.Customer || d.PatientID != p.UserID)) {
		return nil, errs.NotFoundf("dose not found")
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	upd := map[string]any{"status": action, "answered_at": now}
	switch action {
	case DoseTaken, DoseSkipped:
		upd["remind_at"] = nil
	case DoseLater:
		upd["remind_at"] = now.Add(LaterBy)
	default:
		return nil, errs.InvalidField("body.action", "Choose taken, skipped or later.")
	}
	if err := s.db(ctx, p.OrgID).Model(&Dose{}).Where("id = ?", id).Updates(upd).Error; err != nil {
		return nil, err
	}
	err = s.db(ctx, p.OrgID).Where("id = ?", id).Take(&d).Error
	return &d, err
}

// Course is one medicine's course for adherence: its first and last day
// (nil: still going).
type Course struct {
	ID          uint
	First, Last time.Time
}

// Adherence is the proportion of days covered (PDC) of one medicine, or
// overall.
type Adherence struct {
	PrescriptionID uint    `json:"prescription_id,omitempty"`
	Medicine       string  `json:"medicine,omitempty"`
	Days           int     `json:"days" doc:"days in the period the medicine was prescribed"`
	Covered        int     `json:"covered" doc:"of those, days with every dose taken"`
	PDC            float64 `json:"pdc" doc:"covered / days, 0 to 1"`
	Adherent       bool    `json:"adherent" doc:"PDC at least 0.8"`
}

// PDC computes the proportion of days covered over [from, to] (local days,
// inclusive): per course, days of the course inside the period, covered
// when every dose of that day was taken (covered[course][day]); overall,
// the days on which at least one course ran, covered when every course
// running that day was covered.
func PDC(courses []Course, covered map[uint]map[time.Time]bool, from, to time.Time) (per []Adherence, overall Adherence) {
	from, to = dayOf(from), dayOf(to)
	type day struct{ running, ok int }
	days := map[time.Time]*day{}
	for _, c := range courses {
		a := Adherence{PrescriptionID: c.ID}
		first, last := dayOf(c.First), dayOf(c.Last)
		if first.Before(from) {
			first = from
		}
		if last.After(to) {
			last = to
		}
		for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
			a.Days++
			dd := days[d]
			if dd == nil {
				dd = &day{}
				days[d] = dd
			}
			dd.running++
			if covered[c.ID][d] {
				a.Covered++
				dd.ok++
			}
		}
		a.finish()
		per = append(per, a)
	}
	for _, d := range days {
		overall.Days++
		if d.ok == d.running {
			overall.Covered++
		}
	}
	overall.finish()
	return per, overall
}

func (a *Adherence) finish() {
	if a.Days > 0 {
		a.PDC = math.Round(float64(a.Covered)/float64(a.Days)*1000) / 1000
	}
	a.Adherent = a.Days > 0 && a.PDC >= 0.8
}

// AdherenceOf computes a patient's PDC over the last days local days up
// to yesterday, per medicine and overall; a read by staff is logged.
func (s *Service) AdherenceOf(ctx context.Context, p *accounts.Principal, patientID uint, days int) ([]Adherence, Adherence, error) {
	if _, err := s.read(ctx, p, patientID, "adherence"); err != nil {
		return nil, Adherence{}, err
	}
	return s.adherence(ctx, p.OrgID, patientID, days)
}

func (s *Service) adherence(ctx context.Context, orgID, patientID uint, days int) ([]Adherence, Adherence, error) {
	if days <= 0 || days > 365 {
		days = 30
	}
	loc := s.zoneOf(ctx, orgID, patientID)
	to := dayOf(s.now().In(loc)).AddDate(0, 0, -1)
	from := to.AddDate(0, 0, -days+1)
	rxs, err := s.prescriptions(ctx, orgID, patientID)
	if err != nil {
		return nil, Adherence{}, err
	}
	var rows []struct {
		PrescriptionID uint
		Day            time.Time
		Scheduled      int
		Taken          int
	}
	err = s.db(ctx, orgID).Model(&Dose{}).
		Select("prescription_id, day, COUNT(*) AS scheduled, SUM(CASE WHEN status = 'taken' THEN 1 ELSE 0 END) AS taken").
		Where("patient_id = ? AND day >= ? AND day <= ?", patientID, from, to).Group("prescription_id, day").Scan(&rows).Error
	if err != nil {
		return nil, Adherence{}, err
	}
	covered := map[uint]map[time.Time]bool{}
	perDay := map[uint]int{}
	for _, rx := range rxs {
		perDay[rx.ID] = len(strings.Split(rx.Times, ","))
	}
	for _, r := range rows {
		if covered[r.PrescriptionID] == nil {
			covered[r.PrescriptionID] = map[time.Time]bool{}
		}
		covered[r.PrescriptionID][dayOf(r.Day)] = r.Taken >= perDay[r.PrescriptionID]
	}
	var courses []Course
	names := map[uint]string{}
	for _, rx := range rxs {
		last := to
		if l := rx.lastDay(); l != nil && l.Before(to) {
			last = *l
		}
		if last.Before(from) || rx.StartOn.After(to) {
			continue
		}
		courses = append(courses, Course{ID: rx.ID, First: rx.StartOn, Last: last})
		names[rx.ID] = rx.Medicine
	}
	per, overall := PDC(courses, covered, from, to)
	for i := range per {
		per[i].Medicine = names[per[i].PrescriptionID]
	}
	return per, overall, nil
}

// Percent is the PDC as a percentage (pages).
func (a Adherence) Percent() float64 { return a.PDC * 100 }

// ScheduleDoses creates the doses of the organisation's active
// prescriptions on the local days touching [from, to] (what the hourly job
// does; demo data and tests use it).
func (s *Service) ScheduleDoses(ctx context.Context, orgID uint, from, to time.Time) error {
	var rxs []Prescription
	if err := s.db(ctx, orgID).Where("start_on <= ?", to).Find(&rxs).Error; err != nil {
		return err
	}
	return s.st.Tx(ctx, func(tx *gorm.DB) error { return s.scheduleDoses(tx, rxs, from, to) })
}
