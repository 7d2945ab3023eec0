package accounts_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
)

// clock is a settable clock shared by the instances of a test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// twoInstances starts two portals on one database with a shared clock.
func twoInstances(t *testing.T, ttl time.Duration) (a, b *portaltest.TestApp, clk *clock) {
	t.Helper()
	cfg := portaltest.Config(t, func(c *config.Config) { c.Accounts.PrincipalCacheTTL = ttl })
	a = portaltest.NewWithConfig(t, cfg, nil)
	b = portaltest.NewWithConfig(t, cfg, nil)
	clk = &clock{now: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	a.Accounts.SetClock(clk.Now)
	b.Accounts.SetClock(clk.Now)
	return a, b, clk
}

func meStatus(t *testing.T, ta *portaltest.TestApp, token string) int {
	t.Helper()
	return ta.Do(t, "GET", "/api/v1/me", nil, portaltest.Bearer(token)).Status
}

// A session revoked on one instance stops working there at once, and on
// another instance once that instance's cached copy expires.
func TestPrincipalCacheRevocationAcrossInstances(t *testing.T) {
	a, b, clk := twoInstances(t, 3*time.Second)
	a.User(t, "acme", "ann@acme.example", accounts.Customer)
	laptop, phone := a.Login(t, "acme", "ann@acme.example"), a.Login(t, "acme", "ann@acme.example")
	for _, inst := range []*portaltest.TestApp{a, b} {
		if s := meStatus(t, inst, phone); s != 200 {
			t.Fatalf("before revocation: %d", s)
		}
	}
	phoneID := a.Principal(t, phone).SessionID
	if r := a.Do(t, "DELETE", fmt.Sprintf("/api/v1/me/sessions/%d", phoneID), nil, portaltest.Bearer(laptop)); r.Status != 204 {
		t.Fatalf("revoke: %d", r.Status)
	}
	if s := meStatus(t, a, phone); s != 401 {
		t.Fatalf("the revoking instance still accepts the session: %d", s)
	}
	// The documented trade-off: the other instance trusts its copy for up
	// to the TTL...
	if s := meStatus(t, b, phone); s != 200 {
		t.Fatalf("the other instance within the TTL: %d (is the cache on?)", s)
	}
	clk.Add(3 * time.Second)
	// ...and no longer.
	if s := meStatus(t, b, phone); s != 401 {
		t.Fatalf("the other instance after the TTL: %d", s)
	}
	// Signing out ends the session on the instance at once.
	if s := meStatus(t, a, laptop); s != 200 {
		t.Fatal(s)
	}
	if r := a.Do(t, "POST", "/api/v1/auth/logout", nil, portaltest.Bearer(laptop)); r.Status != 204 {
		t.Fatalf("logout: %d", r.Status)
	}
	if s := meStatus(t, a, laptop); s != 401 {
		t.Fatalf("signed-out session still accepted: %d", s)
	}
}

// With the TTL at 0 there is no cache: the other instance sees a revocation
// at once.
func TestPrincipalCacheOff(t *testing.T) {
	a, b, _ := twoInstances(t, 0)
	a.User(t, "acme", "ann@acme.example", accounts.Customer)
	laptop, phone := a.Login(t, "acme", "ann@acme.example"), a.Login(t, "acme", "ann@acme.example")
	if s := meStatus(t, b, phone); s != 200 {
		t.Fatal(s)
	}
	phoneID := a.Principal(t, phone).SessionID
	a.Do(t, "DELETE", fmt.Sprintf("/api/v1/me/sessions/%d", phoneID), nil, portaltest.Bearer(laptop))
	if s := meStatus(t, b, phone); s != 401 {
		t.Fatalf("uncached instance accepted a revoked session: %d", s)
	}
}

// Changes to a person's role, profile or organisation, and a deletion
// request, show on the next request to the instance that made them.
func TestPrincipalCacheFollowsChanges(t *testing.T) {
	a, _, _ := twoInstances(t, time.Minute)
	ctx := context.Background()
	a.User(t, "acme", "boss@acme.example", accounts.Admin)
	u := a.User(t, "acme", "ann@acme.example", accounts.Customer)
	boss := a.Principal(t, a.Login(t, "acme", "boss@acme.example"))
	tok := a.Login(t, "acme", "ann@acme.example")
	me := func() *accounts.Principal { return a.Principal(t, tok) }
	if me().Role != accounts.Customer {
		t.Fatal("role")
	}
	if _, err := a.Accounts.SetRole(ctx, boss, u.ID, accounts.Staff); err != nil {
		t.Fatal(err)
	}
	if r := me().Role; r != accounts.Staff {
		t.Fatalf("role after change: %s", r)
	}
	name := "Ann Other"
	if _, err := a.Accounts.UpdateProfile(ctx, me(), accounts.Profile{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if n := me().Name; n != name {
		t.Fatalf("name after change: %q", n)
	}
	orgName := "Acme Renamed"
	if _, err := a.Accounts.UpdateOrg(ctx, boss, boss.OrgID, accounts.OrgSettings{Name: &orgName}); err != nil {
		t.Fatal(err)
	}
	if n := me().OrgName; n != orgName {
		t.Fatalf("org name after change: %q", n)
	}
	if err := a.Accounts.RequestDeletion(ctx, me(), portaltest.Password, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Accounts.Authenticate(ctx, tok); err == nil {
		t.Fatal("a deleted account's session still authenticates")
	}
}

// Concurrent requests just past the touch interval write the session's
// last-seen time once.
func TestSessionTouchWritesOnce(t *testing.T) {
	a, _, clk := twoInstances(t, 0) // no cache: every request reads the row
	a.User(t, "acme", "ann@acme.example", accounts.Customer)
	tok := a.Login(t, "acme", "ann@acme.example")
	var mu sync.Mutex
	var touched int64
	err := a.Store.DB.Callback().Update().After("gorm:update").Register("test:count_touch", func(db *gorm.DB) {
		if db.Statement.Table == "accounts_sessions" && db.Error == nil {
			mu.Lock()
			touched += db.RowsAffected
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(61 * time.Second)
	var wg sync.WaitGroup
	errs := make(chan int, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a.Accounts.Authenticate(context.Background(), tok); err != nil {
				errs <- 1
			}
		}()
	}
	wg.Wait()
	close(errs)
	if len(errs) > 0 {
		t.Fatalf("%d requests failed", len(errs))
	}
	if touched != 1 {
		t.Fatalf("the session row was written %d times, want 1", touched)
	}
	var s accounts.Session
	if err := store.AllOrgs(a.Store.DB).Take(&s, a.Principal(t, tok).SessionID).Error; err != nil {
		t.Fatal(err)
	}
	if !s.LastSeenAt.Equal(clk.Now()) {
		t.Fatalf("last seen %v, want %v", s.LastSeenAt, clk.Now())
	}
}

// While the database writer is busy a request skips the touch instead of
// waiting for it, and succeeds.
func TestSessionTouchSkipsWhenWriterBusy(t *testing.T) {
	a, _, clk := twoInstances(t, 0)
	if a.Store.Dialect != store.SQLite {
		t.Skip("only SQLite has a single writer connection")
	}
	a.User(t, "acme", "ann@acme.example", accounts.Customer)
	tok := a.Login(t, "acme", "ann@acme.example")
	id := a.Principal(t, tok).SessionID
	clk.Add(61 * time.Second)
	done := make(chan error, 1)
	err := a.Store.Tx(context.Background(), func(tx *gorm.DB) error { // holds the writer
		go func() {
			_, err := a.Accounts.Authenticate(context.Background(), tok)
			done <- err
		}()
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			return fmt.Errorf("the request waited for the busy writer")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	var s accounts.Session
	if err := store.AllOrgs(a.Store.DB).Take(&s, id).Error; err != nil {
		t.Fatal(err)
	}
	if s.LastSeenAt.Equal(clk.Now()) {
		t.Fatal("the touch was written while the writer was busy")
	}
}
