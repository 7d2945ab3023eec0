package drafts

import (
	"context"
	"embed"
	"io/fs"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
)

//go:embed i18n/*.json
var translationFS embed.FS

// Translations returns the drafts texts (the offer shown above a form).
func Translations() fs.FS {
	sub, _ := fs.Sub(translationFS, "i18n")
	return sub
}

type draftsKeyPath struct {
	Key string `path:"key" maxLength:"120" pattern:"^[a-z][a-z0-9_]*(\\.[a-z0-9_-]+)+$" doc:"The form's draft key, \"<module>.<form>[.<object>]\""`
}

type draftsSavedOutput struct{ Body *Saved }

type draftsListOutput struct {
	Body struct {
		Drafts []Saved `json:"drafts"`
	}
}

type draftsPutInput struct {
	Key  string `path:"key" maxLength:"120" pattern:"^[a-z][a-z0-9_]*(\\.[a-z0-9_-]+)+$" doc:"The form's draft key, \"<module>.<form>[.<object>]\""`
	Body struct {
		Data map[string]any `json:"data" doc:"The form's fields: name → value (a string, or a list of strings for multiple choices)"`
	}
}

// RegisterAPI declares the drafts operations under /api/v1/drafts. Drafts
// belong to a signed-in person (customers, staff, admins); API tokens have
// none.
func (s *Service) RegisterAPI(api huma.API) {
	tag := func(o *huma.Operation) { o.Tags = []string{"Drafts"} }
	people := accounts.Allow(accounts.Customer, accounts.Staff, accounts.Admin)
	matrix := accounts.Matrix(s.fixture)

	accounts.Register(api, huma.Operation{OperationID: "drafts-list", Method: http.MethodGet, Path: "/api/v1/drafts",
		Summary: "My saved drafts", Description: "The caller's unexpired form drafts, newest first, without their fields."},
		func(ctx context.Context, _ *struct{}) (*draftsListOutput, error) {
			list, err := s.List(ctx, principal(ctx))
			if err != nil {
				return nil, err
			}
			out := &draftsListOutput{}
			out.Body.Drafts = list
			return out, nil
		}, people, tag)

	accounts.Register(api, huma.Operation{OperationID: "drafts-get", Method: http.MethodGet, Path: "/api/v1/drafts/{key}",
		Summary: "Load a draft", Description: "The caller's draft under key with its fields; 404 when there is none (or it expired)."},
		func(ctx context.Context, in *draftsKeyPath) (*draftsSavedOutput, error) {
			d, err := s.Load(ctx, principal(ctx), in.Key)
			if err != nil {
				return nil, err
			}
			return &draftsSavedOutput{Body: d}, nil
		}, people, tag, matrix)

	accounts.Register(api, huma.Operation{OperationID: "drafts-put", Method: http.MethodPut, Path: "/api/v1/drafts/{key}",
		Summary: "Save a draft", Description: "Replaces the caller's draft under key and restarts its expiry (drafts.ttl). 413 when the fields are above drafts.max_bytes as JSON. With the session cookie, send the X-CSRF-Token header."},
		func(ctx context.Context, in *draftsPutInput) (*draftsSavedOutput, error) {
			d, err := s.Save(ctx, principal(ctx), in.Key, in.Body.Data)
			if err != nil {
				return nil, err
			}
			return &draftsSavedOutput{Body: d}, nil
		}, people, tag, accounts.MatrixSkip("PUT writes the caller's own draft under a key; no caller can address another person's draft (GET and DELETE of the same key are in the matrix)"))

	accounts.Register(api, huma.Operation{OperationID: "drafts-delete", Method: http.MethodDelete, Path: "/api/v1/drafts/{key}",
		Summary: "Discard a draft", Description: "Start over: deletes the caller's draft under key; 404 when there is none.", DefaultStatus: 204},
		func(ctx context.Context, in *draftsKeyPath) (*struct{}, error) {
			return nil, s.Delete(ctx, principal(ctx), in.Key)
		}, people, tag, matrix)
}

func principal(ctx context.Context) *accounts.Principal {
	p, _ := accounts.PrincipalFrom(ctx)
	return p
}

// fixture gives the matrix a draft of the owner.
func (s *Service) fixture(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
	if _, err := s.SaveFor(ctx, tx, owner.OrgID, owner.UserID, "matrix.form", map[string]any{"name": "x"}); err != nil {
		return nil, nil, err
	}
	return map[string]string{"key": "matrix.form"}, nil, nil
}
