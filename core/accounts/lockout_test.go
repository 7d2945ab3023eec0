package accounts_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/portaltest"
)

// TestLockoutIsNoDenialOfService (issue 19 item 7): wrong passwords from
// one address lock that address out of the account, with a delay that
// doubles, while the owner signs in from another address; a guess spread
// over many addresses locks the account only for addresses that never
// signed in to it.
func TestLockoutIsNoDenialOfService(t *testing.T) {
	ta := portaltest.New(t, nil, func(c *config.Config) {
		c.Accounts.LoginMaxFailures = 2
		c.Accounts.LoginIPMaxFailures = 1000
		c.HTTP.TrustedProxies = []string{"0.0.0.0/0"}
	})
	ta.User(t, "acme", "ann@acme.example", accounts.Customer)
	login := func(ip, pw string) *portaltest.Response {
		t.Helper()
		return ta.Do(t, "POST", "/api/v1/auth/login", map[string]any{"org": "acme", "email": "ann@acme.example", "password": pw},
			map[string]string{"X-Forwarded-For": ip})
	}
	retryAfter := func(r *portaltest.Response) int {
		t.Helper()
		ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if r.Status != 429 || err != nil || ra < 1 {
			t.Fatalf("want 429 with Retry-After, got %d %q %s", r.Status, r.Header.Get("Retry-After"), r.Body)
		}
		return ra
	}
	const a, b = "198.51.100.1", "198.51.100.2"
	for i := 0; i < 2; i++ {
		if r := login(a, "wrong-password-1"); r.Status != 401 {
			t.Fatalf("wrong password %d from A: %d", i, r.Status)
		}
	}
	first := retryAfter(login(a, portaltest.Password)) // A is locked out, even with the right password
	if first > int((15 * time.Minute).Seconds()) {
		t.Fatalf("first lockout %d s, want at most login_lockout", first)
	}
	if r := login(b, portaltest.Password); r.Status != 200 {
		t.Fatalf("the owner from B after A's wrong passwords: %d %s", r.Status, r.Body)
	}

	// The lock of A ends; the next wrong password locks A twice as long.
	if err := ta.Store.DB.Model(&accounts.Throttle{}).Where("key LIKE ?", "login:src:%"+a).Update("locked_until", time.Now().Add(-time.Second)).Error; err != nil {
		t.Fatal(err)
	}
	if r := login(a, "wrong-password-1"); r.Status != 401 {
		t.Fatalf("wrong password from A after its lock: %d", r.Status)
	}
	if second := retryAfter(login(a, "wrong-password-1")); second < 2*first-5 {
		t.Fatalf("second lockout %d s, want about twice %d", second, first)
	}

	// Spread over many addresses (10 × login_max_failures), the guess
	// locks the account for new addresses, not for B, which signed in.
	for i := 0; i < 10; i++ {
		for j := 0; j < 2; j++ {
			login(fmt.Sprintf("203.0.113.%d", i+10), "wrong-password-1")
		}
	}
	retryAfter(login("192.0.2.99", portaltest.Password))
	if r := login(b, portaltest.Password); r.Status != 200 {
		t.Fatalf("the owner from a known address during a spread guess: %d %s", r.Status, r.Body)
	}
}
