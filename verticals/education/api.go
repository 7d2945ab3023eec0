package education

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/experience/quiz"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

var (
	students  = []accounts.Role{accounts.Customer}
	everyone  = []accounts.Role{accounts.Customer, accounts.Staff, accounts.Admin, accounts.Integrator}
	teachers  = []accounts.Role{accounts.Staff, accounts.Admin, accounts.Integrator}
	registrar = []accounts.Role{accounts.Admin, accounts.Integrator}
)

func principal(ctx context.Context) *accounts.Principal {
	p, _ := accounts.PrincipalFrom(ctx)
	return p
}

type idIn struct {
	ID uint `path:"id"`
}

type coursesOut struct {
	Body struct {
		Courses []Course `json:"courses"`
	}
}

type courseOut struct{ Body *Course }

type courseDetail struct {
	Course   Course          `json:"course"`
	Staff    []CourseStaff   `json:"staff"`
	Topics   []Topic         `json:"topics"`
	Progress *CourseProgress `json:"progress,omitempty" doc:"The student's progress (students only)"`
}

type attemptOut struct{ Body *AttemptView }

type answersIn struct {
	ID   uint `path:"id"`
	Body struct {
		Answers map[string]quiz.Answer `json:"answers" doc:"Item ID → answer (see the quiz engine's answer shapes)"`
	}
}

// --- authorization matrix fixtures ---

var fixtureSeq atomic.Int64

type fixture struct {
	course  *Course
	module  *CourseModule
	lesson  *Lesson
	topic   *Topic
	student uint
}

// fixtureCourse builds a course reachable by owner: a student enrolled (a
// customer owner), a professor (staff), or simply of the organisation
// (admin): one module with a lesson and three items on one topic.
func (s *Service) fixtureCourse(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (*fixture, error) {
	n := fixtureSeq.Add(1)
	c, err := s.CreateCourse(ctx, tx, owner.OrgID, NewCourse{Code: fmt.Sprintf("FX%d", n), Title: "Fixture", Term: "2026"})
	if err != nil {
		return nil, err
	}
	f := &fixture{course: c}
	switch owner.Role {
	case accounts.Customer:
		if err := store.Org(tx, owner.OrgID).Create(&Enrolment{CourseID: c.ID, StudentID: owner.UserID}).Error; err != nil {
			return nil, err
		}
		f.student = owner.UserID
	case accounts.Staff:
		if err := s.AddStaff(ctx, tx, owner.OrgID, c.ID, owner.UserID, RoleProfessor); err != nil {
			return nil, err
		}
	}
	if f.student == 0 {
		u := accounts.User{Email: fmt.Sprintf("fixture-student-%d@matrix.example", n), Name: "Student", Role: accounts.Customer}
		if err := store.Org(tx, owner.OrgID).Create(&u).Error; err != nil {
			return nil, err
		}
		if err := store.Org(tx, owner.OrgID).Create(&Enrolment{CourseID: c.ID, StudentID: u.ID}).Error; err != nil {
			return nil, err
		}
		f.student = u.ID
	}
	if f.topic, err = s.AddTopic(ctx, tx, owner.OrgID, c.ID, NewTopic{Key: "loops", Name: "Loops"}); err != nil {
		return nil, err
	}
	if f.module, err = s.AddModule(ctx, tx, owner.OrgID, c.ID, NewModule{Title: "Basics", QuizItems: 3}); err != nil {
		return nil, err
	}
	if f.lesson, err = s.AddLesson(ctx, tx, owner.OrgID, f.module, NewLesson{Title: "For loops", Body: "A *for* loop.", Topics: []string{"loops"}}); err != nil {
		return nil, err
	}
	for i := range 3 {
		it := quiz.TrueFalseItem("", fmt.Sprintf("Statement %d", i), i%2 == 0)
		if _, err := s.AddItem(ctx, tx, owner.OrgID, c.ID, NewItem{Topics: []string{"loops"}, Item: BankQuestion(it)}); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func idParam(id uint) map[string]string {
	return map[string]string{"id": strconv.FormatUint(uint64(id), 10)}
}

func (s *Service) courseFixture(body func(f *fixture) any) accounts.Fixture {
	return func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
		f, err := s.fixtureCourse(ctx, tx, owner)
		if err != nil {
			return nil, nil, err
		}
		var b any
		if body != nil {
			b = body(f)
		}
		return idParam(f.course.ID), b, nil
	}
}

func (s *Service) moduleFixture(body any) accounts.Fixture {
	return func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
		f, err := s.fixtureCourse(ctx, tx, owner)
		if err != nil {
			return nil, nil, err
		}
		return idParam(f.module.ID), body, nil
	}
}

func (s *Service) lessonFixture(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
	f, err := s.fixtureCourse(ctx, tx, owner)
	if err != nil {
		return nil, nil, err
	}
	return idParam(f.lesson.ID), nil, nil
}

func (s *Service) attemptFixture(body any) accounts.Fixture {
	return func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
		f, err := s.fixtureCourse(ctx, tx, owner)
		if err != nil {
			return nil, nil, err
		}
		a, _, err := s.StartQuiz(ctx, owner, f.module.ID)
		if err != nil {
			return nil, nil, err
		}
		return idParam(a.ID), body, nil
	}
}

