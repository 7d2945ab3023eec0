package health

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/i18n"
	"github.com/portalkit/portalkit/core/web"
)

// DiaryDay is one local day of the diary page.
type DiaryDay struct {
	Day      time.Time
	Today    bool
	Meals    []MealRow
	Sessions []SessionRow
}

// MealRow is a meal as the page shows it: numbers formatted, absent ones
// empty.
type MealRow struct {
	ID                            uint
	Text                          string
	At                            time.Time
	Calories, Protein, Carbs, Fat string
}

// SessionRow is an exercise session as the page shows it.
type SessionRow struct {
	ID                     uint
	Type, Intensity, Steps string
	Minutes                int
	At                     time.Time
}

func optNum(num func(float64, int) string, v *float64) string {
	if v == nil {
		return ""
	}
	return num(*v, 0)
}

func typeLabel(key string) string {
	for _, t := range ExerciseTypes {
		if t.Key == key {
			return t.Label
		}
	}
	return "Other activity"
}

// formOptional reads an optional number (decimal comma accepted); empty
// is nil.
func formOptional(c *fiber.Ctx, name string) (*float64, error) {
	if strings.TrimSpace(c.FormValue(name)) == "" {
		return nil, nil
	}
	v, err := formNumber(c, name, true)
	return &v, err
}

// formTime reads an optional local date and time from the form field
// name (meal_at, exercise_at: the page has both forms, so their IDs
// differ).
func formTime(c *fiber.Ctx, p *accounts.Principal, name string) (time.Time, error) {
	at := strings.TrimSpace(c.FormValue(name))
	if at == "" {
		return time.Time{}, nil
	}
	loc := time.UTC
	if l, e := time.LoadLocation(p.TimeZone); e == nil && p.TimeZone != "" {
		loc = l
	}
	t, err := time.ParseInLocation("2006-01-02T15:04", at, loc)
	if err != nil {
		return t, errs.InvalidField("body."+name, "Give the date and time, or leave it empty for now.")
	}
	return t, nil
}

// atField names the form's time field in a service error about body.at.
func atField(err error, name string) error {
	if e, ok := errs.As(err); ok && len(e.Fields) == 1 && e.Fields[0].Field == "body.at" {
		return errs.InvalidField("body."+name, e.Fields[0].Message)
	}
	return err
}

func (s *Service) diaryPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	ctx := c.UserContext()
	patientID := p.UserID
	if c.Params("id") != "" {
		id, err := web.PathID(c, "id")
		if err != nil {
			return err
		}
		patientID = id
	}
	meals, err := s.Meals(ctx, p, patientID, DiaryDays)
	if err != nil {
		return err
	}
	sessions, err := s.Sessions(ctx, p, patientID, DiaryDays)
	if err != nil {
		return err
	}
	week, err := s.WeeklySummary(ctx, p, patientID)
	if err != nil {
		return err
	}
	loc := s.zoneOf(ctx, p.OrgID, patientID)
	days := make([]DiaryDay, DiaryDays)
	index := map[time.Time]int{}
	for i := range days {
		d := week.Days[DiaryDays-1-i].Day
		days[i] = DiaryDay{Day: d, Today: i == 0}
		index[d] = i
	}
	num := numberer(p.Locale)
	for _, m := range meals {
		if i, ok := index[dayOf(m.At.In(loc))]; ok {
			days[i].Meals = append(days[i].Meals, MealRow{ID: m.ID, Text: m.Text, At: m.At, Calories: optNum(num, m.Calories),
				Protein: optNum(num, m.Protein), Carbs: optNum(num, m.Carbs), Fat: optNum(num, m.Fat)})
		}
	}
	for _, e := range sessions {
		if i, ok := index[dayOf(e.At.In(loc))]; ok {
			row := SessionRow{ID: e.ID, Type: typeLabel(e.Type), Intensity: e.Intensity, Minutes: e.Minutes, At: e.At}
			if e.Steps != nil {
				row.Steps = num(float64(*e.Steps), 0)
			}
			days[i].Sessions = append(days[i].Sessions, row)
		}
	}
	stepsMean := ""
	if week.StepsMean != nil {
		stepsMean = num(*week.StepsMean, 0)
	}
	for _, ch := range []*[]string{&week.Exercise.Labels, &week.Steps.Labels} {
		for i, l := range *ch {
			if d, err := time.Parse("2006-01-02", l); err == nil {
				(*ch)[i] = i18n.FormatDate(p.Locale, d, time.UTC)
			}
		}
	}
	return render(c, "diary", "Food and exercise diary", map[string]any{"Days": days, "Week": week, "Staff": p.Role != accounts.Customer,
		"PatientID": patientID, "StepsMean": stepsMean, "HasStepsGoal": week.StepsGoal != nil, "Types": ExerciseTypes, "Intensities": Intensities, "Form": formValues(c)})
}

func (s *Service) mealSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	in := NewMeal{Text: c.FormValue("text")}
	var err error
	for _, f := range []struct {
		name string
		dst  **float64
	}{{"calories", &in.Calories}, {"protein", &in.Protein}, {"carbs", &in.Carbs}, {"fat", &in.Fat}} {
		if *f.dst, err = formOptional(c, f.name); err != nil {
			return failed(c, err, s.diaryPage)
		}
	}
	if in.At, err = formTime(c, p, "meal_at"); err != nil {
		return failed(c, err, s.diaryPage)
	}
	if _, err := s.AddMeal(c.UserContext(), p, p.UserID, in); err != nil {
		return failed(c, atField(err, "meal_at"), s.diaryPage)
	}
	return c.Redirect("/m/health/diary?msg=meal", fiber.StatusSeeOther)
}

func (s *Service) mealAgainSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.RelogMeal(c.UserContext(), p, id); err != nil {
		return err
	}
	return c.Redirect("/m/health/diary?msg=meal", fiber.StatusSeeOther)
}

func (s *Service) mealDeleteSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.DeleteMeal(c.UserContext(), p, id); err != nil {
		return err
	}
	return c.Redirect("/m/health/diary?msg=deleted", fiber.StatusSeeOther)
}

func (s *Service) sessionSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	in := NewSession{Type: c.FormValue("type"), Intensity: c.FormValue("intensity")}
	minutes, err := strconv.Atoi(strings.TrimSpace(c.FormValue("minutes")))
	if err != nil {
		return failed(c, errs.InvalidField("body.minutes", "Type the minutes as a whole number, such as 30."), s.diaryPage)
	}
	in.Minutes = minutes
	if v := strings.TrimSpace(c.FormValue("steps")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return failed(c, errs.InvalidField("body.steps", "Type the steps as a whole number, such as 4000."), s.diaryPage)
		}
		in.Steps = &n
	}
	if in.At, err = formTime(c, p, "exercise_at"); err != nil {
		return failed(c, err, s.diaryPage)
	}
	if _, err := s.AddSession(c.UserContext(), p, p.UserID, in); err != nil {
		return failed(c, atField(err, "exercise_at"), s.diaryPage)
	}
	return c.Redirect("/m/health/diary?msg=exercise", fiber.StatusSeeOther)
}

func (s *Service) sessionDeleteSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.DeleteSession(c.UserContext(), p, id); err != nil {
		return err
	}
	return c.Redirect("/m/health/diary?msg=deleted", fiber.StatusSeeOther)
}
