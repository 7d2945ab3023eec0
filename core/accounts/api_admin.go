package accounts

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

type tokenView struct {
	ID         uint       `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix" doc:"The first characters of the token, to recognise it"`
	Scopes     []string   `json:"scopes"`
	ExpiresAt  time.Time  `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

func viewToken(t *APIToken) tokenView {
	return tokenView{ID: t.ID, Name: t.Name, Prefix: t.Prefix, Scopes: t.ScopeList(), ExpiresAt: t.ExpiresAt,
		LastUsedAt: t.LastUsedAt, RevokedAt: t.RevokedAt, CreatedAt: t.CreatedAt}
}

// userFixture creates a customer of the owner's organisation for the
// authorization matrix of admin user routes.
func (s *Service) userFixture(ctx context.Context, tx *gorm.DB, owner *Principal) (map[string]string, any, error) {
	u := User{Email: "matrix-" + randomToken(6) + "@example.com", Name: "Matrix", Role: Customer}
	if err := store.Org(tx, owner.OrgID).Create(&u).Error; err != nil {
		return nil, nil, err
	}
	return map[string]string{"id": strconv.FormatUint(uint64(u.ID), 10)}, map[string]any{"role": "staff"}, nil
}

func (s *Service) registerAdminAPI(api huma.API, tag func(*huma.Operation)) {
	type usersQuery struct {
		pageQuery
		Role string `query:"role" enum:"customer,staff,admin," doc:"Only users with this role"`
		Q    string `query:"q" maxLength:"100" doc:"Search name or e-mail"`
	}
	type usersOutput struct {
		Body struct {
			Users []UserView `json:"users"`
			Total int64      `json:"total"`
		}
	}
	Register(api, huma.Operation{OperationID: "users-list", Method: http.MethodGet, Path: "/api/v1/users",
		Summary: "List users", Description: "Admins see every user of their organisation; staff see the customers assigned to them."},
		func(ctx context.Context, in *usersQuery) (*usersOutput, error) {
			list, total, err := s.ListUsers(ctx, mustPrincipal(ctx), UserFilter{Role: Role(in.Role), Query: in.Q}, in.page())
			if err != nil {
				return nil, err
			}
			out := &usersOutput{}
			out.Body.Users, out.Body.Total = []UserView{}, total
			for i := range list {
				out.Body.Users = append(out.Body.Users, viewUser(&list[i]))
			}
			return out, nil
		}, Allow(Staff, Admin), tag)

	type inviteInput struct {
		Body struct {
			Email string `json:"email" minLength:"3" maxLength:"254"`
			Name  string `json:"name" minLength:"1" maxLength:"120"`
			Role  Role   `json:"role" enum:"customer,staff,admin"`
		}
	}
	type userOutput struct{ Body UserView }
	Register(api, huma.Operation{OperationID: "users-invite", Method: http.MethodPost, Path: "/api/v1/users",
		Summary: "Invite a user", Description: "Creates the account and e-mails an invitation link to choose a password.", DefaultStatus: 201},
		func(ctx context.Context, in *inviteInput) (*userOutput, error) {
			u, err := s.Invite(ctx, mustPrincipal(ctx), in.Body.Email, in.Body.Name, in.Body.Role)
			if err != nil {
				return nil, err
			}
			return &userOutput{Body: viewUser(u)}, nil
		}, Allow(Admin), tag, web.Idempotent())

	type roleInput struct {
		ID   uint `path:"id"`
		Body struct {
			Role Role `json:"role" enum:"customer,staff,admin"`
		}
	}
	Register(api, huma.Operation{OperationID: "users-set-role", Method: http.MethodPatch, Path: "/api/v1/users/{id}", Summary: "Change a user's role"},
		func(ctx context.Context, in *roleInput) (*userOutput, error) {
			u, err := s.SetRole(ctx, mustPrincipal(ctx), in.ID, in.Body.Role)
			if err != nil {
				return nil, err
			}
			return &userOutput{Body: viewUser(u)}, nil
		}, Allow(Admin), tag, Matrix(s.userFixture))

	type assignInput struct {
		ID   uint `path:"id" doc:"Customer ID"`
		Body struct {
			StaffID  uint   `json:"staff_id" minimum:"1"`
			Relation string `json:"relation,omitempty" maxLength:"40" doc:"advisor, professor, clinician, ..."`
		}
	}
	Register(api, huma.Operation{OperationID: "users-assign", Method: http.MethodPost, Path: "/api/v1/users/{id}/assignments",
		Summary: "Assign a staff member to a customer", DefaultStatus: 204},
		func(ctx context.Context, in *assignInput) (*emptyOutput, error) {
			return nil, s.Assign(ctx, mustPrincipal(ctx), in.Body.StaffID, in.ID, in.Body.Relation)
		}, Allow(Admin), tag, MatrixSkip("the body names a staff member of the caller's organisation, so a fixture cannot be valid for two organisations; object checks are UserByID (org-scoped) and covered by TestAssignmentsAcrossOrgs"))

	type unassignInput struct {
		ID      uint `path:"id" doc:"Customer ID"`
		StaffID uint `path:"staff_id"`
	}
	Register(api, huma.Operation{OperationID: "users-unassign", Method: http.MethodDelete, Path: "/api/v1/users/{id}/assignments/{staff_id}",
		Summary: "Remove a staff assignment", DefaultStatus: 204},
		func(ctx context.Context, in *unassignInput) (*emptyOutput, error) {
			return nil, s.Unassign(ctx, mustPrincipal(ctx), in.StaffID, in.ID)
		}, Allow(Admin), tag, MatrixSkip("addresses a pair of users; covered by TestAssignmentsAcrossOrgs"))

	type tokensOutput struct {
		Body struct {
			Tokens []tokenView `json:"tokens"`
		}
	}
	Register(api, huma.Operation{OperationID: "tokens-list", Method: http.MethodGet, Path: "/api/v1/tokens", Summary: "List API tokens"},
		func(ctx context.Context, _ *struct{}) (*tokensOutput, error) {
			list, err := s.Tokens(ctx, mustPrincipal(ctx))
			if err != nil {
				return nil, err
			}
			out := &tokensOutput{}
			out.Body.Tokens = []tokenView{}
			for i := range list {
				out.Body.Tokens = append(out.Body.Tokens, viewToken(&list[i]))
			}
			return out, nil
		}, Allow(Admin), tag)

	type createTokenInput struct {
		Body struct {
			Name          string   `json:"name" minLength:"1" maxLength:"100"`
			Scopes        []string `json:"scopes" minItems:"1" maxItems:"20" doc:"<area>:read, <area>:write, <area>:* or *; area is a module ID or core area (users, devices, ...)"`
			ExpiresInDays int      `json:"expires_in_days" minimum:"1" maximum:"366" default:"90"`
		}
	}
	type createdTokenOutput struct {
		Body struct {
			tokenView
			Token string `json:"token" doc:"The secret. Shown once: store it now."`
		}
	}
	Register(api, huma.Operation{OperationID: "tokens-create", Method: http.MethodPost, Path: "/api/v1/tokens",
		Summary: "Create an API token", Description: "The secret is in the response once and stored only as a hash.", DefaultStatus: 201},
		func(ctx context.Context, in *createTokenInput) (*createdTokenOutput, error) {
			ct, err := s.CreateToken(ctx, mustPrincipal(ctx), NewToken{Name: in.Body.Name, Scopes: in.Body.Scopes,
				ExpiresIn: time.Duration(in.Body.ExpiresInDays) * 24 * time.Hour}, ClientIP(ctx))
			if err != nil {
				return nil, err
			}
			out := &createdTokenOutput{}
			out.Body.tokenView = viewToken(&ct.Token)
			out.Body.Token = ct.Secret
			return out, nil
		}, Allow(Admin), tag, web.Idempotent())

	Register(api, huma.Operation{OperationID: "tokens-revoke", Method: http.MethodDelete, Path: "/api/v1/tokens/{id}",
		Summary: "Revoke an API token", DefaultStatus: 204},
		func(ctx context.Context, in *idPath) (*emptyOutput, error) {
			return nil, s.RevokeToken(ctx, mustPrincipal(ctx), in.ID, ClientIP(ctx))
		}, Allow(Admin), tag, Matrix(func(ctx context.Context, tx *gorm.DB, owner *Principal) (map[string]string, any, error) {
			t := APIToken{Name: "matrix", TokenHash: hashToken(randomToken(16)), Prefix: "pka_matrix", Scopes: "*", CreatedBy: owner.UserID, ExpiresAt: s.now().Add(time.Hour)}
			if err := store.Org(tx, owner.OrgID).Create(&t).Error; err != nil {
				return nil, nil, err
			}
			return map[string]string{"id": strconv.FormatUint(uint64(t.ID), 10)}, nil, nil
		}))

	type auditQuery struct {
		pageQuery
		Action  string    `query:"action" maxLength:"40"`
		ActorID uint      `query:"actor_id"`
		Since   time.Time `query:"since" doc:"RFC 3339"`
		Until   time.Time `query:"until" doc:"RFC 3339"`
	}
	type auditOutput struct {
		Body struct {
			Entries []AuditEntry `json:"entries"`
			Total   int64        `json:"total"`
		}
	}
	Register(api, huma.Operation{OperationID: "audit-list", Method: http.MethodGet, Path: "/api/v1/audit", Summary: "Read the audit log"},
		func(ctx context.Context, in *auditQuery) (*auditOutput, error) {
			list, total, err := s.AuditLog(ctx, mustPrincipal(ctx), AuditFilter{Action: in.Action, ActorID: in.ActorID, Since: in.Since, Until: in.Until}, in.page())
			if err != nil {
				return nil, err
			}
			out := &auditOutput{}
			out.Body.Entries, out.Body.Total = list, total
			if out.Body.Entries == nil {
				out.Body.Entries = []AuditEntry{}
			}
			return out, nil
		}, Allow(Admin), tag)

	type orgOutput struct{ Body OrgView }
	Register(api, huma.Operation{OperationID: "org-get", Method: http.MethodGet, Path: "/api/v1/org", Summary: "My organisation"},
		func(ctx context.Context, _ *struct{}) (*orgOutput, error) {
			o, err := s.OrgByID(ctx, mustPrincipal(ctx).OrgID)
			if err != nil {
				return nil, err
			}
			return &orgOutput{Body: viewOrg(o)}, nil
		}, Allow(Customer, Staff, Admin), tag)

	type orgPatch struct {
		Body struct {
			Name          *string  `json:"name,omitempty" maxLength:"120"`
			LogoURL       *string  `json:"logo_url,omitempty" maxLength:"500"`
			PrimaryColor  *string  `json:"primary_color,omitempty" maxLength:"7"`
			Locale        *string  `json:"locale,omitempty" enum:"en,it"`
			TimeZone      *string  `json:"time_zone,omitempty" maxLength:"64"`
			SelfSignup    *bool    `json:"self_signup,omitempty"`
			RetentionDays *int     `json:"retention_days,omitempty"`
			Modules       []string `json:"modules,omitempty" doc:"Module IDs to enable; the rest are disabled"`
		}
	}
	Register(api, huma.Operation{OperationID: "org-update", Method: http.MethodPatch, Path: "/api/v1/org", Summary: "Change my organisation's settings"},
		func(ctx context.Context, in *orgPatch) (*orgOutput, error) {
			p := mustPrincipal(ctx)
			o, err := s.UpdateOrg(ctx, p, p.OrgID, OrgSettings{Name: in.Body.Name, LogoURL: in.Body.LogoURL, PrimaryColor: in.Body.PrimaryColor,
				Locale: in.Body.Locale, TimeZone: in.Body.TimeZone, SelfSignup: in.Body.SelfSignup, RetentionDays: in.Body.RetentionDays, Modules: in.Body.Modules})
			if err != nil {
				return nil, err
			}
			return &orgOutput{Body: viewOrg(o)}, nil
		}, Allow(Admin), tag)

	type orgsOutput struct {
		Body struct {
			Orgs  []OrgView `json:"orgs"`
			Total int64     `json:"total"`
		}
	}
	Register(api, huma.Operation{OperationID: "orgs-list", Method: http.MethodGet, Path: "/api/v1/orgs", Summary: "List organisations (platform admins)"},
		func(ctx context.Context, in *pageQuery) (*orgsOutput, error) {
			list, total, err := s.ListOrgs(ctx, mustPrincipal(ctx), in.page())
			if err != nil {
				return nil, err
			}
			out := &orgsOutput{}
			out.Body.Orgs, out.Body.Total = []OrgView{}, total
			for i := range list {
				out.Body.Orgs = append(out.Body.Orgs, viewOrg(&list[i]))
			}
			return out, nil
		}, Allow(PlatformAdmin), tag)

	type createOrgInput struct {
		Body struct {
			Slug       string   `json:"slug" minLength:"3" maxLength:"40"`
			Name       string   `json:"name" minLength:"1" maxLength:"120"`
			Locale     string   `json:"locale,omitempty" enum:"en,it,"`
			TimeZone   string   `json:"time_zone,omitempty" maxLength:"64"`
			SelfSignup bool     `json:"self_signup,omitempty"`
			Modules    []string `json:"modules,omitempty" doc:"Default: every loaded module"`
		}
	}
	Register(api, huma.Operation{OperationID: "orgs-create", Method: http.MethodPost, Path: "/api/v1/orgs", Summary: "Create an organisation (platform admins)", DefaultStatus: 201},
		func(ctx context.Context, in *createOrgInput) (*orgOutput, error) {
			if !mustPrincipal(ctx).Is(PlatformAdmin) {
				return nil, errs.Forbiddenf("only platform admins create organisations")
			}
			o, err := s.CreateOrg(ctx, NewOrg{Slug: in.Body.Slug, Name: in.Body.Name, Locale: in.Body.Locale, TimeZone: in.Body.TimeZone,
				SelfSignup: in.Body.SelfSignup, Modules: in.Body.Modules})
			if err != nil {
				return nil, err
			}
			return &orgOutput{Body: viewOrg(o)}, nil
		}, Allow(PlatformAdmin), tag, web.Idempotent())
}
