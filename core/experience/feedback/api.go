package feedback

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/i18n"
	"github.com/portalkit/portalkit/core/store"
)

// PromptView is a prompt as the customer's app shows it.
type PromptView struct {
	ID       uint   `json:"id"`
	Step     string `json:"step"`
	Module   string `json:"module"`
	Kind     Kind   `json:"kind"`
	Question string `json:"question" doc:"In the caller's language"`
	Min      int    `json:"min"`
	Max      int    `json:"max"`
}

func (s *Service) view(p *Prompt, lang string) *PromptView {
	lo, hi := p.Kind.Scale()
	q := p.StepID
	if st, ok := StepByID(p.StepID); ok {
		q = st.Question
	}
	if s.cat != nil {
		q = s.cat.TIn(p.Module, lang, q)
	}
	return &PromptView{ID: p.ID, Step: p.StepID, Module: p.Module, Kind: p.Kind, Question: q, Min: lo, Max: hi}
}

func langOf(p *accounts.Principal) string {
	if p != nil && i18n.Supported(p.Locale) {
		return p.Locale
	}
	return "en"
}

type feedbackIDPath struct {
	ID uint `path:"id" doc:"Prompt ID"`
}

type feedbackPendingOutput struct {
	Body struct {
		Prompt *PromptView `json:"prompt" doc:"The survey to show now, or null"`
	}
}

type feedbackPromptOutput struct{ Body *Prompt }

type feedbackAnswerInput struct {
	ID   uint `path:"id" doc:"Prompt ID"`
	Body struct {
		Score int `json:"score" doc:"CSAT 1–5, NPS 0–10, CES 1–7, reaction 1–3"`
	}
}

type feedbackCommentInput struct {
	ID   uint `path:"id" doc:"Prompt ID"`
	Body struct {
		Comment string `json:"comment" maxLength:"2000" doc:"Optional words after the score"`
	}
}

type feedbackAnalyticsInput struct {
	Module string `query:"module" maxLength:"32"`
	Step   string `query:"step" maxLength:"100"`
	Kind   string `query:"kind" enum:",csat,nps,ces,reaction"`
	From   string `query:"from" doc:"Answered on or after this date (YYYY-MM-DD, UTC)"`
	To     string `query:"to" doc:"Answered on or before this date (YYYY-MM-DD, UTC)"`
}

type feedbackAnalyticsOutput struct{ Body *Report }

// ParseFilter reads the filters of the analytics page and API; dates are
// whole days in UTC, both inclusive.
func ParseFilter(module, step, kind, from, to string) (Filter, error) {
	f := Filter{Module: module, Step: step, Kind: Kind(kind)}
	if from != "" {
		t, err := time.Parse("2006-01-02", from)
		if err != nil {
			return f, errs.InvalidField("from", "must be a date (YYYY-MM-DD)")
		}
		f.From = t
	}
	if to != "" {
		t, err := time.Parse("2006-01-02", to)
		if err != nil {
			return f, errs.InvalidField("to", "must be a date (YYYY-MM-DD)")
		}
		f.To = t.AddDate(0, 0, 1)
	}
	return f, nil
}

