package accounts_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
)

// mailbox captures account e-mails (the notification service replaces the
// messenger in the running portal; here the link itself is under test).
type mailbox struct {
	mu   sync.Mutex
	msgs []accounts.Message
}

func (m *mailbox) Send(_ context.Context, _ *gorm.DB, msg accounts.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
	return nil
}

func (m *mailbox) last(t *testing.T, kind string) accounts.Message {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.msgs) - 1; i >= 0; i-- {
		if m.msgs[i].Kind == kind {
			return m.msgs[i]
		}
	}
	t.Fatalf("no %s e-mail was sent", kind)
	return accounts.Message{}
}

func tokenOf(t *testing.T, link any) string {
	t.Helper()
	u, err := url.Parse(fmt.Sprint(link))
	if err != nil || u.Query().Get("token") == "" {
		t.Fatalf("link %v has no token", link)
	}
	return u.Query().Get("token")
}

func newApp(t *testing.T, opts ...portaltest.Option) (*portaltest.TestApp, *mailbox) {
	t.Helper()
	ta := portaltest.New(t, []module.Module{}, opts...)
	mb := &mailbox{}
	ta.Accounts.SetMessenger(mb)
	return ta, mb
}

func TestPasswordHashingAtProductionCost(t *testing.T) {
	h, err := accounts.HashPassword("a long enough passphrase", accounts.DefaultArgon2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q does not carry the OWASP parameters", h)
	}
	if !accounts.VerifyPassword("a long enough passphrase", h) || accounts.VerifyPassword("a long enough passphrasE", h) {
		t.Fatal("verify is wrong")
	}
	weak, _ := accounts.HashPassword("x", accounts.Argon2Params{MemoryKiB: 1024, Time: 1, Threads: 1})
	if !accounts.NeedsRehash(weak, accounts.DefaultArgon2) || accounts.NeedsRehash(h, accounts.DefaultArgon2) {
		t.Fatal("NeedsRehash is wrong")
	}
}

func TestPasswordPolicy(t *testing.T) {
	cases := []struct {
		pw, want string
	}{
		{"short", "at least 10"},
		{"1234567890", "most common"},
		{"qwertyuiop", "most common"},
		{"BasketBall", "most common"},
		{"ann.smith@example.com", "e-mail"},
		{strings.Repeat("x", 129), "at most 128"},
		{"purple-giraffe-71", ""},
	}
	for _, c := range cases {
		err := accounts.CheckPassword(c.pw, "ann.smith@example.com")
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q refused: %v", c.pw, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: err %v, want %q", c.pw, err, c.want)
		}
	}
}

