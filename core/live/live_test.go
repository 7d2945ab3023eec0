package live_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/live"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/portaltest"
)

var markerRE = regexp.MustCompile(`x-[a-z]+-\d+-\d+`)

// received is what one test client saw over all its connections.
type received struct {
	ids     []uint64
	markers []string
	resets  int
	conns   int
}

// follow reads p's stream until the fence marker arrives, cutting the
// connection at random and resuming with Last-Event-ID, on a random one of
// bases (the instances), as a browser behind a load balancer does.
func follow(rng *rand.Rand, bases []string, p *person, fence, from string) (*received, error) {
	r := &received{}
	last := from
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		s, err := dial(bases[rng.IntN(len(bases))], p, last)
		if err != nil {
			var se *statusError
			if errors.As(err, &se) && se.status == 429 {
				time.Sleep(10 * time.Millisecond) // the cut stream is still leaving
				continue
			}
			return r, err
		}
		r.conns++
		cutAfter := 1 + rng.IntN(40)
		n := 0
	read:
		for {
			select {
			case ev, ok := <-s.events:
				if !ok {
					break read
				}
				switch ev.name {
				case ":", "retry:":
					continue
				case live.TypeReset:
					r.resets++
				}
				if ev.id != "" {
					last = ev.id
				}
				if ev.name == live.TypeReady || ev.name == live.TypeReset {
					continue
				}
				id, err := strconv.ParseUint(ev.id, 10, 64)
				if err != nil {
					s.close()
					return r, fmt.Errorf("event %s without a position: %q", ev.name, ev.id)
				}
				r.ids = append(r.ids, id)
				m := markerRE.FindString(ev.data)
				r.markers = append(r.markers, m)
				if m == fence {
					s.close()
					return r, nil
				}
				if n++; n == cutAfter {
					break read
				}
			case <-time.After(time.Until(deadline)):
				break read
			}
		}
		s.close()
	}
	return r, fmt.Errorf("no fence after %d connections, %d events", r.conns, len(r.ids))
}

