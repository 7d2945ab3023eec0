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

func (s *Service) mountPages(r fiber.Router) {
	acc := s.acc
	cust := acc.RequirePage(accounts.Customer)
	clin := acc.RequirePage(accounts.Staff, accounts.Admin)
	adm := acc.RequirePage(accounts.Admin)
	r.Get("/", acc.RequirePage(), s.homePage)
	r.Post("/readings", cust, s.readingSubmit)
	r.Get("/access", cust, s.accessPage)
	r.Get("/trends", cust, s.trendsPage)
	r.Get("/export", cust, s.exportDownload)
	r.Get("/patients/:id/trends", clin, s.trendsPage)
	r.Get("/diary", cust, s.diaryPage)
	r.Post("/diary/meals", cust, s.mealSubmit)
	r.Post("/diary/meals/:id/again", cust, s.mealAgainSubmit)
	r.Post("/diary/meals/:id/delete", cust, s.mealDeleteSubmit)
	r.Post("/diary/exercise", cust, s.sessionSubmit)
	r.Post("/diary/exercise/:id/delete", cust, s.sessionDeleteSubmit)
	r.Get("/patients/:id/diary", clin, s.diaryPage)
	r.Post("/shares", cust, s.shareSubmit)
	r.Post("/shares/:team/withdraw", cust, s.withdrawSubmit)
	r.Get("/patients", clin, s.patientsPage)
	r.Post("/break-glass", clin, s.breakGlassSubmit)
	r.Get("/patients/:id", clin, s.patientPage)
	r.Post("/patients/:id/readings", clin, s.clinicianReadingSubmit)
	r.Post("/patients/:id/visits", clin, s.visitSubmit)
	r.Post("/patients/:id/prescriptions", clin, s.prescribeSubmit)
	r.Post("/prescriptions/:id/stop", clin, s.stopSubmit)
	r.Get("/doses/:id", cust, s.dosePage)
	r.Post("/doses/:id", cust, s.doseSubmit)
	r.Get("/admin", adm, s.adminPage)
	r.Post("/admin/teams", adm, s.teamSubmit)
	r.Post("/admin/members", adm, s.memberSubmit)
	r.Post("/admin/care-team", adm, s.careTeamSubmit)
}

var flash = map[string]string{
	"saved":     "Your reading is saved.",
	"duplicate": "Your reading is saved; it matches one already sent by another source, so it is counted once.",
	"shared":    "The team can now see your health data.",
	"withdrawn": "The team can no longer see your health data.",
	"team":      "The care team is saved.",
	"member":    "The clinician is in the team.",
	"care":      "The patient's care team is set.",
	"visit":     "The visit is recorded.",
	"rx":        "The prescription is saved.",
	"stopped":   "The prescription is stopped from today.",
	"taken":     "Noted: dose taken.",
	"skipped":   "Noted: dose skipped.",
	"later":     "We will remind you again in 30 minutes.",
	"meal":      "The meal is in your diary.",
	"exercise":  "The exercise is in your diary.",
	"deleted":   "Deleted from your diary.",
	"glass":     "Emergency access is open for one hour. The patient and the admins can see it.",
}

type pageErr struct {
	Message string
	Fields  map[string]string
}

func render(c *fiber.Ctx, name, title string, data map[string]any) error {
	page := &web.Page{Title: title, Data: data}
	if m, ok := flash[c.Query("msg")]; ok {
		page.Flash, page.FlashKind = m, "ok"
	}
	if pe, ok := c.Locals("health.err").(*pageErr); ok {
		page.Flash, page.FlashKind = pe.Message, "error"
		data["Errors"] = pe.Fields
		c.Status(fiber.StatusUnprocessableEntity)
	}
	if data["Errors"] == nil {
		data["Errors"] = map[string]string{}
	}
	return web.RenderPage(c, "health/"+name, page)
}

// failed shows a user error on the page it came from (422); not found,
// forbidden and internal errors go up to the error page.
func failed(c *fiber.Ctx, err error, again fiber.Handler) error {
	e, ok := errs.As(err)
	if !ok || e.Kind == errs.Internal || e.Kind == errs.NotFound || e.Kind == errs.Forbidden {
		return err
	}
	pe := &pageErr{Message: e.Message, Fields: map[string]string{}}
	for _, f := range e.Fields {
		pe.Fields[strings.TrimPrefix(strings.TrimPrefix(f.Field, "body."), "goals[0].")] = f.Message
	}
	if len(e.Fields) == 1 {
		pe.Message = e.Fields[0].Message
	}
	c.Locals("health.err", pe)
	return again(c)
}

