// Package quiz is the core's quiz engine: auto-graded items of seven
// kinds (single and multiple choice, true/false, numeric with tolerance,
// short answer, matching, ordering) with per-option feedback, attempts
// with limits and a time limit enforced on the server, grading methods
// across attempts, and resume on another device through the core's form
// drafts. A module (education's end-of-module quizzes, health's
// self-checks) owns its question bank and pages; it draws the items of an
// attempt, calls Start, SaveProgress and Submit, and reacts to grades with
// a Handler that runs in the grading transaction.
//
// Grading is deterministic: an attempt stores the items as they were
// drawn, and Grade is a pure function of an item and an answer.
//
// quiz imports errs, store and experience/drafts; never core/module or
// core/app.
package quiz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/experience/drafts"
	"github.com/portalkit/portalkit/core/store"
)

// Status of an attempt.
const (
	StatusOpen   = "open"
	StatusGraded = "graded"
)

// Attempt is one try of one person at one quiz.
type Attempt struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	UserID uint `gorm:"not null" json:"user_id"`
	// QuizKey names the quiz: "<module>.<quiz>[.<object>]".
	QuizKey string `gorm:"size:120;not null" json:"quiz_key"`
	// Number counts the person's attempts at the quiz from 1.
	Number int `gorm:"not null" json:"number"`
	// Items are the questions as drawn, as JSON.
	Items     string     `gorm:"type:text;not null" json:"-"`
	Status    string     `gorm:"size:16;not null;index" json:"status"`
	StartedAt time.Time  `gorm:"not null" json:"started_at"`
	Deadline  *time.Time `json:"deadline,omitempty"`
	// SubmittedAt is when the submission arrived (or when an expired attempt
	// was closed); GradedAsOf is the moment the grade reflects: the
	// submission, or the deadline for a late one.
	SubmittedAt *time.Time `json:"submitted_at,omitempty"`
	GradedAsOf  *time.Time `json:"graded_as_of,omitempty"`
	Late        bool       `gorm:"not null;default:false" json:"late"`
	Score       float64    `gorm:"not null;default:0" json:"score"`
	MaxScore    float64    `gorm:"not null;default:0" json:"max_score"`
	// Answers are the answers graded; LateAnswers what arrived after the
	// deadline (kept, never graded). Both JSON objects item ID → Answer.
	Answers     string `gorm:"type:text" json:"-"`
	LateAnswers string `gorm:"type:text" json:"-"`
}

// TableName is quiz_attempts.
func (Attempt) TableName() string { return "quiz_attempts" }

// Response is one graded answer of an attempt: what item analysis and
// mastery models read.
type Response struct {
	ID uint `gorm:"primaryKey"`
	store.OrgOwned
	AttemptID uint   `gorm:"not null;index"`
	UserID    uint   `gorm:"not null"`
	QuizKey   string `gorm:"size:120;not null"`
	// Number is the attempt's number (1 = first attempt).
	Number   int     `gorm:"not null"`
	Position int     `gorm:"not null"`
	ItemID   string  `gorm:"size:120;not null"`
	Score    float64 `gorm:"not null"`
	MaxScore float64 `gorm:"not null"`
	Answered bool    `gorm:"not null"`
	Answer   string  `gorm:"type:text"`
	// At is the attempt's GradedAsOf.
	At time.Time `gorm:"not null"`
}

// TableName is quiz_responses.
func (Response) TableName() string { return "quiz_responses" }

// Method combines a person's attempts into one grade.
type Method string

// Grading methods, as in Moodle.
const (
	Highest Method = "highest"
	Average Method = "average"
	First   Method = "first"
	Last    Method = "last"
)

// Valid reports whether m is a known method.
func (m Method) Valid() bool {
	return m == Highest || m == Average || m == First || m == Last
}

// Spec is what a module gives Start: the quiz and the items drawn for this
// attempt.
type Spec struct {
	// Key names the quiz, shaped like a draft key ("education.quiz.12").
	Key   string
	Items []Item
	// MaxAttempts limits the attempts per person; 0 is unlimited.
	MaxAttempts int
	// TimeLimit is how long an attempt may take; 0 is no limit.
	TimeLimit time.Duration
}

// Graded is a graded attempt with its per-item results.
type Graded struct {
	Attempt *Attempt
	Items   []Item
	Results []Result
}

// Handler reacts to a graded attempt inside the grading transaction (a
// module updating mastery, sending a notification). An error rolls the
// grading back.
type Handler func(ctx context.Context, tx *gorm.DB, g *Graded) error

