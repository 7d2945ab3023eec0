package accounts_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/portaltest"
)

// italianDate is t's date as an Italian page in Rome shows it, e.g. "5 dic 2026".
func italianDate(t time.Time) string {
	months := [...]string{"gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"}
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic(err)
	}
	t = t.In(rome)
	return fmt.Sprintf("%d %s %d", t.Day(), months[t.Month()-1], t.Year())
}

// italianDateTime is a date and time as Italian pages show it.
var italianDateTime = regexp.MustCompile(`\d{1,2} (gen|feb|mar|apr|mag|giu|lug|ago|set|ott|nov|dic) \d{4} \d{2}:\d{2}`)

// untranslated records every text a page asked the catalog for in Italian
// and did not find.
type untranslated struct {
	mu   sync.Mutex
	keys map[string]bool
}

func watchTranslations(ta *portaltest.TestApp) *untranslated {
	u := &untranslated{keys: map[string]bool{}}
	ta.Web.Catalog().OnMissing(func(_, key string) {
		u.mu.Lock()
		u.keys[key] = true
		u.mu.Unlock()
	})
	return u
}

func (u *untranslated) check(t *testing.T) {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	var keys []string
	for k := range u.keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Errorf("a page showed %q untranslated", k)
	}
}

// expectPage fails unless r has status and, in the body, every want.
func expectPage(t *testing.T, what string, r *portaltest.Response, status int, wants ...string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status %d, want %d", what, r.Status, status)
	}
	for _, w := range wants {
		if !strings.Contains(r.Body, w) {
			t.Errorf("%s: the page lacks %q", what, w)
		}
	}
}

