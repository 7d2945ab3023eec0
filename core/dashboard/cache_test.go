package dashboard_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/dashboard"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/schedule"
)

// balances is a data source the tests change behind the dashboard's back,
// counting how often each person's widget computed it.
type balances struct {
	mu    sync.Mutex
	value map[uint]int
	calls map[uint]int
	fail  map[uint]bool
}

func newBalances() *balances {
	return &balances{value: map[uint]int{}, calls: map[uint]int{}, fail: map[uint]bool{}}
}

func (b *balances) set(user uint, v int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.value[user] = v
}

func (b *balances) failing(user uint, on bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fail[user] = on
}

func (b *balances) callsOf(user uint) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[user]
}

// balanceData is the cached widget's data: whose it is and the value.
type balanceData struct {
	User  uint   `json:"user"`
	Email string `json:"email"`
	Value int    `json:"value"`
}

// cacheModule declares a cached widget reading b, a live one (NoCache), and
// an API operation that changes the caller's value without any event.
func cacheModule(b *balances, live *int) *cacheTestModule {
	return &cacheTestModule{b: b, live: live}
}

type cacheTestModule struct {
	b    *balances
	live *int
	mu   sync.Mutex
}

func (m *cacheTestModule) Info() module.Info {
	return module.Info{ID: "bank", Name: "Bank", Version: "1.0.0", Description: "A cached widget for tests."}
}

func (m *cacheTestModule) Init(h module.Host) error {
	h.Templates(fstest.MapFS{"w_balance.html": tpl(`<p class="w-balance">{{.Data}}</p>`)})
	h.Widget(dashboard.Widget{ID: "balance", Title: "Balance", Order: 1, Template: "w_balance",
		Data: func(_ context.Context, p *accounts.Principal) (any, error) {
			m.b.mu.Lock()
			defer m.b.mu.Unlock()
			m.b.calls[p.UserID]++
			if m.b.fail[p.UserID] {
				return nil, errors.New("the balance store is down")
			}
			return balanceData{User: p.UserID, Email: p.Email, Value: m.b.value[p.UserID]}, nil
		}})
	h.Widget(dashboard.Widget{ID: "live", Title: "Live", Order: 2, Template: "w_balance", MaxAge: dashboard.NoCache,
		Data: func(context.Context, *accounts.Principal) (any, error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			*m.live++
			return *m.live, nil
		}})
	h.API(func(api huma.API) {
		accounts.Register(api, huma.Operation{OperationID: "bank-deposit", Method: http.MethodPost, Path: "/deposit", Summary: "Deposit one"},
			func(ctx context.Context, _ *struct{}) (*struct{}, error) {
				p, _ := accounts.PrincipalFrom(ctx)
				m.b.mu.Lock()
				m.b.value[p.UserID]++
				m.b.mu.Unlock()
				return nil, nil // no event: the kernel forgets the caller's cache after any write
			}, accounts.Allow(accounts.Customer))
	})
	return nil
}

// cacheApp builds an app with the cache module and the given TTL, and a
// clock for the dashboard moved past the sign-ins' settle time.
type cacheFixture struct {
	ta      *portaltest.TestApp
	b       *balances
	live    int
	clock   *schedule.SimClock
	ann     map[string]string
	annID   uint
	bob     map[string]string
	bobID   uint
	annOrg  uint
	annUser *accounts.Principal
}

func newCacheFixture(t *testing.T, ttl time.Duration) *cacheFixture {
	t.Helper()
	f := &cacheFixture{b: newBalances(), clock: schedule.NewSimClock(time.Now())}
	f.ta = portaltest.New(t, []module.Module{cacheModule(f.b, &f.live)}, portaltest.WithConfig(func(c *config.Config) {
		c.Dashboard.CacheTTL = ttl
	}))
	f.ta.Dashboard.SetClock(f.clock.Now)
	f.ann = f.ta.As(t, "acme", "ann@acme.example", accounts.Customer)
	f.bob = f.ta.As(t, "acme", "bob@acme.example", accounts.Customer)
	f.annUser = f.ta.Principal(t, f.ann["Authorization"][len("Bearer "):])
	f.annID, f.annOrg = f.annUser.UserID, f.annUser.OrgID
	f.bobID = f.ta.Principal(t, f.bob["Authorization"][len("Bearer "):]).UserID
	f.b.set(f.annID, 100)
	f.b.set(f.bobID, 200)
	f.clock.Advance(2 * time.Second) // past the settle time of the sign-in events
	return f
}