func formUint(c *fiber.Ctx, name string) uint {
	n, _ := strconv.ParseUint(strings.TrimSpace(c.FormValue(name)), 10, 64)
	return uint(n)
}

// formNumber reads a number typed with a dot or a decimal comma.
func formNumber(c *fiber.Ctx, name string, required bool) (float64, error) {
	v := strings.TrimSpace(strings.ReplaceAll(c.FormValue(name), ",", "."))
	if v == "" && !required {
		return 0, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, errs.InvalidField("body."+name, "Type a number, such as 72 or 36.8.")
	}
	return f, nil
}

// formReading reads the one-line entry form: what, value (and diastolic),
// unit, and an optional local time.
func formReading(c *fiber.Ctx, p *accounts.Principal) (NewReading, error) {
	r := NewReading{Kind: c.FormValue("kind"), Unit: c.FormValue("unit")}
	var err error
	if r.Value, err = formNumber(c, "value", true); err != nil {
		return r, err
	}
	if r.Kind == "blood_pressure" {
		if r.Diastolic, err = formNumber(c, "diastolic", true); err != nil {
			return r, err
		}
	}
	if r.Kind != "weight" && r.Kind != "temperature" && r.Kind != "glucose" && r.Kind != "height" {
		r.Unit = ""
	}
	if at := strings.TrimSpace(c.FormValue("at")); at != "" {
		loc := time.UTC
		if l, e := time.LoadLocation(p.TimeZone); e == nil && p.TimeZone != "" {
			loc = l
		}
		t, e := time.ParseInLocation("2006-01-02T15:04", at, loc)
		if e != nil {
			return r, errs.InvalidField("body.at", "Give the date and time of the reading, or leave it empty for now.")
		}
		r.At = t
	}
	return r, nil
}

// VitalRow is one observation as a page shows it.
type VitalRow struct {
	Code, Label, Value, Unit, Flag, Source string
	At                                     time.Time
	Counted                                bool
}

// unitLabels are the UCUM units as people read them (translated).
var unitLabels = map[string]string{"mm[Hg]": "mmHg", "/min": "bpm", "Cel": "°C", "/d": "steps", "kg/m2": "kg/m²", "%": "%", "kg": "kg", "cm": "cm", "mg/dL": "mg/dL"}

func (s *Service) rows(page func(float64, int) string, obs []Observation) []VitalRow {
	out := make([]VitalRow, 0, len(obs))
	for i := 0; i < len(obs); i++ {
		o := obs[i]
		v := Vitals[o.Code]
		row := VitalRow{Code: o.Code, Label: v.Name, Value: page(o.Value, v.Decimals), Unit: unitLabels[v.Unit], Flag: o.Flag, Source: o.Source, At: o.At, Counted: o.DuplicateOf == 0}
		// The two components of a blood-pressure reading show as one row.
		if o.Panel == CodeBPPanel && i+1 < len(obs) && obs[i+1].Group == o.Group && obs[i+1].Source == o.Source {
			sys, dia := o, obs[i+1]
			if sys.Code != CodeSystolic {
				sys, dia = dia, sys
			}
			row.Label, row.Value = "Blood pressure", page(sys.Value, 0)+"/"+page(dia.Value, 0)
			if row.Flag == "" {
				row.Flag = obs[i+1].Flag
			}
			i++
		}
		out = append(out, row)
	}
	return out
}

func numberer(lang string) func(float64, int) string {
	p := &web.Page{Lang: lang}
	return p.Num
}

func (s *Service) homePage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	if p.Role != accounts.Customer {
		return c.Redirect("/m/health/patients", fiber.StatusSeeOther)
	}
	ctx := c.UserContext()
	obs, err := s.Observations(ctx, p, p.UserID, ObservationFilter{Limit: 30})
	if err != nil {
		return err
	}
	goals, err := s.Goals(ctx, p, p.UserID)
	if err != nil {
		return err
	}
	visits, err := s.Visits(ctx, p, p.UserID)
	if err != nil {
		return err
	}
	doses, err := s.TodaysDoses(ctx, p, p.UserID)
	if err != nil {
		return err
	}
	data := map[string]any{"Recent": s.rows(numberer(p.Locale), obs), "Kinds": Kinds, "Form": formValues(c), "Goals": goalRows(numberer(p.Locale), goals, s.now()), "Doses": doses}
	if len(visits) > 0 {
		data["Visit"] = visits[0]
	}
	return render(c, "home", "My health", data)
}