func TestLoginAPI(t *testing.T) {
	ta, _ := newApp(t)
	ta.User(t, "acme", "ann@acme.example", accounts.Customer)
	ta.Org(t, "other")

	res := ta.Do(t, "POST", "/api/v1/auth/login", map[string]any{"org": "acme", "email": "ANN@acme.example ", "password": portaltest.Password}, nil)
	if res.Status != 200 {
		t.Fatalf("login: %d %s", res.Status, res.Body)
	}
	var body struct {
		Token string `json:"token"`
		User  struct{ Email string }
		Org   struct{ Slug string }
	}
	res.JSON(t, &body)
	if !strings.HasPrefix(body.Token, "pks_") || body.User.Email != "ann@acme.example" || body.Org.Slug != "acme" {
		t.Fatalf("login body %s", res.Body)
	}
	var cookie *http.Cookie
	for _, c := range res.Cookies {
		if c.Name == accounts.SessionCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Value != body.Token || cookie.Secure {
		t.Fatalf("session cookie %+v (Secure only over TLS)", cookie)
	}

	me := ta.Do(t, "GET", "/api/v1/me", nil, portaltest.Bearer(body.Token))
	if me.Status != 200 || !strings.Contains(me.Body, `"role":"customer"`) || !strings.Contains(me.Body, `"slug":"acme"`) {
		t.Fatalf("/me: %d %s", me.Status, me.Body)
	}
	if me := ta.Do(t, "GET", "/api/v1/me", nil, map[string]string{"Cookie": accounts.SessionCookie + "=" + body.Token}); me.Status != 200 {
		t.Fatalf("/me with the cookie: %d", me.Status)
	}
	if me := ta.Do(t, "GET", "/api/v1/me", nil, nil); me.Status != 401 {
		t.Fatalf("/me anonymous: %d", me.Status)
	}
	if me := ta.Do(t, "GET", "/api/v1/me", nil, map[string]string{"Authorization": "Basic abc"}); me.Status != 401 {
		t.Fatalf("/me with a malformed header: %d", me.Status)
	}

	// Wrong password, unknown user and unknown organisation are the same answer.
	var details []string
	for _, in := range []map[string]any{
		{"org": "acme", "email": "ann@acme.example", "password": "wrong-password-1"},
		{"org": "acme", "email": "nobody@acme.example", "password": "wrong-password-1"},
		{"org": "nosuch", "email": "ann@acme.example", "password": "wrong-password-1"},
		{"org": "other", "email": "ann@acme.example", "password": portaltest.Password},
	} {
		r := ta.Do(t, "POST", "/api/v1/auth/login", in, map[string]string{"X-Forwarded-For": "198.51.100.9"})
		if r.Status != 401 {
			t.Fatalf("bad login %v: %d", in, r.Status)
		}
		var p struct{ Detail string }
		r.JSON(t, &p)
		details = append(details, p.Detail)
	}
	for _, d := range details {
		if d != "wrong e-mail or password" {
			t.Fatalf("bad logins answer differently: %q", details)
		}
	}

	out := ta.Do(t, "POST", "/api/v1/auth/logout", nil, portaltest.Bearer(body.Token))
	if out.Status != 204 {
		t.Fatalf("logout: %d %s", out.Status, out.Body)
	}
	if me := ta.Do(t, "GET", "/api/v1/me", nil, portaltest.Bearer(body.Token)); me.Status != 401 {
		t.Fatalf("token still valid after logout: %d", me.Status)
	}
}

func TestLoginThrottlingAcrossInstances(t *testing.T) {
	cfg := portaltest.Config(t, func(c *config.Config) { c.Accounts.LoginMaxFailures = 3 })
	a := portaltest.NewWithConfig(t, cfg, nil)
	b := portaltest.NewWithConfig(t, cfg, nil) // a second instance on the same database
	a.User(t, "acme", "ann@acme.example", accounts.Customer)

	bad := map[string]any{"org": "acme", "email": "ann@acme.example", "password": "wrong-password-1"}
	for i := 0; i < 3; i++ {
		inst := []*portaltest.TestApp{a, b}[i%2]
		if r := inst.Do(t, "POST", "/api/v1/auth/login", bad, nil); r.Status != 401 {
			t.Fatalf("attempt %d: %d", i, r.Status)
		}
	}
	good := map[string]any{"org": "acme", "email": "ann@acme.example", "password": portaltest.Password}
	for _, inst := range []*portaltest.TestApp{a, b} {
		r := inst.Do(t, "POST", "/api/v1/auth/login", good, nil)
		if r.Status != 429 {
			t.Fatalf("locked account answered %d", r.Status)
		}
		if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 {
			t.Fatalf("Retry-After = %q", r.Header.Get("Retry-After"))
		}
	}
	var n int64
	store.Org(a.Store.DB, a.Org(t, "acme").ID).Model(&accounts.AuditEntry{}).Where("action = ?", accounts.AuditLoginFailed).Count(&n)
	if n != 3 {
		t.Fatalf("audit has %d failed logins, want 3", n)
	}
}

func TestThrottleByIP(t *testing.T) {
	ta := portaltest.New(t, nil, func(c *config.Config) {
		c.Accounts.LoginIPMaxFailures = 4
		c.HTTP.TrustedProxies = []string{"0.0.0.0/0"}
	})
	ta.User(t, "acme", "victim@acme.example", accounts.Customer)
	for i := 0; i < 4; i++ {
		ta.Do(t, "POST", "/api/v1/auth/login", map[string]any{"org": "acme", "email": fmt.Sprintf("guess%d@acme.example", i), "password": "wrong-password-1"},
			map[string]string{"X-Forwarded-For": "203.0.113.7"})
	}
	r := ta.Do(t, "POST", "/api/v1/auth/login", map[string]any{"org": "acme", "email": "victim@acme.example", "password": portaltest.Password},
		map[string]string{"X-Forwarded-For": "203.0.113.7"})
	if r.Status != 429 {
		t.Fatalf("IP spraying accounts was not throttled: %d", r.Status)
	}
	r = ta.Do(t, "POST", "/api/v1/auth/login", map[string]any{"org": "acme", "email": "victim@acme.example", "password": portaltest.Password},
		map[string]string{"X-Forwarded-For": "203.0.113.8"})
	if r.Status != 200 {
		t.Fatalf("another IP was throttled too: %d", r.Status)
	}
}

func TestSessionFixation(t *testing.T) {
	ta, _ := newApp(t)
	ta.User(t, "acme", "ann@acme.example", accounts.Customer)
	b := ta.Browser()
	b.SetCookie(accounts.SessionCookie, "pks_attacker-chosen-value")
	b.SignIn(t, "acme", "ann@acme.example")
	first := b.Cookie(accounts.SessionCookie)
	if first == "" || first == "pks_attacker-chosen-value" {
		t.Fatalf("sign-in kept the planted session ID: %q", first)
	}
	// Signing in again (e.g. on a shared computer) ends the previous session.
	b.Get(t, "/account")
	if r := b.Post(t, "/login", url.Values{"org": {"acme"}, "email": {"ann@acme.example"}, "password": {portaltest.Password}}); r.Status != 303 {
		t.Fatalf("second sign-in: %d", r.Status)
	}
	second := b.Cookie(accounts.SessionCookie)
	if second == first {
		t.Fatal("session ID not regenerated at login")
	}
	if r := ta.Do(t, "GET", "/api/v1/me", nil, portaltest.Bearer(first)); r.Status != 401 {
		t.Fatalf("the pre-login session is still valid: %d", r.Status)
	}
	if r := ta.Do(t, "GET", "/api/v1/me", nil, portaltest.Bearer(second)); r.Status != 200 {
		t.Fatalf("new session invalid: %d", r.Status)
	}
}

func TestCSRF(t *testing.T) {
	ta, _ := newApp(t)
	ta.User(t, "acme", "ann@acme.example", accounts.Customer)

	anon := ta.Browser()
	anon.Get(t, "/login")
	r := anon.Post(t, "/login", url.Values{"_csrf": {""}, "org": {"acme"}, "email": {"ann@acme.example"}, "password": {portaltest.Password}})
	if r.Status != 403 || !strings.Contains(r.Body, "reload the page") {
		t.Fatalf("login form without CSRF token: %d", r.Status)
	}

	b := ta.Browser()
	b.SignIn(t, "acme", "ann@acme.example")
	b.Get(t, "/account")
	cases := []struct {
		name  string
		token string
		want  int
	}{
		{"no token", "", 403},
		{"a forged token", "forged", 403},
		{"the token of another session", otherSessionToken(t, ta), 403},
		{"the page's token", b.CSRF, 303},
	}
	for _, c := range cases {
		r := b.Post(t, "/account/profile", url.Values{"_csrf": {c.token}, "name": {"Ann " + c.name}})
		if r.Status != c.want {
			t.Errorf("%s: %d, want %d", c.name, r.Status, c.want)
		}
	}
	u, _ := ta.Accounts.UserByEmail(context.Background(), ta.Org(t, "acme").ID, "ann@acme.example")
	if u.Name != "Ann the page's token" {
		t.Fatalf("name = %q: a refused form changed data, or the good one did not", u.Name)
	}

	// API calls made with the cookie need the header; bearer calls do not.
	cookie := map[string]string{"Cookie": accounts.SessionCookie + "=" + b.Cookie(accounts.SessionCookie), "Content-Type": "application/json"}
	if r := ta.Do(t, "PATCH", "/api/v1/me", `{"name":"x"}`, cookie); r.Status != 403 {
		t.Fatalf("cookie API call without X-CSRF-Token: %d", r.Status)
	}
	cookie[accounts.CSRFHeader] = b.CSRF
	if r := ta.Do(t, "PATCH", "/api/v1/me", `{"name":"Ann"}`, cookie); r.Status != 200 {
		t.Fatalf("cookie API call with the token: %d %s", r.Status, r.Body)
	}
	if r := ta.Do(t, "PATCH", "/api/v1/me", map[string]any{"name": "Ann B"}, ta.As(t, "acme", "ann@acme.example", accounts.Customer)); r.Status != 200 {
		t.Fatalf("bearer call: %d", r.Status)
	}
}

func otherSessionToken(t *testing.T, ta *portaltest.TestApp) string {
	other := ta.Browser()
	ta.User(t, "acme", "bob@acme.example", accounts.Customer)
	other.SignIn(t, "acme", "bob@acme.example")
	other.Get(t, "/account")
	return other.CSRF
}

func TestPasswordResetLinkIsSingleUseAndExpires(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	ta, mb := newApp(t)
	ta.Accounts.SetClock(clock)
	ta.User(t, "acme", "ann@acme.example", accounts.Customer)
	oldSession := ta.Login(t, "acme", "ann@acme.example")

	if r := ta.Do(t, "POST", "/api/v1/auth/password/forgot", map[string]any{"org": "acme", "email": "ann@acme.example"}, nil); r.Status != 202 {
		t.Fatalf("forgot: %d", r.Status)
	}
	if r := ta.Do(t, "POST", "/api/v1/auth/password/forgot", map[string]any{"org": "acme", "email": "nobody@acme.example"}, nil); r.Status != 202 {
		t.Fatalf("forgot for an unknown account must look the same: %d", r.Status)
	}
	msg := mb.last(t, accounts.KindPasswordReset)
	if msg.To != "ann@acme.example" {
		t.Fatalf("reset sent to %q", msg.To)
	}
	token := tokenOf(t, msg.Data["Link"])
	if !strings.HasPrefix(fmt.Sprint(msg.Data["Link"]), "http://portal.test/password/reset?token=") {
		t.Fatalf("link %v", msg.Data["Link"])
	}

	weak := ta.Do(t, "POST", "/api/v1/auth/password/reset", map[string]any{"token": token, "password": "password1"}, nil)
	if weak.Status != 422 || !strings.Contains(weak.Body, `"location":"password"`) {
		t.Fatalf("weak password: %d %s", weak.Status, weak.Body)
	}
	// The rejected attempt did not use up the link (the transaction rolled back).
	ok := ta.Do(t, "POST", "/api/v1/auth/password/reset", map[string]any{"token": token, "password": "a-new-passphrase-42"}, nil)
	if ok.Status != 204 {
		t.Fatalf("reset: %d %s", ok.Status, ok.Body)
	}
	again := ta.Do(t, "POST", "/api/v1/auth/password/reset", map[string]any{"token": token, "password": "another-passphrase-42"}, nil)
	if again.Status != 422 || !strings.Contains(again.Body, "invalid or has expired") {
		t.Fatalf("second use of the link: %d %s", again.Status, again.Body)
	}
	if r := ta.Do(t, "GET", "/api/v1/me", nil, portaltest.Bearer(oldSession)); r.Status != 401 {
		t.Fatalf("sessions survived the reset: %d", r.Status)
	}
	if _, err := ta.Accounts.Login(context.Background(), accounts.LoginInput{Org: "acme", Email: "ann@acme.example", Password: "a-new-passphrase-42"}, ""); err != nil {
		t.Fatalf("new password does not work: %v", err)
	}

	// A second link expires after reset_ttl.
	ta.Do(t, "POST", "/api/v1/auth/password/forgot", map[string]any{"org": "acme", "email": "ann@acme.example"}, nil)
	token2 := tokenOf(t, mb.last(t, accounts.KindPasswordReset).Data["Link"])
	now = now.Add(61 * time.Minute)
	late := ta.Do(t, "POST", "/api/v1/auth/password/reset", map[string]any{"token": token2, "password": "late-passphrase-42"}, nil)
	if late.Status != 422 {
		t.Fatalf("expired link accepted: %d", late.Status)
	}
}

// TestPasswordsNeverStoredOrLoggedInClear searches every table and the logs
// for the passwords used.
func TestPasswordsNeverStoredOrLoggedInClear(t *testing.T) {
	ta, mb := newApp(t)
	ta.Org(t, "acme")
	pw1, pw2, pw3 := "first-secret-passphrase-1", "second-secret-passphrase-2", "third-secret-passphrase-3"
	if r := ta.Do(t, "POST", "/api/v1/auth/signup", map[string]any{"org": "acme", "email": "new@acme.example", "name": "New", "password": pw1}, nil); r.Status != 201 {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	login := ta.Do(t, "POST", "/api/v1/auth/login", map[string]any{"org": "acme", "email": "new@acme.example", "password": pw1}, nil)
	var lb struct{ Token string }
	login.JSON(t, &lb)
	if r := ta.Do(t, "POST", "/api/v1/me/password", map[string]any{"current_password": pw1, "new_password": pw2}, portaltest.Bearer(lb.Token)); r.Status != 204 {
		t.Fatalf("change: %d %s", r.Status, r.Body)
	}
	ta.Do(t, "POST", "/api/v1/auth/login", map[string]any{"org": "acme", "email": "new@acme.example", "password": "wrong-" + pw3}, nil)
	ta.Do(t, "POST", "/api/v1/auth/password/forgot", map[string]any{"org": "acme", "email": "new@acme.example"}, nil)
	tok := tokenOf(t, mb.last(t, accounts.KindPasswordReset).Data["Link"])
	ta.Do(t, "POST", "/api/v1/auth/password/reset", map[string]any{"token": tok, "password": pw3}, nil)

	dump := dumpDatabase(t, ta)
	for _, secret := range []string{pw1, pw2, pw3, lb.Token, tok} {
		if strings.Contains(dump, secret) {
			t.Errorf("a secret is stored in clear: %q", secret[:8])
		}
		if strings.Contains(ta.Logs.String(), secret) {
			t.Errorf("a secret is in the logs: %q", secret[:8])
		}
	}
	if !strings.Contains(dump, "$argon2id$") {
		t.Fatal("the dump has no argon2id hash: the search looked in the wrong place")
	}
}

// dumpDatabase returns every text value of every accounts table.
func dumpDatabase(t *testing.T, ta *portaltest.TestApp) string {
	var b strings.Builder
	for _, table := range []string{"accounts_orgs", "accounts_users", "accounts_sessions", "accounts_api_tokens", "accounts_one_time_tokens", "accounts_throttle", "accounts_audit"} {
		rows, err := ta.Store.DB.Raw("SELECT * FROM " + table).Rows()
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				fmt.Fprintf(&b, "%s|", v)
			}
		}
		rows.Close()
	}
	return b.String()
}

