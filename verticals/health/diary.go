package health

import (
	"context"
	"errors"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/chart"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// Meal is one entry of the patient's food diary: what they ate, in their
// own words, and optionally its energy and macronutrients.
type Meal struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	PatientID uint      `gorm:"not null;index:health_meals_patient_at" json:"patient_id"`
	At        time.Time `gorm:"not null;index:health_meals_patient_at" json:"at"`
	Text      string    `gorm:"size:500;not null" json:"text"`
	Calories  *float64  `json:"calories,omitempty" doc:"kcal"`
	Protein   *float64  `json:"protein,omitempty" doc:"grams"`
	Carbs     *float64  `json:"carbs,omitempty" doc:"grams"`
	Fat       *float64  `json:"fat,omitempty" doc:"grams"`
	CreatedAt time.Time `json:"created_at"`
}

// TableName keeps the table in the module's namespace.
func (Meal) TableName() string { return "health_meals" }

// ExerciseSession is one session of physical activity the patient logged.
type ExerciseSession struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	PatientID uint      `gorm:"not null;index:health_exercise_patient_at" json:"patient_id"`
	At        time.Time `gorm:"not null;index:health_exercise_patient_at" json:"at"`
	Type      string    `gorm:"size:20;not null" json:"type" doc:"walking, running, cycling, swimming, gym, yoga or other"`
	Minutes   int       `gorm:"not null" json:"minutes"`
	Intensity string    `gorm:"size:10;not null" json:"intensity" doc:"low, moderate or vigorous"`
	Steps     *int      `json:"steps,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// TableName keeps the table in the module's namespace.
func (ExerciseSession) TableName() string { return "health_exercise" }

// ExerciseTypes are the kinds of session a patient picks, in form order,
// with their English labels (translated on pages).
var ExerciseTypes = []struct{ Key, Label string }{
	{"walking", "Walking"}, {"running", "Running"}, {"cycling", "Cycling"}, {"swimming", "Swimming"},
	{"gym", "Gym"}, {"yoga", "Yoga or stretching"}, {"other", "Other activity"},
}

// Intensities of an exercise session.
var Intensities = []string{"low", "moderate", "vigorous"}

// RecommendedWeeklyMinutes is the weekly exercise a summary is measured
// against: the WHO's recommendation for adults (at least 150 minutes of
// moderate activity a week). Goals set at a visit are about LOINC-coded
// readings, and exercise minutes are not one of them.
const RecommendedWeeklyMinutes = 150

// NewMeal is a meal as the patient logs it.
type NewMeal struct {
	Text     string    `json:"text" maxLength:"500" doc:"what you ate"`
	Calories *float64  `json:"calories,omitempty" doc:"kcal, 0 to 10000"`
	Protein  *float64  `json:"protein,omitempty" doc:"grams, 0 to 1000"`
	Carbs    *float64  `json:"carbs,omitempty" doc:"grams, 0 to 1000"`
	Fat      *float64  `json:"fat,omitempty" doc:"grams, 0 to 1000"`
	At       time.Time `json:"at,omitempty" doc:"when; empty means now"`
}

// NewSession is an exercise session as the patient logs it.
type NewSession struct {
	Type      string    `json:"type" doc:"walking, running, cycling, swimming, gym, yoga or other"`
	Minutes   int       `json:"minutes" doc:"duration in minutes, 1 to 1440"`
	Intensity string    `json:"intensity" doc:"low, moderate or vigorous"`
	Steps     *int      `json:"steps,omitempty" doc:"steps counted during the session"`
	At        time.Time `json:"at,omitempty" doc:"when it started; empty means now"`
}

// diaryTime checks the time of a diary entry: not in the future, within
// the last year.
func diaryTime(at, now time.Time) (time.Time, error) {
	if at.IsZero() {
		at = now
	}
	at = at.UTC().Truncate(time.Second)
	if at.After(now.Add(5 * time.Minute)) {
		return at, errs.InvalidField("body.at", "The time cannot be in the future.")
	}
	if at.Before(now.AddDate(-1, 0, 0)) {
		return at, errs.InvalidField("body.at", "The time must be within the last year.")
	}
	return at, nil
}

func (in NewMeal) meal(now time.Time) (*Meal, error) {
	text := strings.TrimSpace(in.Text)
	if n := utf8.RuneCountInString(text); n == 0 || n > 500 {
		return nil, errs.InvalidField("body.text", "Say what you ate (up to 500 characters).")
	}
	if c := in.Calories; c != nil && (math.IsNaN(*c) || *c < 0 || *c > 10000) {
		return nil, errs.InvalidField("body.calories", "Calories must be between 0 and 10000 kcal.")
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"protein", in.Protein}, {"carbs", in.Carbs}, {"fat", in.Fat}} {
		if f.v != nil && (math.IsNaN(*f.v) || *f.v < 0 || *f.v > 1000) {
			return nil, errs.InvalidField("body."+f.name, "Grams must be between 0 and 1000.")
		}
	}
	at, err := diaryTime(in.At, now)
	if err != nil {
		return nil, err
	}
	return &Meal{At: at, Text: text, Calories: in.Calories, Protein: in.Protein, Carbs: in.Carbs, Fat: in.Fat}, nil
}

func (in NewSession) session(now time.Time) (*ExerciseSession, error) {
	known := false
	for _, t := range ExerciseTypes {
		known = known || t.Key == in.Type
	}
	if !known {
		return nil, errs.InvalidField("body.type", "Choose an activity: walking, running, cycling, swimming, gym, yoga or other.")
	}
	if in.Minutes < 1 || in.Minutes > 24*60 {
		return nil, errs.InvalidField("body.minutes", "The duration must be between 1 minute and 24 hours.")
	}
	known = false
	for _, i := range Intensities {
		known = known || i == in.Intensity
	}
	if !known {
		return nil, errs.InvalidField("body.intensity", "Choose an intensity: low, moderate or vigorous.")
	}
	if in.Steps != nil && (*in.Steps < 0 || *in.Steps > 150000) {
		return nil, errs.InvalidField("body.steps", "Steps must be between 0 and 150000.")
	}
	at, err := diaryTime(in.At, now)
	if err != nil {
		return nil, err
	}
	return &ExerciseSession{At: at, Type: in.Type, Minutes: in.Minutes, Intensity: in.Intensity, Steps: in.Steps}, nil
}

// ownDiary lets only the patient write their diary: their team reads it,
// others do not reach it at all.
func (s *Service) ownDiary(ctx context.Context, p *accounts.Principal, patientID uint) error {
	if self(p, patientID) {
		return nil
	}
	if _, err := s.reach(ctx, p, patientID); err != nil {
		return err
	}
	return errs.Forbiddenf("only the patient keeps their food and exercise diary")
}

// AddMeal logs a meal in the patient's diary (the patient).
func (s *Service) AddMeal(ctx context.Context, p *accounts.Principal, patientID uint, in NewMeal) (*Meal, error) {
	if err := s.ownDiary(ctx, p, patientID); err != nil {
		return nil, err
	}
	m, err := in.meal(s.now())
	if err != nil {
		return nil, err
	}
	m.PatientID = patientID
	return m, s.db(ctx, p.OrgID).Create(m).Error
}

// RelogMeal logs one of the patient's meals again, now: the same food and
// numbers in one tap.
func (s *Service) RelogMeal(ctx context.Context, p *accounts.Principal, mealID uint) (*Meal, error) {
	var m Meal
	if err := s.ownEntry(ctx, p, mealID, &m); err != nil {
		return nil, err
	}
	again := Meal{PatientID: m.PatientID, At: s.now().UTC().Truncate(time.Second), Text: m.Text,
		Calories: m.Calories, Protein: m.Protein, Carbs: m.Carbs, Fat: m.Fat}
	return &again, s.db(ctx, p.OrgID).Create(&again).Error
}

// ownEntry loads a diary row of the calling patient; anyone else's is not
// found.
func (s *Service) ownEntry(ctx context.Context, p *accounts.Principal, id uint, row any) error {
	if p == nil || p.Role != accounts.Customer {
		return errs.NotFoundf("diary entry not found")
	}
	err := s.db(ctx, p.OrgID).Where("id = ? AND patient_id = ?", id, p.UserID).First(row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return errs.NotFoundf("diary entry not found")
	}
	return err
}

// DeleteMeal removes one of the patient's meals.
func (s *Service) DeleteMeal(ctx context.Context, p *accounts.Principal, mealID uint) error {
	var m Meal
	if err := s.ownEntry(ctx, p, mealID, &m); err != nil {
		return err
	}
	return s.db(ctx, p.OrgID).Delete(&m).Error
}

// AddSession logs an exercise session (the patient).
func (s *Service) AddSession(ctx context.Context, p *accounts.Principal, patientID uint, in NewSession) (*ExerciseSession, error) {
	if err := s.ownDiary(ctx, p, patientID); err != nil {
		return nil, err
	}
	e, err := in.session(s.now())
	if err != nil {
		return nil, err
	}
	e.PatientID = patientID
	return e, s.db(ctx, p.OrgID).Create(e).Error
}

// DeleteSession removes one of the patient's exercise sessions.
func (s *Service) DeleteSession(ctx context.Context, p *accounts.Principal, id uint) error {
	var e ExerciseSession
	if err := s.ownEntry(ctx, p, id, &e); err != nil {
		return err
	}
	return s.db(ctx, p.OrgID).Delete(&e).Error
}

// DiaryDays is how many local days the diary shows and lists by default:
// today and the six before (a week).
const DiaryDays = 7

// diaryFrom is the start of the first local day of the last n days.
func (s *Service) diaryFrom(loc *time.Location, days int) time.Time {
	now := s.now().In(loc)
	y, m, d := now.Date()
	return time.Date(y, m, d-(days-1), 0, 0, 0, 0, loc).UTC()
}

func clampDays(days int) int {
	if days <= 0 {
		return DiaryDays
	}
	return min(days, 90)
}

// Meals lists a patient's meals of the last days local days (a week by
// default), newest first; a read by staff is logged.
func (s *Service) Meals(ctx context.Context, p *accounts.Principal, patientID uint, days int) ([]Meal, error) {
	if _, err := s.read(ctx, p, patientID, "food diary"); err != nil {
		return nil, err
	}
	from := s.diaryFrom(s.zoneOf(ctx, p.OrgID, patientID), clampDays(days))
	out := []Meal{}
	return out, s.db(ctx, p.OrgID).Where("patient_id = ? AND at >= ?", patientID, from).Order("at DESC, id DESC").Limit(1000).Find(&out).Error
}

// Sessions lists a patient's exercise sessions of the last days local
// days, newest first; a read by staff is logged.
func (s *Service) Sessions(ctx context.Context, p *accounts.Principal, patientID uint, days int) ([]ExerciseSession, error) {
	if _, err := s.read(ctx, p, patientID, "exercise diary"); err != nil {
		return nil, err
	}
	return s.sessions(ctx, p.OrgID, patientID, s.diaryFrom(s.zoneOf(ctx, p.OrgID, patientID), clampDays(days)))
}

func (s *Service) sessions(ctx context.Context, orgID, patientID uint, from time.Time) ([]ExerciseSession, error) {
	out := []ExerciseSession{}
	return out, s.db(ctx, orgID).Where("patient_id = ? AND at >= ?", patientID, from).Order("at DESC, id DESC").Limit(1000).Find(&out).Error
}

// DaySummary is one local day of the weekly summary.
type DaySummary struct {
	Day     time.Time `json:"day"`
	Minutes int       `json:"minutes" doc:"minutes of exercise"`
	// Steps is the day's step counter reading (41950-7) when there is one,
	// else the sum of the day's sessions' steps; absent when neither.
	Steps *float64 `json:"steps,omitempty"`
}

// WeekSummary is the last seven local days of exercise against the goals.
type WeekSummary struct {
	Days []DaySummary `json:"days"`
	// Minutes is the week's exercise; MinutesGoal what it is measured
	// against (RecommendedWeeklyMinutes).
	Minutes     int `json:"minutes"`
	MinutesGoal int `json:"minutes_goal"`
	// StepsGoal is the lower end of the newest steps goal, if the patient
	// has one; StepsMean the mean of the days with steps; DaysStepsMet the
	// days at or above the goal.
	StepsGoal    *float64    `json:"steps_goal,omitempty"`
	StepsMean    *float64    `json:"steps_mean,omitempty"`
	DaysStepsMet int         `json:"days_steps_met"`
	Exercise     chart.Chart `json:"exercise_chart"`
	Steps        chart.Chart `json:"steps_chart"`
}

// WeeklySummary sums a patient's last seven local days (today included):
// exercise minutes per day and in all against the recommended weekly
// minutes, and steps per day against the newest steps goal. A read by
// staff is logged.
func (s *Service) WeeklySummary(ctx context.Context, p *accounts.Principal, patientID uint) (*WeekSummary, error) {
	if _, err := s.read(ctx, p, patientID, "exercise summary"); err != nil {
		return nil, err
	}
	loc := s.zoneOf(ctx, p.OrgID, patientID)
	from := s.diaryFrom(loc, DiaryDays)
	sess, err := s.sessions(ctx, p.OrgID, patientID, from)
	if err != nil {
		return nil, err
	}
	var obs []Observation
	if err := s.db(ctx, p.OrgID).Select("code, at, value").
		Where("patient_id = ? AND code = ? AND duplicate_of = 0 AND at >= ?", patientID, CodeSteps, from).Find(&obs).Error; err != nil {
		return nil, err
	}
	var goal Goal
	if err := s.db(ctx, p.OrgID).Where("patient_id = ? AND measure = ?", patientID, "steps").Order("start_on DESC, id DESC").Limit(1).Find(&goal).Error; err != nil {
		return nil, err
	}
	out := &WeekSummary{MinutesGoal: RecommendedWeeklyMinutes}
	if goal.ID != 0 && goal.TargetLow != nil {
		out.StepsGoal = goal.TargetLow
	}
	index := map[time.Time]int{}
	first := dayOf(from.In(loc))
	for i := range DiaryDays {
		d := first.AddDate(0, 0, i)
		index[d] = i
		out.Days = append(out.Days, DaySummary{Day: d})
	}
	sessionSteps := make([]*float64, DiaryDays)
	for _, e := range sess {
		i, ok := index[dayOf(e.At.In(loc))]
		if !ok {
			continue
		}
		out.Days[i].Minutes += e.Minutes
		out.Minutes += e.Minutes
		if e.Steps != nil {
			v := float64(*e.Steps)
			if sessionSteps[i] != nil {
				v += *sessionSteps[i]
			}
			sessionSteps[i] = &v
		}
	}
	counter := map[time.Time]float64{}
	for _, dv := range dailyValues(obs, loc, true) {
		counter[dv.Day] = dv.Value
	}
	var sum float64
	n := 0
	for i := range out.Days {
		if v, ok := counter[out.Days[i].Day]; ok {
			out.Days[i].Steps = &v
		} else {
			out.Days[i].Steps = sessionSteps[i]
		}
		if st := out.Days[i].Steps; st != nil {
			sum += *st
			n++
			if out.StepsGoal != nil && *st >= *out.StepsGoal {
				out.DaysStepsMet++
			}
		}
	}
	if n > 0 {
		m := math.Round(sum / float64(n))
		out.StepsMean = &m
	}
	labels := make([]string, DiaryDays)
	minutes, steps := make([]float64, DiaryDays), make([]float64, DiaryDays)
	for i, d := range out.Days {
		labels[i] = d.Day.Format("2006-01-02")
		minutes[i] = float64(d.Minutes)
		steps[i] = math.NaN()
		if d.Steps != nil {
			steps[i] = *d.Steps
		}
	}
	out.Exercise = chart.Chart{Kind: chart.Bar, Title: "Exercise this week", LabelHeader: "Day", ValueName: "Exercise", Unit: "min",
		Labels: labels, Series: []chart.Series{{Name: "Minutes of exercise", Values: minutes}}}
	out.Steps = chart.Chart{Kind: chart.Line, Title: "Steps this week", LabelHeader: "Day", ValueName: "Steps",
		Labels: append([]string(nil), labels...), Series: []chart.Series{{Name: "Steps", Values: steps}}}
	if out.StepsGoal != nil {
		flat := make([]float64, DiaryDays)
		for i := range flat {
			flat[i] = *out.StepsGoal
		}
		out.Steps.Series = append(out.Steps.Series, chart.Series{Name: "Goal: at least", Values: flat})
	}
	return out, nil
}