// balance loads the dashboard with headers and returns the balance widget.
func (f *cacheFixture) balance(t *testing.T, headers map[string]string) balanceData {
	t.Helper()
	b := getBoard(t, f.ta, headers)
	for _, w := range b.Widgets {
		if w.ID == "bank.balance" {
			if w.Error != "" {
				return balanceData{Value: -1}
			}
			m := w.Data.(map[string]any)
			return balanceData{User: uint(m["user"].(float64)), Email: m["email"].(string), Value: int(m["value"].(float64))}
		}
	}
	t.Fatalf("no balance widget in %v", b.ids())
	return balanceData{}
}

func TestCacheHitReturnsTheSameDataUntilTheTTL(t *testing.T) {
	f := newCacheFixture(t, 5*time.Second)
	first := f.balance(t, f.ann)
	if first.Value != 100 || first.User != f.annID {
		t.Fatalf("first load: %+v", first)
	}
	f.b.set(f.annID, 150)                    // changed behind the dashboard's back: no event, no request
	f.clock.Advance(3500 * time.Millisecond) // before the renewal time (4 s)
	if again := f.balance(t, f.ann); again != first || f.b.callsOf(f.annID) != 1 {
		t.Fatalf("within the TTL: %+v after %d calls, want the cached %+v from 1", again, f.b.callsOf(f.annID), first)
	}
	f.clock.Advance(2 * time.Second) // 5.5 s: expired
	if got := f.balance(t, f.ann); got.Value != 150 || f.b.callsOf(f.annID) != 2 {
		t.Fatalf("after the TTL: %+v after %d calls", got, f.b.callsOf(f.annID))
	}
}

func TestNoCacheWidgetIsComputedEveryTime(t *testing.T) {
	f := newCacheFixture(t, 5*time.Second)
	var seen []any
	for range 3 {
		for _, w := range getBoard(t, f.ta, f.ann).Widgets {
			if w.ID == "bank.live" {
				seen = append(seen, w.Data)
			}
		}
	}
	if fmt.Sprint(seen) != "[1 2 3]" {
		t.Fatalf("live widget: %v", seen)
	}
}

func TestTTLZeroTurnsTheCacheOff(t *testing.T) {
	f := newCacheFixture(t, 0)
	for i := range 3 {
		f.b.set(f.annID, 100+i)
		if got := f.balance(t, f.ann); got.Value != 100+i {
			t.Fatalf("load %d: %+v", i, got)
		}
	}
	if n := f.b.callsOf(f.annID); n != 3 {
		t.Fatalf("%d computations for 3 loads", n)
	}
}

func TestEventAboutAPersonDropsTheirCacheOnly(t *testing.T) {
	f := newCacheFixture(t, 5*time.Second)
	f.balance(t, f.ann)
	f.balance(t, f.bob)
	f.b.set(f.annID, 111)
	f.b.set(f.bobID, 222)
	// An event about Bob (as subject) leaves Ann's dashboard cached.
	if err := f.ta.App.Events.Publish(context.Background(), events.Event{Name: "bank.deposited", OrgID: f.annOrg, SubjectID: f.bobID}); err != nil {
		t.Fatal(err)
	}
	if got := f.balance(t, f.ann); got.Value != 100 {
		t.Fatalf("Ann after an event about Bob: %+v, want her cached 100", got)
	}
	if got := f.balance(t, f.bob); got.Value != 222 {
		t.Fatalf("Bob after an event about him: %+v, want 222 at once", got)
	}
	// An event Ann caused (as actor) drops hers.
	if err := f.ta.App.Events.Publish(context.Background(), events.Event{Name: "bank.transferred", OrgID: f.annOrg, ActorID: f.annID, SubjectID: f.bobID}); err != nil {
		t.Fatal(err)
	}
	if got := f.balance(t, f.ann); got.Value != 111 {
		t.Fatalf("Ann after an event she caused: %+v, want 111 at once", got)
	}
	// The same user ID in another organisation is another person.
	f.balance(t, f.ann)
	f.clock.Advance(2 * time.Second)
	f.balance(t, f.ann) // cached again
	f.b.set(f.annID, 112)
	if err := f.ta.App.Events.Publish(context.Background(), events.Event{Name: "x.y", OrgID: f.annOrg + 1000, SubjectID: f.annID}); err != nil {
		t.Fatal(err)
	}
	if got := f.balance(t, f.ann); got.Value != 111 {
		t.Fatalf("Ann after an event in another organisation: %+v, want her cached 111", got)
	}
}