func (s *Service) registerAPI(api huma.API) {
	s.registerOfficeHoursAPI(api)
	s.registerIntegrationAPI(api)
	s.registerChatAPI(api)
	s.registerWaitlistAPI(api)
	accounts.Register(api, huma.Operation{OperationID: "education-item-analysis", Method: http.MethodGet, Path: "/modules/{id}/analysis",
		Summary: "Item analysis of a module's quiz (course staff, admins, integrators)",
		Description: "Per item over students' first attempts: facility (mean score ÷ maximum) and discrimination (correlation with the rest of the attempt), " +
			"as Moodle's quiz statistics define them; flags: too_easy (> 0.9), too_hard (< 0.3), no_discriminate (< 0.2)."},
		func(ctx context.Context, in *idIn) (*struct {
			Body struct {
				Items []ItemStats `json:"items"`
			}
		}, error) {
			p := principal(ctx)
			m, _, err := s.module(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			if _, err := s.teaching(ctx, p, m.CourseID); err != nil {
				return nil, err
			}
			out := &struct {
				Body struct {
					Items []ItemStats `json:"items"`
				}
			}{}
			list, err := s.ItemAnalysis(ctx, p.OrgID, m)
			out.Body.Items = append([]ItemStats{}, list...)
			return out, err
		}, accounts.Allow(teachers...), accounts.Matrix(s.moduleFixture(nil)))

	accounts.Register(api, huma.Operation{OperationID: "education-class", Method: http.MethodGet, Path: "/courses/{id}/class",
		Summary:     "The class's mastery by topic and the students at risk (course staff, admins, integrators)",
		Description: "At risk: at least one weak topic and nothing opened or answered for 14 days."},
		func(ctx context.Context, in *idIn) (*struct{ Body classOut }, error) {
			p := principal(ctx)
			c, err := s.teaching(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			out := &struct{ Body classOut }{}
			if out.Body.Topics, err = s.ClassMastery(ctx, p.OrgID, c.ID); err != nil {
				return nil, err
			}
			risk, err := s.StudentsAtRisk(ctx, p.OrgID, c.ID)
			out.Body.AtRisk = append([]AtRisk{}, risk...)
			return out, err
		}, accounts.Allow(teachers...), accounts.Matrix(s.courseFixture(nil)))
	accounts.Register(api, huma.Operation{OperationID: "education-courses", Method: http.MethodGet, Path: "/courses",
		Summary: "List the courses you reach", Description: "Students: their enrolments; staff: the courses they teach; admins and integrators: every course."},
		func(ctx context.Context, _ *struct{}) (*coursesOut, error) {
			cs, err := s.Courses(ctx, principal(ctx))
			if err != nil {
				return nil, err
			}
			out := &coursesOut{}
			out.Body.Courses = append([]Course{}, cs...)
			return out, nil
		}, accounts.Allow(everyone...))

	accounts.Register(api, huma.Operation{OperationID: "education-course-create", Method: http.MethodPost, Path: "/courses", DefaultStatus: 201,
		Summary: "Create a course (registrar, integrators)", Description: "422 names the field: a code already used, a staff member who is not staff."},
		func(ctx context.Context, in *struct{ Body NewCourse }) (*courseOut, error) {
			p := principal(ctx)
			var c *Course
			err := s.st.Tx(ctx, func(tx *gorm.DB) error {
				var err error
				c, err = s.CreateCourse(ctx, tx, p.OrgID, in.Body)
				return err
			})
			if err != nil {
				return nil, err
			}
			return &courseOut{Body: c}, nil
		}, accounts.Allow(registrar...), web.Idempotent())

	accounts.Register(api, huma.Operation{OperationID: "education-course", Method: http.MethodGet, Path: "/courses/{id}",
		Summary: "A course with its staff, topics and (students) your progress"},
		func(ctx context.Context, in *idIn) (*struct{ Body courseDetail }, error) {
			p := principal(ctx)
			c, access, err := s.courseAccess(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			out := &struct{ Body courseDetail }{}
			out.Body.Course = *c
			if out.Body.Staff, err = s.Staff(ctx, p.OrgID, c.ID); err != nil {
				return nil, err
			}
			if out.Body.Topics, err = s.Topics(ctx, p.OrgID, c.ID); err != nil {
				return nil, err
			}
			if access == accessStudent {
				if out.Body.Progress, err = s.Progress(ctx, p.OrgID, p.UserID, c); err != nil {
					return nil, err
				}
			}
			return out, nil
		}, accounts.Allow(everyone...), accounts.Matrix(s.courseFixture(nil)))

	accounts.Register(api, huma.Operation{OperationID: "education-topic-add", Method: http.MethodPost, Path: "/courses/{id}/topics", DefaultStatus: 201,
		Summary: "Add or rename a topic of a course (its staff, admins, integrators)"},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body NewTopic
		}) (*struct{ Body *Topic }, error) {
			var t *Topic
			err := s.teach(ctx, in.ID, func(tx *gorm.DB, c *Course) (err error) {
				t, err = s.AddTopic(ctx, tx, c.OrgID, c.ID, in.Body)
				return err
			})
			return &struct{ Body *Topic }{t}, err
		}, accounts.Allow(teachers...), accounts.Matrix(s.courseFixture(func(*fixture) any { return NewTopic{Key: "recursion", Name: "Recursion"} })))

	accounts.Register(api, huma.Operation{OperationID: "education-module-add", Method: http.MethodPost, Path: "/courses/{id}/modules", DefaultStatus: 201,
		Summary: "Add a module with its quiz settings (its staff, admins, integrators)"},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body NewModule
		}) (*struct{ Body *CourseModule }, error) {
			var m *CourseModule
			err := s.teach(ctx, in.ID, func(tx *gorm.DB, c *Course) (err error) {
				m, err = s.AddModule(ctx, tx, c.OrgID, c.ID, in.Body)
				return err
			})
			return &struct{ Body *CourseModule }{m}, err
		}, accounts.Allow(teachers...), accounts.Matrix(s.courseFixture(func(*fixture) any { return NewModule{Title: "Recursion"} })))

	accounts.Register(api, huma.Operation{OperationID: "education-lesson-add", Method: http.MethodPost, Path: "/modules/{id}/lessons", DefaultStatus: 201,
		Summary: "Add a lesson to a module (its staff, admins, integrators)", Description: "The Markdown is rendered and sanitised as help articles are."},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body NewLesson
		}) (*struct{ Body *Lesson }, error) {
			m, _, err := s.module(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			var l *Lesson
			err = s.teach(ctx, m.CourseID, func(tx *gorm.DB, c *Course) (err error) {
				l, err = s.AddLesson(ctx, tx, c.OrgID, m, in.Body)
				return err
			})
			return &struct{ Body *Lesson }{l}, err
		}, accounts.Allow(teachers...), accounts.Matrix(s.moduleFixture(NewLesson{Title: "While loops", Body: "# While", Topics: []string{"loops"}})))

	accounts.Register(api, huma.Operation{OperationID: "education-item-add", Method: http.MethodPost, Path: "/courses/{id}/items", DefaultStatus: 201,
		Summary: "Add a question to the course's bank (its staff, admins, integrators)",
		Description: "Kinds: single, multiple (partial credit), truefalse, numeric (tolerance), short (normalised), matching, ordering. " +
			"With an external_id, sending the same item again adds nothing."},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body NewItem
		}) (*struct{ Body *BankItem }, error) {
			var b *BankItem
			err := s.teach(ctx, in.ID, func(tx *gorm.DB, c *Course) (err error) {
				b, err = s.AddItem(ctx, tx, c.OrgID, c.ID, in.Body)
				return err
			})
			return &struct{ Body *BankItem }{b}, err
		}, accounts.Allow(teachers...), accounts.Matrix(s.courseFixture(func(*fixture) any {
			return NewItem{Topics: []string{"loops"}, Item: BankQuestion{Kind: quiz.Numeric, Prompt: "2+2", Value: 4}}
		})))

	accounts.Register(api, huma.Operation{OperationID: "education-enrol", Method: http.MethodPost, Path: "/courses/{id}/enrolments",
		Summary:     "Enrol students (a batch; its staff, admins, integrators)",
		Description: "All or nothing: a bad line refuses the batch with a 422 naming it (students[i]). Idempotent by external_id: the same batch sent again enrols nobody twice."},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body struct {
				Students []EnrolLine `json:"students"`
			}
		}) (*struct{ Body EnrolResult }, error) {
			var r EnrolResult
			err := s.teach(ctx, in.ID, func(tx *gorm.DB, c *Course) (err error) {
				r, err = s.Enrol(ctx, tx, c.OrgID, c.ID, in.Body.Students)
				return err
			})
			return &struct{ Body EnrolResult }{r}, err
		}, accounts.Allow(teachers...), accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			f, err := s.fixtureCourse(ctx, tx, owner)
			if err != nil {
				return nil, nil, err
			}
			u := accounts.User{Email: fmt.Sprintf("enrol-%d@matrix.example", fixtureSeq.Add(1)), Name: "New", Role: accounts.Customer}
			if err := store.Org(tx, owner.OrgID).Create(&u).Error; err != nil {
				return nil, nil, err
			}
			return idParam(f.course.ID), map[string]any{"students": []EnrolLine{{StudentID: u.ID, ExternalID: u.Email}}}, nil
		}))

	accounts.Register(api, huma.Operation{OperationID: "education-roster", Method: http.MethodGet, Path: "/courses/{id}/students",
		Summary: "A course's students (its staff, admins, integrators)"},
		func(ctx context.Context, in *idIn) (*struct {
			Body struct {
				Students []Student `json:"students"`
			}
		}, error) {
			c, err := s.teaching(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			out := &struct {
				Body struct {
					Students []Student `json:"students"`
				}
			}{}
			list, err := s.Roster(ctx, c.OrgID, c.ID)
			out.Body.Students = append([]Student{}, list...)
			return out, err
		}, accounts.Allow(teachers...), accounts.Matrix(s.courseFixture(nil)))

	accounts.Register(api, huma.Operation{OperationID: "education-mastery", Method: http.MethodGet, Path: "/courses/{id}/mastery",
		Summary:     "Your mastery per topic and your suggestions (students)",
		Description: "Bayesian Knowledge Tracing (docs/verticals/education.md); no verdict below five answers on a topic."},
		func(ctx context.Context, in *idIn) (*masteryOut, error) {
			return s.masteryOf(ctx, in.ID, 0)
		}, accounts.Allow(students...), accounts.Matrix(s.courseFixture(nil)))

	accounts.Register(api, huma.Operation{OperationID: "education-student-mastery", Method: http.MethodGet, Path: "/courses/{id}/students/{student}/mastery",
		Summary: "A student's mastery per topic and suggestions (the course's staff, admins, integrators)"},
		func(ctx context.Context, in *struct {
			ID      uint `path:"id"`
			Student uint `path:"student"`
		}) (*masteryOut, error) {
			return s.masteryOf(ctx, in.ID, in.Student)
		}, accounts.Allow(teachers...), accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			f, err := s.fixtureCourse(ctx, tx, owner)
			if err != nil {
				return nil, nil, err
			}
			return map[string]string{"id": strconv.FormatUint(uint64(f.course.ID), 10), "student": strconv.FormatUint(uint64(f.student), 10)}, nil, nil
		}))

	accounts.Register(api, huma.Operation{OperationID: "education-lesson", Method: http.MethodGet, Path: "/lessons/{id}",
		Summary: "A lesson (Markdown and sanitised HTML)", Description: "A student opening it is recorded as their progress."},
		func(ctx context.Context, in *idIn) (*struct{ Body lessonOut }, error) {
			p := principal(ctx)
			l, _, err := s.lesson(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			if err := s.TrackLesson(ctx, p, l, false); err != nil {
				return nil, err
			}
			return &struct{ Body lessonOut }{lessonOut{Lesson: *l, HTML: l.HTML}}, nil
		}, accounts.Allow(everyone...), accounts.Matrix(s.lessonFixture))

	accounts.Register(api, huma.Operation{OperationID: "education-lesson-complete", Method: http.MethodPost, Path: "/lessons/{id}/complete", DefaultStatus: 204,
		Summary: "Mark a lesson done (students)"},
		func(ctx context.Context, in *idIn) (*struct{}, error) {
			p := principal(ctx)
			l, _, err := s.lesson(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			return nil, s.TrackLesson(ctx, p, l, true)
		}, accounts.Allow(students...), accounts.Matrix(s.lessonFixture))

	accounts.Register(api, huma.Operation{OperationID: "education-quiz-start", Method: http.MethodPost, Path: "/modules/{id}/attempts",
		Summary:     "Start or resume the module's quiz (students)",
		Description: "Returns the open attempt if there is one (on any device). 409 when every attempt is used or the bank has no questions."},
		func(ctx context.Context, in *idIn) (*attemptOut, error) {
			p := principal(ctx)
			a, _, err := s.StartQuiz(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			v, err := s.view(ctx, a)
			return &attemptOut{v}, err
		}, accounts.Allow(students...), accounts.Matrix(s.moduleFixture(nil)), web.Idempotent())

	accounts.Register(api, huma.Operation{OperationID: "education-practice-start", Method: http.MethodPost, Path: "/courses/{id}/practice",
		Summary: "Start or resume a practice quiz over your weakest topics (students)"},
		func(ctx context.Context, in *idIn) (*attemptOut, error) {
			p := principal(ctx)
			a, _, err := s.StartPractice(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			v, err := s.view(ctx, a)
			return &attemptOut{v}, err
		}, accounts.Allow(students...), accounts.Matrix(s.courseFixture(nil)), web.Idempotent())

	accounts.Register(api, huma.Operation{OperationID: "education-attempt", Method: http.MethodGet, Path: "/attempts/{id}",
		Summary: "An attempt: questions, saved answers, and once graded the results with feedback"},
		func(ctx context.Context, in *idIn) (*attemptOut, error) {
			v, err := s.View(ctx, principal(ctx), in.ID)
			return &attemptOut{v}, err
		}, accounts.Allow(everyone...), accounts.Matrix(s.attemptFixture(nil)))

	accounts.Register(api, huma.Operation{OperationID: "education-attempt-progress", Method: http.MethodPut, Path: "/attempts/{id}/progress", DefaultStatus: 204,
		Summary: "Save the answers so far (students)", Description: "Resumes on any device. 409 once the time is up."},
		func(ctx context.Context, in *answersIn) (*struct{}, error) {
			return nil, s.SaveProgress(ctx, principal(ctx), in.ID, in.Body.Answers)
		}, accounts.Allow(students...), accounts.Matrix(s.attemptFixture(map[string]any{"answers": map[string]any{}})))

	accounts.Register(api, huma.Operation{OperationID: "education-attempt-submit", Method: http.MethodPost, Path: "/attempts/{id}/submit",
		Summary:     "Submit an attempt for grading (students)",
		Description: "Graded at once; mastery is updated in the same transaction. After the time limit the submission is kept but graded as of the deadline. 409 when already submitted."},
		func(ctx context.Context, in *answersIn) (*attemptOut, error) {
			v, err := s.Submit(ctx, principal(ctx), in.ID, in.Body.Answers)
			return &attemptOut{v}, err
		}, accounts.Allow(students...), accounts.Matrix(s.attemptFixture(map[string]any{"answers": map[string]any{}})), web.Idempotent())
}

func (s *Service) slotFixture(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (*Slot, error) {
	f, err := s.fixtureCourse(ctx, tx, owner)
	if err != nil {
		return nil, err
	}
	start := s.now().Add(72 * time.Hour)
	sl := &Slot{CourseID: f.course.ID, TAID: owner.UserID, StartsAt: start, EndsAt: start.Add(30 * time.Minute), Place: "Room 1", Capacity: 2}
	return sl, store.Org(tx, owner.OrgID).Create(sl).Error
}

func (s *Service) registerOfficeHoursAPI(api huma.API) {
	accounts.Register(api, huma.Operation{OperationID: "education-slots-publish", Method: http.MethodPost, Path: "/courses/{id}/slots", DefaultStatus: 201,
		Summary: "Publish office hours (the course's TAs and professors; admins name the TA)", Description: "weeks > 1 repeats the slot every week."},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body NewSlots
		}) (*struct {
			Body struct {
				Slots []Slot `json:"slots"`
			}
		}, error) {
			out := &struct {
				Body struct {
					Slots []Slot `json:"slots"`
				}
			}{}
			err := s.teach(ctx, in.ID, func(tx *gorm.DB, c *Course) (err error) {
				out.Body.Slots, err = s.PublishSlots(ctx, tx, principal(ctx), c, in.Body)
				return err
			})
			return out, err
		}, accounts.Allow(teachers...), accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			f, err := s.fixtureCourse(ctx, tx, owner)
			if err != nil {
				return nil, nil, err
			}
			// The owner is the course's professor; admins and integrators name them.
			return idParam(f.course.ID), NewSlots{StartsAt: time.Now().Add(48 * time.Hour), Minutes: 30, Place: "Room 2", Capacity: 2, TAID: owner.UserID}, nil
		}), web.Idempotent())

	accounts.Register(api, huma.Operation{OperationID: "education-slots", Method: http.MethodGet, Path: "/courses/{id}/slots",
		Summary: "Upcoming office hours of a course, with free places and your booking"},
		func(ctx context.Context, in *idIn) (*struct {
			Body struct {
				Slots []SlotView `json:"slots"`
			}
		}, error) {
			p := principal(ctx)
			if _, _, err := s.courseAccess(ctx, p, in.ID); err != nil {
				return nil, err
			}
			out := &struct {
				Body struct {
					Slots []SlotView `json:"slots"`
				}
			}{}
			list, err := s.Slots(ctx, p, in.ID)
			out.Body.Slots = append([]SlotView{}, list...)
			return out, err
		}, accounts.Allow(everyone...), accounts.Matrix(s.courseFixture(nil)))

	accounts.Register(api, huma.Operation{OperationID: "education-book", Method: http.MethodPost, Path: "/slots/{id}/bookings", DefaultStatus: 201,
		Summary: "Book a place in office hours (students)", Description: "409 when the slot is full or already booked by you: concurrent requests for the last place leave one winner."},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body struct {
				Note string `json:"note,omitempty" maxLength:"1000" doc:"What you would like to talk about"`
			}
		}) (*struct{ Body *Booking }, error) {
			b, err := s.Book(ctx, principal(ctx), in.ID, in.Body.Note)
			return &struct{ Body *Booking }{b}, err
		}, accounts.Allow(students...), accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			sl, err := s.slotFixture(ctx, tx, owner)
			if err != nil {
				return nil, nil, err
			}
			return idParam(sl.ID), map[string]any{"note": "Recursion"}, nil
		}), web.Idempotent())

	accounts.Register(api, huma.Operation{OperationID: "education-booking-cancel", Method: http.MethodPost, Path: "/bookings/{id}/cancel", DefaultStatus: 204,
		Summary: "Cancel your booking (students; up to two hours before)"},
		func(ctx context.Context, in *idIn) (*struct{}, error) {
			return nil, s.Cancel(ctx, principal(ctx), in.ID)
		}, accounts.Allow(students...), accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			sl, err := s.slotFixture(ctx, tx, owner)
			if err != nil {
				return nil, nil, err
			}
			b := &Booking{SlotID: sl.ID, StudentID: owner.UserID, Status: BookingActive}
			if err := store.Org(tx, owner.OrgID).Create(b).Error; err != nil {
				return nil, nil, err
			}
			return idParam(b.ID), nil, store.Org(tx, owner.OrgID).Model(sl).Update("booked", 1).Error
		}))

	accounts.Register(api, huma.Operation{OperationID: "education-slot-bookings", Method: http.MethodGet, Path: "/slots/{id}/bookings",
		Summary: "A slot's bookings with each student's note and weak topics, and its waitlist (the course's staff)"},
		func(ctx context.Context, in *idIn) (*struct {
			Body struct {
				Slot     *Slot          `json:"slot"`
				Bookings []BookingView  `json:"bookings"`
				Waitlist []WaitlistView `json:"waitlist" doc:"Students waiting or offered a place, first first"`
			}
		}, error) {
			out := &struct {
				Body struct {
					Slot     *Slot          `json:"slot"`
					Bookings []BookingView  `json:"bookings"`
					Waitlist []WaitlistView `json:"waitlist" doc:"Students waiting or offered a place, first first"`
				}
			}{}
			var err error
			p := principal(ctx)
			out.Body.Slot, out.Body.Bookings, err = s.SlotBookings(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			out.Body.Waitlist, err = s.Waitlist(ctx, p.OrgID, in.ID)
			return out, err
		}, accounts.Allow(teachers...), accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			sl, err := s.slotFixture(ctx, tx, owner)
			if err != nil {
				return nil, nil, err
			}
			return idParam(sl.ID), nil, nil
		}))
}

