package education

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/experience/quiz"
)

// lesson returns a lesson p may read (a student of its course, its staff,
// admins) and how p reaches the course.
func (s *Service) lesson(ctx context.Context, p *accounts.Principal, lessonID uint) (*Lesson, string, error) {
	var l Lesson
	if err := s.db(ctx, p.OrgID).First(&l, lessonID).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, "", errs.NotFoundf("no lesson %d", lessonID)
	} else if err != nil {
		return nil, "", err
	}
	_, access, err := s.courseAccess(ctx, p, l.CourseID)
	if err != nil {
		return nil, "", errs.NotFoundf("no lesson %d", lessonID)
	}
	return &l, access, nil
}

// module returns a course module p reaches.
func (s *Service) module(ctx context.Context, p *accounts.Principal, moduleID uint) (*CourseModule, string, error) {
	var m CourseModule
	if err := s.db(ctx, p.OrgID).First(&m, moduleID).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, "", errs.NotFoundf("no module %d", moduleID)
	} else if err != nil {
		return nil, "", err
	}
	_, access, err := s.courseAccess(ctx, p, m.CourseID)
	if err != nil {
		return nil, "", errs.NotFoundf("no module %d", moduleID)
	}
	return &m, access, nil
}

// TrackLesson records that the student opened (and, with complete, finished)
// a lesson. Staff reading a lesson leave no trace.
func (s *Service) TrackLesson(ctx context.Context, p *accounts.Principal, l *Lesson, complete bool) error {
	if p.Role != accounts.Customer {
		return nil
	}
	now := s.now()
	row := Progress{StudentID: p.UserID, CourseID: l.CourseID, LessonID: l.ID, OpenedAt: now, LastSeenAt: now}
	updates := []string{"last_seen_at"}
	if complete {
		row.CompletedAt = &now
		updates = append(updates, "completed_at")
	}
	return s.db(ctx, p.OrgID).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "org_id"}, {Name: "student_id"}, {Name: "lesson_id"}},
		DoUpdates: clause.AssignmentColumns(updates),
	}).Create(&row).Error
}

// LessonState is a lesson with one student's progress.
type LessonState struct {
	Lesson
	Opened    bool `json:"opened"`
	Completed bool `json:"completed"`
}

// ModuleState is a module with one student's progress.
type ModuleState struct {
	CourseModule
	Lessons []LessonState `json:"lessons"`
	Done    int           `json:"lessons_done"`
	// Quiz is the student's grade at the module's quiz (grading method
	// applied); Passed when it reaches the pass mark.
	Quiz     quiz.Final `json:"quiz"`
	Passed   bool       `json:"quiz_passed"`
	Complete bool       `json:"complete"`
}

// QuizPercent is the quiz grade as a whole percentage.
func (m ModuleState) QuizPercent() int { return int(m.Quiz.Fraction*100 + 0.5) }

// CourseProgress is one student's progress through a course.
type CourseProgress struct {
	Course   Course        `json:"course"`
	Modules  []ModuleState `json:"modules"`
	Lessons  int           `json:"lessons"`
	Done     int           `json:"lessons_done"`
	Percent  int           `json:"percent" doc:"Lessons completed and quizzes passed, as a share of both"`
	Continue *Lesson       `json:"continue,omitempty" doc:"Where to continue: the lesson last opened and not finished, else the first not finished"`
}

// quizKey names a module's quiz in the quiz engine.
func quizKey(moduleID uint) string { return fmt.Sprintf("education.module.%d", moduleID) }

// Progress returns a student's progress through a course.
func (s *Service) Progress(ctx context.Context, orgID, studentID uint, c *Course) (*CourseProgress, error) {
	var mods []CourseModule
	if err := s.db(ctx, orgID).Where("course_id = ?", c.ID).Order("position, id").Find(&mods).Error; err != nil {
		return nil, err
	}
	var lessons []Lesson
	if err := s.db(ctx, orgID).Select("id, org_id, course_id, module_id, position, title, link_url").Where("course_id = ?", c.ID).
		Order("position, id").Find(&lessons).Error; err != nil {
		return nil, err
	}
	var rows []Progress
	if err := s.db(ctx, orgID).Where("student_id = ? AND course_id = ?", studentID, c.ID).Find(&rows).Error; err != nil {
		return nil, err
	}
	seen := map[uint]Progress{}
	for _, r := range rows {
		seen[r.LessonID] = r
	}
	var attempts []quiz.Attempt
	keys := make([]string, len(mods))
	for i, m := range mods {
		keys[i] = quizKey(m.ID)
	}
	if len(keys) > 0 {
		if err := s.db(ctx, orgID).Where("user_id = ? AND quiz_key IN ? AND status = ?", studentID, keys, quiz.StatusGraded).
			Select("id, quiz_key, number, status, score, max_score").Find(&attempts).Error; err != nil {
			return nil, err
		}
	}
	out := &CourseProgress{Course: *c}
	steps, stepsDone := 0, 0
	var lastOpen *Progress
	var firstUndone *Lesson
	for _, m := range mods {
		ms := ModuleState{CourseModule: m}
		for i := range lessons {
			l := lessons[i]
			if l.ModuleID != m.ID {
				continue
			}
			pr, ok := seen[l.ID]
			st := LessonState{Lesson: l, Opened: ok, Completed: ok && pr.CompletedAt != nil}
			ms.Lessons = append(ms.Lessons, st)
			if st.Completed {
				ms.Done++
			} else {
				if firstUndone == nil {
					firstUndone = &lessons[i]
				}
				if ok && (lastOpen == nil || pr.LastSeenAt.After(lastOpen.LastSeenAt)) {
					p := pr
					lastOpen = &p
				}
			}
		}
		var mine []quiz.Attempt
		for _, a := range attempts {
			if a.QuizKey == quizKey(m.ID) {
				mine = append(mine, a)
			}
		}
		ms.Quiz = quiz.Combine(quiz.Method(m.QuizMethod), mine)
		ms.Passed = ms.Quiz.Attempts > 0 && ms.Quiz.Fraction >= m.PassFraction
		ms.Complete = ms.Done == len(ms.Lessons) && ms.Passed
		out.Lessons += len(ms.Lessons)
		out.Done += ms.Done
		steps += len(ms.Lessons) + 1
		stepsDone += ms.Done
		if ms.Passed {
			stepsDone++
		}
		out.Modules = append(out.Modules, ms)
	}
	if steps > 0 {
		out.Percent = stepsDone * 100 / steps
	}
	switch {
	case lastOpen != nil:
		for i := range lessons {
			if lessons[i].ID == lastOpen.LessonID {
				out.Continue = &lessons[i]
			}
		}
	case firstUndone != nil:
		out.Continue = firstUndone
	}
	return out, nil
}