// Many senders notify one customer at once — notifications (one and many
// per transaction) and module events, with random pauses inside their
// transactions and some rolled back — while four clients of the customer
// read, each cut at random and resuming with Last-Event-ID (on PostgreSQL,
// on either of two instances). Every client gets every committed event
// exactly once, in one order of consecutive positions, and nothing rolled
// back.
func TestNothingSkipped(t *testing.T) {
	ta, m, base := newApp(t, nil)
	bases := []string{base}
	if portaltest.Dialect() == "postgres" {
		// A second instance on the same database: events committed through
		// one reach streams held by the other.
		ta2 := portaltest.NewWithConfig(t, ta.Config, []module.Module{&parcels{}})
		if err := ta2.Live.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ta2.Live.Stop(context.Background()) })
		bases = append(bases, serve(t, ta2))
	}
	c := newPerson(t, ta, "acme", "cora@example.com", accounts.Customer)
	d := newPerson(t, ta, "acme", "dario@example.com", accounts.Customer)
	ctx := context.Background()

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	const clients, senders, ops = 4, 8, 30
	results := make([]*received, clients)
	errc := make(chan error, clients)
	var wg sync.WaitGroup
	// Each client's page was rendered at the customer's current position.
	p0, err := ta.Live.Position(ctx, c.OrgID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	from := strconv.FormatUint(p0, 10)
	fence := "x-fence-0-0"
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			r, err := follow(rng, bases, c, fence, from)
			results[i] = r
			if err != nil {
				errc <- fmt.Errorf("client %d: %w", i, err)
			}
		}(i)
	}

	var mu sync.Mutex
	committed := map[string]bool{}
	var swg sync.WaitGroup
	for s := 0; s < senders; s++ {
		swg.Add(1)
		go func(s int) {
			defer swg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(100+s)))
			for op := 0; op < ops; op++ {
				marker := fmt.Sprintf("x-s-%d-%d", s, op)
				kind := rng.IntN(10)
				rollback := kind == 9
				err := ta.Store.Tx(ctx, func(tx *gorm.DB) error {
					var err error
					switch {
					case kind < 4:
						_, err = ta.Notify.Send(ctx, tx, notify.Notification{OrgID: c.OrgID, UserID: c.ID, Kind: notify.KindTest,
							Data: map[string]any{"message": marker}})
					case kind < 6:
						_, err = ta.Notify.SendMany(ctx, tx, []notify.Notification{
							{OrgID: d.OrgID, UserID: d.ID, Kind: notify.KindTest, Data: map[string]any{"message": marker + "d"}},
							{OrgID: c.OrgID, UserID: c.ID, Kind: notify.KindTest, Data: map[string]any{"message": marker}},
						})
					default:
						err = m.Delivered(ctx, tx, c.OrgID, c.ID, uint(s*1000+op))
						if err == nil {
							err = m.live.Publish(ctx, tx, live.Event{OrgID: c.OrgID, Name: "note", To: []uint{c.ID}, Data: map[string]any{"m": marker}})
						}
					}
					if err != nil {
						return err
					}
					time.Sleep(time.Duration(rng.IntN(2000)) * time.Microsecond)
					if rollback {
						return errRollback
					}
					return nil
				})
				if rollback && errors.Is(err, errRollback) {
					continue
				}
				if err != nil {
					t.Errorf("sender %d: %v", s, err)
					return
				}
				mu.Lock()
				committed[marker] = true
				mu.Unlock()
				time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
			}
		}(s)
	}
	swg.Wait()
	if err := m.live.Publish(ctx, nil, live.Event{OrgID: c.OrgID, Name: "fence", To: []uint{c.ID}, Data: map[string]any{"m": fence}}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	last, _ := ta.Live.Position(ctx, c.OrgID, c.ID)
	for i, r := range results {
		// Consecutive positions from the first after the start to the fence:
		// nothing missed, nothing twice, one order.
		for j, id := range r.ids {
			if id != p0+uint64(j)+1 {
				t.Fatalf("client %d: event %d has position %d, want %d (%d resets)", i, j, id, p0+uint64(j)+1, r.resets)
			}
		}
		if r.ids[len(r.ids)-1] != last || r.resets != 0 {
			t.Fatalf("client %d: ended at %d of %d, %d resets", i, r.ids[len(r.ids)-1], last, r.resets)
		}
		seen := map[string]int{}
		for _, mk := range r.markers {
			seen[mk]++
		}
		for mk := range committed {
			// Committed module ops send two events (delivered, note): the note
			// carries the marker.
			if seen[mk] != 1 {
				t.Errorf("client %d: %s seen %d times", i, mk, seen[mk])
			}
		}
		for mk, n := range seen {
			if mk != "" && mk != fence && !committed[mk] {
				t.Errorf("client %d: got %s (%d times), which never committed", i, mk, n)
			}
		}
		t.Logf("client %d: %d events over %d connections", i, len(r.ids), r.conns)
	}
	t.Logf("%d committed operations", len(committed))
}

var errRollback = errors.New("rolled back on purpose")

