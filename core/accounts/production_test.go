package accounts_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/portaltest"
)

// In production mode every cookie the portal sets is Secure, also when
// the request reached it as plain HTTP (behind a TLS-terminating proxy),
// unless http.insecure_cookies; in development only over HTTPS
// (issue 19, item 8).
func TestProductionCookiesAreSecure(t *testing.T) {
	cases := []struct {
		name       string
		mode       string
		insecure   bool
		wantSecure bool
	}{
		{"production", "production", false, true},
		{"production with http.insecure_cookies", "production", true, false},
		{"development", "development", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ta, _ := newApp(t, portaltest.WithConfig(func(c *config.Config) {
				c.Mode, c.HTTP.InsecureCookies = tc.mode, tc.insecure
			}))
			ta.User(t, "acme", "ann@acme.example", accounts.Customer)
			seen := map[string]bool{}
			check := func(cookies []*http.Cookie) {
				t.Helper()
				for _, c := range cookies {
					seen[c.Name] = true
					if c.Secure != tc.wantSecure {
						t.Errorf("cookie %s: Secure=%v, want %v", c.Name, c.Secure, tc.wantSecure)
					}
				}
			}
			b := ta.Browser()
			check(b.Get(t, "/login").Cookies) // the anonymous CSRF cookie
			res := b.Post(t, "/login", url.Values{"org": {"acme"}, "email": {"ann@acme.example"}, "password": {portaltest.Password}})
			if res.Status != http.StatusSeeOther {
				t.Fatalf("sign-in: %d", res.Status)
			}
			check(res.Cookies) // session and organisation
			check(b.Post(t, "/logout", nil).Cookies)
			api := ta.Do(t, "POST", "/api/v1/auth/login", map[string]any{"org": "acme", "email": "ann@acme.example", "password": portaltest.Password}, nil)
			if api.Status != http.StatusOK {
				t.Fatalf("API sign-in: %d %s", api.Status, api.Body)
			}
			check(api.Cookies)
			for _, name := range []string{accounts.CSRFCookie, accounts.SessionCookie, accounts.OrgCookie} {
				if !seen[name] {
					t.Errorf("cookie %s was never set; the test checks nothing about it", name)
				}
			}
		})
	}
}

// Every API answer and every signed-in page says Cache-Control: no-store;
// public pages stay cacheable by the browser's rules (issue 19, item 8).
func TestSignedInAndAPIAnswersAreNotStored(t *testing.T) {
	ta, _ := newApp(t)
	auth := ta.CookieAuth(t, "acme", "ann@acme.example", accounts.Customer)
	bearer := ta.As(t, "acme", "bob@acme.example", accounts.Customer)
	for _, tc := range []struct {
		name, path string
		headers    map[string]string
		status     int
	}{
		{"signed-in page", "/account", auth, 200},
		{"API answer with the cookie", "/api/v1/me", auth, 200},
		{"API answer with a token", "/api/v1/me", bearer, 200},
		{"API refusal", "/api/v1/me", nil, 401},
		{"API answer to an unknown path", "/api/v1/nothing-here", bearer, 404},
	} {
		res := ta.Do(t, "GET", tc.path, nil, tc.headers)
		if res.Status != tc.status {
			t.Errorf("%s: %s answered %d, want %d", tc.name, tc.path, res.Status, tc.status)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", tc.name, cc)
		}
	}
	if cc := ta.Do(t, "GET", "/login", nil, nil).Header.Get("Cache-Control"); strings.Contains(cc, "no-store") {
		t.Errorf("the public sign-in page says %q; only signed-in pages need no-store", cc)
	}
}

// A state-changing request carrying the session cookie and a valid CSRF
// token is still refused when the browser says it comes from another site
// (Sec-Fetch-Site: cross-site, or a foreign Origin): a friendly 403 page
// for forms, a problem for the API. Same-site requests, clients that send
// neither header and bearer tokens pass (issue 19, item 8).
func TestCrossSiteStateChangesAreRefused(t *testing.T) {
	ta, _ := newApp(t, portaltest.WithConfig(func(c *config.Config) { c.HTTP.BaseURL = "https://portal.example.com" }))
	with := portaltest.WithHeaders
	cases := []struct {
		name    string
		headers []string
		refused bool
	}{
		{"Sec-Fetch-Site cross-site", []string{"Sec-Fetch-Site", "cross-site"}, true},
		{"a foreign Origin", []string{"Origin", "https://evil.example"}, true},
		{"Origin null", []string{"Origin", "null"}, true},
		{"a sibling subdomain", []string{"Sec-Fetch-Site", "same-site", "Origin", "https://blog.example.com"}, true},
		{"Sec-Fetch-Site same-origin", []string{"Sec-Fetch-Site", "same-origin", "Origin", "http://example.com"}, false},
		{"the request's own Origin", []string{"Origin", "http://example.com"}, false},
		{"http.base_url's Origin", []string{"Origin", "https://portal.example.com"}, false},
		{"neither header", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A form: signing out.
			auth := ta.CookieAuth(t, "acme", "ann@acme.example", accounts.Customer)
			res := ta.Do(t, "POST", "/logout", "", with(auth, append(tc.headers, "Accept", "text/html", "Content-Type", "application/x-www-form-urlencoded")...))
			if tc.refused {
				if res.Status != http.StatusForbidden || !strings.Contains(res.Body, "came from another site") || !strings.Contains(res.Header.Get("Content-Type"), "text/html") {
					t.Errorf("form: %d %s %.300q, want the friendly 403 page", res.Status, res.Header.Get("Content-Type"), res.Body)
				}
			} else if res.Status != http.StatusSeeOther {
				t.Errorf("form: %d %.300q, want the sign-out to pass", res.Status, res.Body)
			}
			// The API with the cookie: signing out.
			auth = ta.CookieAuth(t, "acme", "ann@acme.example", accounts.Customer)
			res = ta.Do(t, "POST", "/api/v1/auth/logout", nil, with(auth, tc.headers...))
			if tc.refused {
				if res.Status != http.StatusForbidden || !strings.Contains(res.Header.Get("Content-Type"), "application/problem+json") || !strings.Contains(res.Body, "another site") {
					t.Errorf("API: %d %s %.300q, want a 403 problem", res.Status, res.Header.Get("Content-Type"), res.Body)
				}
			} else if res.Status != http.StatusNoContent {
				t.Errorf("API: %d %.300q, want the sign-out to pass", res.Status, res.Body)
			}
			// A bearer token has no ambient authority: never refused here.
			bearer := ta.As(t, "acme", "bob@acme.example", accounts.Customer)
			if res := ta.Do(t, "POST", "/api/v1/auth/logout", nil, with(bearer, tc.headers...)); res.Status != http.StatusNoContent {
				t.Errorf("bearer: %d %.300q, want 204", res.Status, res.Body)
			}
		})
	}
}