// TestPagesInItalian walks the accounts pages as an Italian organisation's
// visitor, customer, admin and platform admin, with forms that fail, and
// checks the Italian text, the Italian dates in the viewer's time zone, and
// that no text on the way lacked a translation. An anonymous visitor whose
// browser asks for English gets English.
func TestPagesInItalian(t *testing.T) {
	ta, mb := newApp(t)
	missing := watchTranslations(ta)
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 23, 30, 0, 0, time.UTC) // 00:30 on 23 Nov in Rome
	ta.Accounts.SetClock(func() time.Time { return now })
	ta.Demo(t)
	acme := ta.Org(t, "acme") // Europe/Rome
	if _, err := ta.Accounts.UpdateOrg(ctx, &accounts.Principal{Role: accounts.PlatformAdmin}, acme.ID, accounts.OrgSettings{Locale: ptr("it")}); err != nil {
		t.Fatal(err)
	}
	ta.User(t, "acme", "ann@acme.example", accounts.Customer)
	ta.User(t, "acme", "admin@acme.example", accounts.Admin)
	ta.User(t, "acme", "staff@acme.example", accounts.Staff)

	// Anonymous: the browser's language first, then the organisation's.
	en := ta.Do(t, "GET", "/login?org=acme", nil, map[string]string{"Accept": "text/html", "Accept-Language": "en-GB,en;q=0.9"})
	expectPage(t, "English sign-in", en, 200, `<html lang="en">`, "<h1>Sign in</h1>", "Forgot your password?", ">Organisation</label>")
	it := ta.Do(t, "GET", "/login", nil, map[string]string{"Accept": "text/html", "Accept-Language": "it-IT,it;q=0.9,en;q=0.5"})
	expectPage(t, "Italian sign-in by the browser", it, 200, `<html lang="it">`, "<h1>Accedi</h1>", "Password dimenticata?",
		">Organizzazione</label>", "Il nome breve della tua organizzazione, ad es. demo", "<title>Accedi · ", "Vai al contenuto")

	// A returning visitor (the organisation cookie set, no Accept-Language)
	// gets the organisation's language on every page.
	b := ta.Browser()
	expectPage(t, "sign-in of an Italian organisation", b.Get(t, "/login?org=acme"), 200, "<h1>Accedi</h1>")
	b.SetCookie(accounts.OrgCookie, "acme")
	expectPage(t, "wrong password", b.Post(t, "/login", url.Values{"org": {"acme"}, "email": {"ann@acme.example"}, "password": {"not-the-password"}}),
		401, "E-mail o password non corretti.")
	expectPage(t, "sign-up page", b.Get(t, "/signup?org=acme"), 200, "<h1>Crea un account</h1>", "Accetto le condizioni del servizio")
	expectPage(t, "sign-up without the terms", b.Post(t, "/signup", url.Values{"org": {"acme"}, "name": {"Bea"}, "email": {"bea@acme.example"}, "password": {"short"}}),
		422, "Correggi i campi indicati qui sotto.", "Per continuare devi accettare le condizioni.")
	expectPage(t, "sign-up with a short password", b.Post(t, "/signup", url.Values{"org": {"acme"}, "name": {"Bea"}, "email": {"bea@acme.example"}, "password": {"short"}, "terms": {"on"}}),
		422, "Deve contenere almeno 10 caratteri")
	expectPage(t, "sign-up", b.Post(t, "/signup", url.Values{"org": {"acme"}, "name": {"Bea"}, "email": {"bea@acme.example"}, "password": {"a-good-passphrase-1"}, "terms": {"on"}}), 303)
	expectPage(t, "flash after sign-up", b.Get(t, b.Last.Header.Get("Location")), 200, "Il tuo account è pronto.")
	mb.last(t, accounts.KindVerifyEmail)
	expectPage(t, "bad verification link", b.Get(t, "/verify?token=nope"), 422, "<h1>Questo link non è valido</h1>", "<title>Link non valido · ")
	expectPage(t, "forgot page", b.Get(t, "/password/forgot?org=acme"), 200, "Indica la tua organizzazione")
	expectPage(t, "reset page", b.Get(t, "/password/reset?token=nope"), 200, "<title>Scegli una nuova password · ", "Almeno 10 caratteri; evita le password più comuni")
	expectPage(t, "reset, passwords differ", b.Post(t, "/password/reset", url.Values{"token": {"nope"}, "password": {"a-good-passphrase-1"}, "password_confirm": {"another-one-2"}}),
		422, "Non corrisponde alla password")
	expectPage(t, "reset, bad link", b.Post(t, "/password/reset", url.Values{"token": {"nope"}, "password": {"a-good-passphrase-1"}, "password_confirm": {"a-good-passphrase-1"}}),
		422, "Questo link non è valido o è scaduto: richiedine uno nuovo.")
	expectPage(t, "invitation page", b.Get(t, "/invite?token=nope"), 200, "<title>Accetta l&#39;invito · ", "Ti diamo il benvenuto: scegli la tua password")
	expectPage(t, "not found", b.Get(t, "/no-such-page"), 404, "404 · Pagina non trovata", "Non troviamo questa pagina", "Torna alla pagina iniziale")

	// A customer: the account pages, dates in Italian and in their time zone.
	b.SignIn(t, "acme", "ann@acme.example")
	expectPage(t, "account page", b.Get(t, "/account"), 200, `<html lang="it">`, "<h1>Il tuo account</h1>", "Cliente · e-mail verificata",
		">Esci</button>", "Predefinita dell&#39;organizzazione", "Fuso orario", "Salva il profilo", "Cambia password")
	sessions := b.Get(t, "/account/sessions")
	expectPage(t, "sessions page", sessions, 200, "<h1>Le tue sessioni</h1>", "questo dispositivo", "23 nov 2026 00:30")
	if strings.Contains(sessions.Body, "Nov 2026") || !italianDateTime.MatchString(sessions.Body) {
		t.Error("the sessions page does not show Italian dates")
	}
	expectPage(t, "password change, new passwords differ", b.Post(t, "/account/password", url.Values{"current_password": {portaltest.Password},
		"new_password": {"a-good-passphrase-1"}, "new_password_confirm": {"a-good-passphrase-2"}}), 422, "Non corrisponde alla nuova password")
	expectPage(t, "profile with a bad time zone", b.Post(t, "/account/profile", url.Values{"name": {"Ann"}, "locale": {""}, "time_zone": {"Mars/Base"}}),
		422, "Non è un fuso orario IANA come Europe/Rome")
	expectPage(t, "profile", b.Post(t, "/account/profile", url.Values{"name": {"Ann"}, "locale": {"it"}, "time_zone": {"America/New_York"}}), 303)
	expectPage(t, "flash after saving the profile", b.Get(t, b.Last.Header.Get("Location")), 200, "Il tuo profilo è stato salvato.")
	expectPage(t, "sessions in the viewer's own time zone", b.Get(t, "/account/sessions"), 200, "22 nov 2026 18:30")
	expectPage(t, "delete page", b.Get(t, "/account/delete"), 200, "Acme Org conserva i tuoi dati per 30 giorni", "Vuoi chiudere il tuo account?")
	forbidden := b.Get(t, "/admin/users")
	expectPage(t, "admin page for a customer", forbidden, 403, "<title>Accesso non consentito · ", "Questa pagina è riservata al ruolo amministratore.")

	// A customer who chose English sees English whatever the organisation.
	expectPage(t, "profile in English", b.Post(t, "/account/profile", url.Values{"name": {"Ann"}, "locale": {"en"}, "time_zone": {"Europe/Rome"}}), 303)
	expectPage(t, "English account page", b.Get(t, b.Last.Header.Get("Location")), 200, `<html lang="en">`, "<h1>Your account</h1>", "Your profile is saved.")
	expectPage(t, "English dates", b.Get(t, "/account/sessions"), 200, "23 Nov 2026 00:30")

	// An admin: lists, paging, tokens, the audit log and the settings.
	a := ta.Browser()
	a.SignIn(t, "acme", "admin@acme.example")
	users := a.Get(t, "/admin/users")
	expectPage(t, "users page", users, 200, "<h1>Utenti e ruoli</h1>", "Amministratore (tu)", "Seguito da", ">Utenti</a>", "in totale")
	expectPage(t, "bad invitation", a.Post(t, "/admin/users/invite", url.Values{"name": {"Neo"}, "email": {"not-an-email"}, "role": {"staff"}}),
		422, "Non è un indirizzo e-mail valido")
	expectPage(t, "invitation", a.Post(t, "/admin/users/invite", url.Values{"name": {"Neo"}, "email": {"neo@acme.example"}, "role": {"staff"}}), 303)
	expectPage(t, "flash after inviting", a.Get(t, a.Last.Header.Get("Location")), 200, "L&#39;invito è stato inviato.", "invitato")
	me := ta.Principal(t, a.Cookie(accounts.SessionCookie))
	expectPage(t, "removing one's own admin role", a.Post(t, fmt.Sprintf("/admin/users/%d/role", me.UserID), url.Values{"role": {"customer"}}),
		422, "422 · Dati non validi", "Alcuni dati inviati non sono validi:", "Non puoi toglierti il ruolo di amministratore")
	a.Get(t, "/admin/tokens")
	expectPage(t, "bad token", a.Post(t, "/admin/tokens", url.Values{"name": {"ERP"}, "scopes": {"nonsense"}, "expires_in_days": {"400"}}),
		422, "&#34;nonsense&#34; non è nella forma", "Deve essere tra 1 e 366 giorni")
	expectPage(t, "token", a.Post(t, "/admin/tokens", url.Values{"name": {"ERP"}, "scopes": {"users:read"}, "expires_in_days": {"30"}}),
		200, "Token creato: ERP", "Copialo adesso: non verrà più mostrato.", "23 dic 2026", "mai")
	expectPage(t, "audit log", a.Get(t, "/admin/audit?since=yesterday"), 200, "<h1>Registro di controllo</h1>", "«Dal» deve essere una data come 2026-01-31.", "23 nov 2026 00:30")
	expectPage(t, "settings", a.Get(t, "/admin/org"), 200, "<h1>Impostazioni dell&#39;organizzazione</h1>", ">Italiano</option>")
	expectPage(t, "bad settings", a.Post(t, "/admin/org", url.Values{"name": {"Acme"}, "primary_color": {"blue"}, "locale": {"it"}, "time_zone": {"Europe/Rome"}, "retention_days": {"many"}}),
		422, "Indica un numero intero di giorni")
	expectPage(t, "bad colour", a.Post(t, "/admin/org", url.Values{"name": {"Acme"}, "primary_color": {"blue"}, "locale": {"it"}, "time_zone": {"Europe/Rome"}, "retention_days": {"30"}}),
		422, "Deve essere un colore come #1f5fbf")
	expectPage(t, "dashboard", a.Get(t, "/"), 200, "<title>Bacheca · ", "La tua bacheca") // signed in, / is the dashboard
	expectPage(t, "API reference", a.Get(t, "/api/docs"), 200, "<title>Documentazione API · ", "L&#39;API è in inglese")

	// The platform admin, after choosing Italian.
	p := ta.Browser()
	p.SignIn(t, accounts.PlatformOrgSlug, "platform@portal.example")
	p.Get(t, "/account")
	expectPage(t, "platform admin's profile", p.Post(t, "/account/profile", url.Values{"name": {"Pat"}, "locale": {"it"}, "time_zone": {"Europe/Rome"}}), 303)
	// The organisations were created when the test began (real time, not the
	// service clock), so the expected creation date is today's in Rome.
	created := italianDate(time.Now())
	orgs := p.Get(t, "/platform/orgs")
	if d := italianDate(time.Now()); d != created && strings.Contains(orgs.Body, d) {
		created = d // midnight passed during the request
	}
	expectPage(t, "organisations", orgs, 200, "<h1>Organizzazioni</h1>", "libera", created)
	expectPage(t, "bad organisation", p.Post(t, "/platform/orgs", url.Values{"slug": {"Bad Slug"}, "name": {""}, "locale": {"it"}, "time_zone": {"UTC"}}),
		422, "Da 3 a 40 lettere minuscole", "Campo obbligatorio (massimo 120 caratteri)")
	expectPage(t, "customer page for the platform admin", p.Get(t, "/admin/users"), 403, "Questa pagina è riservata al ruolo amministratore.")

	missing.check(t)
}
