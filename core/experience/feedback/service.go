package feedback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/experience/drafts"
	"github.com/portalkit/portalkit/core/i18n"
	"github.com/portalkit/portalkit/core/store"
)

// Events published by feedback, with SubjectID the customer.
const (
	// EventAnswered: a customer scored a prompt (Data: prompt_id, step,
	// kind, score); it is on the customer's timeline.
	EventAnswered = "feedback.answered"
)

// Options builds a Service.
type Options struct {
	Store    *store.Store
	Accounts *accounts.Service
	Events   *events.Bus
	Config   config.Feedback
	Catalog  *i18n.Catalog
	Log      *slog.Logger
	// Now overrides the clock (tests).
	Now func() time.Time
}

// Service shows prompts, stores answers and computes the figures.
type Service struct {
	st  *store.Store
	acc *accounts.Service
	bus *events.Bus
	cfg config.Feedback
	cat *i18n.Catalog
	log *slog.Logger
	now func() time.Time
}

// New returns the feedback service.
func New(o Options) (*Service, error) {
	if err := o.Config.Validate(); err != nil {
		return nil, err
	}
	s := &Service{st: o.Store, acc: o.Accounts, bus: o.Events, cfg: o.Config, cat: o.Catalog, log: o.Log, now: o.Now}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = func() time.Time { return time.Now().UTC() }
	}
	return s, nil
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Migrations are the feedback tables.
func (s *Service) Migrations() []store.Migration {
	return []store.Migration{{ID: "0001_tables", Up: func(tx *gorm.DB) error {
		if err := tx.Migrator().AutoMigrate(&Prompt{}, &gate{}); err != nil {
			return err
		}
		for _, q := range []string{
			"CREATE UNIQUE INDEX feedback_prompts_journey ON feedback_prompts (org_id, customer_id, step_id, subject_ref)",
			"CREATE INDEX feedback_prompts_waiting ON feedback_prompts (org_id, customer_id, status, created_at)",
			"CREATE INDEX feedback_prompts_answers ON feedback_prompts (org_id, status, answered_at)",
			"CREATE UNIQUE INDEX feedback_gates_customer ON feedback_gates (org_id, customer_id)",
		} {
			if err := tx.Exec(q).Error; err != nil {
				return err
			}
		}
		return nil
	}}}
}

// AskAt is Ask with the service's clock (demo data and tests).
func (s *Service) AskAt(ctx context.Context, tx *gorm.DB, orgID, customerID uint, stepID, subjectRef string) (bool, error) {
	return ask(ctx, tx, orgID, customerID, stepID, subjectRef, s.now())
}

// expiredBefore is the creation time before which a pending ask has
// expired.
func (s *Service) expiredBefore(now time.Time) time.Time { return now.Add(-s.cfg.AskTTL) }

// Pending returns the prompt to show a customer now, or nil. The prompt
// already on show stays until it is answered, dismissed or expires; else,
// once feedback.throttle has passed since the last new prompt, the newest
// waiting ask becomes the one on show. Concurrent calls agree on one prompt:
// taking a new one is a compare-and-swap on the customer's gate row.
func (s *Service) Pending(ctx context.Context, orgID, customerID uint) (*Prompt, error) {
	now := s.now()
	db := store.Org(s.st.DB.WithContext(ctx), orgID)
	var g gate
	for attempt := 0; attempt < 3; attempt++ {
		if err := db.Where("customer_id = ?", customerID).Take(&g).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			g = gate{CustomerID: customerID}
			if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&g).Error; err != nil {
				return nil, err
			}
			continue // read it back (another load may have created it)
		} else if err != nil {
			return nil, err
		}
		if g.PromptID != 0 {
			p, err := s.showable(ctx, orgID, g.PromptID, now)
			if err != nil || p != nil {
				return p, err
			}
		}
		if g.LastShownAt != nil && now.Sub(*g.LastShownAt) < s.cfg.Throttle {
			return nil, nil
		}
		var next Prompt
		err := db.Where("customer_id = ? AND status = ? AND shown_at IS NULL AND created_at > ?", customerID, StatusPending, s.expiredBefore(now)).
			Order("created_at DESC, id DESC").Take(&next).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		won := false
		err = s.st.Tx(ctx, func(tx *gorm.DB) error {
			res := store.Org(tx, orgID).Model(&gate{}).Where("id = ? AND version = ?", g.ID, g.Version).
				Updates(map[string]any{"prompt_id": next.ID, "last_shown_at": now, "version": g.Version + 1})
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error
			}
			won = true
			return store.Org(tx, orgID).Model(&Prompt{}).Where("id = ?", next.ID).Update("shown_at", now).Error
		})
		if err != nil {
			return nil, err
		}
		if won {
			next.ShownAt = &now
			return &next, nil
		}
		// Another page load took a prompt first: show theirs.
	}
	if g.PromptID != 0 {
		return s.showable(ctx, orgID, g.PromptID, now)
	}
	return nil, nil
}