func formValues(c *fiber.Ctx) map[string]string {
	m := map[string]string{}
	for _, k := range []string{"kind", "value", "diastolic", "unit", "at", "reason", "email", "notes", "private_notes", "measure", "target_low", "target_high", "due_on", "on", "medicine", "dose", "times", "start_on", "end_on", "text", "calories", "protein", "carbs", "fat", "type", "minutes", "intensity", "steps", "meal_at", "exercise_at"} {
		m[k] = c.FormValue(k)
	}
	if m["kind"] == "" {
		m["kind"] = "blood_pressure"
	}
	return m
}

func (s *Service) readingSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	r, err := formReading(c, p)
	if err != nil {
		return failed(c, err, s.homePage)
	}
	stored, err := s.RecordFor(c.UserContext(), p, p.UserID, r)
	if err != nil {
		return failed(c, err, s.homePage)
	}
	msg := "saved"
	if len(stored) > 0 && stored[0].DuplicateOf != 0 {
		msg = "duplicate"
	}
	return c.Redirect("/m/health/?msg="+msg, fiber.StatusSeeOther)
}

func (s *Service) accessPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	ctx := c.UserContext()
	log, err := s.AccessLog(ctx, p, p.UserID, 200)
	if err != nil {
		return err
	}
	mine, err := s.TeamsOfPatient(ctx, p, p.UserID)
	if err != nil {
		return err
	}
	all, err := s.Teams(ctx, p)
	if err != nil {
		return err
	}
	linked := map[uint]bool{}
	for _, t := range mine {
		linked[t.TeamID] = true
	}
	var others []TeamView
	for _, t := range all {
		if !linked[t.ID] {
			others = append(others, t)
		}
	}
	return render(c, "access", "Who saw my data", map[string]any{"Log": log, "Mine": mine, "Others": others})
}

func (s *Service) shareSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	if err := s.Share(c.UserContext(), p, p.UserID, formUint(c, "team_id")); err != nil {
		return failed(c, err, s.accessPage)
	}
	return c.Redirect("/m/health/access?msg=shared", fiber.StatusSeeOther)
}

func (s *Service) withdrawSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "team")
	if err != nil {
		return err
	}
	if err := s.Withdraw(c.UserContext(), p, p.UserID, id); err != nil {
		return err
	}
	return c.Redirect("/m/health/access?msg=withdrawn", fiber.StatusSeeOther)
}

func (s *Service) patientsPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	ps, err := s.Patients(c.UserContext(), p)
	if err != nil {
		return err
	}
	panel, err := s.PanelOf(c.UserContext(), p)
	if err != nil {
		return err
	}
	return render(c, "patients", "Patients", map[string]any{"Patients": ps, "Alerts": panel.Alerts, "Panel": panel, "Form": formValues(c)})
}

func (s *Service) breakGlassSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	ctx := c.UserContext()
	email := strings.ToLower(strings.TrimSpace(c.FormValue("email")))
	u, err := s.acc.UserByEmail(ctx, p.OrgID, email)
	if err != nil || u.Role != accounts.Customer {
		return failed(c, errs.InvalidField("body.email", "No patient of this organisation has that e-mail address."), s.patientsPage)
	}
	if _, err := s.OpenBreakGlass(ctx, p, u.ID, c.FormValue("reason")); err != nil {
		if errs.Is(err, errs.Conflict) {
			return c.Redirect("/m/health/patients/"+itoa(u.ID), fiber.StatusSeeOther)
		}
		return failed(c, err, s.patientsPage)
	}
	return c.Redirect("/m/health/patients/"+itoa(u.ID)+"?msg=glass", fiber.StatusSeeOther)
}

func (s *Service) patientPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	ctx := c.UserContext()
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	g, err := s.read(ctx, p, id, "vital signs")
	if err != nil {
		return err
	}
	u, err := s.acc.UserByID(ctx, p.OrgID, id)
	if err != nil {
		return errs.NotFoundf("patient not found")
	}
	obs, err := s.observations(ctx, p.OrgID, id, ObservationFilter{Limit: 60})
	if err != nil {
		return err
	}
	goals, err := s.goals(ctx, p.OrgID, id)
	if err != nil {
		return err
	}
	var visits []Visit
	if err := s.db(ctx, p.OrgID).Where("patient_id = ?", id).Order("visited_on DESC, id DESC").Limit(5).Find(&visits).Error; err != nil {
		return err
	}
	rxs, err := s.prescriptions(ctx, p.OrgID, id)
	if err != nil {
		return err
	}
	per, overall, err := s.adherence(ctx, p.OrgID, id, 30)
	if err != nil {
		return err
	}
	pdc := map[uint]Adherence{}
	for _, a := range per {
		pdc[a.PrescriptionID] = a
	}
	return render(c, "patient", "Patient", map[string]any{"Patient": u, "Grant": g, "Recent": s.rows(numberer(p.Locale), obs), "Kinds": Kinds,
		"Form": formValues(c), "Goals": goalRows(numberer(p.Locale), goals, s.now()), "Visits": visits, "Measures": measureOptions(), "Today": s.now().Format("2006-01-02"),
		"Prescriptions": rxs, "PDC": pdc, "Overall": overall})
}

