// Package feedback asks customers for feedback at the right moment of a
// journey and measures it. A module declares its journey steps
// (module.Host.JourneyStep: an ID, a kind — CSAT 1–5, NPS 0–10, CES 1–7 or a
// quick Reaction 1–3 — and the question) and calls Ask inside the
// transaction that completes the step. The customer is asked once per
// journey (step and subject), at most one new prompt per feedback.throttle,
// newest first; unanswered asks expire after feedback.ask_ttl. Any page
// shows the pending prompt inline ({{with .Extra.Feedback}}{{.HTML $}}{{end}});
// the score is stored at once, an optional comment follows (with a form
// draft). Staff read CSAT %, NPS and CES per module, step and week, and
// export the raw answers as CSV.
//
// Formulas (DESIGN §6): CSAT % = share of 4–5 answers on 1–5; NPS = % of
// 9–10 minus % of 0–6; CES = mean of 1–7 (and the share of 5–7); reactions:
// share of positive (3 of 3).
//
// feedback imports accounts, chart, config, drafts, errs, events, i18n,
// store and web; never core/module or core/app.
package feedback

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/names"
	"github.com/portalkit/portalkit/core/store"
)

// Kind is a survey kind.
type Kind string

// The survey kinds and their scales.
const (
	CSAT     Kind = "csat"     // customer satisfaction, 1–5
	NPS      Kind = "nps"      // net promoter score, 0–10
	CES      Kind = "ces"      // customer effort score, 1–7 agreement
	Reaction Kind = "reaction" // quick reaction: 1 negative, 2 neutral, 3 positive
)