// showable returns prompt id if it is still waiting for an answer.
func (s *Service) showable(ctx context.Context, orgID, id uint, now time.Time) (*Prompt, error) {
	var p Prompt
	err := store.Org(s.st.DB.WithContext(ctx), orgID).Where("id = ? AND status = ? AND created_at > ?", id, StatusPending, s.expiredBefore(now)).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	return &p, err
}

// own loads prompt id of the calling customer, or not found.
func (s *Service) own(tx *gorm.DB, p *accounts.Principal, id uint) (*Prompt, error) {
	if p == nil || p.UserID == 0 {
		return nil, errs.NotFoundf("not found")
	}
	var pr Prompt
	err := store.Org(tx, p.OrgID).Where("id = ? AND customer_id = ?", id, p.UserID).Take(&pr).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.NotFoundf("not found")
	}
	return &pr, err
}

var answeredSummary = map[Kind]string{
	CSAT:     "Rated their satisfaction %d of 5",
	NPS:      "Rated how likely they are to recommend us %d of 10",
	CES:      "Rated how easy it was %d of 7",
	Reaction: "Reacted %d of 3",
}

// Answer stores the customer's score for prompt id (once; a second answer
// is a conflict) and publishes EventAnswered.
func (s *Service) Answer(ctx context.Context, p *accounts.Principal, id uint, score int) (*Prompt, error) {
	var out *Prompt
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		pr, err := s.own(tx, p, id)
		if err != nil {
			return err
		}
		if pr.Status != StatusPending {
			return errs.Conflictf("this survey is already %s", pr.Status)
		}
		now := s.now()
		if pr.CreatedAt.Before(s.expiredBefore(now)) {
			return errs.Conflictf("this survey has expired")
		}
		lo, hi := pr.Kind.Scale()
		if score < lo || score > hi {
			return errs.InvalidField("score", fmt.Sprintf("must be between %d and %d", lo, hi))
		}
		if err := s.answer(ctx, tx, pr, score, now, p.UserID); err != nil {
			return err
		}
		out = pr
		return nil
	})
	return out, err
}

func (s *Service) answer(ctx context.Context, tx *gorm.DB, pr *Prompt, score int, now time.Time, actor uint) error {
	pr.Score, pr.Status, pr.AnsweredAt, pr.Week = &score, StatusAnswered, &now, WeekOf(now)
	res := store.Org(tx, pr.OrgID).Model(&Prompt{}).Where("id = ? AND status = ?", pr.ID, StatusPending).
		Updates(map[string]any{"score": score, "status": StatusAnswered, "answered_at": now, "week": pr.Week})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errs.Conflictf("this survey is already answered")
	}
	return s.publishAnswered(ctx, tx, pr, actor)
}