// RegisterAPI declares the feedback operations under /api/v1/feedback.
func (s *Service) RegisterAPI(api huma.API) {
	tag := func(o *huma.Operation) { o.Tags = []string{"Feedback"} }
	customers := accounts.Allow(accounts.Customer)
	principal := func(ctx context.Context) *accounts.Principal { p, _ := accounts.PrincipalFrom(ctx); return p }

	accounts.Register(api, huma.Operation{OperationID: "feedback-pending", Method: http.MethodGet, Path: "/api/v1/feedback/pending",
		Summary: "The survey to show now", Description: "The one prompt to show the customer now (the same one until it is answered, dismissed or expires), or null. Calling it counts as showing it."},
		func(ctx context.Context, _ *struct{}) (*feedbackPendingOutput, error) {
			p := principal(ctx)
			pr, err := s.Pending(ctx, p.OrgID, p.UserID)
			if err != nil {
				return nil, err
			}
			out := &feedbackPendingOutput{}
			if pr != nil {
				out.Body.Prompt = s.view(pr, langOf(p))
			}
			return out, nil
		}, customers, tag)

	accounts.Register(api, huma.Operation{OperationID: "feedback-answer", Method: http.MethodPost, Path: "/api/v1/feedback/{id}/answer",
		Summary: "Answer a survey", Description: "Stores the score at once (once: a second answer is 409). 422 when the score is outside the kind's scale."},
		func(ctx context.Context, in *feedbackAnswerInput) (*feedbackPromptOutput, error) {
			pr, err := s.Answer(ctx, principal(ctx), in.ID, in.Body.Score)
			if err != nil {
				return nil, err
			}
			return &feedbackPromptOutput{Body: pr}, nil
		}, customers, tag, accounts.Matrix(s.fixture(false)))

	accounts.Register(api, huma.Operation{OperationID: "feedback-comment", Method: http.MethodPost, Path: "/api/v1/feedback/{id}/comment",
		Summary: "Add a comment", Description: "The optional second step after the score; clears the comment form's draft."},
		func(ctx context.Context, in *feedbackCommentInput) (*feedbackPromptOutput, error) {
			pr, err := s.Comment(ctx, principal(ctx), in.ID, in.Body.Comment)
			if err != nil {
				return nil, err
			}
			return &feedbackPromptOutput{Body: pr}, nil
		}, customers, tag, accounts.Matrix(s.fixture(true)))

	accounts.Register(api, huma.Operation{OperationID: "feedback-dismiss", Method: http.MethodPost, Path: "/api/v1/feedback/{id}/dismiss",
		Summary: "Dismiss a survey", Description: "Closes the prompt without an answer.", DefaultStatus: 204},
		func(ctx context.Context, in *feedbackIDPath) (*struct{}, error) {
			return nil, s.Dismiss(ctx, principal(ctx), in.ID)
		}, customers, tag, accounts.Matrix(s.fixture(false)))

	accounts.Register(api, huma.Operation{OperationID: "feedback-analytics", Method: http.MethodGet, Path: "/api/v1/feedback/analytics",
		Summary: "Feedback figures", Description: "CSAT % (share of 4–5), NPS (% 9–10 − % 0–6), CES mean (and share of 5–7) and positive reactions, overall and per module, step and week (Monday, UTC). Staff see only the answers of the customers assigned to them."},
		func(ctx context.Context, in *feedbackAnalyticsInput) (*feedbackAnalyticsOutput, error) {
			f, err := ParseFilter(in.Module, in.Step, in.Kind, in.From, in.To)
			if err != nil {
				return nil, err
			}
			r, err := s.Analytics(ctx, principal(ctx), f)
			if err != nil {
				return nil, err
			}
			return &feedbackAnalyticsOutput{Body: r}, nil
		}, accounts.Allow(accounts.Staff, accounts.Admin, accounts.Integrator), tag)
}

var fixtureSeq atomic.Int64

// fixture gives the matrix a pending (or answered) prompt of the owner.
func (s *Service) fixture(answered bool) accounts.Fixture {
	return func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
		ref := "matrix:" + strconv.FormatInt(fixtureSeq.Add(1), 10)
		if _, err := s.AskAt(ctx, tx, owner.OrgID, owner.UserID, CoreStep.ID, ref); err != nil {
			return nil, nil, err
		}
		var pr Prompt
		db := store.Org(tx, owner.OrgID)
		if err := db.Where("customer_id = ? AND step_id = ? AND subject_ref = ?", owner.UserID, CoreStep.ID, ref).Take(&pr).Error; err != nil {
			return nil, nil, err
		}
		params := map[string]string{"id": strconv.FormatUint(uint64(pr.ID), 10)}
		if answered {
			now := s.now()
			if err := db.Model(&pr).Updates(map[string]any{"status": StatusAnswered, "score": 4, "answered_at": now, "week": WeekOf(now)}).Error; err != nil {
				return nil, nil, err
			}
			return params, map[string]any{"comment": "matrix"}, nil
		}
		return params, map[string]any{"score": 4}, nil
	}
}

// CoreStep is the portal's own journey step: overall satisfaction with the
// portal (the demo asks it).
var CoreStep = Step{ID: "portal.experience", Module: "portal", Kind: CSAT, Question: "How satisfied are you with your portal?"}

// HelpStep counts the help centre's "was this helpful?" as a quick
// reaction.
var HelpStep = Step{ID: "help.article", Module: "help", Kind: Reaction, Question: "Was this article helpful?"}

// Area is the policy area of feedback (accounts.Reach): staff reach a
// customer's feedback by assignment, or through a policy group whose kind opens
// "feedback" (docs/security.md).
const Area = "feedback"
