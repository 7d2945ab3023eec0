package education

import (
	"html/template"
	"time"

	"gorm.io/gorm"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/chart"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/experience/quiz"
	"github.com/portalkit/portalkit/core/web"
)

func (s *Service) mountPages(r fiber.Router) {
	acc := s.acc
	anyone := acc.RequirePage()
	student := acc.RequirePage(accounts.Customer)
	r.Get("/", anyone, s.homePage)
	r.Get("/courses/:id", anyone, s.coursePage)
	r.Get("/courses/:id/students/:student", acc.RequirePage(accounts.Staff, accounts.Admin), s.studentPage)
	r.Post("/courses/:id/practice", student, s.practiceSubmit)
	r.Get("/lessons/:id", anyone, s.lessonPage)
	r.Post("/lessons/:id/complete", student, s.completeSubmit)
	r.Post("/modules/:id/quiz", student, s.quizStart)
	r.Get("/attempts/:id", anyone, s.attemptPage)
	r.Post("/attempts/:id", student, s.attemptSubmit)
	r.Get("/modules/:id/analysis", acc.RequirePage(accounts.Staff, accounts.Admin), s.analysisPage)
	r.Post("/courses/:id/slots", acc.RequirePage(accounts.Staff, accounts.Admin), s.slotsSubmit)
	r.Get("/slots/:id", acc.RequirePage(accounts.Staff, accounts.Admin), s.slotPage)
	r.Post("/slots/:id/book", student, s.bookSubmit)
	r.Post("/bookings/:id/cancel", student, s.cancelSubmit)
	r.Get("/bookings/:id/calendar.ics", student, s.calendarFile)
	r.Get("/courses/:id/import", acc.RequirePage(accounts.Staff, accounts.Admin), s.importPage)
	r.Post("/courses/:id/import", acc.RequirePage(accounts.Staff, accounts.Admin), s.importSubmit)
	r.Get("/courses/:id/results.csv", acc.RequirePage(accounts.Staff, accounts.Admin), s.resultsFile)
	r.Post("/slots/:id/waitlist", student, s.waitlistJoinSubmit)
	r.Post("/waitlist/:id/claim", student, s.claimSubmit)
	r.Post("/waitlist/:id/leave", student, s.leaveSubmit)
	r.Post("/bookings/:id/reschedule", student, s.rescheduleSubmit)
	r.Post("/slots/:id/cancel", acc.RequirePage(accounts.Staff, accounts.Admin), s.slotCancelSubmit)
	r.Post("/courses/:id/ask", student, s.askSubmit("course"))
	r.Post("/lessons/:id/ask", student, s.askSubmit("lesson"))
}

var flash = map[string]string{
	"done":           "Lesson marked as done.",
	"saved":          "Your answers are saved: you can continue on any device.",
	"booked":         "Your place is booked.",
	"unbooked":       "Your booking is cancelled.",
	"published":      "The office hours are published.",
	"imported":       "The students are enrolled.",
	"waiting":        "You are on the waitlist: if a place frees, we offer it to you.",
	"left":           "You have left the waitlist.",
	"moved":          "Your booking is moved.",
	"slot_cancelled": "The slot is cancelled and its students are told.",
}

var flashErr = map[string]string{
	"used":      "You have used every attempt at this quiz.",
	"empty":     "This quiz has no questions yet.",
	"full":      "Sorry, this slot is full.",
	"twice":     "You have already booked this slot.",
	"late":      "Bookings can be cancelled up to two hours before the slot.",
	"slot":      "The office hours could not be published: check the date, length and place.",
	"cancelled": "This booking is already cancelled.",
	"waitlist":  "You cannot join this waitlist: the slot has a free place, has started, or you are already on it.",
	"offer":     "This offer has expired or was already taken.",
	"move":      "The booking could not be moved: the new time may be full, or it is less than two hours to your slot.",
}

// contentTitles are the pages whose title is content (a course's, a
// lesson's title, a student's name), shown as it is; other titles are
// English keys the layout translates.
var contentTitles = map[string]bool{"course": true, "lesson": true, "student": true}

func render(c *fiber.Ctx, name, title string, data map[string]any) error {
	page := &web.Page{Title: title, Data: data, TitleIsContent: contentTitles[name]}
	if m, ok := flash[c.Query("msg")]; ok {
		page.Flash, page.FlashKind = m, "ok"
	}
	if m, ok := flashErr[c.Query("err")]; ok {
		page.Flash, page.FlashKind = m, "error"
	}
	return web.RenderPage(c, "education/"+name, page)
}