func TestAPITokens(t *testing.T) {
	ta, _ := newApp(t)
	admin := ta.As(t, "acme", "admin@acme.example", accounts.Admin)
	customer := ta.As(t, "acme", "ann@acme.example", accounts.Customer)

	if r := ta.Do(t, "POST", "/api/v1/tokens", map[string]any{"name": "x", "scopes": []string{"*"}}, customer); r.Status != 403 {
		t.Fatalf("a customer created a token: %d", r.Status)
	}
	bad := ta.Do(t, "POST", "/api/v1/tokens", map[string]any{"name": "x", "scopes": []string{"users"}, "expires_in_days": 30}, admin)
	if bad.Status != 422 || !strings.Contains(bad.Body, `"location":"scopes"`) {
		t.Fatalf("bad scope: %d %s", bad.Status, bad.Body)
	}
	r := ta.Do(t, "POST", "/api/v1/tokens", map[string]any{"name": "CRM", "scopes": []string{"users:read"}, "expires_in_days": 30}, admin)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var created struct {
		ID    uint
		Token string
	}
	r.JSON(t, &created)
	list := ta.Do(t, "GET", "/api/v1/tokens", nil, admin)
	if strings.Contains(list.Body, created.Token) || !strings.Contains(list.Body, created.Token[:10]) {
		t.Fatalf("the list must show the prefix and never the secret: %s", list.Body)
	}
	// users:read lets it list users, but not write, and not call person-only operations.
	tok := portaltest.Bearer(created.Token)
	if r := ta.Do(t, "GET", "/api/v1/users", nil, tok); r.Status != 403 || !strings.Contains(r.Body, "API tokens cannot call") {
		t.Fatalf("users-list is for staff/admin only, not tokens: %d %s", r.Status, r.Body)
	}
	if r := ta.Do(t, "GET", "/api/v1/me", nil, tok); r.Status != 403 {
		t.Fatalf("token on /me: %d", r.Status)
	}
	if r := ta.Do(t, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", created.ID), nil, admin); r.Status != 204 {
		t.Fatalf("revoke: %d", r.Status)
	}
	if r := ta.Do(t, "GET", "/api/v1/users", nil, tok); r.Status != 401 {
		t.Fatalf("revoked token: %d", r.Status)
	}
	var audit struct {
		Entries []struct{ Action string }
	}
	ta.Do(t, "GET", "/api/v1/audit?action=token_created", nil, admin).JSON(t, &audit)
	if len(audit.Entries) != 1 {
		t.Fatalf("audit token_created entries: %+v", audit.Entries)
	}
}