func (s *Service) clinicianReadingSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	r, err := formReading(c, p)
	if err != nil {
		return failed(c, err, s.patientPage)
	}
	if _, err := s.RecordFor(c.UserContext(), p, id, r); err != nil {
		return failed(c, err, s.patientPage)
	}
	return c.Redirect("/m/health/patients/"+itoa(id)+"?msg=saved", fiber.StatusSeeOther)
}

func (s *Service) adminPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	ctx := c.UserContext()
	teams, err := s.Teams(ctx, p)
	if err != nil {
		return err
	}
	bgs, err := s.BreakGlasses(ctx, p, 50)
	if err != nil {
		return err
	}
	var staff, patients []accounts.User
	if err := s.db(ctx, p.OrgID).Where("role IN ? AND disabled_at IS NULL", []accounts.Role{accounts.Staff, accounts.Admin}).Order("name").Limit(500).Find(&staff).Error; err != nil {
		return err
	}
	if err := s.db(ctx, p.OrgID).Where("role = ? AND disabled_at IS NULL", accounts.Customer).Order("name").Limit(500).Find(&patients).Error; err != nil {
		return err
	}
	return render(c, "admin", "Care teams", map[string]any{"Teams": teams, "BreakGlass": bgs, "Staff": staff, "Patients": patients, "Now": s.now()})
}

func (s *Service) teamSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	if _, err := s.CreateTeam(c.UserContext(), p, c.FormValue("name")); err != nil {
		return failed(c, err, s.adminPage)
	}
	return c.Redirect("/m/health/admin?msg=team", fiber.StatusSeeOther)
}

func (s *Service) memberSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	if err := s.AddMember(c.UserContext(), p, formUint(c, "team_id"), formUint(c, "staff_id"), c.FormValue("role")); err != nil {
		if errs.Is(err, errs.NotFound) {
			err = errs.InvalidField("body.team_id", "Choose one of the care teams.")
		}
		return failed(c, err, s.adminPage)
	}
	return c.Redirect("/m/health/admin?msg=member", fiber.StatusSeeOther)
}

func (s *Service) careTeamSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	if err := s.SetCareTeam(c.UserContext(), p, formUint(c, "patient_id"), formUint(c, "team_id")); err != nil {
		if errs.Is(err, errs.NotFound) {
			err = errs.InvalidField("body.patient_id", "Choose a patient.")
		}
		return failed(c, err, s.adminPage)
	}
	return c.Redirect("/m/health/admin?msg=care", fiber.StatusSeeOther)
}

type option struct{ Key, Label string }

func measureOptions() []option {
	out := make([]option, 0, len(MeasureKeys))
	for _, k := range MeasureKeys {
		out = append(out, option{k, measures[k].Label})
	}
	return out
}

func formDate(c *fiber.Ctx, name string) (time.Time, error) {
	v := strings.TrimSpace(c.FormValue(name))
	t, err := time.Parse("2006-01-02", v)
	if err != nil {
		return t, errs.InvalidField("body."+name, "Give a date.")
	}
	return t, nil
}

// visitSubmit records a visit with at most one goal from the form.
func (s *Service) visitSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	on, err := formDate(c, "on")
	if err != nil {
		return failed(c, err, s.patientPage)
	}
	in := NewVisit{On: on, Notes: c.FormValue("notes"), PrivateNotes: c.FormValue("private_notes")}
	if m := c.FormValue("measure"); m != "" {
		g := NewGoal{Measure: m}
		for name, dst := range map[string]**float64{"target_low": &g.TargetLow, "target_high": &g.TargetHigh} {
			if strings.TrimSpace(c.FormValue(name)) == "" {
				continue
			}
			v, err := formNumber(c, name, true)
			if err != nil {
				return failed(c, errs.InvalidField("body.goals[0]."+name, "Type a number, such as 72 or 36.8."), s.patientPage)
			}
			*dst = &v
		}
		if g.DueOn, err = formDate(c, "due_on"); err != nil {
			return failed(c, errs.InvalidField("body.goals[0].due_on", "Give a date."), s.patientPage)
		}
		in.Goals = []NewGoal{g}
	}
	if _, _, err := s.RecordVisit(c.UserContext(), p, id, in); err != nil {
		return failed(c, err, s.patientPage)
	}
	return c.Redirect("/m/health/patients/"+itoa(id)+"?msg=visit", fiber.StatusSeeOther)
}