func me(c *fiber.Ctx) *accounts.Principal {
	p, _ := accounts.PrincipalOf(c)
	return p
}

// courseCard is a course on the home page.
type courseCard struct {
	Course      Course
	Progress    *CourseProgress
	Suggestions []Suggestion
	Students    int
	Chart       chart.Chart
}

func (s *Service) homePage(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), me(c)
	courses, err := s.Courses(ctx, p)
	if err != nil {
		return err
	}
	cards := make([]courseCard, 0, len(courses))
	for i := range courses {
		card := courseCard{Course: courses[i]}
		if p.Role == accounts.Customer {
			if card.Progress, err = s.Progress(ctx, p.OrgID, p.UserID, &courses[i]); err != nil {
				return err
			}
			if card.Suggestions, err = s.Suggestions(ctx, p.OrgID, p.UserID, courses[i].ID); err != nil {
				return err
			}
			card.Chart = progressChart(card.Progress)
		} else {
			roster, err := s.Roster(ctx, p.OrgID, courses[i].ID)
			if err != nil {
				return err
			}
			card.Students = len(roster)
		}
		cards = append(cards, card)
	}
	title := "My courses"
	if p.Role != accounts.Customer {
		title = "Teaching"
	}
	return render(c, "home", title, map[string]any{"Cards": cards, "Student": p.Role == accounts.Customer})
}

func (s *Service) coursePage(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), me(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	course, access, err := s.courseAccess(ctx, p, id)
	if err != nil {
		return err
	}
	data := map[string]any{"Course": course, "Student": access == accessStudent}
	if access == accessStudent {
		prog, err := s.Progress(ctx, p.OrgID, p.UserID, course)
		if err != nil {
			return err
		}
		ms, err := s.MasteryOf(ctx, p.OrgID, p.UserID, course.ID)
		if err != nil {
			return err
		}
		sg, err := s.Suggestions(ctx, p.OrgID, p.UserID, course.ID)
		if err != nil {
			return err
		}
		data["Progress"], data["Mastery"], data["Suggestions"], data["Chart"] = prog, ms, sg, progressChart(prog)
		if data["Slots"], err = s.Slots(ctx, p, course.ID); err != nil {
			return err
		}
	} else {
		roster, err := s.Roster(ctx, p.OrgID, course.ID)
		if err != nil {
			return err
		}
		data["Roster"] = roster
		if data["Slots"], err = s.Slots(ctx, p, course.ID); err != nil {
			return err
		}
		class, err := s.ClassMastery(ctx, p.OrgID, course.ID)
		if err != nil {
			return err
		}
		data["Heat"] = heatChart(class)
		if data["AtRisk"], err = s.StudentsAtRisk(ctx, p.OrgID, course.ID); err != nil {
			return err
		}
		var mods []CourseModule
		if err := s.db(ctx, p.OrgID).Where("course_id = ?", course.ID).Order("position, id").Find(&mods).Error; err != nil {
			return err
		}
		data["Modules"] = mods
	}
	return render(c, "course", course.Title, data)
}

// studentPage is a student of a course as its staff see them: mastery per
// topic and the weak topics with the reasons.
func (s *Service) studentPage(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), me(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	sid, err := web.PathID(c, "student")
	if err != nil {
		return err
	}
	course, studentID, err := s.studentOf(ctx, p, id, sid)
	if err != nil {
		return err
	}
	u, err := s.acc.UserByID(ctx, p.OrgID, studentID)
	if err != nil {
		return err
	}
	ms, err := s.MasteryOf(ctx, p.OrgID, studentID, course.ID)
	if err != nil {
		return err
	}
	sg, err := s.Suggestions(ctx, p.OrgID, studentID, course.ID)
	if err != nil {
		return err
	}
	return render(c, "student", u.Name, map[string]any{"Course": course, "Name": u.Name, "Mastery": ms, "Suggestions": sg})
}

func (s *Service) lessonPage(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), me(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	l, access, err := s.lesson(ctx, p, id)
	if err != nil {
		return err
	}
	if err := s.TrackLesson(ctx, p, l, false); err != nil {
		return err
	}
	if t, err := strconv.ParseUint(c.Query("topic"), 10, 64); err == nil && t > 0 {
		if err := s.OpenSuggestion(ctx, p, l, uint(t)); err != nil {
			return err
		}
	}
	var course Course
	if err := s.db(ctx, p.OrgID).First(&course, l.CourseID).Error; err != nil {
		return err
	}
	// The HTML was sanitised by the help centre's renderer when the lesson
	// was saved.
	return render(c, "lesson", l.Title, map[string]any{"Lesson": l, "HTML": template.HTML(l.HTML), "Course": course, "Student": access == accessStudent}) //nolint:gosec
}

