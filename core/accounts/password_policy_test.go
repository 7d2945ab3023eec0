package accounts_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/portaltest"
)

// TestCommonPasswordsAreRefused: common passwords with digits or symbols
// appended, other case or look-alike letters, and easily guessed ones are
// refused with the reason (issue 19 item 6: 12 of 14 tried passed); the
// passwords the demo and the tests use still pass.
func TestCommonPasswordsAreRefused(t *testing.T) {
	for pw, why := range map[string]string{
		"password123":   "most common",
		"Password1!":    "most common",
		"welcome123":    "most common",
		"iloveyou123":   "most common",
		"P@ssw0rd2024":  "most common",
		"Qwerty12345!":  "most common",
		"aaaaaaaaaa":    "too easy to guess",
		"abcabcabcabc":  "too easy to guess",
		"Ann.Smith1990": "too easy to guess",
	} {
		err := accounts.CheckPassword(pw, "ann.smith@example.com", "Ann Smith")
		if err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("%q: %v, want refused as %q", pw, err, why)
		}
	}
	for _, pw := range []string{portaltest.Password, "purple-giraffe-71", "a-fine-passphrase-1", "wrong-password-1", "xK9#mP2$qL7!"} {
		if err := accounts.CheckPassword(pw, "ann.smith@example.com", "Ann Smith"); err != nil {
			t.Errorf("%q refused: %v", pw, err)
		}
	}
}

// TestWeakPasswordIsExplained: the API answers 422 naming the field and
// the reason; the account page says why in the person's language.
func TestWeakPasswordIsExplained(t *testing.T) {
	ta, _ := newApp(t)
	ann := ta.As(t, "acme", "ann@acme.example", accounts.Customer)
	r := ta.Do(t, "POST", "/api/v1/me/password", map[string]any{"current_password": portaltest.Password, "new_password": "Password1!"}, ann)
	if r.Status != 422 || !strings.Contains(r.Body, "password") || !strings.Contains(r.Body, "most common passwords") {
		t.Fatalf("API, Password1!: %d %s", r.Status, r.Body)
	}
	r = ta.Do(t, "POST", "/api/v1/me/password", map[string]any{"current_password": portaltest.Password, "new_password": "aaaaaaaaaa"}, ann)
	if r.Status != 422 || !strings.Contains(r.Body, "too easy to guess") {
		t.Fatalf("API, aaaaaaaaaa: %d %s", r.Status, r.Body)
	}

	carla := ta.As(t, "acme", "carla@acme.example", accounts.Customer)
	it := "it"
	if _, err := ta.Accounts.UpdateProfile(context.Background(), ta.Principal(t, carla["Authorization"][7:]), accounts.Profile{Locale: &it}); err != nil {
		t.Fatal(err)
	}
	b := ta.Browser()
	b.SignIn(t, "acme", "carla@acme.example")
	b.Get(t, "/account/")
	p := b.Post(t, "/account/password", url.Values{"current_password": {portaltest.Password}, "new_password": {"welcome123"}, "new_password_confirm": {"welcome123"}})
	if p.Status != 422 || !strings.Contains(p.Body, "una delle password più comuni") {
		t.Fatalf("Italian form, welcome123: %d %s", p.Status, p.Body)
	}
	p = b.Post(t, "/account/password", url.Values{"current_password": {portaltest.Password}, "new_password": {"aaaaaaaaaa"}, "new_password_confirm": {"aaaaaaaaaa"}})
	if p.Status != 422 || !strings.Contains(p.Body, "troppo facile da indovinare") {
		t.Fatalf("Italian form, aaaaaaaaaa: %d", p.Status)
	}
}