func TestScopes(t *testing.T) {
	p := &accounts.Principal{TokenID: 1, Scopes: []string{"banking:write", "devices:read"}}
	for scope, want := range map[string]bool{
		"banking:write": true, "banking:read": true, "devices:read": true, "devices:write": false, "users:read": false,
	} {
		if got := p.HasScope(scope); got != want {
			t.Errorf("HasScope(%s) = %v", scope, got)
		}
	}
	if !(&accounts.Principal{TokenID: 1, Scopes: []string{"*"}}).HasScope("x:write") {
		t.Error("* must cover everything")
	}
	if accounts.ScopeFor("GET", "/api/v1/banking/accounts/{id}") != "banking:read" || accounts.ScopeFor("POST", "/api/v1/users") != "users:write" {
		t.Error("ScopeFor is wrong")
	}
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	ta, _ := newApp(t)
	ta.User(t, "acme", "ann@acme.example", accounts.Customer)
	ta.Login(t, "acme", "ann@acme.example")
	if err := ta.Store.DB.Exec("UPDATE accounts_audit SET action = 'nothing'").Error; err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("update of the audit log: %v", err)
	}
	if err := ta.Store.DB.Exec("DELETE FROM accounts_audit").Error; err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("delete from the audit log: %v", err)
	}
}

func TestSessionsManagement(t *testing.T) {
	ta, _ := newApp(t)
	ta.User(t, "acme", "ann@acme.example", accounts.Customer)
	laptop, phone, tablet := ta.Login(t, "acme", "ann@acme.example"), ta.Login(t, "acme", "ann@acme.example"), ta.Login(t, "acme", "ann@acme.example")
	var list struct {
		Sessions []struct {
			ID      uint
			Current bool
		}
	}
	ta.Do(t, "GET", "/api/v1/me/sessions", nil, portaltest.Bearer(laptop)).JSON(t, &list)
	if len(list.Sessions) != 3 {
		t.Fatalf("sessions: %+v", list.Sessions)
	}
	phoneID := ta.Principal(t, phone).SessionID
	if r := ta.Do(t, "DELETE", fmt.Sprintf("/api/v1/me/sessions/%d", phoneID), nil, portaltest.Bearer(laptop)); r.Status != 204 {
		t.Fatalf("revoke one: %d", r.Status)
	}
	if r := ta.Do(t, "GET", "/api/v1/me", nil, portaltest.Bearer(phone)); r.Status != 401 {
		t.Fatal("revoked session still works")
	}
	r := ta.Do(t, "POST", "/api/v1/me/sessions/revoke-others", nil, portaltest.Bearer(laptop))
	if r.Status != 200 || !strings.Contains(r.Body, `"signed_out":1`) {
		t.Fatalf("revoke others: %d %s", r.Status, r.Body)
	}
	if r := ta.Do(t, "GET", "/api/v1/me", nil, portaltest.Bearer(tablet)); r.Status != 401 {
		t.Fatal("other session survived")
	}
	if r := ta.Do(t, "GET", "/api/v1/me", nil, portaltest.Bearer(laptop)); r.Status != 200 {
		t.Fatal("the current session was ended")
	}
	// Changing the password ends the other sessions and keeps this one.
	other := ta.Login(t, "acme", "ann@acme.example")
	if r := ta.Do(t, "POST", "/api/v1/me/password", map[string]any{"current_password": portaltest.Password, "new_password": "brand-new-passphrase-7"}, portaltest.Bearer(laptop)); r.Status != 204 {
		t.Fatalf("change password: %d %s", r.Status, r.Body)
	}
	if r := ta.Do(t, "GET", "/api/v1/me", nil, portaltest.Bearer(other)); r.Status != 401 {
		t.Fatal("password change left other sessions alive")
	}
	if r := ta.Do(t, "GET", "/api/v1/me", nil, portaltest.Bearer(laptop)); r.Status != 200 {
		t.Fatal("password change ended the current session")
	}
}

func TestIdleAndAbsoluteExpiry(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	ta, _ := newApp(t, func(c *config.Config) { c.Accounts.SessionIdle = time.Hour; c.Accounts.SessionMax = 3 * time.Hour })
	ta.Accounts.SetClock(func() time.Time { return now })
	ta.User(t, "acme", "ann@acme.example", accounts.Customer)
	tok := ta.Login(t, "acme", "ann@acme.example")
	for i := 0; i < 4; i++ { // used every 50 minutes: never idle...
		now = now.Add(50 * time.Minute)
		r := ta.Do(t, "GET", "/api/v1/me", nil, portaltest.Bearer(tok))
		if want := map[bool]int{true: 200, false: 401}[i < 3]; r.Status != want { // ...but over after 3 hours
			t.Fatalf("after %v: %d, want %d", time.Duration(i+1)*50*time.Minute, r.Status, want)
		}
	}
	tok = ta.Login(t, "acme", "ann@acme.example")
	now = now.Add(61 * time.Minute)
	if r := ta.Do(t, "GET", "/api/v1/me", nil, portaltest.Bearer(tok)); r.Status != 401 {
		t.Fatalf("idle session still valid: %d", r.Status)
	}
}