// Options builds a Service.
type Options struct {
	Store  *store.Store
	Drafts *drafts.Service
	Log    *slog.Logger
	// Now overrides the clock (tests).
	Now func() time.Time
	// Grace is how long after the deadline a submission still counts as on
	// time (network, a slow phone); default 30 s.
	Grace time.Duration
}

// Service runs attempts.
type Service struct {
	st       *store.Store
	drafts   *drafts.Service
	log      *slog.Logger
	now      func() time.Time
	grace    time.Duration
	handlers []handler
}

type handler struct {
	prefix string
	fn     Handler
}

// New returns the quiz engine.
func New(o Options) *Service {
	s := &Service{st: o.Store, drafts: o.Drafts, log: o.Log, now: o.Now, grace: o.Grace}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = func() time.Time { return time.Now().UTC() }
	}
	if s.grace <= 0 {
		s.grace = 30 * time.Second
	}
	return s
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Grace is the time after a deadline a submission still counts as on time.
func (s *Service) Grace() time.Duration { return s.grace }

// Handle runs fn for every attempt graded whose quiz key starts with
// prefix ("education."), in the grading transaction. Call it while
// modules initialise, never while serving.
func (s *Service) Handle(prefix string, fn Handler) {
	s.handlers = append(s.handlers, handler{prefix, fn})
}

// Migrations are the attempts and responses tables.
func (s *Service) Migrations() []store.Migration {
	return []store.Migration{{ID: "0001_tables", Up: func(tx *gorm.DB) error {
		if err := tx.Migrator().AutoMigrate(&Attempt{}, &Response{}); err != nil {
			return err
		}
		for _, q := range []string{
			"CREATE UNIQUE INDEX quiz_attempts_number ON quiz_attempts (org_id, user_id, quiz_key, number)",
			"CREATE INDEX quiz_attempts_quiz ON quiz_attempts (org_id, quiz_key, status)",
			"CREATE INDEX quiz_responses_quiz ON quiz_responses (org_id, quiz_key, item_id)",
			"CREATE INDEX quiz_responses_user ON quiz_responses (org_id, user_id, at)",
		} {
			if err := tx.Exec(q).Error; err != nil {
				return err
			}
		}
		return nil
	}}}
}

// ItemsOf decodes the items an attempt was drawn with.
func (a *Attempt) ItemsOf() ([]Item, error) {
	var items []Item
	err := json.Unmarshal([]byte(a.Items), &items)
	return items, err
}

// AnswersOf decodes the answers an attempt was graded with.
func (a *Attempt) AnswersOf() map[string]Answer {
	out := map[string]Answer{}
	if a.Answers != "" {
		_ = json.Unmarshal([]byte(a.Answers), &out)
	}
	return out
}

// Questions are the attempt's items as its student sees them.
func (a *Attempt) Questions() ([]Question, error) {
	items, err := a.ItemsOf()
	if err != nil {
		return nil, err
	}
	out := make([]Question, len(items))
	for i, it := range items {
		out[i] = Present(it, i+1, uint64(a.ID))
	}
	return out, nil
}

// Remaining is the time left before the deadline at now (negative after
// it); ok is false without a time limit.
func (a *Attempt) Remaining(now time.Time) (time.Duration, bool) {
	if a.Deadline == nil {
		return 0, false
	}
	return a.Deadline.Sub(now), true
}

func draftKey(attemptID uint) string { return fmt.Sprintf("quiz.attempt.%d", attemptID) }

func checkSpec(sp Spec) error {
	if !drafts.ValidKey(sp.Key) {
		return errs.InvalidField("key", "must look like module.quiz (lowercase letters, digits, _ and -, parts separated by dots)")
	}
	if len(sp.Items) == 0 {
		return errs.InvalidField("items", "a quiz needs at least one item")
	}
	seen := map[string]bool{}
	for i, it := range sp.Items {
		if err := it.Validate(); err != nil {
			if e, ok := errs.As(err); ok && len(e.Fields) > 0 {
				return errs.InvalidField(fmt.Sprintf("items[%d].%s", i, e.Fields[0].Field), e.Fields[0].Message)
			}
			return err
		}
		if seen[it.ID] {
			return errs.InvalidField("items", fmt.Sprintf("item %q is drawn twice", it.ID))
		}
		seen[it.ID] = true
	}
	if sp.MaxAttempts < 0 || sp.TimeLimit < 0 {
		return errs.InvalidField("max_attempts", "limits must not be negative")
	}
	return nil
}