func (s *Service) prescribeSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	in := NewPrescription{Medicine: c.FormValue("medicine"), Dose: c.FormValue("dose"),
		Times: strings.FieldsFunc(c.FormValue("times"), func(r rune) bool { return r == ',' || r == ' ' })}
	if v := strings.TrimSpace(c.FormValue("start_on")); v != "" {
		if in.StartOn, err = formDate(c, "start_on"); err != nil {
			return failed(c, err, s.patientPage)
		}
	}
	if v := strings.TrimSpace(c.FormValue("end_on")); v != "" {
		e, err := formDate(c, "end_on")
		if err != nil {
			return failed(c, err, s.patientPage)
		}
		in.EndOn = &e
	}
	if _, err := s.Prescribe(c.UserContext(), p, id, in); err != nil {
		if e, ok := errs.As(err); ok && len(e.Fields) == 1 && strings.HasPrefix(e.Fields[0].Field, "body.times[") {
			e.Fields[0].Field = "body.times"
		}
		return failed(c, err, s.patientPage)
	}
	return c.Redirect("/m/health/patients/"+itoa(id)+"?msg=rx", fiber.StatusSeeOther)
}

func (s *Service) stopSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	rx, err := s.StopPrescription(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	return c.Redirect("/m/health/patients/"+itoa(rx.PatientID)+"?msg=stopped", fiber.StatusSeeOther)
}

func (s *Service) dosePage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	var d Dose
	if err := s.db(ctx, p.OrgID).Where("id = ? AND patient_id = ?", id, p.UserID).Take(&d).Error; err != nil {
		return errs.NotFoundf("dose not found")
	}
	var rx Prescription
	if err := s.db(ctx, p.OrgID).Where("id = ?", d.PrescriptionID).Take(&rx).Error; err != nil {
		return err
	}
	d.Medicine, d.DoseText, d.LocalTime = rx.Medicine, rx.Dose, d.DueAt.In(s.zoneOf(ctx, p.OrgID, p.UserID)).Format("15:04")
	return render(c, "dose", "Your dose", map[string]any{"Dose": d})
}

func (s *Service) doseSubmit(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	action := c.FormValue("action")
	if _, err := s.AnswerDose(c.UserContext(), p, id, action); err != nil {
		return failed(c, err, s.dosePage)
	}
	back := "/m/health/"
	if c.FormValue("from") == "dose" {
		back = "/m/health/doses/" + itoa(id)
	}
	return c.Redirect(back+"?msg="+action, fiber.StatusSeeOther)
}

// trendsPage charts one measure over a period, for the patient (their own)
// or a clinician (/patients/:id/trends, logged), with the "since the last
// visit" summary.
func (s *Service) trendsPage(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	ctx := c.UserContext()
	patientID, base := p.UserID, "/m/health/trends"
	if c.Params("id") != "" {
		id, err := web.PathID(c, "id")
		if err != nil {
			return err
		}
		patientID, base = id, "/m/health/patients/"+itoa(id)+"/trends"
	}
	measure, period := c.Query("measure", "blood_pressure"), c.Query("period", PeriodMonth)
	if _, ok := measures[measure]; !ok {
		measure = "blood_pressure"
	}
	if period != PeriodWeek && period != PeriodVisit {
		period = PeriodMonth
	}
	tr, err := s.TrendOf(ctx, p, patientID, measure, period)
	if err != nil {
		return err
	}
	for i, l := range tr.Chart.Labels {
		if d, err := time.Parse("2006-01-02", l); err == nil {
			tr.Chart.Labels[i] = i18n.FormatDate(p.Locale, d, time.UTC)
		}
	}
	since, err := s.SinceLastVisit(ctx, p, patientID)
	if err != nil {
		return err
	}
	var goals []GoalRow
	if since.Visit != nil {
		goals = goalRows(numberer(p.Locale), since.Goals, s.now())
	}
	return render(c, "trends", "Trends", map[string]any{"Trend": tr, "Measure": measure, "Period": period, "Base": base, "Measures": measureOptions(),
		"Since": since, "SinceGoals": goals, "Staff": p.Role != accounts.Customer})
}

// exportDownload sends the patient's FHIR bundle as a file.
func (s *Service) exportDownload(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	b, err := s.ExportFHIR(c.UserContext(), p, p.UserID)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/fhir+json")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="health-data.fhir.json"`)
	return c.Send(b)
}
