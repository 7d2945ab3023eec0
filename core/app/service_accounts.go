package app

import (
	"github.com/danielgtaylor/huma/v2"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/store"
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
	a.Web.App.Use(acc.Middleware())
	a.Web.API.UseMiddleware(acc.APIGuard(a.Web.API))
	a.documentSecurity()
	a.Web.Decorate(acc.Decorate(a.Web))
	acc.RegisterAPI(a.Web.API)
	acc.MountPages(a.Web.App)
	a.Web.AddNav(accounts.AdminNav()...)
	if err := a.Web.AddTranslations(accounts.Translations()); err != nil {
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
			return
		}
		op.Security = []map[string][]string{{"bearer": {}}, {"session": {}}}
		if len(op.Responses) == 0 {
			op.Responses = map[string]*huma.Response{}
		}
	})
}

func (a *App) coreMigrations() []store.MigrationSet {
	return append([]store.MigrationSet{{Owner: "accounts", Migrations: a.Accounts.Migrations()}}, a.experienceMigrations()...)
}