// Start returns the person's open attempt at the quiz (resumed is true),
// or starts a new one with sp's items. An open attempt whose time is up is
// graded first, as of its deadline. With every attempt used it is a
// conflict naming the limit.
func (s *Service) Start(ctx context.Context, orgID, userID uint, sp Spec) (a *Attempt, resumed bool, err error) {
	for try := 0; try < 3; try++ {
		err = s.st.Tx(ctx, func(tx *gorm.DB) error {
			a, resumed, err = s.StartTx(ctx, tx, orgID, userID, sp)
			return err
		})
		// Two tabs starting together: the second insert breaks the unique
		// number and finds the first one's attempt on the next try.
		if store.IsUniqueViolation(err) {
			continue
		}
		return a, resumed, err
	}
	return nil, false, errs.Conflictf("the quiz is being started elsewhere; try again")
}

// StartTx is Start inside the caller's transaction (demo data, imports);
// a concurrent start makes it fail with a unique violation.
func (s *Service) StartTx(ctx context.Context, tx *gorm.DB, orgID, userID uint, sp Spec) (*Attempt, bool, error) {
	if err := checkSpec(sp); err != nil {
		return nil, false, err
	}
	raw, err := json.Marshal(sp.Items)
	if err != nil {
		return nil, false, err
	}
	tx = tx.WithContext(ctx)
	// Count first, then look for an open attempt: on PostgreSQL each
	// statement sees what committed before it, so an attempt a concurrent
	// start committed between the two is found open (and resumed) rather
	// than counted against the limit.
	var used int64
	if err := store.Org(tx, orgID).Model(&Attempt{}).Where("user_id = ? AND quiz_key = ?", userID, sp.Key).Count(&used).Error; err != nil {
		return nil, false, err
	}
	var open Attempt
	q := store.Org(tx, orgID).Where("user_id = ? AND quiz_key = ? AND status = ?", userID, sp.Key, StatusOpen).Order("number DESC").Limit(1).Find(&open)
	if q.Error != nil {
		return nil, false, q.Error
	}
	if q.RowsAffected > 0 {
		if !s.expired(&open) {
			return &open, true, nil
		}
		if _, err := s.grade(ctx, tx, &open, nil); err != nil {
			return nil, false, err
		}
		if int64(open.Number) > used {
			used = int64(open.Number)
		}
	}
	if sp.MaxAttempts > 0 && int(used) >= sp.MaxAttempts {
		return nil, false, errs.Conflictf("you have used all %d attempts at this quiz", sp.MaxAttempts)
	}
	now := s.now()
	a := &Attempt{UserID: userID, QuizKey: sp.Key, Number: int(used) + 1, Items: string(raw), Status: StatusOpen, StartedAt: now}
	if sp.TimeLimit > 0 {
		d := now.Add(sp.TimeLimit)
		a.Deadline = &d
	}
	return a, false, store.Org(tx, orgID).Create(a).Error
}

// expired reports whether an open attempt's time, with the grace, is over.
func (s *Service) expired(a *Attempt) bool {
	return a.Deadline != nil && s.now().After(a.Deadline.Add(s.grace))
}

// Get returns an attempt of the person; anyone else's is not found.
func (s *Service) Get(ctx context.Context, orgID, userID, attemptID uint) (*Attempt, error) {
	a, err := s.Find(ctx, orgID, attemptID)
	if err != nil {
		return nil, err
	}
	if a.UserID != userID {
		return nil, errs.NotFoundf("no attempt %d", attemptID)
	}
	return a, nil
}

// Find returns any attempt of the organisation; the caller has checked
// through the policy layer that its reader may see the attempt's owner.
func (s *Service) Find(ctx context.Context, orgID, attemptID uint) (*Attempt, error) {
	var a Attempt
	err := store.Org(s.st.DB.WithContext(ctx), orgID).First(&a, attemptID).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.NotFoundf("no attempt %d", attemptID)
	}
	return &a, err
}

// SaveProgress keeps the answers given so far in the person's draft of the
// attempt, so a closed tab or another device resumes them. After the
// deadline (and its grace) it is a conflict: the time is up.
func (s *Service) SaveProgress(ctx context.Context, orgID, userID, attemptID uint, answers map[string]Answer) error {
	a, err := s.Get(ctx, orgID, userID, attemptID)
	if err != nil {
		return err
	}
	if a.Status != StatusOpen {
		return errs.Conflictf("this attempt has already been submitted")
	}
	if s.expired(a) {
		return errs.Conflictf("the time for this attempt is up")
	}
	if err := checkAnswers(a, answers); err != nil {
		return err
	}
	_, err = s.drafts.SaveFor(ctx, s.st.DB, orgID, userID, draftKey(attemptID), map[string]any{"answers": answers})
	return err
}