// Scale returns the lowest and highest score of a kind.
func (k Kind) Scale() (lo, hi int) {
	switch k {
	case CSAT:
		return 1, 5
	case NPS:
		return 0, 10
	case CES:
		return 1, 7
	case Reaction:
		return 1, 3
	}
	return 0, -1
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { lo, hi := k.Scale(); return lo <= hi }

// Step is a moment of a customer journey after which the customer is asked
// for feedback ("after a service booking").
type Step struct {
	// ID is "<module>.<name>", e.g. "automotive.service_booked".
	ID string
	// Module is the declaring module's ID (the kernel fills it in).
	Module string
	Kind   Kind
	// Question is the English question, the translation key ("How easy
	// was it to book your service?").
	Question string
}

// Validate checks a step's fields, naming the problem.
func (s Step) Validate() error {
	if err := names.Qualified("journey step", s.ID, s.Module); err != nil {
		return err
	}
	if !s.Kind.Valid() {
		return fmt.Errorf("journey step %q: kind %q is not one of csat, nps, ces, reaction", s.ID, s.Kind)
	}
	if strings.TrimSpace(s.Question) == "" {
		return fmt.Errorf("journey step %q: the question is empty", s.ID)
	}
	return nil
}

// registry holds the declared steps of the process. Steps are code (the
// same for every app a process builds), so one registry serves them all;
// declaring the same step twice with the same definition is harmless.
var registry = struct {
	sync.RWMutex
	steps map[string]Step
}{steps: map[string]Step{}}

// Declare validates steps and makes them known to Ask. A step that is
// malformed, or declared again with a different definition, is an error
// naming it.
func Declare(steps ...Step) error {
	registry.Lock()
	defer registry.Unlock()
	seen := map[string]bool{}
	for _, s := range steps {
		if err := s.Validate(); err != nil {
			return err
		}
		if seen[s.ID] {
			return fmt.Errorf("journey step %q is declared twice", s.ID)
		}
		seen[s.ID] = true
		if old, ok := registry.steps[s.ID]; ok && old != s {
			return fmt.Errorf("journey step %q is declared twice with different definitions", s.ID)
		}
	}
	for _, s := range steps {
		registry.steps[s.ID] = s
	}
	return nil
}

// StepByID returns a declared step.
func StepByID(id string) (Step, bool) {
	registry.RLock()
	defer registry.RUnlock()
	s, ok := registry.steps[id]
	return s, ok
}

// Steps returns every declared step, by ID.
func Steps() []Step {
	registry.RLock()
	defer registry.RUnlock()
	out := make([]Step, 0, len(registry.steps))
	for _, s := range registry.steps {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Prompt statuses.
const (
	StatusPending   = "pending"
	StatusAnswered  = "answered"
	StatusDismissed = "dismissed"
	StatusExpired   = "expired"
)

// Prompt is one ask of one customer after one journey (step and subject),
// and its answer.
type Prompt struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	CustomerID uint   `gorm:"not null" json:"customer_id"`
	StepID     string `gorm:"size:100;not null" json:"step"`
	Module     string `gorm:"size:32;not null" json:"module"`
	Kind       Kind   `gorm:"size:10;not null" json:"kind"`
	// SubjectRef names the journey ("booking:42"): the customer is asked
	// once per step and subject.
	SubjectRef string     `gorm:"size:200;not null" json:"subject"`
	Status     string     `gorm:"size:10;not null" json:"status"`
	Score      *int       `json:"score,omitempty"`
	Comment    string     `gorm:"type:text;not null;default:''" json:"comment,omitempty"`
	CreatedAt  time.Time  `gorm:"not null" json:"created_at"`
	ShownAt    *time.Time `json:"shown_at,omitempty"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
	// Week is the Monday (UTC, YYYY-MM-DD) of the answer's week, for the
	// weekly figures.
	Week string `gorm:"size:10;not null;default:''" json:"-"`
}

// TableName is feedback_prompts.
func (Prompt) TableName() string { return "feedback_prompts" }

// gate is one customer's prompt throttle: the prompt being shown and when
// the last new one was first shown. Version makes the claim of a new prompt
// a compare-and-swap, so concurrent page loads agree on one prompt.
type gate struct {
	ID uint `gorm:"primaryKey"`
	store.OrgOwned
	CustomerID  uint `gorm:"not null"`
	PromptID    uint `gorm:"not null;default:0"`
	LastShownAt *time.Time
	Version     int `gorm:"not null;default:0"`
}

func (gate) TableName() string { return "feedback_gates" }

// WeekOf is the Monday of t's week (UTC, YYYY-MM-DD): the key of the
// weekly figures (Prompt.Week).
func WeekOf(t time.Time) string {
	t = t.UTC()
	wd := (int(t.Weekday()) + 6) % 7 // Monday = 0
	return t.AddDate(0, 0, -wd).Format("2006-01-02")
}

// Ask records that customerID finished the journey subjectRef of step
// stepID and should be asked for feedback. It runs in tx (the transaction
// that completes the step) and returns false when this journey was already
// asked. The prompt is shown on the customer's next page load unless
// another was shown within feedback.throttle; then it waits (the newest
// waiting ask is shown next) until it expires after feedback.ask_ttl.
func Ask(ctx context.Context, tx *gorm.DB, orgID, customerID uint, stepID, subjectRef string) (bool, error) {
	return ask(ctx, tx, orgID, customerID, stepID, subjectRef, time.Now().UTC())
}

func ask(ctx context.Context, tx *gorm.DB, orgID, customerID uint, stepID, subjectRef string, now time.Time) (bool, error) {
	step, ok := StepByID(stepID)
	if !ok {
		return false, fmt.Errorf("feedback: no journey step %q is declared (module.Host.JourneyStep)", stepID)
	}
	if customerID == 0 {
		return false, errs.InvalidField("customer_id", "is required")
	}
	if len(subjectRef) > 200 {
		return false, errs.InvalidField("subject", "must be at most 200 characters")
	}
	p := &Prompt{CustomerID: customerID, StepID: step.ID, Module: moduleOf(step), Kind: step.Kind, SubjectRef: subjectRef,
		Status: StatusPending, CreatedAt: now}
	res := store.Org(tx.WithContext(ctx), orgID).Clauses(clause.OnConflict{DoNothing: true}).Create(p)
	if res.Error != nil {
		return false, res.Error
	}
	return res.RowsAffected == 1, nil
}

func moduleOf(s Step) string {
	if s.Module != "" {
		return s.Module
	}
	m, _, _ := strings.Cut(s.ID, ".")
	return m
}
