package help

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// ArticleView is an article as readers get it from the API.
type ArticleView struct {
	ID          uint          `json:"id"`
	Slug        string        `json:"slug"`
	Locale      string        `json:"locale"`
	Title       string        `json:"title"`
	Category    string        `json:"category"`
	Module      string        `json:"module"`
	Excerpt     string        `json:"excerpt"`
	HTML        template.HTML `json:"html,omitempty" doc:"The article, rendered and sanitised"`
	PublishedAt *time.Time    `json:"published_at,omitempty"`
	UpdatedAt   time.Time     `json:"updated_at"`
	MyVote      *bool         `json:"my_vote,omitempty" doc:"The caller's answer to \"was this helpful?\", if any"`
}

func viewArticle(a *Article, full bool) ArticleView {
	v := ArticleView{ID: a.ID, Slug: a.Slug, Locale: a.Locale, Title: a.Title, Category: a.Category, Module: a.Module,
		Excerpt: a.Excerpt, PublishedAt: a.PublishedAt, UpdatedAt: a.UpdatedAt}
	if full {
		v.HTML = template.HTML(a.HTML)
	}
	return v
}

// ManagedView is an article as staff see it: source, status and counts.
type ManagedView struct {
	ArticleView
	Body       string   `json:"body"`
	Contexts   []string `json:"contexts"`
	Published  bool     `json:"published"`
	Source     string   `json:"source" enum:"default,staff"`
	Edited     bool     `json:"edited" doc:"A shipped article staff changed (new shipped versions no longer replace it)"`
	HelpfulYes int64    `json:"helpful_yes"`
	HelpfulNo  int64    `json:"helpful_no"`
}

func viewManaged(a *Article) ManagedView {
	ctx := a.ContextKeys()
	if ctx == nil {
		ctx = []string{}
	}
	return ManagedView{ArticleView: viewArticle(a, true), Body: a.Body, Contexts: ctx, Published: a.Published, Source: a.Source,
		Edited: a.Edited, HelpfulYes: a.HelpfulYes, HelpfulNo: a.HelpfulNo}
}

// ReaderParams are the query parameters of the reading operations.
type ReaderParams struct {
	Org    string `query:"org" maxLength:"40" doc:"Organisation slug; needed only when not signed in (public help centres)"`
	Locale string `query:"locale" enum:"en,it," doc:"Language; defaults to the reader's"`
}

type helpArticleInputBody struct {
	Title    string   `json:"title" minLength:"1" maxLength:"200"`
	Slug     string   `json:"slug,omitempty" maxLength:"100" doc:"Made from the title when empty"`
	Locale   string   `json:"locale" enum:"en,it"`
	Category string   `json:"category,omitempty" maxLength:"80"`
	Module   string   `json:"module,omitempty" maxLength:"32" doc:"The module the article documents; empty for the portal itself"`
	Body     string   `json:"body" minLength:"1" maxLength:"100000" doc:"Markdown"`
	Contexts []string `json:"contexts,omitempty" maxItems:"20" doc:"Context keys of the pages that link here, e.g. automotive.vehicle"`
}

func (b helpArticleInputBody) input() ArticleInput { return ArticleInput(b) }

type idPath struct {
	ID uint `path:"id" doc:"Article ID"`
}

type helpManagedOutput struct{ Body ManagedView }

func principal(ctx context.Context) *accounts.Principal {
	p, _ := accounts.PrincipalFrom(ctx)
	return p
}

// editors may edit articles: staff, admins and integrator tokens (to sync
// articles from another system).
var editors = []accounts.Role{accounts.Staff, accounts.Admin, accounts.Integrator}