// Progress returns the answers saved for an open attempt, and when; none
// when nothing was saved.
func (s *Service) Progress(ctx context.Context, orgID, userID, attemptID uint) (map[string]Answer, time.Time, error) {
	if _, err := s.Get(ctx, orgID, userID, attemptID); err != nil {
		return nil, time.Time{}, err
	}
	return s.progress(ctx, s.st.DB, orgID, userID, attemptID)
}

func (s *Service) progress(ctx context.Context, db *gorm.DB, orgID, userID, attemptID uint) (map[string]Answer, time.Time, error) {
	var d drafts.Draft
	q := store.Org(db.WithContext(ctx), orgID).Where("user_id = ? AND draft_key = ?", userID, draftKey(attemptID)).Limit(1).Find(&d)
	if q.Error != nil || q.RowsAffected == 0 {
		return map[string]Answer{}, time.Time{}, q.Error
	}
	var body struct {
		Answers map[string]Answer `json:"answers"`
	}
	if err := json.Unmarshal([]byte(d.Data), &body); err != nil || body.Answers == nil {
		return map[string]Answer{}, d.UpdatedAt, nil
	}
	return body.Answers, d.UpdatedAt, nil
}

// checkAnswers refuses answers to items the attempt does not have, and
// oversized ones, naming the item.
func checkAnswers(a *Attempt, answers map[string]Answer) error {
	items, err := a.ItemsOf()
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, it := range items {
		known[it.ID] = true
	}
	for id, ans := range answers {
		if !known[id] {
			return errs.InvalidField("answers."+id, "is not a question of this attempt")
		}
		size := 0
		for _, v := range ans {
			size += len(v)
		}
		if len(ans) > 50 || size > 2000 {
			return errs.InvalidField("answers."+id, "is too long")
		}
	}
	return nil
}

// Submit grades the person's open attempt with answers (merged over the
// progress saved), in its own transaction. Within the deadline and its
// grace the answers count as given. A late submission is kept whole
// (never lost) but graded as of the deadline: with the progress saved by
// then. Submitting twice is a conflict; the first grade stands.
func (s *Service) Submit(ctx context.Context, orgID, userID, attemptID uint, answers map[string]Answer) (*Graded, error) {
	var g *Graded
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		g, err = s.SubmitTx(ctx, tx, orgID, userID, attemptID, answers)
		return err
	})
	return g, err
}

// SubmitTx is Submit inside the caller's transaction.
func (s *Service) SubmitTx(ctx context.Context, tx *gorm.DB, orgID, userID, attemptID uint, answers map[string]Answer) (*Graded, error) {
	var a Attempt
	err := store.Org(tx.WithContext(ctx), orgID).Where("user_id = ?", userID).First(&a, attemptID).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.NotFoundf("no attempt %d", attemptID)
	}
	if err != nil {
		return nil, err
	}
	if a.Status != StatusOpen {
		return nil, errs.Conflictf("this attempt has already been submitted")
	}
	if answers == nil {
		answers = map[string]Answer{}
	}
	if err := checkAnswers(&a, answers); err != nil {
		return nil, err
	}
	return s.grade(ctx, tx, &a, answers)
}