func (s *Service) completeSubmit(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), me(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	l, _, err := s.lesson(ctx, p, id)
	if err != nil {
		return err
	}
	if err := s.TrackLesson(ctx, p, l, true); err != nil {
		return err
	}
	return c.Redirect("/m/education/courses/"+strconv.FormatUint(uint64(l.CourseID), 10)+"?msg=done", fiber.StatusSeeOther)
}

// startFailed sends the student back to the course page with the reason a
// quiz cannot start (every attempt used, an empty bank).
func startFailed(c *fiber.Ctx, err error, courseID uint) error {
	if !errs.Is(err, errs.Conflict) || courseID == 0 {
		return err
	}
	code := "used"
	if strings.Contains(err.Error(), "no questions") {
		code = "empty"
	}
	return c.Redirect("/m/education/courses/"+strconv.FormatUint(uint64(courseID), 10)+"?err="+code, fiber.StatusSeeOther)
}

func (s *Service) quizStart(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), me(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	a, _, err := s.StartQuiz(ctx, p, id)
	if err != nil {
		var m CourseModule
		_ = s.db(ctx, p.OrgID).First(&m, id).Error
		return startFailed(c, err, m.CourseID)
	}
	return c.Redirect("/m/education/attempts/"+strconv.FormatUint(uint64(a.ID), 10), fiber.StatusSeeOther)
}

func (s *Service) practiceSubmit(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), me(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	a, _, err := s.StartPractice(ctx, p, id)
	if err != nil {
		return startFailed(c, err, id)
	}
	return c.Redirect("/m/education/attempts/"+strconv.FormatUint(uint64(a.ID), 10), fiber.StatusSeeOther)
}

func (s *Service) attemptPage(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), me(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.View(ctx, p, id)
	if err != nil {
		return err
	}
	data := map[string]any{"Attempt": v, "Mine": v.StudentID == p.UserID}
	if v.Status == quiz.StatusGraded && v.CourseID != 0 {
		sg, err := s.Suggestions(ctx, p.OrgID, v.StudentID, v.CourseID)
		if err != nil {
			return err
		}
		data["Suggestions"] = sg
	}
	title := "Quiz"
	if v.ModuleID == 0 {
		title = "Practice"
	}
	return render(c, "attempt", title, data)
}

// formAnswers reads a quiz form: field "q-<item>" holds the answer (one
// value, several checkboxes, or "q-<item>-<i>" for each line of a matching
// or ordering item).
func formAnswers(c *fiber.Ctx, v *AttemptView) map[string]quiz.Answer {
	out := map[string]quiz.Answer{}
	args := c.Request().PostArgs()
	for _, q := range v.Questions {
		name := "q-" + q.ID
		var ans quiz.Answer
		switch q.Kind {
		case quiz.Matching, quiz.Ordering:
			n := len(q.Left)
			if q.Kind == quiz.Ordering {
				n = len(q.Choices)
			}
			for i := range n {
				ans = append(ans, strings.TrimSpace(c.FormValue(name+"-"+strconv.Itoa(i))))
			}
		default:
			for _, b := range args.PeekMulti(name) {
				ans = append(ans, string(b))
			}
		}
		empty := true
		for _, a := range ans {
			if strings.TrimSpace(a) != "" {
				empty = false
			}
		}
		if !empty {
			out[q.ID] = ans
		}
	}
	return out
}

func (s *Service) attemptSubmit(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), me(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.View(ctx, p, id)
	if err != nil {
		return err
	}
	answers := formAnswers(c, v)
	url := "/m/education/attempts/" + strconv.FormatUint(uint64(id), 10)
	if c.FormValue("action") == "save" {
		if err := s.SaveProgress(ctx, p, id, answers); err != nil {
			if errs.Is(err, errs.Conflict) {
				// The time is up: grade what was saved by the deadline.
				if _, err := s.Submit(ctx, p, id, answers); err != nil && !errs.Is(err, errs.Conflict) {
					return err
				}
				return c.Redirect(url, fiber.StatusSeeOther)
			}
			return err
		}
		return c.Redirect(url+"?msg=saved", fiber.StatusSeeOther)
	}
	if _, err := s.Submit(ctx, p, id, answers); err != nil && !errs.Is(err, errs.Conflict) {
		return err
	}
	return c.Redirect(url, fiber.StatusSeeOther)
}