func TestSignupVerifyAndInvitation(t *testing.T) {
	ta, mb := newApp(t)
	ta.Org(t, "acme")
	closed, err := ta.Accounts.CreateOrg(context.Background(), accounts.NewOrg{Slug: "closed", Name: "Closed"})
	if err != nil {
		t.Fatal(err)
	}
	if r := ta.Do(t, "POST", "/api/v1/auth/signup", map[string]any{"org": closed.Slug, "email": "x@y.example", "name": "X", "password": "a-fine-passphrase-1"}, nil); r.Status != 403 {
		t.Fatalf("sign-up on an invitation-only org: %d", r.Status)
	}
	r := ta.Do(t, "POST", "/api/v1/auth/signup", map[string]any{"org": "acme", "email": "bad", "name": "X", "password": "short"}, nil)
	if r.Status != 422 {
		t.Fatalf("bad signup: %d", r.Status)
	}
	for _, f := range []string{`"location":"email"`, `"location":"password"`} {
		if !strings.Contains(r.Body, f) {
			t.Errorf("signup errors lack %s: %s", f, r.Body)
		}
	}
	r = ta.Do(t, "POST", "/api/v1/auth/signup", map[string]any{"org": "acme", "email": "new@acme.example", "name": "New", "password": "a-fine-passphrase-1"}, nil)
	if r.Status != 201 || !strings.Contains(r.Body, `"email_verified":false`) {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	if r := ta.Do(t, "POST", "/api/v1/auth/signup", map[string]any{"org": "acme", "email": "NEW@acme.example", "name": "Again", "password": "a-fine-passphrase-1"}, nil); r.Status != 422 || !strings.Contains(r.Body, "already has an account") {
		t.Fatalf("duplicate signup: %d %s", r.Status, r.Body)
	}
	vt := tokenOf(t, mb.last(t, accounts.KindVerifyEmail).Data["Link"])
	if r := ta.Do(t, "POST", "/api/v1/auth/verify", map[string]any{"token": vt}, nil); r.Status != 204 {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	u, _ := ta.Accounts.UserByEmail(context.Background(), ta.Org(t, "acme").ID, "new@acme.example")
	if u.EmailVerifiedAt == nil {
		t.Fatal("not verified")
	}

	admin := ta.As(t, "acme", "admin@acme.example", accounts.Admin)
	r = ta.Do(t, "POST", "/api/v1/users", map[string]any{"email": "staffer@acme.example", "name": "Staffer", "role": "staff"}, admin)
	if r.Status != 201 {
		t.Fatalf("invite: %d %s", r.Status, r.Body)
	}
	it := tokenOf(t, mb.last(t, accounts.KindInvitation).Data["Link"])
	if _, err := ta.Accounts.Login(context.Background(), accounts.LoginInput{Org: "acme", Email: "staffer@acme.example", Password: ""}, ""); err == nil {
		t.Fatal("an invited user without a password signed in")
	}
	if r := ta.Do(t, "POST", "/api/v1/auth/invitation/accept", map[string]any{"token": it, "password": "staffer-passphrase-1"}, nil); r.Status != 204 {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	res, err := ta.Accounts.Login(context.Background(), accounts.LoginInput{Org: "acme", Email: "staffer@acme.example", Password: "staffer-passphrase-1"}, "")
	if err != nil || res.User.Role != accounts.Staff || res.User.EmailVerifiedAt == nil {
		t.Fatalf("invited user: %v %+v", err, res)
	}
}

func TestRolesAssignmentsAndStaffVisibility(t *testing.T) {
	ta, _ := newApp(t)
	admin := ta.As(t, "acme", "admin@acme.example", accounts.Admin)
	staff := ta.User(t, "acme", "staff@acme.example", accounts.Staff)
	ann := ta.User(t, "acme", "ann@acme.example", accounts.Customer)
	ta.User(t, "acme", "bob@acme.example", accounts.Customer)
	staffTok := ta.Login(t, "acme", "staff@acme.example")

	var list struct{ Users []struct{ Email string } }
	ta.Do(t, "GET", "/api/v1/users", nil, portaltest.Bearer(staffTok)).JSON(t, &list)
	if len(list.Users) != 0 {
		t.Fatalf("unassigned staff sees %v", list.Users)
	}
	if r := ta.Do(t, "POST", fmt.Sprintf("/api/v1/users/%d/assignments", ann.ID), map[string]any{"staff_id": staff.ID, "relation": "advisor"}, admin); r.Status != 204 {
		t.Fatalf("assign: %d %s", r.Status, r.Body)
	}
	ta.Do(t, "GET", "/api/v1/users", nil, portaltest.Bearer(staffTok)).JSON(t, &list)
	if len(list.Users) != 1 || list.Users[0].Email != "ann@acme.example" {
		t.Fatalf("assigned staff sees %v", list.Users)
	}
	p := ta.Principal(t, staffTok)
	if err := ta.Accounts.CanRead(context.Background(), p, p.OrgID, ann.ID); err != nil {
		t.Fatalf("assigned staff cannot read: %v", err)
	}
	if err := ta.Accounts.CanWrite(context.Background(), p, p.OrgID, ann.ID, false); err == nil {
		t.Fatal("staff wrote without staffMayWrite")
	}
	adminP := ta.Principal(t, admin["Authorization"][len("Bearer "):])
	if r := ta.Do(t, "PATCH", fmt.Sprintf("/api/v1/users/%d", adminP.UserID), map[string]any{"role": "customer"}, admin); r.Status != 422 {
		t.Fatalf("an admin demoted themselves: %d", r.Status)
	}
	if r := ta.Do(t, "PATCH", fmt.Sprintf("/api/v1/users/%d", ann.ID), map[string]any{"role": "root"}, admin); r.Status != 422 {
		t.Fatalf("invalid role: %d", r.Status)
	}
}

func TestAssignmentsAcrossOrgs(t *testing.T) {
	ta, _ := newApp(t)
	admin := ta.As(t, "acme", "admin@acme.example", accounts.Admin)
	foreignStaff := ta.User(t, "other", "staff@other.example", accounts.Staff)
	foreignCust := ta.User(t, "other", "cust@other.example", accounts.Customer)
	ann := ta.User(t, "acme", "ann@acme.example", accounts.Customer)
	if r := ta.Do(t, "POST", fmt.Sprintf("/api/v1/users/%d/assignments", ann.ID), map[string]any{"staff_id": foreignStaff.ID}, admin); r.Status != 404 {
		t.Fatalf("assigned a staff member of another org: %d", r.Status)
	}
	acmeStaff := ta.User(t, "acme", "s@acme.example", accounts.Staff)
	if r := ta.Do(t, "POST", fmt.Sprintf("/api/v1/users/%d/assignments", foreignCust.ID), map[string]any{"staff_id": acmeStaff.ID}, admin); r.Status != 404 {
		t.Fatalf("assigned to a customer of another org: %d", r.Status)
	}
	if r := ta.Do(t, "DELETE", fmt.Sprintf("/api/v1/users/%d/assignments/%d", ann.ID, acmeStaff.ID), nil, admin); r.Status != 404 {
		t.Fatalf("unassigning a pair that does not exist: %d", r.Status)
	}
}

func TestDisabledModuleDisappearsForThatOrg(t *testing.T) {
	ta := portaltest.New(t, []module.Module{&pingModule{}})
	admin := ta.As(t, "acme", "admin@acme.example", accounts.Admin)
	cust := ta.As(t, "acme", "ann@acme.example", accounts.Customer)
	if r := ta.Do(t, "GET", "/api/v1/ping/hello", nil, cust); r.Status != 200 {
		t.Fatalf("enabled module: %d", r.Status)
	}
	if r := ta.Do(t, "PATCH", "/api/v1/org", map[string]any{"modules": []string{}}, admin); r.Status != 200 {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	cust = ta.As(t, "acme", "ann@acme.example", accounts.Customer) // a fresh session sees the new settings
	if r := ta.Do(t, "GET", "/api/v1/ping/hello", nil, cust); r.Status != 404 {
		t.Fatalf("disabled module still answers the org: %d", r.Status)
	}
	if r := ta.Do(t, "GET", "/api/v1/ping/hello", nil, ta.As(t, "other", "o@other.example", accounts.Customer)); r.Status != 200 {
		t.Fatalf("another org lost the module: %d", r.Status)
	}
	b := ta.Browser()
	b.SignIn(t, "acme", "ann@acme.example")
	if page := b.Get(t, "/account"); strings.Contains(page.Body, `href="/m/ping/"`) {
		t.Fatal("navigation shows a disabled module")
	}
	if page := b.Get(t, "/m/ping/"); page.Status != 404 {
		t.Fatalf("disabled module page: %d", page.Status)
	}
	if r := ta.Do(t, "PATCH", "/api/v1/org", map[string]any{"modules": []string{"nosuch"}}, admin); r.Status != 422 {
		t.Fatalf("unknown module: %d", r.Status)
	}
}

func TestDeletionAndPurge(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	ta, _ := newApp(t)
	ta.Accounts.SetClock(func() time.Time { return now })
	org := ta.Org(t, "acme")
	u := ta.User(t, "acme", "ann@acme.example", accounts.Customer)
	tok := ta.Login(t, "acme", "ann@acme.example")
	if r := ta.Do(t, "POST", "/api/v1/me/deletion", map[string]any{"password": "wrong-passphrase-1"}, portaltest.Bearer(tok)); r.Status != 422 {
		t.Fatalf("deletion with a wrong password: %d", r.Status)
	}
	if r := ta.Do(t, "POST", "/api/v1/me/deletion", map[string]any{"password": portaltest.Password}, portaltest.Bearer(tok)); r.Status != 202 {
		t.Fatalf("deletion: %d", r.Status)
	}
	if r := ta.Do(t, "GET", "/api/v1/me", nil, portaltest.Bearer(tok)); r.Status != 401 {
		t.Fatal("session survived the deletion request")
	}
	if _, err := ta.Accounts.Login(context.Background(), accounts.LoginInput{Org: "acme", Email: "ann@acme.example", Password: portaltest.Password}, ""); err == nil {
		t.Fatal("a closed account signed in")
	}
	n, err := ta.Accounts.PurgeDeleted(context.Background(), now.Add(time.Duration(org.RetentionDays-1)*24*time.Hour))
	if err != nil || n != 0 {
		t.Fatalf("purged before the retention period: %d %v", n, err)
	}
	ta.ResetEvents()
	n, err = ta.Accounts.PurgeDeleted(context.Background(), now.Add(time.Duration(org.RetentionDays+1)*24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	got, _ := ta.Accounts.UserByID(context.Background(), org.ID, u.ID)
	if got.Email != fmt.Sprintf("deleted-%d@invalid", u.ID) || got.Name != "Deleted user" || got.PasswordHash != "" {
		t.Fatalf("not anonymised: %+v", got)
	}
	if ev := ta.Events(); len(ev) != 1 || ev[0] != accounts.EventUserDeleted {
		t.Fatalf("events: %v", ev)
	}
	if n, _ := ta.Accounts.PurgeDeleted(context.Background(), now.Add(400*24*time.Hour)); n != 0 {
		t.Fatal("purged twice")
	}
}

func TestPlatformAdminCreatesOrgs(t *testing.T) {
	ta, _ := newApp(t)
	ta.Demo(t)
	platform := portaltest.Bearer(ta.Login(t, accounts.PlatformOrgSlug, "platform@portal.example"))
	r := ta.Do(t, "POST", "/api/v1/orgs", map[string]any{"slug": "acme-bank", "name": "Acme Bank", "locale": "it", "time_zone": "Europe/Rome"}, platform)
	if r.Status != 201 || !strings.Contains(r.Body, `"slug":"acme-bank"`) {
		t.Fatalf("create org: %d %s", r.Status, r.Body)
	}
	for _, bad := range []map[string]any{{"slug": "acme-bank", "name": "Dup"}, {"slug": "Bad Slug", "name": "x"}, {"slug": "tz-bad", "name": "x", "time_zone": "Mars/Base"}} {
		if r := ta.Do(t, "POST", "/api/v1/orgs", bad, platform); r.Status != 422 {
			t.Errorf("bad org %v: %d %s", bad, r.Status, r.Body)
		}
	}
	admin := portaltest.Bearer(ta.Login(t, "demo", "admin@demo.example"))
	if r := ta.Do(t, "POST", "/api/v1/orgs", map[string]any{"slug": "sneaky", "name": "x"}, admin); r.Status != 403 {
		t.Fatalf("an org admin created an organisation: %d", r.Status)
	}
	var list struct{ Orgs []struct{ Slug string } }
	ta.Do(t, "GET", "/api/v1/orgs", nil, platform).JSON(t, &list)
	if len(list.Orgs) != 3 { // demo, other, acme-bank; never the platform org
		t.Fatalf("orgs: %+v", list.Orgs)
	}
}

func TestDemoAccounts(t *testing.T) {
	ta, _ := newApp(t)
	ta.Demo(t)
	ta.Demo(t) // idempotent
	for _, du := range accounts.DemoUsers {
		p := ta.Principal(t, ta.Login(t, du.Org, du.Email))
		if p.Role != du.Role {
			t.Errorf("%s: role %s", du.Email, p.Role)
		}
	}
	staff := ta.Principal(t, ta.Login(t, "demo", "staff@demo.example"))
	cust, _ := ta.Accounts.UserByEmail(context.Background(), staff.OrgID, "customer@demo.example")
	if ok, _ := ta.Accounts.IsAssigned(context.Background(), staff.OrgID, staff.UserID, cust.ID); !ok {
		t.Fatal("demo staff is not assigned to the demo customer")
	}
}

var flashRe = regexp.MustCompile(`class="flash flash-ok"`)

func TestPagesAsAPersonUsesThem(t *testing.T) {
	ta, mb := newApp(t)
	ta.Org(t, "acme")
	b := ta.Browser()

	page := b.Get(t, "/login?org=acme")
	if page.Status != 200 || !strings.Contains(page.Body, `value="acme"`) {
		t.Fatalf("login page: %d", page.Status)
	}
	// Sign up through the form; the form keeps what was typed on error.
	b.Get(t, "/signup")
	r := b.Post(t, "/signup", url.Values{"org": {"acme"}, "name": {"Ann"}, "email": {"ann@acme.example"}, "password": {"short"}, "terms": {"on"}})
	if r.Status != 422 || !strings.Contains(r.Body, `value="ann@acme.example"`) || !strings.Contains(r.Body, "at least 10 characters") {
		t.Fatalf("signup with a short password: %d", r.Status)
	}
	r = b.Post(t, "/signup", url.Values{"org": {"acme"}, "name": {"Ann"}, "email": {"ann@acme.example"}, "password": {"ann-passphrase-11"}})
	if r.Status != 422 || !strings.Contains(r.Body, "accept the terms") {
		t.Fatalf("signup without terms: %d", r.Status)
	}
	r = b.Post(t, "/signup", url.Values{"org": {"acme"}, "name": {"Ann"}, "email": {"ann@acme.example"}, "password": {"ann-passphrase-11"}, "terms": {"on"}})
	if r.Status != 303 {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	vl := fmt.Sprint(mb.last(t, accounts.KindVerifyEmail).Data["Link"])
	if r := b.Get(t, strings.TrimPrefix(vl, "http://portal.test")); r.Status != 303 {
		t.Fatalf("verify link: %d", r.Status)
	}
	if r := b.Get(t, strings.TrimPrefix(vl, "http://portal.test")); r.Status != 422 || !strings.Contains(r.Body, "not valid") {
		t.Fatalf("verify link reused: %d", r.Status)
	}

	b.Get(t, "/login")
	r = b.Post(t, "/login", url.Values{"org": {"acme"}, "email": {"ann@acme.example"}, "password": {"wrong-passphrase"}})
	if r.Status != 401 || !strings.Contains(r.Body, "wrong e-mail or password") || !strings.Contains(r.Body, `value="ann@acme.example"`) {
		t.Fatalf("wrong password page: %d", r.Status)
	}
	r = b.Post(t, "/login", url.Values{"org": {"acme"}, "email": {"ann@acme.example"}, "password": {"ann-passphrase-11"}, "next": {"//evil.example/"}})
	if r.Status != 303 || r.Header.Get("Location") != "/" {
		t.Fatalf("login redirect: %d %q (open redirects must go home)", r.Status, r.Header.Get("Location"))
	}
	acct := b.Get(t, "/account")
	if acct.Status != 200 || !strings.Contains(acct.Body, "ann@acme.example") || !strings.Contains(acct.Body, "Sign out") {
		t.Fatalf("account page: %d", acct.Status)
	}
	r = b.Post(t, "/account/password", url.Values{"current_password": {"nope-nope-nope"}, "new_password": {"ann-passphrase-22"}, "new_password_confirm": {"ann-passphrase-22"}})
	if r.Status != 422 || !strings.Contains(r.Body, "is not your current password") {
		t.Fatalf("wrong current password: %d", r.Status)
	}
	sess := b.Get(t, "/account/sessions")
	if !strings.Contains(sess.Body, "this device") || !strings.Contains(sess.Body, "Unknown device") { // the user agent "portaltest-browser" names no known browser
		t.Fatalf("sessions page does not show this device")
	}
	// Customers do not reach admin pages.
	if r := b.Get(t, "/admin/users"); r.Status != 403 || !strings.Contains(r.Body, "This page is for admin only") {
		t.Fatalf("admin page as a customer: %d", r.Status)
	}
	r = b.Post(t, "/logout", nil)
	if r.Status != 303 {
		t.Fatalf("logout: %d", r.Status)
	}
	if r := b.Get(t, "/account"); r.Status != 303 {
		t.Fatalf("account after logout: %d", r.Status)
	}

	// Forgot password through the pages.
	b.Get(t, "/password/forgot")
	if r := b.Post(t, "/password/forgot", url.Values{"org": {"acme"}, "email": {"ann@acme.example"}}); r.Status != 303 {
		t.Fatalf("forgot: %d", r.Status)
	}
	rl := strings.TrimPrefix(fmt.Sprint(mb.last(t, accounts.KindPasswordReset).Data["Link"]), "http://portal.test")
	b.Get(t, rl)
	r = b.Post(t, "/password/reset", url.Values{"token": {tokenOf(t, "http://x"+rl)}, "password": {"ann-passphrase-33"}, "password_confirm": {"ann-passphrase-34"}})
	if r.Status != 422 || !strings.Contains(r.Body, "does not match") {
		t.Fatalf("mismatched confirmation: %d", r.Status)
	}
	r = b.Post(t, "/password/reset", url.Values{"token": {tokenOf(t, "http://x"+rl)}, "password": {"ann-passphrase-33"}, "password_confirm": {"ann-passphrase-33"}})
	if r.Status != 303 {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	if p := b.Get(t, r.Header.Get("Location")); !flashRe.MatchString(p.Body) {
		t.Fatal("no confirmation after reset")
	}
}

func TestAdminPages(t *testing.T) {
	ta, mb := newApp(t)
	ta.User(t, "acme", "admin@acme.example", accounts.Admin)
	ta.User(t, "acme", "staff@acme.example", accounts.Staff)
	cust := ta.User(t, "acme", "ann@acme.example", accounts.Customer)
	b := ta.Browser()
	b.SignIn(t, "acme", "admin@acme.example")

	users := b.Get(t, "/admin/users")
	if users.Status != 200 || !strings.Contains(users.Body, "ann@acme.example") {
		t.Fatalf("users page: %d", users.Status)
	}
	r := b.Post(t, "/admin/users/invite", url.Values{"name": {"Neo"}, "email": {"not-an-email"}, "role": {"staff"}})
	if r.Status != 422 || !strings.Contains(r.Body, "not a valid e-mail") || !strings.Contains(r.Body, `value="Neo"`) {
		t.Fatalf("bad invite: %d", r.Status)
	}
	if r := b.Post(t, "/admin/users/invite", url.Values{"name": {"Neo"}, "email": {"neo@acme.example"}, "role": {"staff"}}); r.Status != 303 {
		t.Fatalf("invite: %d", r.Status)
	}
	mb.last(t, accounts.KindInvitation)
	staff, _ := ta.Accounts.UserByEmail(context.Background(), cust.OrgID, "staff@acme.example")
	b.Get(t, "/admin/users")
	if r := b.Post(t, fmt.Sprintf("/admin/users/%d/assign", cust.ID), url.Values{"staff_id": {fmt.Sprint(staff.ID)}, "relation": {"advisor"}}); r.Status != 303 {
		t.Fatalf("assign: %d", r.Status)
	}
	if ok, _ := ta.Accounts.IsAssigned(context.Background(), cust.OrgID, staff.ID, cust.ID); !ok {
		t.Fatal("assignment not saved")
	}

	b.Get(t, "/admin/tokens")
	r = b.Post(t, "/admin/tokens", url.Values{"name": {"ERP"}, "scopes": {"users:read, devices:write"}, "expires_in_days": {"30"}})
	secret := regexp.MustCompile(`pka_[A-Za-z0-9_-]+`).FindString(r.Body)
	if r.Status != 200 || secret == "" || !strings.Contains(r.Body, "will not be shown again") || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token creation page: %d", r.Status)
	}
	if again := b.Get(t, "/admin/tokens"); strings.Contains(again.Body, secret) {
		t.Fatal("the secret is shown twice")
	}
	audit := b.Get(t, "/admin/audit?action=token_created")
	if !strings.Contains(audit.Body, "ERP [users:read,devices:write]") {
		t.Fatalf("audit page lacks the token event")
	}
	if r := b.Get(t, "/admin/audit?since=yesterday"); !strings.Contains(r.Body, "From must be a date") {
		t.Fatal("bad date filter not explained")
	}
	b.Get(t, "/admin/org")
	r = b.Post(t, "/admin/org", url.Values{"name": {"Acme"}, "primary_color": {"blue"}, "locale": {"it"}, "time_zone": {"Europe/Rome"}, "retention_days": {"30"}})
	if r.Status != 422 || !strings.Contains(r.Body, "must be a colour") {
		t.Fatalf("bad colour: %d", r.Status)
	}
	if r := b.Post(t, "/admin/org", url.Values{"name": {"Acme Motors"}, "primary_color": {"#aa3300"}, "locale": {"it"}, "time_zone": {"Europe/Rome"}, "retention_days": {"30"}}); r.Status != 303 {
		t.Fatalf("save org: %d", r.Status)
	}
	home := b.Get(t, "/account")
	if !strings.Contains(home.Body, "Acme Motors") || !strings.Contains(home.Body, "/branding/acme.css") {
		t.Fatal("the layout does not show the organisation's branding")
	}
	css := b.Get(t, "/branding/acme.css")
	if !strings.Contains(css.Body, "--brand:#aa3300") {
		t.Fatalf("branding css: %s", css.Body)
	}
}

// pingModule is a module with one operation and one page, to test module
// enablement per organisation.
type pingModule struct{}

var _ module.Module = (*pingModule)(nil)

func (*pingModule) Info() module.Info { return module.Info{ID: "ping", Name: "Ping", Version: "1"} }
func (*pingModule) Init(h module.Host) error {
	h.API(func(api apiRegistrar) {
		registerPing(api)
	})
	h.Pages(func(r pageRouter) { r.Get("/", func(c pageCtx) error { return c.SendString("pong page") }) })
	h.Nav(navItem{Label: "Ping", Path: "/m/ping/"})
	return nil
}

func TestLanguageFollowsUserOrgAndBrowser(t *testing.T) {
	ta, _ := newApp(t)
	ta.User(t, "acme", "ann@acme.example", accounts.Customer)
	if _, err := ta.Accounts.UpdateOrg(context.Background(), &accounts.Principal{Role: accounts.PlatformAdmin}, ta.Org(t, "acme").ID, accounts.OrgSettings{Locale: ptr("it")}); err != nil {
		t.Fatal(err)
	}
	anon := ta.Do(t, "GET", "/login?org=acme", nil, map[string]string{"Accept": "text/html"})
	if !strings.Contains(anon.Body, `<html lang="it">`) || !strings.Contains(anon.Body, ">Accedi</a>") {
		t.Fatal("an Italian organisation's sign-in page is not in Italian")
	}
	en := ta.Do(t, "GET", "/login?org=acme", nil, map[string]string{"Accept": "text/html", "Accept-Language": "en-GB,en;q=0.9,it;q=0.5"})
	if !strings.Contains(en.Body, `<html lang="en">`) {
		t.Fatal("the browser's preferred language was ignored")
	}
	b := ta.Browser()
	b.SignIn(t, "acme", "ann@acme.example")
	page := b.Get(t, "/account")
	if !strings.Contains(page.Body, `<html lang="it">`) || !strings.Contains(page.Body, ">Esci</button>") {
		t.Fatal("a user without their own locale does not get the organisation's")
	}
}

func ptr[T any](v T) *T { return &v }

// TestUserSearchMatchesWildcardsLiterally: % and _ in the user directory's
// search are characters, not LIKE wildcards (issue 19 item 10), on the API
// and the admin page.
func TestUserSearchMatchesWildcardsLiterally(t *testing.T) {
	ta := portaltest.New(t, nil)
	admin := ta.As(t, "acme", "admin@acme.example", accounts.Admin)
	under := ta.User(t, "acme", "anna_rossi@acme.example", accounts.Customer).ID
	ta.User(t, "acme", "annaxrossi@acme.example", accounts.Customer)
	for q, want := range map[string][]uint{"a_r": {under}, "_": {under}, "%": nil, "%a%": nil, `\`: nil} {
		var out struct {
			Users []struct{ ID uint }
			Total int64
		}
		r := ta.Do(t, "GET", "/api/v1/users?q="+url.QueryEscape(q), nil, admin)
		if r.Status != 200 {
			t.Fatalf("search %q: %d %s", q, r.Status, r.Body)
		}
		r.JSON(t, &out)
		var got []uint
		for _, u := range out.Users {
			got = append(got, u.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || out.Total != int64(len(want)) {
			t.Errorf("search %q found %v (total %d), want %v", q, got, out.Total, want)
		}
	}
	b := ta.Browser()
	b.SignIn(t, "acme", "admin@acme.example")
	if r := b.Get(t, "/admin/users?q=a_r"); r.Status != 200 || !strings.Contains(r.Body, "anna_rossi@") || strings.Contains(r.Body, "annaxrossi@") {
		t.Fatalf("admin users page search for a_r: %d", r.Status)
	}
}

// TestNumbersBeyondTheirRangeAre422: an ID path parameter, a query ID or a
// body ID beyond int64 answers 422 naming it (issue 19 item 9), on both
// databases, never 404 or a database error.
func TestNumbersBeyondTheirRangeAre422(t *testing.T) {
	ta := portaltest.New(t, nil)
	admin := ta.As(t, "acme", "admin@acme.example", accounts.Admin)
	staff := ta.User(t, "acme", "sam@acme.example", accounts.Staff)
	for _, c := range []struct {
		method, path string
		body         any
		where        string
	}{
		{"PATCH", "/api/v1/users/9223372036854775808", map[string]any{"role": "staff"}, "path.id"},
		{"PATCH", "/api/v1/users/18446744073709551615", map[string]any{"role": "staff"}, "path.id"},
		{"DELETE", fmt.Sprintf("/api/v1/users/%d/assignments/9223372036854775808", staff.ID), nil, "path.staff_id"},
		{"GET", "/api/v1/audit?actor_id=9223372036854775808", nil, "query.actor_id"},
		{"POST", "/api/v1/users/1/assignments", map[string]any{"staff_id": uint64(1 << 63)}, "body.staff_id"},
	} {
		r := ta.Do(t, c.method, c.path, c.body, admin)
		if r.Status != 422 || !strings.Contains(r.Body, c.where) {
			t.Errorf("%s %s: %d %s, want 422 naming %s", c.method, c.path, r.Status, r.Body, c.where)
		}
	}
}