func TestOwnWriteRequestDropsTheCacheWithoutAnEvent(t *testing.T) {
	f := newCacheFixture(t, 5*time.Second)
	if got := f.balance(t, f.ann); got.Value != 100 {
		t.Fatalf("first: %+v", got)
	}
	f.ta.ResetEvents()
	if r := f.ta.Do(t, "POST", "/api/v1/bank/deposit", nil, f.ann); r.Status/100 != 2 {
		t.Fatalf("deposit: %d %s", r.Status, r.Body)
	}
	if evs := f.ta.Events(); len(evs) != 0 {
		t.Fatalf("the deposit published %v; this test needs a write without events", evs)
	}
	if got := f.balance(t, f.ann); got.Value != 101 {
		t.Fatalf("after her own deposit: %+v, want 101 at once", got)
	}
}

func TestCustomersNeverShareCachedWidgets(t *testing.T) {
	f := newCacheFixture(t, 5*time.Second)
	// Many concurrent loads of both people, cold and warm.
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := range 40 {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			h, id, email, want := f.ann, f.annID, "ann@acme.example", 100
			if i%2 == 1 {
				h, id, email, want = f.bob, f.bobID, "bob@acme.example", 200
			}
			r := f.ta.Do(t, "GET", "/api/v1/dashboard", nil, h)
			var b boardJSON
			r.JSON(t, &b)
			for _, w := range b.Widgets {
				if w.ID != "bank.balance" {
					continue
				}
				m, _ := w.Data.(map[string]any)
				if m == nil || uint(m["user"].(float64)) != id || m["email"] != email || int(m["value"].(float64)) != want {
					errs <- fmt.Sprintf("%s got %v", email, w.Data)
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// Concurrent first loads of one person's widget compute it once.
func TestConcurrentFirstLoadsComputeOnce(t *testing.T) {
	f := newCacheFixture(t, 5*time.Second)
	release := make(chan struct{})
	entered := make(chan struct{}, 100)
	var calls int
	var mu sync.Mutex
	s := dashboard.New(dashboard.Options{Store: f.ta.Store, Config: f.ta.Config, Now: f.clock.Now})
	s.AddCoreWidget(dashboard.Widget{ID: "slow", Title: "Slow", Template: "x", Data: func(context.Context, *accounts.Principal) (any, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		entered <- struct{}{}
		<-release
		return "done", nil
	}})
	if err := s.Seal(func(string) bool { return true }, func(string) bool { return true }); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	out := make(chan any, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := s.Board(context.Background(), f.annUser, "r")
			if err != nil || len(b.Cards) != 1 || b.Cards[0].Failed {
				out <- fmt.Sprintf("board: %v %+v", err, b)
				return
			}
			out <- b.Cards[0].Data
		}()
	}
	<-entered
	time.Sleep(100 * time.Millisecond) // let the others join the flight
	close(release)
	wg.Wait()
	close(out)
	for d := range out {
		if d != "done" {
			t.Error(d)
		}
	}
	if calls != 1 {
		t.Fatalf("%d computations for 20 concurrent first loads", calls)
	}
}

func TestFailedWidgetIsNotCached(t *testing.T) {
	f := newCacheFixture(t, 5*time.Second)
	f.b.failing(f.annID, true)
	if got := f.balance(t, f.ann); got.Value != -1 {
		t.Fatalf("failing widget: %+v", got)
	}
	f.b.failing(f.annID, false)
	if got := f.balance(t, f.ann); got.Value != 100 {
		t.Fatalf("after recovery: %+v, want 100 at once", got)
	}
}

func TestLayoutChangeShowsAtOnce(t *testing.T) {
	f := newCacheFixture(t, 5*time.Second)
	if ids := getBoard(t, f.ta, f.ann).ids(); len(ids) < 3 || ids[0] != "core.account" {
		t.Fatalf("default order: %v", ids)
	}
	r := f.ta.Do(t, "PUT", "/api/v1/dashboard/layout", map[string]any{"order": []string{"bank.balance"}, "hidden": []string{"bank.live"}}, f.ann)
	if r.Status != 200 {
		t.Fatalf("PUT layout: %d %s", r.Status, r.Body)
	}
	b := getBoard(t, f.ta, f.ann)
	if ids := b.ids(); ids[0] != "bank.balance" || fmt.Sprint(b.hidden()) != "[bank.live]" {
		t.Fatalf("after PUT: %v hidden %v", ids, b.hidden())
	}
	// The page's form, as a browser posts it.
	br := f.ta.Browser()
	br.SignIn(t, "acme", "ann@acme.example")
	f.clock.Advance(2 * time.Second)
	br.Get(t, "/") // cached again
	res := br.Post(t, "/dashboard/layout", url.Values{"widget": {"bank.live"}, "action": {"show"}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("layout form: %d %s", res.Status, res.Body)
	}
	if b := getBoard(t, f.ta, f.ann); len(b.hidden()) != 0 {
		t.Fatalf("after showing it again: hidden %v", b.hidden())
	}
	if r := f.ta.Do(t, "DELETE", "/api/v1/dashboard/layout", nil, f.ann); r.Status != 204 {
		t.Fatalf("DELETE layout: %d", r.Status)
	}
	if ids := getBoard(t, f.ta, f.ann).ids(); ids[0] != "core.account" {
		t.Fatalf("after reset: %v", ids)
	}
}

// A layout changed through the Go API (a module or a job, not an HTTP
// write that the kernel's after-write hook covers) shows on the next load.
func TestLayoutChangeByTheGoAPIShowsAtOnce(t *testing.T) {
	f := newCacheFixture(t, 5*time.Second)
	ctx := context.Background()
	first := func() string {
		t.Helper()
		b, err := f.ta.Dashboard.Board(ctx, f.annUser, "test")
		if err != nil || len(b.Cards) == 0 {
			t.Fatalf("board: %v", err)
		}
		return b.Cards[0].ID
	}
	if id := first(); id != "core.account" {
		t.Fatalf("default order starts with %s", id)
	}
	first() // now cached
	if _, err := f.ta.Dashboard.SetLayout(ctx, f.annUser, []string{"bank.balance"}, nil); err != nil {
		t.Fatal(err)
	}
	if id := first(); id != "bank.balance" {
		t.Fatalf("after SetLayout the board starts with %s", id)
	}
	if err := f.ta.Dashboard.ResetLayout(ctx, f.annUser); err != nil {
		t.Fatal(err)
	}
	if id := first(); id != "core.account" {
		t.Fatalf("after ResetLayout the board starts with %s", id)
	}
}

// EncodeJSON writes what encoding/json would write for the same cards:
// data as computed or as cached, failed cards with their message, hidden
// cards, escaping included.
func TestEncodeJSONMatchesEncodingJSON(t *testing.T) {
	f := newCacheFixture(t, 5*time.Second)
	s := dashboard.New(dashboard.Options{Store: f.ta.Store, Config: f.ta.Config, Now: f.clock.Now})
	s.AddCoreWidget(dashboard.Widget{ID: "text", Title: "Text <&>", Order: 1, Template: "x", Data: static(map[string]any{"html": "<b>\"A & B\"</b>\u2028", "n": 1.5})})
	s.AddCoreWidget(dashboard.Widget{ID: "broken", Title: "Broken", Order: 2, Template: "x", Data: func(context.Context, *accounts.Principal) (any, error) {
		return nil, errors.New("down")
	}})
	s.AddCoreWidget(dashboard.Widget{ID: "chan", Title: "Does not marshal", Order: 3, Template: "x", Data: static(make(chan int))})
	s.AddCoreWidget(dashboard.Widget{ID: "gone", Title: "Hidden", Order: 4, Template: "x", Data: static(1)})
	if err := s.Seal(func(string) bool { return true }, func(string) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetLayout(context.Background(), f.annUser, nil, []string{"core.gone"}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Second)
	for _, pass := range []string{"computed", "cached"} {
		b, err := s.Board(context.Background(), f.annUser, "req-<1>")
		if err != nil {
			t.Fatal(err)
		}
		got := s.EncodeJSON(b, "it", "req-<1>")
		b2, _ := s.Board(context.Background(), f.annUser, "req-<1>")
		var v dashboard.DashboardView
		v.Widgets, v.Hidden = s.JSON(b2, "it", "req-<1>")
		v.RequestID = "req-<1>"
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("%s:\n got %s\nwant %s", pass, got, want)
		}
		if !strings.Contains(string(got), `"error"`) || !strings.Contains(string(got), `\u003cb\u003e`) || !strings.Contains(string(got), `"hidden":[{"id":"core.gone"`) {
			t.Fatalf("%s: %s", pass, got)
		}
	}
}

// The dashboard's answer is written pre-encoded; the OpenAPI description
// still documents its shape.
func TestDashboardResponseIsDocumented(t *testing.T) {
	ta := portaltest.New(t, nil)
	res := ta.Do(t, "GET", "/api/openapi.json", nil, nil)
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Content map[string]struct {
					Schema struct {
						Ref string `json:"$ref"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	res.JSON(t, &doc)
	ref := doc.Paths["/api/v1/dashboard"]["get"].Responses["200"].Content["application/json"].Schema.Ref
	name := ref[strings.LastIndex(ref, "/")+1:]
	props := doc.Components.Schemas[name].Properties
	if name == "" || props["widgets"] == nil || props["hidden"] == nil || props["request_id"] == nil {
		t.Fatalf("GET /api/v1/dashboard 200 schema %q: %v", ref, props)
	}
	b := getBoard(t, ta, ta.As(t, "acme", "ann@acme.example", accounts.Customer))
	if len(b.Widgets) == 0 || b.RequestID == "" {
		t.Fatalf("board %+v", b)
	}
	if r := ta.Do(t, "GET", "/api/v1/dashboard", nil, ta.As(t, "acme", "ann@acme.example", accounts.Customer)); r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("content type %q", r.Header.Get("Content-Type"))
	}
}

// A widget's MaxAge shortens its own time in the cache; dashboard.cache_people
// bounds the people cached, least recently used out first.
func TestMaxAgeAndThePeopleBound(t *testing.T) {
	b := newBalances()
	clock := schedule.NewSimClock(time.Now())
	ta := portaltest.New(t, nil, portaltest.WithConfig(func(c *config.Config) { c.Dashboard.CacheTTL, c.Dashboard.CachePeople = 5*time.Second, 1 }))
	ann := ta.User(t, "acme", "ann@acme.example", accounts.Customer)
	ta.User(t, "acme", "bob@acme.example", accounts.Customer)
	pa := ta.Principal(t, ta.Login(t, "acme", "ann@acme.example"))
	pb := ta.Principal(t, ta.Login(t, "acme", "bob@acme.example"))
	s := dashboard.New(dashboard.Options{Store: ta.Store, Config: ta.Config, Now: clock.Now})
	value := func(p *accounts.Principal) (any, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.calls[p.UserID]++
		return b.value[p.UserID], nil
	}
	s.AddCoreWidget(dashboard.Widget{ID: "slow", Title: "Default age", Order: 1, Template: "x", Data: func(_ context.Context, p *accounts.Principal) (any, error) { return value(p) }})
	s.AddCoreWidget(dashboard.Widget{ID: "quick", Title: "One second", Order: 2, Template: "x", MaxAge: time.Second,
		Data: func(_ context.Context, p *accounts.Principal) (any, error) { return value(p) }})
	if err := s.Seal(func(string) bool { return true }, func(string) bool { return true }); err != nil {
		t.Fatal(err)
	}
	load := func(p *accounts.Principal) string {
		t.Helper()
		bd, err := s.Board(context.Background(), p, "r")
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(bd.Cards[0].Data, " ", bd.Cards[1].Data)
	}
	b.set(ann.ID, 1)
	if got := load(pa); got != "1 1" {
		t.Fatalf("first: %s", got)
	}
	b.set(ann.ID, 2)
	clock.Advance(1500 * time.Millisecond)
	if got := load(pa); got != "1 2" {
		t.Fatalf("after 1.5 s: %s, want the default-age widget cached and the one-second one fresh", got)
	}
	// Bob takes the only place; Ann's entries leave.
	load(pb)
	b.set(ann.ID, 3)
	if got := load(pa); got != "3 3" {
		t.Fatalf("after Bob took the only place: %s, want Ann's computed afresh", got)
	}
}

// A cached widget read in the last fifth of its life is computed again in
// the background while the current value is served, so a dashboard read
// all the time never waits for it to expire.
func TestCachedWidgetIsRenewedBeforeItExpires(t *testing.T) {
	f := newCacheFixture(t, 5*time.Second)
	if got := f.balance(t, f.ann); got.Value != 100 {
		t.Fatalf("first: %+v", got)
	}
	f.b.set(f.annID, 120)
	f.clock.Advance(4500 * time.Millisecond)
	if got := f.balance(t, f.ann); got.Value != 100 {
		t.Fatalf("at 4.5 s: %+v, want the cached 100 while it is renewed", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for f.b.callsOf(f.annID) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no renewal in the background")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the renewal stores after computing
	f.clock.Advance(time.Second)      // 5.5 s: the first value has expired
	if got := f.balance(t, f.ann); got.Value != 120 || f.b.callsOf(f.annID) != 2 {
		t.Fatalf("after the renewal: %+v after %d computations, want 120 from the renewed entry", got, f.b.callsOf(f.annID))
	}
}
