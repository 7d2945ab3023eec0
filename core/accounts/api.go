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

// Locals carrying the client's address into handler contexts (humafiber
// copies Fiber locals into the context).
const (
	localIP = "portal.client_ip"
	localUA = "portal.user_agent"
)

// ClientIP returns the caller's address (after trusted-proxy handling).
func ClientIP(ctx context.Context) string {
	s, _ := ctx.Value(localIP).(string)
	return s
}

func userAgent(ctx context.Context) string {
	s, _ := ctx.Value(localUA).(string)
	return s
}

func mustPrincipal(ctx context.Context) *Principal {
	p, _ := PrincipalFrom(ctx)
	return p
}

// UserView is a user as the API shows it.
type UserView struct {
	ID            uint       `json:"id"`
	Email         string     `json:"email"`
	Name          string     `json:"name"`
	Role          Role       `json:"role"`
	Locale        string     `json:"locale,omitempty"`
	TimeZone      string     `json:"time_zone,omitempty"`
	EmailVerified bool       `json:"email_verified"`
	Disabled      bool       `json:"disabled"`
	LastLoginAt   *time.Time `json:"last_login_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
}

func viewUser(u *User) UserView {
	return UserView{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Locale: u.Locale, TimeZone: u.TimeZone,
		EmailVerified: u.EmailVerifiedAt != nil, Disabled: u.DisabledAt != nil, LastLoginAt: u.LastLoginAt, CreatedAt: u.CreatedAt}
}

// OrgView is an organisation as the API shows it.
type OrgView struct {
	ID            uint     `json:"id"`
	Slug          string   `json:"slug"`
	Name          string   `json:"name"`
	LogoURL       string   `json:"logo_url,omitempty"`
	PrimaryColor  string   `json:"primary_color,omitempty"`
	Locale        string   `json:"locale"`
	TimeZone      string   `json:"time_zone"`
	Modules       []string `json:"modules"`
	SelfSignup    bool     `json:"self_signup"`
	RetentionDays int      `json:"retention_days"`
}

func viewOrg(o *Org) OrgView {
	mods := o.EnabledModules()
	if mods == nil {
		mods = []string{}
	}
	return OrgView{ID: o.ID, Slug: o.Slug, Name: o.Name, LogoURL: o.LogoURL, PrimaryColor: o.PrimaryColor, Locale: o.Locale,
		TimeZone: o.TimeZone, Modules: mods, SelfSignup: o.SelfSignup, RetentionDays: o.RetentionDays}
}

type loginInput struct {
	Body struct {
		Org      string `json:"org" minLength:"1" maxLength:"40" doc:"Organisation slug, e.g. demo"`
		Email    string `json:"email" minLength:"3" maxLength:"254" doc:"E-mail address"`
		Password string `json:"password" minLength:"1" maxLength:"128" doc:"Password"`
	}
}

type loginOutput struct {
	SetCookie http.Cookie `header:"Set-Cookie"`
	Body      struct {
		Token     string    `json:"token" doc:"Bearer token for API clients; the same session as the cookie"`
		ExpiresAt time.Time `json:"expires_at"`
		User      UserView  `json:"user"`
		Org       OrgView   `json:"org"`
	}
}

type meOutput struct {
	Body struct {
		User    UserView `json:"user"`
		Org     OrgView  `json:"org"`
		Role    Role     `json:"role"`
		Modules []string `json:"modules"`
	}
}

type emptyOutput struct{}

type sessionView struct {
	ID         uint      `json:"id"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Current    bool      `json:"current"`
}

type idPath struct {
	ID uint `path:"id" doc:"Object ID"`
}

type pageQuery struct {
	Page int `query:"page" minimum:"0" default:"1" doc:"Page number, from 1"`
	Size int `query:"size" minimum:"0" maximum:"200" default:"50" doc:"Items per page"`
}

func (q pageQuery) page() Page { return Page{Number: q.Page, Size: q.Size} }