// grade grades an open attempt in tx. submitted is nil when the attempt is
// closed because its time ran out without a submission.
func (s *Service) grade(ctx context.Context, tx *gorm.DB, a *Attempt, submitted map[string]Answer) (*Graded, error) {
	orgID := a.OrgID
	now := s.now()
	items, err := a.ItemsOf()
	if err != nil {
		return nil, fmt.Errorf("attempt %d: items: %w", a.ID, err)
	}
	saved, savedAt, err := s.progress(ctx, tx, orgID, a.UserID, a.ID)
	if err != nil {
		return nil, err
	}
	asOf := now
	graded := saved
	if a.Deadline != nil && (submitted == nil || s.expired(a)) {
		// Graded as of the deadline: the progress saved in time counts.
		asOf = *a.Deadline
		if savedAt.After(a.Deadline.Add(s.grace)) {
			graded = map[string]Answer{}
		}
		if submitted != nil {
			a.Late = true
			raw, _ := json.Marshal(submitted)
			a.LateAnswers = string(raw)
		}
	} else {
		for id, ans := range submitted {
			graded[id] = ans
		}
	}
	g := &Graded{Attempt: a, Items: items, Results: make([]Result, len(items))}
	a.Score, a.MaxScore = 0, 0
	rows := make([]Response, len(items))
	for i, it := range items {
		r := Grade(it, graded[it.ID])
		g.Results[i] = r
		a.Score += r.Score
		a.MaxScore += r.Max
		ans, _ := json.Marshal(graded[it.ID])
		rows[i] = Response{AttemptID: a.ID, UserID: a.UserID, QuizKey: a.QuizKey, Number: a.Number, Position: i + 1,
			ItemID: it.ID, Score: r.Score, MaxScore: r.Max, Answered: r.Answered, Answer: string(ans), At: asOf}
	}
	a.Score, a.MaxScore = round4(a.Score), round4(a.MaxScore)
	raw, _ := json.Marshal(graded)
	a.Answers = string(raw)
	a.Status = StatusGraded
	a.SubmittedAt, a.GradedAsOf = &now, &asOf
	// The status condition makes two concurrent submissions grade once.
	res := store.Org(tx.WithContext(ctx), orgID).Model(&Attempt{}).Where("id = ? AND status = ?", a.ID, StatusOpen).Updates(map[string]any{
		"status": a.Status, "submitted_at": now, "graded_as_of": asOf, "late": a.Late, "score": a.Score, "max_score": a.MaxScore,
		"answers": a.Answers, "late_answers": a.LateAnswers,
	})
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, errs.Conflictf("this attempt has already been submitted")
	}
	if err := store.Org(tx.WithContext(ctx), orgID).CreateInBatches(rows, 100).Error; err != nil {
		return nil, err
	}
	if err := drafts.Clear(ctx, tx, orgID, a.UserID, draftKey(a.ID)); err != nil {
		return nil, err
	}
	for _, h := range s.handlers {
		if strings.HasPrefix(a.QuizKey, h.prefix) {
			if err := h.fn(ctx, tx, g); err != nil {
				return nil, err
			}
		}
	}
	return g, nil
}

// CloseExpired grades, as of their deadlines, the open attempts of every
// organisation whose time and grace have run out (the quiz.close_expired
// job): a student who closed the tab still gets the answers they saved.
func (s *Service) CloseExpired(ctx context.Context) (int, error) {
	var due []Attempt
	cutoff := s.now().Add(-s.grace)
	if err := store.AllOrgs(s.st.DB.WithContext(ctx)).Where("status = ? AND deadline IS NOT NULL AND deadline < ?", StatusOpen, cutoff).
		Order("id").Limit(1000).Find(&due).Error; err != nil {
		return 0, err
	}
	n := 0
	for i := range due {
		err := s.st.Tx(ctx, func(tx *gorm.DB) error {
			_, err := s.grade(ctx, tx, &due[i], nil)
			return err
		})
		switch {
		case errs.Is(err, errs.Conflict):
			// Submitted meanwhile.
		case err != nil:
			return n, err
		default:
			n++
		}
	}
	return n, nil
}

// Attempts returns the person's attempts at a quiz, oldest first.
func (s *Service) Attempts(ctx context.Context, orgID, userID uint, key string) ([]Attempt, error) {
	var out []Attempt
	err := store.Org(s.st.DB.WithContext(ctx), orgID).Where("user_id = ? AND quiz_key = ?", userID, key).Order("number").Find(&out).Error
	return out, err
}

// Final is a person's grade at a quiz over their graded attempts.
type Final struct {
	// Fraction is the combined grade in [0, 1].
	Fraction float64 `json:"fraction"`
	// Attempts is how many graded attempts it combines; 0 means no grade.
	Attempts int `json:"attempts"`
}

// Combine applies method to graded attempts (in any order): highest,
// average, first or last of their fractions score ÷ maximum. Open
// attempts are ignored.
func Combine(method Method, attempts []Attempt) Final {
	var gs []Attempt
	for _, a := range attempts {
		if a.Status == StatusGraded && a.MaxScore > 0 {
			gs = append(gs, a)
		}
	}
	if len(gs) == 0 {
		return Final{}
	}
	sort.Slice(gs, func(i, j int) bool { return gs[i].Number < gs[j].Number })
	frac := func(a Attempt) float64 { return a.Score / a.MaxScore }
	f := Final{Attempts: len(gs)}
	switch method {
	case First:
		f.Fraction = frac(gs[0])
	case Last:
		f.Fraction = frac(gs[len(gs)-1])
	case Average:
		sum := 0.0
		for _, a := range gs {
			sum += frac(a)
		}
		f.Fraction = sum / float64(len(gs))
	default:
		for _, a := range gs {
			f.Fraction = max(f.Fraction, frac(a))
		}
	}
	f.Fraction = round4(f.Fraction)
	return f
}
