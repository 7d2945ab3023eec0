package education

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/experience/quiz"
)

// AttemptView is an attempt as its student (or their staff) sees it:
// questions without answers while open; with the graded answers, each
// item's result and feedback once graded.
type AttemptView struct {
	ID          uint                   `json:"id"`
	StudentID   uint                   `json:"student_id"`
	QuizKey     string                 `json:"quiz_key"`
	Title       string                 `json:"title"`
	Number      int                    `json:"number"`
	Status      string                 `json:"status" enum:"open,graded"`
	StartedAt   time.Time              `json:"started_at"`
	Deadline    *time.Time             `json:"deadline,omitempty"`
	Remaining   int                    `json:"remaining_seconds,omitempty" doc:"Seconds left while open with a time limit"`
	SubmittedAt *time.Time             `json:"submitted_at,omitempty"`
	GradedAsOf  *time.Time             `json:"graded_as_of,omitempty"`
	Late        bool                   `json:"late"`
	Score       float64                `json:"score"`
	MaxScore    float64                `json:"max_score"`
	Questions   []quiz.Question        `json:"questions"`
	Answers     map[string]quiz.Answer `json:"answers"`
	Results     []quiz.Result          `json:"results,omitempty"`
	// CourseID and ModuleID place the attempt (ModuleID 0: practice).
	CourseID uint `json:"course_id"`
	ModuleID uint `json:"module_id,omitempty"`
}

// Percent is the score as a whole percentage.
func (v *AttemptView) Percent() int {
	if v.MaxScore == 0 {
		return 0
	}
	return int(v.Score/v.MaxScore*100 + 0.5)
}

// ResultOf returns the result of question n (from 1).
func (v *AttemptView) ResultOf(n int) *quiz.Result {
	if n < 1 || n > len(v.Results) {
		return nil
	}
	return &v.Results[n-1]
}

// Chosen reports whether the answer to item id contains value.
func (v *AttemptView) Chosen(id, value string) bool {
	for _, a := range v.Answers[id] {
		if a == value {
			return true
		}
	}
	return false
}

// AnswerAt returns the i-th part of the answer to item id.
func (v *AttemptView) AnswerAt(id string, i int) string {
	if a := v.Answers[id]; i < len(a) {
		return a[i]
	}
	return ""
}

// View returns an attempt p may read.
func (s *Service) View(ctx context.Context, p *accounts.Principal, id uint) (*AttemptView, error) {
	a, err := s.attempt(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, a)
}

func (s *Service) view(ctx context.Context, a *quiz.Attempt) (*AttemptView, error) {
	qs, err := a.Questions()
	if err != nil {
		return nil, err
	}
	v := &AttemptView{ID: a.ID, StudentID: a.UserID, QuizKey: a.QuizKey, Number: a.Number, Status: a.Status, StartedAt: a.StartedAt, Deadline: a.Deadline,
		SubmittedAt: a.SubmittedAt, GradedAsOf: a.GradedAsOf, Late: a.Late, Score: a.Score, MaxScore: a.MaxScore, Questions: qs}
	kind, idStr, _ := strings.Cut(strings.TrimPrefix(a.QuizKey, "education."), ".")
	id, _ := strconv.ParseUint(idStr, 10, 64)
	switch kind {
	case "module":
		var m CourseModule
		if err := s.db(ctx, a.OrgID).First(&m, id).Error; err == nil {
			v.ModuleID, v.CourseID, v.Title = m.ID, m.CourseID, m.Title
		}
	case "practice":
		v.CourseID = uint(id)
	}
	if a.Status == quiz.StatusOpen {
		v.Answers, _, err = s.quiz.Progress(ctx, a.OrgID, a.UserID, a.ID)
		if err != nil {
			return nil, err
		}
		if rem, ok := a.Remaining(s.now()); ok {
			v.Remaining = max(0, int(rem.Seconds()))
		}
		return v, nil
	}
	v.Answers = a.AnswersOf()
	items, err := a.ItemsOf()
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		v.Results = append(v.Results, quiz.Grade(it, v.Answers[it.ID]))
	}
	return v, nil
}

// SaveProgress keeps the student's answers so far.
func (s *Service) SaveProgress(ctx context.Context, p *accounts.Principal, id uint, answers map[string]quiz.Answer) error {
	if _, err := s.ownAttempt(ctx, p, id); err != nil {
		return err
	}
	return s.quiz.SaveProgress(ctx, p.OrgID, p.UserID, id, answers)
}

// Submit grades the student's attempt; mastery follows in the same
// transaction (onGraded).
func (s *Service) Submit(ctx context.Context, p *accounts.Principal, id uint, answers map[string]quiz.Answer) (*AttemptView, error) {
	if _, err := s.ownAttempt(ctx, p, id); err != nil {
		return nil, err
	}
	g, err := s.quiz.Submit(ctx, p.OrgID, p.UserID, id, answers)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, g.Attempt)
}

// ownAttempt is an attempt of the caller; staff may read a student's
// attempt but never answer it.
func (s *Service) ownAttempt(ctx context.Context, p *accounts.Principal, id uint) (*quiz.Attempt, error) {
	a, err := s.attempt(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if a.UserID != p.UserID {
		return nil, errs.Forbiddenf("only the student answers their attempt")
	}
	return a, nil
}

// Ordinal is i + 1 (templates count from zero).
func (v *AttemptView) Ordinal(i int) int { return i + 1 }