// RegisterAPI declares the accounts operations on api (paths under
// /api/v1/auth, /me, /users, /tokens, /audit, /org, /orgs).
func (s *Service) RegisterAPI(api huma.API) {
	tag := func(o *huma.Operation) { o.Tags = []string{"Accounts"} }

	Register(api, huma.Operation{OperationID: "auth-login", Method: http.MethodPost, Path: "/api/v1/auth/login",
		Summary: "Sign in", Description: "Checks the credentials and starts a session: sets the session cookie and returns the same session as a bearer token for API clients. Wrong e-mail, wrong password and unknown organisation get the same answer. Repeated failures per account and per IP answer 429 with Retry-After."},
		func(ctx context.Context, in *loginInput) (*loginOutput, error) {
			res, err := s.Login(ctx, LoginInput{Org: in.Body.Org, Email: in.Body.Email, Password: in.Body.Password, IP: ClientIP(ctx), UserAgent: userAgent(ctx)}, "")
			if err != nil {
				return nil, err
			}
			out := &loginOutput{}
			out.SetCookie = http.Cookie{Name: SessionCookie, Value: res.Token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
				Expires: res.Session.ExpiresAt, Secure: secureCookiesFor(ctx)}
			out.Body.Token, out.Body.ExpiresAt = res.Token, res.Session.ExpiresAt
			out.Body.User, out.Body.Org = viewUser(res.User), viewOrg(res.Org)
			return out, nil
		}, Public(), tag, web.Problems(http.StatusTooManyRequests))

	Register(api, huma.Operation{OperationID: "auth-logout", Method: http.MethodPost, Path: "/api/v1/auth/logout",
		Summary: "Sign out", Description: "Ends the current session (cookie or bearer).", DefaultStatus: 204},
		func(ctx context.Context, _ *struct{}) (*struct {
			SetCookie http.Cookie `header:"Set-Cookie"`
		}, error) {
			p := mustPrincipal(ctx)
			if err := s.Logout(ctx, p, ClientIP(ctx)); err != nil {
				return nil, err
			}
			out := &struct {
				SetCookie http.Cookie `header:"Set-Cookie"`
			}{}
			out.SetCookie = http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secureCookiesFor(ctx)}
			return out, nil
		}, Allow(Customer, Staff, Admin, PlatformAdmin), tag)

	type signupInput struct {
		Body struct {
			Org      string `json:"org" minLength:"1" maxLength:"40"`
			Email    string `json:"email" minLength:"3" maxLength:"254"`
			Name     string `json:"name" minLength:"1" maxLength:"120"`
			Password string `json:"password" minLength:"1" maxLength:"128"`
		}
	}
	type userOutput struct{ Body UserView }
	Register(api, huma.Operation{OperationID: "auth-signup", Method: http.MethodPost, Path: "/api/v1/auth/signup",
		Summary: "Create a customer account", Description: "Self-service sign-up where the organisation allows it; a verification link is e-mailed.", DefaultStatus: 201},
		func(ctx context.Context, in *signupInput) (*userOutput, error) {
			u, err := s.SignUp(ctx, in.Body.Org, in.Body.Email, in.Body.Name, in.Body.Password)
			if err != nil {
				return nil, err
			}
			return &userOutput{Body: viewUser(u)}, nil
		}, Public(), tag)

	type tokenInput struct {
		Body struct {
			Token string `json:"token" minLength:"1" maxLength:"200" doc:"The token from the e-mailed link"`
		}
	}
	Register(api, huma.Operation{OperationID: "auth-verify", Method: http.MethodPost, Path: "/api/v1/auth/verify",
		Summary: "Verify an e-mail address", DefaultStatus: 204},
		func(ctx context.Context, in *tokenInput) (*emptyOutput, error) {
			_, err := s.VerifyEmail(ctx, in.Body.Token)
			return nil, err
		}, Public(), tag)

	type forgotInput struct {
		Body struct {
			Org   string `json:"org" minLength:"1" maxLength:"40"`
			Email string `json:"email" minLength:"3" maxLength:"254"`
		}
	}
	Register(api, huma.Operation{OperationID: "auth-password-forgot", Method: http.MethodPost, Path: "/api/v1/auth/password/forgot",
		Summary: "Request a password reset link", Description: "Always answers 202, whether or not the account exists.", DefaultStatus: 202},
		func(ctx context.Context, in *forgotInput) (*emptyOutput, error) {
			if retry, locked := s.throttled(ctx, "reset:ip:"+ClientIP(ctx)); locked {
				return nil, errs.RateLimitedf(retry, "too many reset requests; try again later")
			}
			s.recordFailure(ctx, "reset:ip:"+ClientIP(ctx), s.acfg.LoginIPMaxFailures, false)
			return nil, s.RequestPasswordReset(ctx, in.Body.Org, in.Body.Email, ClientIP(ctx))
		}, Public(), tag, web.Problems(http.StatusTooManyRequests))

	type resetInput struct {
		Body struct {
			Token    string `json:"token" minLength:"1" maxLength:"200"`
			Password string `json:"password" minLength:"1" maxLength:"128"`
		}
	}
	Register(api, huma.Operation{OperationID: "auth-password-reset", Method: http.MethodPost, Path: "/api/v1/auth/password/reset",
		Summary: "Set a new password with a reset link", Description: "The link works once and expires; every session of the account ends.", DefaultStatus: 204},
		func(ctx context.Context, in *resetInput) (*emptyOutput, error) {
			_, err := s.ResetPassword(ctx, in.Body.Token, in.Body.Password, PurposeReset, ClientIP(ctx))
			return nil, err
		}, Public(), tag)
	Register(api, huma.Operation{OperationID: "auth-invitation-accept", Method: http.MethodPost, Path: "/api/v1/auth/invitation/accept",
		Summary: "Accept an invitation by choosing a password", DefaultStatus: 204},
		func(ctx context.Context, in *resetInput) (*emptyOutput, error) {
			_, err := s.ResetPassword(ctx, in.Body.Token, in.Body.Password, PurposeInvite, ClientIP(ctx))
			return nil, err
		}, Public(), tag)

	Register(api, huma.Operation{OperationID: "me", Method: http.MethodGet, Path: "/api/v1/me",
		Summary: "Who am I", Description: "The signed-in user, their organisation, role and enabled modules."},
		func(ctx context.Context, _ *struct{}) (*meOutput, error) {
			p := mustPrincipal(ctx)
			out := &meOutput{}
			out.Body.Role = p.Role
			out.Body.Modules = p.Modules
			if out.Body.Modules == nil {
				out.Body.Modules = []string{}
			}
			// Built from the principal, which Authenticate loaded in one
			// query: /me costs no further database round trip.
			out.Body.User = UserView{ID: p.UserID, Email: p.Email, Name: p.Name, Role: p.Role, Locale: p.Locale, TimeZone: p.TimeZone, EmailVerified: true}
			out.Body.Org = OrgView{ID: p.OrgID, Slug: p.OrgSlug, Name: p.OrgName, Locale: p.Locale, TimeZone: p.TimeZone, Modules: out.Body.Modules}
			return out, nil
		}, Allow(Customer, Staff, Admin, PlatformAdmin), tag)

	type profileInput struct {
		Body struct {
			Name     *string `json:"name,omitempty" maxLength:"120"`
			Locale   *string `json:"locale,omitempty" enum:"en,it"`
			TimeZone *string `json:"time_zone,omitempty" maxLength:"64"`
		}
	}
	Register(api, huma.Operation{OperationID: "me-update", Method: http.MethodPatch, Path: "/api/v1/me", Summary: "Update my profile"},
		func(ctx context.Context, in *profileInput) (*userOutput, error) {
			u, err := s.UpdateProfile(ctx, mustPrincipal(ctx), Profile{Name: in.Body.Name, Locale: in.Body.Locale, TimeZone: in.Body.TimeZone})
			if err != nil {
				return nil, err
			}
			return &userOutput{Body: viewUser(u)}, nil
		}, Allow(Customer, Staff, Admin, PlatformAdmin), tag)

	type passwordInput struct {
		Body struct {
			Current string `json:"current_password" minLength:"1" maxLength:"128"`
			New     string `json:"new_password" minLength:"1" maxLength:"128"`
		}
	}
	Register(api, huma.Operation{OperationID: "me-password", Method: http.MethodPost, Path: "/api/v1/me/password",
		Summary: "Change my password", Description: "Every other session of the account ends.", DefaultStatus: 204},
		func(ctx context.Context, in *passwordInput) (*emptyOutput, error) {
			return nil, s.ChangePassword(ctx, mustPrincipal(ctx), in.Body.Current, in.Body.New, ClientIP(ctx))
		}, Allow(Customer, Staff, Admin, PlatformAdmin), tag)

	type deletionInput struct {
		Body struct {
			Password string `json:"password" minLength:"1" maxLength:"128" doc:"Your current password, to confirm"`
		}
	}
	Register(api, huma.Operation{OperationID: "me-deletion", Method: http.MethodPost, Path: "/api/v1/me/deletion",
		Summary: "Delete my account", Description: "The account is disabled at once and its data anonymised after the organisation's retention period.", DefaultStatus: 202},
		func(ctx context.Context, in *deletionInput) (*emptyOutput, error) {
			return nil, s.RequestDeletion(ctx, mustPrincipal(ctx), in.Body.Password, ClientIP(ctx))
		}, Allow(Customer, Staff, Admin), tag)

	type sessionsOutput struct {
		Body struct {
			Sessions []sessionView `json:"sessions"`
		}
	}
	Register(api, huma.Operation{OperationID: "me-sessions", Method: http.MethodGet, Path: "/api/v1/me/sessions", Summary: "My active sessions"},
		func(ctx context.Context, _ *struct{}) (*sessionsOutput, error) {
			p := mustPrincipal(ctx)
			list, err := s.Sessions(ctx, p)
			if err != nil {
				return nil, err
			}
			out := &sessionsOutput{}
			out.Body.Sessions = []sessionView{}
			for _, x := range list {
				out.Body.Sessions = append(out.Body.Sessions, sessionView{ID: x.ID, IP: x.IP, UserAgent: x.UserAgent, CreatedAt: x.CreatedAt,
					LastSeenAt: x.LastSeenAt, ExpiresAt: x.ExpiresAt, Current: x.ID == p.SessionID})
			}
			return out, nil
		}, Allow(Customer, Staff, Admin, PlatformAdmin), tag)

	Register(api, huma.Operation{OperationID: "me-session-revoke", Method: http.MethodDelete, Path: "/api/v1/me/sessions/{id}",
		Summary: "Sign out one of my sessions", DefaultStatus: 204},
		func(ctx context.Context, in *idPath) (*emptyOutput, error) {
			return nil, s.RevokeSession(ctx, mustPrincipal(ctx), in.ID, ClientIP(ctx))
		}, Allow(Customer, Staff, Admin, PlatformAdmin), tag, Matrix(func(ctx context.Context, tx *gorm.DB, owner *Principal) (map[string]string, any, error) {
			now := s.now()
			sess := Session{TokenHash: hashToken(randomToken(16)), UserID: owner.UserID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
			if err := store.Org(tx, owner.OrgID).Create(&sess).Error; err != nil {
				return nil, nil, err
			}
			return map[string]string{"id": strconv.FormatUint(uint64(sess.ID), 10)}, nil, nil
		}))

	type countOutput struct {
		Body struct {
			SignedOut int64 `json:"signed_out"`
		}
	}
	Register(api, huma.Operation{OperationID: "me-sessions-revoke-others", Method: http.MethodPost, Path: "/api/v1/me/sessions/revoke-others",
		Summary: "Sign out all my other sessions"},
		func(ctx context.Context, _ *struct{}) (*countOutput, error) {
			n, err := s.RevokeOtherSessions(ctx, mustPrincipal(ctx), ClientIP(ctx))
			if err != nil {
				return nil, err
			}
			out := &countOutput{}
			out.Body.SignedOut = n
			return out, nil
		}, Allow(Customer, Staff, Admin, PlatformAdmin), tag)

	s.registerAdminAPI(api, tag)
}

func secureCookiesFor(ctx context.Context) bool {
	v, _ := ctx.Value(localSecureCookies).(bool)
	return v
}