func (s *Service) publishAnswered(ctx context.Context, tx *gorm.DB, pr *Prompt, actor uint) error {
	if s.bus == nil {
		return nil
	}
	return s.bus.Publish(ctx, events.Event{Name: EventAnswered, OrgID: pr.OrgID, ActorID: actor, SubjectID: pr.CustomerID, Tx: tx,
		Data:    map[string]any{"prompt_id": pr.ID, "step": pr.StepID, "kind": string(pr.Kind), "score": *pr.Score},
		Summary: answeredSummary[pr.Kind], SummaryArgs: []any{*pr.Score}})
}

// MaxComment bounds a comment.
const MaxComment = 2000

// CommentDraftKey is the draft key of prompt id's comment form.
func CommentDraftKey(id uint) string { return "feedback.comment." + strconv.FormatUint(uint64(id), 10) }

// Comment adds the optional comment to an answered prompt and clears the
// comment form's draft in the same transaction.
func (s *Service) Comment(ctx context.Context, p *accounts.Principal, id uint, comment string) (*Prompt, error) {
	comment = strings.TrimSpace(comment)
	if len([]rune(comment)) > MaxComment {
		return nil, errs.InvalidField("comment", "must be at most 2000 characters")
	}
	var out *Prompt
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		pr, err := s.own(tx, p, id)
		if err != nil {
			return err
		}
		if pr.Status != StatusAnswered {
			return errs.Conflictf("answer the question before adding a comment")
		}
		if err := store.Org(tx, p.OrgID).Model(&Prompt{}).Where("id = ?", pr.ID).Update("comment", comment).Error; err != nil {
			return err
		}
		pr.Comment = comment
		out = pr
		return drafts.Clear(ctx, tx, p.OrgID, p.UserID, CommentDraftKey(pr.ID))
	})
	return out, err
}

// Dismiss closes a pending prompt without an answer.
func (s *Service) Dismiss(ctx context.Context, p *accounts.Principal, id uint) error {
	return s.st.Tx(ctx, func(tx *gorm.DB) error {
		pr, err := s.own(tx, p, id)
		if err != nil {
			return err
		}
		if pr.Status != StatusPending {
			return errs.Conflictf("this survey is already %s", pr.Status)
		}
		return store.Org(tx, p.OrgID).Model(&Prompt{}).Where("id = ?", pr.ID).Update("status", StatusDismissed).Error
	})
}

// Expire marks the asks left unanswered for longer than feedback.ask_ttl as
// expired, in every organisation (the feedback.expire job), and returns how
// many.
func (s *Service) Expire(ctx context.Context) (int64, error) {
	res := store.AllOrgs(s.st.DB.WithContext(ctx)).Model(&Prompt{}).
		Where("status = ? AND created_at <= ?", StatusPending, s.expiredBefore(s.now())).Update("status", StatusExpired)
	return res.RowsAffected, res.Error
}

// RecordReaction stores a quick reaction that needs no prompt (the help
// centre's "was this helpful?"): an answered prompt of step for the
// journey subjectRef, replaced when the customer reacts again. It runs in
// tx. Score is 1 (negative) to 3 (positive).
func (s *Service) RecordReaction(ctx context.Context, tx *gorm.DB, orgID, customerID uint, stepID, subjectRef string, score int) error {
	step, ok := StepByID(stepID)
	if !ok || step.Kind != Reaction {
		return errors.New("feedback: " + stepID + " is not a declared reaction step")
	}
	if score < 1 || score > 3 {
		return errs.InvalidField("score", "must be between 1 and 3")
	}
	now := s.now()
	pr := &Prompt{CustomerID: customerID, StepID: step.ID, Module: moduleOf(step), Kind: Reaction, SubjectRef: subjectRef,
		Status: StatusAnswered, Score: &score, CreatedAt: now, AnsweredAt: &now, Week: WeekOf(now)}
	return store.Org(tx.WithContext(ctx), orgID).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "org_id"}, {Name: "customer_id"}, {Name: "step_id"}, {Name: "subject_ref"}},
		DoUpdates: clause.AssignmentColumns([]string{"score", "status", "answered_at", "week"}),
	}).Create(pr).Error
}
