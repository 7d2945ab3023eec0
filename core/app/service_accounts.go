package app

import (
	"context"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// initAccounts builds the accounts service and puts its middleware in front
// of every route registered after it, its guard in front of every API
// operation, and its decorator on every page.
func (a *App) initAccounts(opts Options) error {
	acc, err := accounts.New(accounts.Options{
		Store: a.Store, Config: a.Config, Log: a.Log.With("service", "accounts"), Events: a.Events,
		Argon2: opts.Argon2,
		Modules: func() []string {
			ids := make([]string, 0, len(a.modules))
			for _, h := range a.modules {
				ids = append(ids, h.info.ID)
			}
			return ids
		},
	})
	if err != nil {
		return err
	}
	a.Accounts = acc
	a.coreMigrations = append(a.coreMigrations, store.MigrationSet{Owner: "accounts", Migrations: acc.Migrations()})
	a.Web.App.Use(acc.Middleware())
	a.Web.API.UseMiddleware(acc.APIGuard(a.Web.API))
	// Idempotency-Key is honoured behind the guard, for every operation
	// registered from here on (huma binds middleware at registration).
	if err := a.initIdempotency(); err != nil {
		return err
	}
	a.documentSecurity()
	a.Web.Decorate(acc.Decorate(a.Web))
	acc.RegisterAPI(a.Web.API)
	acc.MountPages(a.Web.App)
	a.Web.AddNav(accounts.AdminNav()...)
	if err := a.Web.AddTranslationsFor("accounts", accounts.Translations()); err != nil {
		return err
	}
	return a.Web.AddTemplates("accounts", accounts.Templates())
}

// documentSecurity declares the session cookie and bearer schemes in the
// OpenAPI document and marks every non-public operation with them.
func (a *App) documentSecurity() {
	oapi := a.Web.API.OpenAPI()
	if oapi.Components.SecuritySchemes == nil {
		oapi.Components.SecuritySchemes = map[string]*huma.SecurityScheme{}
	}
	oapi.Components.SecuritySchemes["bearer"] = &huma.SecurityScheme{Type: "http", Scheme: "bearer",
		Description: "A session token from POST /api/v1/auth/login, or an integrator API token (pka_...)."}
	oapi.Components.SecuritySchemes["session"] = &huma.SecurityScheme{Type: "apiKey", In: "cookie", Name: accounts.SessionCookie,
		Description: "The portal's session cookie. State-changing calls also need the X-CSRF-Token header."}
	oapi.OnAddOperation = append(oapi.OnAddOperation, func(_ *huma.OpenAPI, op *huma.Operation) {
		if accounts.AccessOf(op).Public {
			op.Security = []map[string][]string{} // "security: []": no credentials needed
			return
		}
		op.Security = []map[string][]string{{"bearer": {}}, {"session": {}}}
	})
	// What the guard and the policy layer answer, documented on every
	// operation they stand in front of.
	a.Web.DocumentProblems(func(op *huma.Operation) []int {
		var out []int
		if !accounts.AccessOf(op).Public {
			// 403: a role the operation does not allow, a token without
			// the scope, a cookie call without its CSRF header.
			out = append(out, http.StatusUnauthorized, http.StatusForbidden)
		}
		if web.HasPathParam(op) {
			// An object that does not exist or is not the caller's.
			out = append(out, http.StatusNotFound)
		}
		return out
	})
}

// eraseOnDeletion subscribes a service's erasure of one person's data to
// accounts.user_deleted: it runs in the purge's transaction, scoped to the
// event's organisation, so an error rolls the whole purge back and the
// account is never half erased (docs/security.md, "Erasure").
func (a *App) eraseOnDeletion(erase func(ctx context.Context, tx *gorm.DB, orgID, userID uint) error) {
	a.Events.Subscribe(accounts.EventUserDeleted, func(ctx context.Context, e events.Event) error {
		if e.Tx == nil || e.OrgID == 0 || e.SubjectID == 0 {
			return fmt.Errorf("%s without transaction, organisation or person", e.Name)
		}
		return erase(ctx, e.Tx, e.OrgID, e.SubjectID)
	})
}