type masteryOut struct {
	Body struct {
		Topics      []TopicMastery `json:"topics"`
		Suggestions []Suggestion   `json:"suggestions"`
	}
}

func (s *Service) masteryOf(ctx context.Context, courseID, studentID uint) (*masteryOut, error) {
	p := principal(ctx)
	c, student, err := s.studentOf(ctx, p, courseID, studentID)
	if err != nil {
		return nil, err
	}
	out := &masteryOut{}
	if out.Body.Topics, err = s.MasteryOf(ctx, p.OrgID, student, c.ID); err != nil {
		return nil, err
	}
	sg, err := s.Suggestions(ctx, p.OrgID, student, c.ID)
	out.Body.Suggestions = append([]Suggestion{}, sg...)
	return out, err
}

type classOut struct {
	Topics []ClassTopic `json:"topics"`
	AtRisk []AtRisk     `json:"at_risk"`
}

type lessonOut struct {
	Lesson
	HTML string `json:"html"`
}

// teach runs fn in a transaction on a course the caller teaches (or
// administers).
func (s *Service) teach(ctx context.Context, courseID uint, fn func(tx *gorm.DB, c *Course) error) error {
	c, err := s.teaching(ctx, principal(ctx), courseID)
	if err != nil {
		return err
	}
	return s.st.Tx(ctx, func(tx *gorm.DB) error { return fn(tx, c) })
}

// studentOf resolves whose data a request is about: the caller (a
// student), or the student_id given by staff, admins and integrators —
// who must reach that student and the course.
func (s *Service) studentOf(ctx context.Context, p *accounts.Principal, courseID, studentID uint) (*Course, uint, error) {
	c, access, err := s.courseAccess(ctx, p, courseID)
	if err != nil {
		return nil, 0, err
	}
	if access == accessStudent {
		return c, p.UserID, nil
	}
	if studentID == 0 {
		return c, 0, errs.InvalidField("student_id", "name the student whose data you want")
	}
	var n int64
	if err := s.db(ctx, p.OrgID).Model(&Enrolment{}).Where("course_id = ? AND student_id = ?", c.ID, studentID).Count(&n).Error; err != nil {
		return nil, 0, err
	}
	if n == 0 {
		return nil, 0, errs.NotFoundf("no student %d on this course", studentID)
	}
	return c, studentID, nil
}