// A module's event about an object reaches the people who may read the
// object — its owner, the staff assigned to them, the organisation's
// admins — and never an unassigned staff member, another customer or
// anyone of another organisation; events naming people reach only those of
// the organisation.
func TestObjectEventsReachOnlyThoseWhoMaySee(t *testing.T) {
	ta, m, base := newApp(t, nil)
	ctx := context.Background()
	owner := newPerson(t, ta, "acme", "owner@example.com", accounts.Customer)
	other := newPerson(t, ta, "acme", "other@example.com", accounts.Customer)
	advisor := newPerson(t, ta, "acme", "advisor@example.com", accounts.Staff)
	stranger := newPerson(t, ta, "acme", "stranger@example.com", accounts.Staff)
	admin := newPerson(t, ta, "acme", "admin@example.com", accounts.Admin)
	foreign := newPerson(t, ta, "globex", "boss@example.com", accounts.Admin)
	adminP := ta.Principal(t, admin.token)
	if err := ta.Accounts.Assign(ctx, adminP, advisor.ID, owner.ID, "advisor"); err != nil {
		t.Fatal(err)
	}
	people := []*person{owner, other, advisor, stranger, admin, foreign}
	streams := make([]*stream, len(people))
	for i, p := range people {
		streams[i] = open(t, base, p, "")
		defer streams[i].close()
		streams[i].next(t, live.TypeReady)
	}

	if err := ta.Store.Tx(ctx, func(tx *gorm.DB) error { return m.Delivered(ctx, tx, owner.OrgID, owner.ID, 7) }); err != nil {
		t.Fatal(err)
	}
	// Named people outside the organisation are skipped.
	if err := m.live.Publish(ctx, nil, live.Event{OrgID: owner.OrgID, Name: "named", To: []uint{foreign.ID, other.ID}}); err != nil {
		t.Fatal(err)
	}
	for _, org := range []uint{owner.OrgID, foreign.OrgID} {
		var to []uint
		for _, p := range people {
			if p.OrgID == org {
				to = append(to, p.ID)
			}
		}
		if err := m.live.Publish(ctx, nil, live.Event{OrgID: org, Name: "fence", To: to}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[*person][]string{
		owner: {"parcels.delivered"}, advisor: {"parcels.delivered"}, admin: {"parcels.delivered"},
		other: {"parcels.named"}, stranger: nil, foreign: nil,
	}
	for i, p := range people {
		var got []string
		for {
			ev := streams[i].next(t, live.TypeModule)
			var me live.ModuleEvent
			if err := json.Unmarshal([]byte(ev.data), &me); err != nil {
				t.Fatal(err)
			}
			if me.Name == "parcels.fence" {
				break
			}
			got = append(got, me.Name)
			if me.Name == "parcels.delivered" && (me.Subject != "parcel:7" || string(me.Data) != `{"parcel":7,"status":"delivered"}`) {
				t.Errorf("%s: event %+v", p.Email, me)
			}
		}
		if !slices.Equal(got, want[p]) {
			t.Errorf("%s got %v, want %v", p.Email, got, want[p])
		}
	}

	// Bad events are refused naming the field, and nothing is written.
	before, _ := ta.Live.Position(ctx, owner.OrgID, owner.ID)
	for _, c := range []struct {
		e     live.Event
		field string
	}{
		{live.Event{Name: "x", Owner: owner.ID}, "org_id"},
		{live.Event{OrgID: owner.OrgID, Name: "other.x", Owner: owner.ID}, "name"},
		{live.Event{OrgID: owner.OrgID, Name: "parcels.", Owner: owner.ID}, "name"},
		{live.Event{OrgID: owner.OrgID, Name: "x"}, "owner"},
		{live.Event{OrgID: owner.OrgID, Name: "x", Owner: owner.ID, Data: string(make([]byte, live.MaxDataBytes))}, "data"},
		{live.Event{OrgID: owner.OrgID, Name: "x", Owner: owner.ID, Data: func() {}}, "data"},
	} {
		err := m.live.Publish(ctx, nil, c.e)
		var e *errs.Error
		if !errors.As(err, &e) || e.Kind != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != c.field {
			t.Errorf("Publish(%+v) = %v, want an invalid %s", c.e.Name, err, c.field)
		}
	}
	if after, _ := ta.Live.Position(ctx, owner.OrgID, owner.ID); after != before {
		t.Errorf("refused events moved the position from %d to %d", before, after)
	}
}

// Audience is CanRead turned around: for every person of the organisation
// and every owner, a person is in the owner's audience exactly when the
// policy layer lets them read the owner's objects.
func TestAudienceIsCanRead(t *testing.T) {
	ta, _, _ := newApp(t, nil)
	ctx := context.Background()
	people := []*person{
		newPerson(t, ta, "acme", "c1@example.com", accounts.Customer),
		newPerson(t, ta, "acme", "c2@example.com", accounts.Customer),
		newPerson(t, ta, "acme", "s1@example.com", accounts.Staff),
		newPerson(t, ta, "acme", "s2@example.com", accounts.Staff),
		newPerson(t, ta, "acme", "a1@example.com", accounts.Admin),
		newPerson(t, ta, "globex", "g1@example.com", accounts.Admin),
	}
	admin := ta.Principal(t, people[4].token)
	if err := ta.Accounts.Assign(ctx, admin, people[2].ID, people[0].ID, "advisor"); err != nil {
		t.Fatal(err)
	}
	if err := ta.Accounts.Assign(ctx, admin, people[3].ID, people[1].ID, "advisor"); err != nil {
		t.Fatal(err)
	}
	for _, owner := range people[:4] {
		aud, err := ta.Accounts.Audience(ctx, ta.Store.DB, owner.OrgID, owner.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range people {
			may := ta.Accounts.CanRead(ctx, ta.Principal(t, p.token), owner.OrgID, owner.ID) == nil
			if slices.Contains(aud, p.ID) != may {
				t.Errorf("owner %s, reader %s: in audience %v, CanRead %v", owner.Email, p.Email, slices.Contains(aud, p.ID), may)
			}
		}
	}
}

// A stream outlives the server's write timeout, sends a heartbeat comment
// and the retry hint, carries the headers proxies need, ends after its
// maximum lifetime (with jitter) and resumes without loss.
func TestStreamStaysOpen(t *testing.T) {
	ta, m, base := newApp(t, func(c *config.Config) {
		c.HTTP.WriteTimeout = 300 * time.Millisecond
		c.Live.Heartbeat = 100 * time.Millisecond
		c.Live.MaxLifetime = 2 * time.Second
	})
	ctx := context.Background()
	p := newPerson(t, ta, "acme", "pia@example.com", accounts.Customer)
	opened := time.Now()
	s := open(t, base, p, "")
	defer s.close()
	if h := s.res.Header; h.Get("Cache-Control") != "no-store" || h.Get("X-Accel-Buffering") != "no" || h.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("headers %v", h)
	}
	if ev := <-s.events; ev.name != "retry:" || ev.data != "500" {
		t.Fatalf("first line %+v, want the retry hint", ev)
	}
	s.next(t, live.TypeReady)
	pings := 0
	deadline := time.After(900 * time.Millisecond)
wait:
	for {
		select {
		case ev := <-s.events:
			if ev.name == ":" {
				pings++
			}
		case <-deadline:
			break wait
		}
	}
	if pings < 5 {
		t.Fatalf("%d heartbeats in 0.9 s at 100 ms", pings)
	}
	// Three write timeouts later, the stream still delivers.
	if err := m.live.Publish(ctx, nil, live.Event{OrgID: p.OrgID, Name: "late", To: []uint{p.ID}}); err != nil {
		t.Fatal(err)
	}
	ev := s.next(t, live.TypeModule)
	// It ends within its lifetime ±20 %; the client resumes from the last
	// event and misses nothing published meanwhile.
	for range s.events {
	}
	if life := time.Since(opened); life < 1500*time.Millisecond || life > 3500*time.Millisecond {
		t.Fatalf("stream lived %v, want about 2 s (±20 %%)", life)
	}
	if err := m.live.Publish(ctx, nil, live.Event{OrgID: p.OrgID, Name: "between", To: []uint{p.ID}}); err != nil {
		t.Fatal(err)
	}
	again := open(t, base, p, ev.id)
	defer again.close()
	if ev := again.next(t, live.TypeModule); !strings.Contains(ev.data, "parcels.between") {
		t.Fatalf("resumed with %s", ev.data)
	}
	again.next(t, live.TypeReady)
}

// A client that cannot be caught up — it missed more than live.max_replay,
// its events expired, or its position is not one of its own — gets a reset
// naming where the stream continues; an open stream that falls far behind
// reads on from the database and misses nothing.
func TestResetAndSlowStreams(t *testing.T) {
	ta, m, base := newApp(t, func(c *config.Config) { c.Live.MaxReplay = 5 })
	ctx := context.Background()
	p := newPerson(t, ta, "acme", "rita@example.com", accounts.Customer)
	publish := func(n int) {
		t.Helper()
		err := ta.Store.Tx(ctx, func(tx *gorm.DB) error {
			for i := 0; i < n; i++ {
				if err := m.live.Publish(ctx, tx, live.Event{OrgID: p.OrgID, Name: "tick", To: []uint{p.ID}, Data: i}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	publish(2)
	// A slow open stream: 600 events in one transaction (over the 256 a
	// stream keeps pending and the replay bound) all arrive, in order.
	s := open(t, base, p, "2")
	s.next(t, live.TypeReady)
	publish(600)
	for i := 0; i < 600; i++ {
		ev := s.next(t, live.TypeModule)
		if ev.id != strconv.Itoa(3+i) {
			t.Fatalf("event %d has id %s", i, ev.id)
		}
	}
	s.close()
	for _, c := range []struct{ last, why string }{
		{"596", "too many missed"}, // 6 missed, max_replay 5
		{"abc", "unknown position"},
		{"9999", "unknown position"},
	} {
		r := open(t, base, p, c.last)
		ev := r.next(t, live.TypeReset)
		if ev.id != "602" || !strings.Contains(ev.data, c.why) {
			t.Errorf("last %s: reset %+v", c.last, ev)
		}
		if ev := r.next(t, live.TypeReady); ev.id != "602" {
			t.Errorf("last %s: ready at %s", c.last, ev.id)
		}
		r.close()
	}
	// Five missed: replayed, no reset.
	r := open(t, base, p, "597")
	for i := 598; i <= 602; i++ {
		if ev := r.next(t, live.TypeModule); ev.id != strconv.Itoa(i) {
			t.Fatalf("replayed %s, want %d", ev.id, i)
		}
	}
	r.next(t, live.TypeReady)
	r.close()
	// Expired history: a reset, even within max_replay.
	if n, err := ta.Live.Prune(ctx, time.Now().Add(time.Second)); err != nil || n != 602 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	r = open(t, base, p, "600")
	if ev := r.next(t, live.TypeReset); !strings.Contains(ev.data, "history expired") {
		t.Fatalf("after expiry: %s", ev.data)
	}
	r.close()
}

// One person may hold live.max_streams_per_user streams on an instance; the
// next is refused with 429 and a problem naming the limit. Anonymous
// callers get 401; API tokens, which have no person, get 403.
func TestStreamLimits(t *testing.T) {
	ta, _, base := newApp(t, func(c *config.Config) { c.Live.MaxStreamsPerUser = 2 })
	p := newPerson(t, ta, "acme", "lia@example.com", accounts.Customer)
	a, b := open(t, base, p, ""), open(t, base, p, "")
	defer a.close()
	defer b.close()
	a.next(t, live.TypeReady)
	b.next(t, live.TypeReady)
	_, err := dial(base, p, "")
	var se *statusError
	if !errors.As(err, &se) || se.status != 429 || !strings.Contains(se.body, "too many live streams") {
		t.Fatalf("third stream: %v", err)
	}
	_, err = dial(base, &person{User: p.User, token: "nope"}, "")
	if !errors.As(err, &se) || se.status != 401 {
		t.Fatalf("anonymous: %v", err)
	}
}

// Many people reconnect at the same moment, each from another position
// (nothing missed, a few, exactly live.max_replay, one more than that, a
// position that is not theirs, no Last-Event-ID): the streams starting
// together share their reads, and each still gets exactly what it missed,
// in order, then `ready` with its own unread count — or a reset where it
// cannot be caught up. Twice, so the second round finds the first's reads
// done.
func TestManyReconnectAtOnce(t *testing.T) {
	ta, m, base := newApp(t, func(c *config.Config) { c.Live.MaxReplay = 6 })
	ctx := context.Background()
	const people = 60
	type plan struct {
		p       *person
		missed  int    // events published after the client's position
		last    string // the Last-Event-ID sent
		unread  int64
		outcome string // "replay", "reset", "fresh"
	}
	plans := make([]*plan, people)
	for i := range plans {
		p := newPerson(t, ta, "acme", fmt.Sprintf("storm%d@example.com", i), accounts.Customer)
		plans[i] = &plan{p: p, missed: i % 8, outcome: "replay"}
		// A few events before the position the client is at.
		for j := 0; j < 3; j++ {
			if err := m.live.Publish(ctx, nil, live.Event{OrgID: p.OrgID, Name: "before", To: []uint{p.ID}, Data: j}); err != nil {
				t.Fatal(err)
			}
		}
		plans[i].last = "3"
		switch {
		case i%8 == 7: // one more than max_replay
			plans[i].outcome = "reset"
		case i%10 == 9:
			plans[i].last, plans[i].outcome = "x9", "reset"
		case i%15 == 14:
			plans[i].last, plans[i].outcome = "", "fresh"
		}
		for j := 0; j < plans[i].missed; j++ {
			if err := m.live.Publish(ctx, nil, live.Event{OrgID: p.OrgID, Name: "missed", To: []uint{p.ID}, Data: fmt.Sprintf("m-%d-%d", i, j)}); err != nil {
				t.Fatal(err)
			}
		}
		// Someone's unread count: a few notifications, for every fourth.
		if i%4 == 0 {
			for j := 0; j <= i%3; j++ {
				if err := ta.Store.Tx(ctx, func(tx *gorm.DB) error {
					_, err := ta.Notify.Send(ctx, tx, notify.Notification{OrgID: p.OrgID, UserID: p.ID, Kind: notify.KindTest,
						Data: map[string]any{"message": "hello"}})
					return err
				}); err != nil {
					t.Fatal(err)
				}
				plans[i].unread++
			}
			if plans[i].outcome == "replay" {
				plans[i].missed += int(plans[i].unread) // each notification is a live event too
				if plans[i].missed > 6 {
					plans[i].outcome = "reset"
				}
			}
		}
	}
	for round := 0; round < 2; round++ {
		var wg sync.WaitGroup
		errc := make(chan error, people)
		start := make(chan struct{})
		for i, pl := range plans {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				s, err := dial(base, pl.p, pl.last)
				if err != nil {
					errc <- fmt.Errorf("person %d: %w", i, err)
					return
				}
				defer s.close()
				pos, _ := ta.Live.Position(ctx, pl.p.OrgID, pl.p.ID)
				want := pos
				var got []sseEvent
				timeout := time.After(20 * time.Second)
				for {
					select {
					case ev, ok := <-s.events:
						if !ok {
							errc <- fmt.Errorf("person %d: stream ended", i)
							return
						}
						if ev.name == ":" || ev.name == "retry:" {
							continue
						}
						if ev.name != live.TypeReady {
							got = append(got, ev)
							continue
						}
						if ev.id != strconv.FormatUint(want, 10) {
							errc <- fmt.Errorf("person %d: ready at %s, want %d", i, ev.id, want)
						}
						var r struct{ Unread int64 }
						if err := json.Unmarshal([]byte(ev.data), &r); err != nil || r.Unread != pl.unread {
							errc <- fmt.Errorf("person %d: ready %s, want unread %d", i, ev.data, pl.unread)
						}
						switch pl.outcome {
						case "fresh":
							if len(got) != 0 {
								errc <- fmt.Errorf("person %d (fresh): got %d events before ready", i, len(got))
							}
						case "reset":
							if len(got) != 1 || got[0].name != live.TypeReset || got[0].id != strconv.FormatUint(want, 10) {
								errc <- fmt.Errorf("person %d (reset): got %+v", i, got)
							}
						default:
							if len(got) != pl.missed {
								errc <- fmt.Errorf("person %d: replayed %d events, missed %d", i, len(got), pl.missed)
								return
							}
							for j, ev := range got {
								if ev.id != strconv.Itoa(4+j) {
									errc <- fmt.Errorf("person %d: replayed event %d has id %s, want %d", i, j, ev.id, 4+j)
								}
							}
						}
						return
					case <-timeout:
						errc <- fmt.Errorf("person %d: no ready (got %d events)", i, len(got))
						return
					}
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Errorf("round %d: %v", round, err)
		}
		if t.Failed() {
			return
		}
	}
}

// An event reaches an open stream exactly as a reconnecting client reads it
// back from the database, whether it travelled with its announcement (small
// data, PostgreSQL) or was read by the instance (data over the inline
// bound) — markup characters and non-ASCII text included.
func TestLiveDataEqualsReplay(t *testing.T) {
	ta, m, base := newApp(t, nil)
	ctx := context.Background()
	p := newPerson(t, ta, "acme", "ugo@example.com", accounts.Customer)
	s := open(t, base, p, "")
	defer s.close()
	from := s.next(t, live.TypeReady).id
	datas := []any{
		map[string]any{"html": "<b>a & b</b>", "it": "perché è così"},
		map[string]any{"big": strings.Repeat("ab<é", 700)}, // 7 KB of JSON: over the inline bound
		3,
	}
	for _, d := range datas {
		if err := m.live.Publish(ctx, nil, live.Event{OrgID: p.OrgID, Name: "data", To: []uint{p.ID}, Data: d}); err != nil {
			t.Fatal(err)
		}
	}
	var got []sseEvent
	for range datas {
		got = append(got, s.next(t, live.TypeModule))
	}
	r := open(t, base, p, from)
	defer r.close()
	for i := range datas {
		ev := r.next(t, live.TypeModule)
		if ev.id != got[i].id || ev.data != got[i].data {
			t.Errorf("event %d: live %s %.80q, replayed %s %.80q", i, got[i].id, got[i].data, ev.id, ev.data)
		}
		var me live.ModuleEvent
		if err := json.Unmarshal([]byte(ev.data), &me); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		want, _ := json.Marshal(datas[i])
		var a, b any
		_ = json.Unmarshal(want, &a)
		_ = json.Unmarshal(me.Data, &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("event %d: data %.80s, want %.80s", i, me.Data, want)
		}
	}
	r.next(t, live.TypeReady)
}

// Two deployments in one PostgreSQL database, a schema each (as the test
// suites run, and as a host may run several portals), hand each other no
// events: NOTIFY reaches every listener of the database, so each schema
// has its own channel. Their first organisation and person have the same
// IDs, which is what made a foreign event land on a stream here.
func TestSchemasDoNotShareEvents(t *testing.T) {
	if portaltest.Dialect() != "postgres" {
		t.Skip("SKIPPED on SQLite: NOTIFY channels are PostgreSQL's (this test runs in the PostgreSQL pass)")
	}
	ctx := context.Background()
	ta1, m1, _ := newApp(t, nil)
	ta2, m2, base2 := newApp(t, nil)
	p1 := newPerson(t, ta1, "acme", "ada@example.com", accounts.Customer)
	p2 := newPerson(t, ta2, "acme", "ada@example.com", accounts.Customer)
	if p1.ID != p2.ID || p1.OrgID != p2.OrgID {
		t.Fatalf("the two schemas gave different IDs (%d/%d, %d/%d): the test needs the same", p1.OrgID, p1.ID, p2.OrgID, p2.ID)
	}
	s := open(t, base2, p2, "")
	defer s.close()
	s.next(t, live.TypeReady)
	if err := m1.live.Publish(ctx, nil, live.Event{OrgID: p1.OrgID, Name: "foreign", To: []uint{p1.ID}}); err != nil {
		t.Fatal(err)
	}
	if err := m2.live.Publish(ctx, nil, live.Event{OrgID: p2.OrgID, Name: "mine", To: []uint{p2.ID}}); err != nil {
		t.Fatal(err)
	}
	if ev := s.next(t, live.TypeModule); !strings.Contains(ev.data, "parcels.mine") {
		t.Fatalf("the stream of the second schema got %s", ev.data)
	}
}
