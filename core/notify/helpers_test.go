package notify_test

import (
	"context"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
)

// shop is a module that declares two kinds through the Host, as a vertical
// would.
type shop struct{}

var _ module.Module = shop{}

func (shop) Info() module.Info {
	return module.Info{ID: "shop", Name: "Shop", Version: "1.0.0", Description: "Notification kinds for tests."}
}

func (shop) Init(h module.Host) error {
	for _, k := range shopKinds() {
		h.Notification(k)
	}
	return nil
}

func shopKinds() []notify.Kind {
	fsys := os.DirFS("testdata/kinds")
	return []notify.Kind{
		{ID: "shop.shipped", Title: "Order shipped", DefaultChannels: []string{notify.ChannelInApp, notify.ChannelEmail},
			Mutable: true, Templates: fsys},
		{ID: "shop.security", Title: "Security notice", DefaultChannels: []string{notify.ChannelInApp, notify.ChannelEmail},
			Mutable: false, Urgent: true, Templates: fsys},
	}
}

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Organisations and people of every test, real accounts of the test app:
//
//	acme:   Ada (admin, English), Bruno (customer, Italian), both in Europe/Rome
//	globex: Carla (admin, English, America/New_York)
const (
	acme   = "acme"
	globex = "globex"
)

// person is a test user with the Authorization header of a session.
type person struct {
	*accounts.User
	slug    string
	headers map[string]string
}

// env is a test app whose own notification service (ta.Notify, wired by the
// kernel to accounts) is tuned for tests: fast retries, no workers unless
// asked, optionally a clock that moves only when told.
type env struct {
	t     *testing.T
	ta    *portaltest.TestApp
	svc   *notify.Service
	clock *clock

	org1, org2        uint
	ada, bruno, carla *person
}

type envOpt struct {
	cfg     func(*config.Notify)
	clock   bool
	workers bool
}

func newEnv(t *testing.T, o envOpt) *env {
	t.Helper()
	ta := portaltest.New(t, []module.Module{shop{}}, portaltest.WithConfig(func(c *config.Config) {
		c.Notify.Workers = 0
		if o.workers {
			c.Notify.Workers = 2
		}
		c.Notify.PollInterval = 10 * time.Millisecond
		c.Notify.RetryBase = 10 * time.Millisecond
		c.Notify.RetryMax = 80 * time.Millisecond
		c.Live.Heartbeat = 100 * time.Millisecond
		if o.cfg != nil {
			o.cfg(&c.Notify)
		}
	}))
	e := &env{t: t, ta: ta, svc: ta.Notify}
	e.org1, e.org2 = ta.Org(t, acme).ID, ta.Org(t, globex).ID
	e.ada = e.person(acme, "ada@example.com", accounts.Admin, "en", "")
	e.bruno = e.person(acme, "bruno@example.com", accounts.Customer, "it", "")
	e.carla = e.person(globex, "carla@example.com", accounts.Admin, "en", "America/New_York")
	if o.clock {
		e.clock = &clock{t: time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)}
		e.svc.SetClock(e.clock.Now)
	}
	if o.workers {
		e.start()
	}
	return e
}

// person creates a user (ta.User) with a locale and, optionally, a time
// zone of their own, and signs them in.
func (e *env) person(slug, email string, role accounts.Role, locale, tz string) *person {
	e.t.Helper()
	e.ta.User(e.t, slug, email, role)
	token := e.ta.Login(e.t, slug, email)
	prof := accounts.Profile{Locale: &locale}
	if tz != "" {
		prof.TimeZone = &tz
	}
	u, err := e.ta.Accounts.UpdateProfile(context.Background(), e.ta.Principal(e.t, token), prof)
	if err != nil {
		e.t.Fatal(err)
	}
	return &person{User: u, slug: slug, headers: portaltest.Bearer(token)}
}

// browser returns a browser signed in as p, for the portal pages.
func (e *env) browser(p *person) *portaltest.Browser {
	e.t.Helper()
	b := e.ta.Browser()
	b.SignIn(e.t, p.slug, p.Email)
	return b
}

// start runs the service's workers (and, on PostgreSQL, its listener)
// until the test ends.
func (e *env) start() {
	e.t.Helper()
	if err := e.svc.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	if err := e.ta.Live.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.svc.Stop(ctx); err != nil {
			e.t.Errorf("stop: %v", err)
		}
		if err := e.ta.Live.Stop(ctx); err != nil {
			e.t.Errorf("stop live: %v", err)
		}
	})
}

// note is a notification for p.
func note(p *person, kind string, data map[string]any) notify.Notification {
	return notify.Notification{OrgID: p.OrgID, UserID: p.ID, Kind: kind, Data: data}
}

// send sends n in its own transaction and returns whether it was new.
func (e *env) send(n notify.Notification) bool {
	e.t.Helper()
	return e.sendResult(n).New
}

// sendID sends n in its own transaction and returns its ID.
func (e *env) sendID(n notify.Notification) uint {
	e.t.Helper()
	return e.sendResult(n).ID
}

func (e *env) sendResult(n notify.Notification) notify.Result {
	e.t.Helper()
	var res []notify.Result
	err := e.ta.Store.Tx(context.Background(), func(tx *gorm.DB) error {
		var err error
		res, err = e.svc.SendMany(context.Background(), tx, []notify.Notification{n})
		return err
	})
	if err != nil {
		e.t.Fatalf("send: %v", err)
	}
	return res[0]
}

// dispatchAll runs DispatchOnce until nothing is due.
func (e *env) dispatchAll() {
	e.t.Helper()
	for i := 0; i < 100; i++ {
		n, err := e.svc.DispatchOnce(context.Background())
		if err != nil {
			e.t.Fatalf("dispatch: %v", err)
		}
		if n == 0 {
			return
		}
	}
	e.t.Fatal("dispatch never ran dry")
}

func (e *env) outbox(org uint) []notify.OutboxRow {
	e.t.Helper()
	var rows []notify.OutboxRow
	if err := store.Org(e.ta.Store.DB, org).Order("id").Find(&rows).Error; err != nil {
		e.t.Fatal(err)
	}
	return rows
}

func (e *env) mailbox(org uint) []notify.MailboxMessage {
	e.t.Helper()
	var rows []notify.MailboxMessage
	if err := store.Org(e.ta.Store.DB, org).Order("id").Find(&rows).Error; err != nil {
		e.t.Fatal(err)
	}
	return rows
}

func channels(rows []notify.OutboxRow) map[string]int {
	out := map[string]int{}
	for _, r := range rows {
		out[r.Channel]++
	}
	return out
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// serve serves the test app's HTTP on a real socket and returns its base URL.
func serve(t *testing.T, ta *portaltest.TestApp) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = ta.Web.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = ta.Web.Shutdown(5 * time.Second)
		<-done
	})
	return "http://" + ln.Addr().String()
}
