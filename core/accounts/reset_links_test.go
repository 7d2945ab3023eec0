package accounts_test

import (
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
)

func (m *mailbox) count(kind string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, msg := range m.msgs {
		if msg.Kind == kind {
			n++
		}
	}
	return n
}

// TestNewerResetLinkEndsEarlierOnes: issuing a link ends every earlier one
// for the account, and using one ends the rest.
func TestNewerResetLinkEndsEarlierOnes(t *testing.T) {
	ta, mb := newApp(t)
	ta.User(t, "acme", "ann@acme.example", accounts.Customer)
	forgot := func() string {
		t.Helper()
		if r := ta.Do(t, "POST", "/api/v1/auth/password/forgot", map[string]any{"org": "acme", "email": "ann@acme.example"}, nil); r.Status != 202 {
			t.Fatalf("forgot: %d %s", r.Status, r.Body)
		}
		return tokenOf(t, mb.last(t, accounts.KindPasswordReset).Data["Link"])
	}
	reset := func(token, pw string) int {
		t.Helper()
		return ta.Do(t, "POST", "/api/v1/auth/password/reset", map[string]any{"token": token, "password": pw}, nil).Status
	}
	first := forgot()
	second := forgot()
	if st := reset(first, "first-passphrase-42"); st != 422 {
		t.Fatalf("the first link still worked after a newer one was issued: %d", st)
	}
	if st := reset(second, "second-passphrase-42"); st != 204 {
		t.Fatalf("the newest link: %d", st)
	}
	// Using a link ends every other open link: plant two, use the later.
	ta.Accounts.SetClock(func() time.Time { return time.Now().Add(2 * time.Hour) })
	third := forgot()
	if st := reset(third, "third-passphrase-42"); st != 204 {
		t.Fatalf("third link: %d", st)
	}
	if st := reset(second, "again-passphrase-42"); st != 422 {
		t.Fatalf("a used link worked again: %d", st)
	}
}

// TestResetEmailsCappedPerAccountPerHour: past the cap no e-mail goes out,
// and the answer is the same as for an unknown address.
func TestResetEmailsCappedPerAccountPerHour(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	ta, mb := newApp(t)
	ta.Accounts.SetClock(func() time.Time { return now })
	ta.User(t, "acme", "ann@acme.example", accounts.Customer)
	capN := ta.Config.Accounts.ResetMaxPerHour
	if capN < 1 {
		t.Fatalf("reset_max_per_hour default %d", capN)
	}
	for i := 0; i < capN+5; i++ {
		r := ta.Do(t, "POST", "/api/v1/auth/password/forgot", map[string]any{"org": "acme", "email": "ann@acme.example"}, nil)
		u := ta.Do(t, "POST", "/api/v1/auth/password/forgot", map[string]any{"org": "acme", "email": "nobody@acme.example"}, nil)
		if r.Status != 202 || u.Status != 202 || r.Body != u.Body {
			t.Fatalf("request %d: known %d %q, unknown %d %q: the answers must not differ", i, r.Status, r.Body, u.Status, u.Body)
		}
	}
	if n := mb.count(accounts.KindPasswordReset); n != capN {
		t.Fatalf("%d reset e-mails sent in an hour, cap %d", n, capN)
	}
	now = now.Add(61 * time.Minute)
	ta.Do(t, "POST", "/api/v1/auth/password/forgot", map[string]any{"org": "acme", "email": "ann@acme.example"}, nil)
	if n := mb.count(accounts.KindPasswordReset); n != capN+1 {
		t.Fatalf("after an hour a new link must go out: %d e-mails", n)
	}
	// The answer every requester sees says only the newest link works
	// and that a few go out per hour.
	page := ta.Browser().Get(t, "/login?org=acme&msg=reset_sent")
	if !strings.Contains(page.Body, "Only the newest link works") || !strings.Contains(page.Body, "per hour") {
		t.Fatalf("the sent message does not explain the cap: %s", page.Body)
	}
}
