package health

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/store"
)

// demo gives the demo customer a care team (with the demo staff member)
// and 90 days of blood pressure, heart rate and weight readings.
func (s *Service) demo(ctx context.Context, d *module.DemoContext) error {
	org, patient, staff := d.Orgs["demo"], d.Users["customer@demo.example"], d.Users["staff@demo.example"]
	if org == 0 || patient == 0 || staff == 0 {
		return nil
	}
	tx := d.Tx.WithContext(ctx)
	db := store.Org(tx, org)
	var n int64
	if err := db.Model(&Team{}).Count(&n).Error; err != nil || n > 0 {
		return err
	}
	care := Team{Name: "Cardiology team"}
	diet := Team{Name: "Nutrition clinic"}
	if err := db.Create(&care).Error; err != nil {
		return err
	}
	if err := db.Create(&diet).Error; err != nil {
		return err
	}
	if err := db.Create(&TeamMember{TeamID: care.ID, StaffID: staff, Role: "GP"}).Error; err != nil {
		return err
	}
	if err := db.Create(&PatientTeam{PatientID: patient, TeamID: care.ID, Link: LinkCare}).Error; err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(16, 2026))
	now := s.now().Truncate(time.Hour)
	if err := s.demoReadings(tx, org, patient, staff, now, rng); err != nil {
		return err
	}
	// The visit 60 days ago set two goals; their status is assessed as the
	// daily job would have done each day since.
	visitOn := dayOf(now.AddDate(0, 0, -60))
	v := Visit{PatientID: patient, ClinicianID: staff, On: visitOn, Notes: "Less salt, a 30-minute walk every day, and measure your blood pressure each morning.",
		PrivateNotes: "Stage 1 hypertension. Review in three months; consider medication if no progress."}
	if err := db.Create(&v).Error; err != nil {
		return err
	}
	bp130, w88 := 130.0, 88.0
	goals := []Goal{
		{PatientID: patient, VisitID: v.ID, SetBy: staff, Measure: "blood_pressure", Code: CodeSystolic, TargetHigh: &bp130, StartOn: visitOn, DueOn: visitOn.AddDate(0, 3, 0), Achievement: AchInProgress, AchievementSince: visitOn},
		{PatientID: patient, VisitID: v.ID, SetBy: staff, Measure: "weight", Code: CodeWeight, TargetHigh: &w88, StartOn: visitOn, DueOn: visitOn.AddDate(0, 4, 0), Achievement: AchInProgress, AchievementSince: visitOn},
	}
	if err := db.Create(&goals).Error; err != nil {
		return err
	}
	if err := s.demoPrescriptions(tx, org, patient, staff, now, rng); err != nil {
		return err
	}
	if err := s.demoDiary(tx, org, patient, now); err != nil {
		return err
	}
	for d := visitOn.AddDate(0, 0, 7); d.Before(dayOf(now)); d = d.AddDate(0, 0, 7) {
		if err := db.Where("patient_id = ?", patient).Find(&goals).Error; err != nil {
			return err
		}
		if err := s.assessGoals(ctx, tx, goals, d); err != nil {
			return err
		}
	}
	return nil
}

// demoDiary: a week of meals (a breakfast most days, so "log again" has
// something to repeat) and the walks the visit asked for, some missed.
func (s *Service) demoDiary(tx *gorm.DB, org, patient uint, now time.Time) error {
	db := store.Org(tx, org)
	f := func(v float64) *float64 { return &v }
	var meals []Meal
	var sessions []ExerciseSession
	for d := 6; d >= 0; d-- {
		day := dayOf(now).AddDate(0, 0, -d)
		if at := day.Add(7 * time.Hour); at.Before(now) {
			meals = append(meals, Meal{PatientID: patient, At: at, Text: "Porridge with a banana", Calories: f(320), Protein: f(10), Carbs: f(58), Fat: f(6)})
		}
		if at := day.Add(12*time.Hour + 30*time.Minute); at.Before(now) && d%3 != 1 {
			meals = append(meals, Meal{PatientID: patient, At: at, Text: "Wholemeal pasta with vegetables", Calories: f(540)})
		}
		if at := day.Add(18 * time.Hour); at.Before(now) && d != 2 && d != 5 {
			steps := 3200 + 150*d
			sessions = append(sessions, ExerciseSession{PatientID: patient, At: at, Type: "walking", Minutes: 30, Intensity: "moderate", Steps: &steps})
		}
	}
	if len(meals) > 0 {
		if err := db.Create(&meals).Error; err != nil {
			return err
		}
	}
	if len(sessions) > 0 {
		return db.Create(&sessions).Error
	}
	return nil
}