// progressChart is a course's progress as a progress bar.
func progressChart(p *CourseProgress) chart.Chart {
	return chart.Chart{Kind: chart.Progress, Title: "Course progress", Value: float64(p.Percent), Max: 100, Unit: "%"}
}

func courseURL(id uint) string { return "/m/education/courses/" + strconv.FormatUint(uint64(id), 10) }

func (s *Service) slotsSubmit(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), me(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	// datetime-local is the viewer's wall-clock time.
	loc := time.UTC
	if l, err := time.LoadLocation(p.TimeZone); err == nil && p.TimeZone != "" {
		loc = l
	}
	start, perr := time.ParseInLocation("2006-01-02T15:04", c.FormValue("starts_at"), loc)
	minutes, _ := strconv.Atoi(c.FormValue("minutes"))
	capacity, _ := strconv.Atoi(c.FormValue("capacity"))
	weeks, _ := strconv.Atoi(c.FormValue("weeks"))
	in := NewSlots{StartsAt: start, Minutes: minutes, Place: c.FormValue("place"), Link: c.FormValue("link"), Capacity: capacity, Weeks: weeks}
	if perr != nil {
		in.StartsAt = time.Time{}
	}
	err = s.teach(ctx, id, func(tx *gorm.DB, course *Course) error {
		_, err := s.PublishSlots(ctx, tx, p, course, in)
		return err
	})
	switch {
	case errs.Is(err, errs.Invalid):
		return toOfficeHours(c, id, "err=slot")
	case err != nil:
		return err
	}
	return toOfficeHours(c, id, "msg=published")
}

func (s *Service) slotPage(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), me(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	sl, bookings, err := s.SlotBookings(ctx, p, id)
	if err != nil {
		return err
	}
	var course Course
	if err := s.db(ctx, p.OrgID).First(&course, sl.CourseID).Error; err != nil {
		return err
	}
	waitlist, err := s.Waitlist(ctx, p.OrgID, sl.ID)
	if err != nil {
		return err
	}
	return render(c, "slot", "Office hours", map[string]any{"Slot": sl, "Bookings": bookings, "Course": course, "Waitlist": waitlist})
}

func (s *Service) bookSubmit(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), me(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	sl, _, err := s.slot(ctx, p, id)
	if err != nil {
		return err
	}
	_, err = s.Book(ctx, p, id, c.FormValue("note"))
	switch {
	case errs.Is(err, errs.Conflict) && strings.Contains(err.Error(), "already booked"):
		return toOfficeHours(c, sl.CourseID, "err=twice")
	case errs.Is(err, errs.Conflict):
		return toOfficeHours(c, sl.CourseID, "err=full")
	case err != nil:
		return err
	}
	return toOfficeHours(c, sl.CourseID, "msg=booked")
}

func (s *Service) cancelSubmit(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), me(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	b, err := s.myBooking(ctx, p, id)
	if err != nil {
		return err
	}
	var sl Slot
	if err := s.db(ctx, p.OrgID).First(&sl, b.SlotID).Error; err != nil {
		return err
	}
	err = s.Cancel(ctx, p, id)
	switch {
	case errs.Is(err, errs.Conflict) && strings.Contains(err.Error(), "two hours"):
		return toOfficeHours(c, sl.CourseID, "err=late")
	case errs.Is(err, errs.Conflict):
		return toOfficeHours(c, sl.CourseID, "err=cancelled")
	case err != nil:
		return err
	}
	return toOfficeHours(c, sl.CourseID, "msg=unbooked")
}

func (s *Service) analysisPage(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), me(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	m, _, err := s.module(ctx, p, id)
	if err != nil {
		return err
	}
	course, err := s.teaching(ctx, p, m.CourseID)
	if err != nil {
		return err
	}
	stats, err := s.ItemAnalysis(ctx, p.OrgID, m)
	if err != nil {
		return err
	}
	return render(c, "analysis", "Item analysis", map[string]any{"Module": m, "Course": course, "Items": stats})
}

func (s *Service) calendarFile(c *fiber.Ctx) error {
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	body, err := s.Calendar(c.UserContext(), me(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/calendar; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="office-hours.ics"`)
	return c.Send(body)
}