// RegisterAPI declares the help centre's operations under /api/v1/help.
func (s *Service) RegisterAPI(api huma.API) {
	tag := func(o *huma.Operation) { o.Tags = []string{"Help centre"} }
	reader := func(ctx context.Context, q ReaderParams) (Reader, error) {
		return s.ReaderFor(ctx, principal(ctx), q.Org, q.Locale)
	}

	type helpListInput struct {
		ReaderParams
		Module string `query:"module" maxLength:"32" doc:"Only the articles of this module"`
	}
	type helpListOutput struct {
		Body struct {
			Articles []ArticleView `json:"articles"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "help-list", Method: http.MethodGet, Path: "/api/v1/help/articles",
		Summary: "List help articles", Description: "The published articles the caller may read, one per slug, in the caller's language when translated. Anonymous callers name the organisation (org=...), whose help centre must be public."},
		func(ctx context.Context, in *helpListInput) (*helpListOutput, error) {
			r, err := reader(ctx, in.ReaderParams)
			if err != nil {
				return nil, err
			}
			list, err := s.List(ctx, r, in.Module)
			if err != nil {
				return nil, err
			}
			out := &helpListOutput{}
			out.Body.Articles = make([]ArticleView, 0, len(list))
			for i := range list {
				out.Body.Articles = append(out.Body.Articles, viewArticle(&list[i], false))
			}
			return out, nil
		}, accounts.Public(), tag)

	type helpSearchInput struct {
		ReaderParams
		Q     string `query:"q" maxLength:"200" doc:"A question or words; any word may match (stop words dropped, stems, synonyms, misspellings forgiven); \"a phrase\" must appear, -word must not"`
		Limit int    `query:"limit" minimum:"0" maximum:"50" default:"20"`
	}
	type helpSearchOutput struct {
		Body struct {
			Results []Hit  `json:"results"`
			Closest []Hit  `json:"closest,omitempty" doc:"When nothing matched: the articles whose titles are nearest to the question (else the most helpful ones)"`
			Ask     string `json:"ask,omitempty" doc:"When nothing matched: where the caller can ask a person (a customer: a new secure message with the question as its subject)"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "help-search", Method: http.MethodGet, Path: "/api/v1/help/search",
		Summary: "Search the help centre", Description: "Full-text search over the published articles the caller may read, best match first (a title match outranks a match in the text), in the caller's language first."},
		func(ctx context.Context, in *helpSearchInput) (*helpSearchOutput, error) {
			r, err := reader(ctx, in.ReaderParams)
			if err != nil {
				return nil, err
			}
			hits, err := s.Search(ctx, r, in.Q, in.Limit)
			if err != nil {
				return nil, err
			}
			out := &helpSearchOutput{}
			out.Body.Results = hits
			if len(hits) == 0 && strings.TrimSpace(in.Q) != "" {
				if out.Body.Closest, err = s.Closest(ctx, r, in.Q, 3); err != nil {
					return nil, err
				}
				out.Body.Ask = askLink(r, in.Q)
			}
			return out, nil
		}, accounts.Public(), tag)

	type helpSlugInput struct {
		ReaderParams
		Slug string `path:"slug" maxLength:"100" doc:"Article slug"`
	}
	type helpArticleOutput struct{ Body ArticleView }
	accounts.Register(api, huma.Operation{OperationID: "help-get", Method: http.MethodGet, Path: "/api/v1/help/articles/{slug}",
		Summary: "Read a help article", Description: "The published article in the caller's language when translated, rendered as sanitised HTML."},
		func(ctx context.Context, in *helpSlugInput) (*helpArticleOutput, error) {
			r, err := reader(ctx, in.ReaderParams)
			if err != nil {
				return nil, err
			}
			a, err := s.Read(ctx, r, in.Slug)
			if err != nil {
				return nil, err
			}
			v := viewArticle(a, true)
			if v.MyVote, err = s.MyVote(ctx, r, a.ID); err != nil {
				return nil, err
			}
			return &helpArticleOutput{Body: v}, nil
		}, accounts.Public(), tag)

	type helpContextInput struct {
		ReaderParams
		Key string `path:"key" maxLength:"100" doc:"Context key of a page, e.g. automotive.vehicle"`
	}
	accounts.Register(api, huma.Operation{OperationID: "help-context", Method: http.MethodGet, Path: "/api/v1/help/context/{key}",
		Summary: "Articles about a page", Description: "The published articles linked to a page's context key (what a module page shows as \"Help\")."},
		func(ctx context.Context, in *helpContextInput) (*helpListOutput, error) {
			r, err := reader(ctx, in.ReaderParams)
			if err != nil {
				return nil, err
			}
			list, err := s.ForContext(ctx, r, in.Key)
			if err != nil {
				return nil, err
			}
			out := &helpListOutput{}
			out.Body.Articles = make([]ArticleView, 0, len(list))
			for i := range list {
				out.Body.Articles = append(out.Body.Articles, viewArticle(&list[i], false))
			}
			return out, nil
		}, accounts.Public(), tag)

	type helpVoteInput struct {
		ID   uint `path:"id" doc:"Article ID"`
		Body struct {
			Helpful bool `json:"helpful" doc:"Did the article help?"`
		}
	}
	type helpVoteOutput struct {
		Body struct {
			Helpful bool `json:"helpful"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "help-vote", Method: http.MethodPost, Path: "/api/v1/help/articles/{id}/vote",
		Summary: "Answer \"was this helpful?\"", Description: "Counted once per person and article; answering again replaces the answer."},
		func(ctx context.Context, in *helpVoteInput) (*helpVoteOutput, error) {
			r, err := s.ReaderFor(ctx, principal(ctx), "", "")
			if err != nil {
				return nil, err
			}
			if _, err := s.Vote(ctx, r, in.ID, in.Body.Helpful); err != nil {
				return nil, err
			}
			out := &helpVoteOutput{}
			out.Body.Helpful = in.Body.Helpful
			return out, nil
		}, accounts.Allow(accounts.Customer, accounts.Staff, accounts.Admin), tag,
		accounts.MatrixSkip("help articles belong to the whole organisation, not to one customer: every member may rate a published article; "+
			"votes on another organisation's articles answer 404 (TestHelpIsScopedToTheOrganisation)"))

	// Staff.
	type helpManageListInput struct {
		Locale string `query:"locale" enum:"en,it,"`
		Status string `query:"status" enum:"published,draft,"`
		Q      string `query:"q" maxLength:"200" doc:"Title contains"`
	}
	type helpManageListOutput struct {
		Body struct {
			Articles []ManagedView `json:"articles"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "help-manage-list", Method: http.MethodGet, Path: "/api/v1/help/manage/articles",
		Summary: "List every article (staff)", Description: "Published and draft articles of the organisation with their \"was this helpful?\" counts."},
		func(ctx context.Context, in *helpManageListInput) (*helpManageListOutput, error) {
			list, err := s.Manage(ctx, principal(ctx), ManageFilter{Locale: in.Locale, Status: in.Status, Query: in.Q})
			if err != nil {
				return nil, err
			}
			out := &helpManageListOutput{}
			out.Body.Articles = make([]ManagedView, 0, len(list))
			for i := range list {
				out.Body.Articles = append(out.Body.Articles, viewManaged(&list[i]))
			}
			return out, nil
		}, accounts.Allow(editors...), tag)

	type helpCreateInput struct{ Body helpArticleInputBody }
	accounts.Register(api, huma.Operation{OperationID: "help-manage-create", Method: http.MethodPost, Path: "/api/v1/help/manage/articles",
		Summary: "Write an article (staff)", Description: "The article starts as a draft; publish it to show it to readers.", DefaultStatus: 201},
		func(ctx context.Context, in *helpCreateInput) (*helpManagedOutput, error) {
			a, err := s.Create(ctx, principal(ctx), in.Body.input())
			if err != nil {
				return nil, err
			}
			return &helpManagedOutput{Body: viewManaged(a)}, nil
		}, accounts.Allow(editors...), tag, web.Idempotent())

	matrix := accounts.Matrix(s.articleFixture)
	accounts.Register(api, huma.Operation{OperationID: "help-manage-get", Method: http.MethodGet, Path: "/api/v1/help/manage/articles/{id}",
		Summary: "Read an article for editing (staff)"},
		func(ctx context.Context, in *idPath) (*helpManagedOutput, error) {
			a, err := s.Get(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return &helpManagedOutput{Body: viewManaged(a)}, nil
		}, accounts.Allow(editors...), tag, matrix)

	type helpUpdateInput struct {
		ID   uint `path:"id" doc:"Article ID"`
		Body helpArticleInputBody
	}
	accounts.Register(api, huma.Operation{OperationID: "help-manage-update", Method: http.MethodPut, Path: "/api/v1/help/manage/articles/{id}",
		Summary: "Change an article (staff)", Description: "Its published state stays as it is."},
		func(ctx context.Context, in *helpUpdateInput) (*helpManagedOutput, error) {
			a, err := s.Update(ctx, principal(ctx), in.ID, in.Body.input())
			if err != nil {
				return nil, err
			}
			return &helpManagedOutput{Body: viewManaged(a)}, nil
		}, accounts.Allow(editors...), tag, matrix)

	for _, pub := range []bool{true, false} {
		name, summary := "publish", "Publish an article (staff)"
		if !pub {
			name, summary = "unpublish", "Unpublish an article (staff)"
		}
		accounts.Register(api, huma.Operation{OperationID: "help-manage-" + name, Method: http.MethodPost, Path: "/api/v1/help/manage/articles/{id}/" + name,
			Summary: summary},
			func(ctx context.Context, in *idPath) (*helpManagedOutput, error) {
				a, err := s.SetPublished(ctx, principal(ctx), in.ID, pub)
				if err != nil {
					return nil, err
				}
				return &helpManagedOutput{Body: viewManaged(a)}, nil
			}, accounts.Allow(editors...), tag, matrix)
	}

	accounts.Register(api, huma.Operation{OperationID: "help-manage-delete", Method: http.MethodDelete, Path: "/api/v1/help/manage/articles/{id}",
		Summary: "Delete an article (staff)", Description: "Only articles written by staff; shipped articles are unpublished instead (409).", DefaultStatus: 204},
		func(ctx context.Context, in *idPath) (*struct{}, error) {
			return nil, s.Delete(ctx, principal(ctx), in.ID)
		}, accounts.Allow(editors...), tag, matrix)

	type helpPreviewInput struct {
		Body struct {
			Body string `json:"body" maxLength:"100000" doc:"Markdown"`
		}
	}
	type helpPreviewOutput struct {
		Body struct {
			HTML template.HTML `json:"html"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "help-manage-preview", Method: http.MethodPost, Path: "/api/v1/help/manage/preview",
		Summary: "Preview Markdown (staff)", Description: "Renders and sanitises Markdown exactly as the article page will show it."},
		func(ctx context.Context, in *helpPreviewInput) (*helpPreviewOutput, error) {
			h, err := Preview(in.Body.Body)
			if err != nil {
				return nil, err
			}
			out := &helpPreviewOutput{}
			out.Body.HTML = h
			return out, nil
		}, accounts.Allow(editors...), tag)

	type helpSettingsBody struct {
		Public bool `json:"public" doc:"Anyone may read the published articles without signing in"`
	}
	type helpSettingsOutput struct{ Body helpSettingsBody }
	accounts.Register(api, huma.Operation{OperationID: "help-settings", Method: http.MethodGet, Path: "/api/v1/help/settings",
		Summary: "Help-centre settings"},
		func(ctx context.Context, _ *struct{}) (*helpSettingsOutput, error) {
			set, err := s.Settings(ctx, principal(ctx).OrgID)
			if err != nil {
				return nil, err
			}
			return &helpSettingsOutput{Body: helpSettingsBody{Public: set.Public}}, nil
		}, accounts.Allow(accounts.Staff, accounts.Admin), tag)
	type helpSettingsInput struct{ Body helpSettingsBody }
	accounts.Register(api, huma.Operation{OperationID: "help-settings-update", Method: http.MethodPut, Path: "/api/v1/help/settings",
		Summary: "Change the help-centre settings (admins)"},
		func(ctx context.Context, in *helpSettingsInput) (*helpSettingsOutput, error) {
			set, err := s.SetPublic(ctx, principal(ctx), in.Body.Public)
			if err != nil {
				return nil, err
			}
			return &helpSettingsOutput{Body: helpSettingsBody{Public: set.Public}}, nil
		}, accounts.Allow(accounts.Admin), tag)
}

// articleFixture creates an article in the owner's organisation for the
// authorization matrix.
func (s *Service) articleFixture(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
	var raw [4]byte
	_, _ = rand.Read(raw[:])
	r, _ := Render("Matrix fixture text.")
	a := Article{Slug: "matrix-" + hex.EncodeToString(raw[:]), Locale: "en", Title: "Matrix fixture", Body: "Matrix fixture text.",
		HTML: string(r.HTML), Plain: r.Plain, Excerpt: r.Excerpt, Source: "staff", CreatedBy: owner.UserID}
	if err := store.Org(tx, owner.OrgID).Create(&a).Error; err != nil {
		return nil, nil, err
	}
	body := helpArticleInputBody{Title: "Matrix fixture, changed", Slug: a.Slug + "-changed", Locale: "en", Body: "Changed text."}
	return map[string]string{"id": strconv.FormatUint(uint64(a.ID), 10)}, body, nil
}