// demoPrescriptions: ramipril every morning for 90 days, taken most days
// with a week's gap on holiday; atorvastatin every evening for 60 days,
// often forgotten at weekends.
func (s *Service) demoPrescriptions(tx *gorm.DB, org, patient, staff uint, now time.Time, rng *rand.Rand) error {
	db := store.Org(tx, org)
	loc, err := s.zones(tx, org, []uint{patient})
	if err != nil {
		return err
	}
	today := dayOf(now.In(loc[patient]))
	rxs := []Prescription{
		{PatientID: patient, PrescriberID: staff, Medicine: "Ramipril", Dose: "5 mg", Times: "08:00", StartOn: today.AddDate(0, 0, -90)},
		{PatientID: patient, PrescriberID: staff, Medicine: "Atorvastatin", Dose: "20 mg", Times: "20:00", StartOn: today.AddDate(0, 0, -60)},
	}
	if err := db.Create(&rxs).Error; err != nil {
		return err
	}
	holiday := today.AddDate(0, 0, -40)
	var doses []Dose
	for d := today.AddDate(0, 0, -90); !d.After(today); d = d.AddDate(0, 0, 1) {
		for i, rx := range rxs {
			if !rx.activeOn(d) {
				continue
			}
			due := dueAt(d, rx.Times, loc[patient])
			dose := Dose{PrescriptionID: rx.ID, PatientID: patient, DueAt: due, Day: d, Status: DoseTaken}
			switch {
			case d.Equal(today):
				dose.Status, dose.RemindAt = DoseDue, &due
			case i == 0 && !d.Before(holiday) && d.Before(holiday.AddDate(0, 0, 7)):
				dose.Status = DoseDue // never answered: forgotten on holiday
			case i == 1 && (d.Weekday() == time.Saturday || d.Weekday() == time.Sunday) && rng.IntN(3) > 0,
				rng.IntN(20) == 0:
				dose.Status = DoseSkipped
			}
			if dose.Status != DoseDue {
				answered := due.Add(time.Duration(rng.IntN(40)) * time.Minute)
				dose.AnsweredAt, dose.RemindedAt = &answered, &due
			}
			doses = append(doses, dose)
		}
	}
	if err := db.CreateInBatches(doses, 200).Error; err != nil {
		return err
	}
	return nil
}

// demoReadings writes 90 days of morning readings in a few multi-row
// inserts (the demo runs in every test that builds the demo portal, so it
// skips the per-reading duplicate and alert checks that one source does not
// need): blood pressure falling slowly from about 148/94 towards 132/84, the
// heart rate, and the weight every third day with the BMI from the height.
func (s *Service) demoReadings(tx *gorm.DB, org, patient, staff uint, now time.Time, rng *rand.Rand) error {
	var rows []Observation
	add := func(code string, v float64, at time.Time, src string, group string) {
		o, err := observe(code, v, "", "value")
		if err != nil {
			return
		}
		o.PatientID, o.At, o.Source, o.EnteredBy = patient, at, src, patient
		if group != "" {
			o.Panel, o.Group = CodeBPPanel, group
		}
		if src == SourceClinician {
			o.EnteredBy = staff
		}
		rows = append(rows, *o)
	}
	add(CodeHeight, 178, now.AddDate(0, 0, -90), SourceClinician, "")
	for day := 89; day >= 0; day-- {
		morning := dayOf(now.AddDate(0, 0, -day)).Add(7 * time.Hour)
		if morning.After(now) {
			continue
		}
		trend := float64(89-day) / 89
		sys := math.Round(148 - 16*trend + rng.NormFloat64()*5)
		dia := math.Min(sys-20, math.Round(94-10*trend+rng.NormFloat64()*3))
		group := fmt.Sprintf("bp-%d", morning.Unix())
		add(CodeSystolic, sys, morning, SourcePatient, group)
		add(CodeDiastolic, dia, morning, SourcePatient, group)
		add(CodeHeartRate, math.Round(72+rng.NormFloat64()*5), morning.Add(time.Minute), SourcePatient, "")
		if day%3 == 0 {
			w := math.Round((92-4*trend+rng.NormFloat64()*0.4)*10) / 10
			add(CodeWeight, w, morning.Add(2*time.Minute), SourcePatient, "")
			add(CodeBMI, w/(1.78*1.78), morning.Add(2*time.Minute), SourcePatient, "")
		}
	}
	return store.Org(tx, org).CreateInBatches(rows, 200).Error
}
