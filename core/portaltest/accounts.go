package portaltest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
)

// Password is the password of every account the helpers create.
const Password = "correct-horse-battery-9"

// Org returns the organisation slug, creating it (self sign-up on, every
// module enabled) if needed.
func (ta *TestApp) Org(t testing.TB, slug string) *accounts.Org {
	t.Helper()
	ctx := context.Background()
	if o, err := ta.Accounts.OrgBySlug(ctx, slug); err == nil {
		return o
	}
	o, err := ta.Accounts.CreateOrg(ctx, accounts.NewOrg{Slug: slug, Name: strings.ToUpper(slug[:1]) + slug[1:] + " Org", SelfSignup: true, TimeZone: "Europe/Rome"})
	if err != nil {
		t.Fatalf("portaltest: create org %s: %v", slug, err)
	}
	return o
}

// User returns the user email of org slug, creating it with role and
// Password if needed.
func (ta *TestApp) User(t testing.TB, slug, email string, role accounts.Role) *accounts.User {
	t.Helper()
	ctx := context.Background()
	o := ta.Org(t, slug)
	if u, err := ta.Accounts.UserByEmail(ctx, o.ID, email); err == nil {
		return u
	}
	name, _, _ := strings.Cut(email, "@")
	u, err := ta.Accounts.CreateUser(ctx, nil, o.ID, accounts.NewUser{Email: email, Name: name, Role: role, Password: Password, Verified: true})
	if err != nil {
		t.Fatalf("portaltest: create user %s: %v", email, err)
	}
	return u
}

// Login signs email of org slug in and returns the session token.
func (ta *TestApp) Login(t testing.TB, slug, email string) string {
	t.Helper()
	res, err := ta.Accounts.Login(context.Background(), accounts.LoginInput{Org: slug, Email: email, Password: Password, IP: "192.0.2.1", UserAgent: "portaltest"}, "")
	if err != nil {
		t.Fatalf("portaltest: login %s/%s: %v", slug, email, err)
	}
	return res.Token
}

// As creates (if needed) and signs in a user, returning Authorization
// headers for scenarios.
func (ta *TestApp) As(t testing.TB, slug, email string, role accounts.Role) map[string]string {
	t.Helper()
	ta.User(t, slug, email, role)
	return Bearer(ta.Login(t, slug, email))
}

// CookieAuth signs a user in and returns the headers a browser would send:
// the session cookie and the CSRF token (as X-CSRF-Token, which forms may
// use instead of the _csrf field), for scenario tables of pages.
func (ta *TestApp) CookieAuth(t testing.TB, slug, email string, role accounts.Role) map[string]string {
	t.Helper()
	ta.User(t, slug, email, role)
	token := ta.Login(t, slug, email)
	p := ta.Principal(t, token)
	return map[string]string{"Cookie": accounts.SessionCookie + "=" + token, accounts.CSRFHeader: ta.Accounts.CSRFTokenForSession(p.SessionID)}
}

// Bearer returns the Authorization header for token.
func Bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

// Demo runs the demo data with Password.
func (ta *TestApp) Demo(t testing.TB) {
	t.Helper()
	if err := ta.RunDemo(context.Background(), Password); err != nil {
		t.Fatalf("portaltest: demo: %v", err)
	}
}

// Principal returns the principal a token authenticates as.
func (ta *TestApp) Principal(t testing.TB, token string) *accounts.Principal {
	t.Helper()
	p, err := ta.Accounts.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatalf("portaltest: authenticate: %v", err)
	}
	return p
}

// IsKind reports whether err is an errs.Error of kind.
func IsKind(err error, kind errs.Kind) bool {
	var e *errs.Error
	return errors.As(err, &e) && e.Kind == kind
}

// Browser is a cookie-keeping client of a TestApp's pages, like a person's
// browser: it remembers cookies and sends forms with the CSRF token of the
// last page it loaded.
type Browser struct {
	ta      *TestApp
	cookies map[string]string
	// CSRF is the token found in the last page.
	CSRF string
	// Last is the last response.
	Last *Response
}

// Browser returns a new browser with no cookies.
func (ta *TestApp) Browser() *Browser { return &Browser{ta: ta, cookies: map[string]string{}} }

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (b *Browser) do(t testing.TB, method, path string, body string, ctype string) *Response {
	t.Helper()
	headers := map[string]string{"Accept": "text/html", "User-Agent": "portaltest-browser"}
	if ctype != "" {
		headers["Content-Type"] = ctype
	}
	var parts []string
	for k, v := range b.cookies {
		parts = append(parts, k+"="+v)
	}
	if len(parts) > 0 {
		headers["Cookie"] = strings.Join(parts, "; ")
	}
	var bd any
	if body != "" {
		bd = body
	}
	res := b.ta.Do(t, method, path, bd, headers)
	for _, c := range res.Cookies {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	if m := csrfInput.FindStringSubmatch(res.Body); m != nil {
		b.CSRF = m[1]
	}
	b.Last = res
	return res
}

// Get loads a page.
func (b *Browser) Get(t testing.TB, path string) *Response {
	return b.do(t, http.MethodGet, path, "", "")
}

// Post submits a form with the last page's CSRF token (unless values sets
// _csrf itself).
func (b *Browser) Post(t testing.TB, path string, values url.Values) *Response {
	t.Helper()
	if values == nil {
		values = url.Values{}
	}
	if _, set := values["_csrf"]; !set && b.CSRF != "" {
		values.Set("_csrf", b.CSRF)
	}
	return b.do(t, http.MethodPost, path, values.Encode(), "application/x-www-form-urlencoded")
}

// Cookie returns a cookie's value.
func (b *Browser) Cookie(name string) string { return b.cookies[name] }

// SetCookie sets a cookie (to plant a stale or attacker-chosen value).
func (b *Browser) SetCookie(name, value string) { b.cookies[name] = value }

// SignIn signs in through the sign-in page.
func (b *Browser) SignIn(t testing.TB, slug, email string) {
	t.Helper()
	b.Get(t, "/login")
	res := b.Post(t, "/login", url.Values{"org": {slug}, "email": {email}, "password": {Password}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("portaltest: sign-in as %s failed: %d %s", email, res.Status, truncate(res.Body))
	}
}
