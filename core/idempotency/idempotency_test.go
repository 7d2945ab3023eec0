package idempotency_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/idempotency"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// counter is a test operation that counts how often it acted. While gate
// is non-nil it waits for it before answering.
type counter struct {
	n    atomic.Int64
	mu   sync.Mutex
	gate chan struct{}
	fail atomic.Bool
}

type countIn struct {
	Body struct {
		Note string `json:"note" maxLength:"20"`
	}
}

type countOut struct {
	Location string `header:"Location"`
	Body     struct {
		N    int64  `json:"n"`
		Note string `json:"note"`
	}
}

func newApp(t *testing.T, opts ...portaltest.Option) (*portaltest.TestApp, *counter) {
	t.Helper()
	ta := portaltest.New(t, nil, opts...)
	c := &counter{}
	accounts.Register(ta.Web.API, huma.Operation{OperationID: "test-count", Method: http.MethodPost, Path: "/api/v1/test/count", DefaultStatus: 201},
		func(ctx context.Context, in *countIn) (*countOut, error) {
			c.mu.Lock()
			g := c.gate
			c.mu.Unlock()
			if g != nil {
				<-g
			}
			if c.fail.Load() {
				return nil, errs.Conflictf("not now")
			}
			out := &countOut{}
			out.Body.N = c.n.Add(1)
			out.Body.Note = in.Body.Note
			out.Location = fmt.Sprintf("/api/v1/test/count/%d", out.Body.N)
			return out, nil
		}, web.Idempotent())
	return ta, c
}

func withKey(h map[string]string, key string) map[string]string {
	out := map[string]string{web.IdempotencyKeyHeader: key}
	for k, v := range h {
		out[k] = v
	}
	return out
}

func TestRetryWithSameKeyReplaysTheFirstResponse(t *testing.T) {
	ta, c := newApp(t)
	ann := ta.As(t, "acme", "ann@acme.example", accounts.Customer)
	first := ta.Do(t, "POST", "/api/v1/test/count", map[string]any{"note": "a"}, withKey(ann, "k-1"))
	if first.Status != 201 || first.Header.Get(web.IdempotencyReplayedHeader) != "" {
		t.Fatalf("first: %d %v %s", first.Status, first.Header, first.Body)
	}
	again := ta.Do(t, "POST", "/api/v1/test/count", map[string]any{"note": "a"}, withKey(ann, "k-1"))
	if again.Status != 201 || again.Body != first.Body || again.Header.Get(web.IdempotencyReplayedHeader) != "true" ||
		again.Header.Get("Location") != "/api/v1/test/count/1" || !strings.HasPrefix(again.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("replay: %d %v %s (first %s)", again.Status, again.Header, again.Body, first.Body)
	}
	if again.Header.Get("X-Request-Id") == first.Header.Get("X-Request-Id") {
		t.Fatal("a replay repeated the first request's ID")
	}
	if got := c.n.Load(); got != 1 {
		t.Fatalf("acted %d times", got)
	}
	// Another key acts again; no key acts every time.
	ta.Do(t, "POST", "/api/v1/test/count", map[string]any{"note": "a"}, withKey(ann, "k-2"))
	ta.Do(t, "POST", "/api/v1/test/count", map[string]any{"note": "a"}, ann)
	ta.Do(t, "POST", "/api/v1/test/count", map[string]any{"note": "a"}, ann)
	if got := c.n.Load(); got != 4 {
		t.Fatalf("acted %d times, want 4", got)
	}
}

func TestSameKeyDifferentBodyIs422(t *testing.T) {
	ta, c := newApp(t)
	ann := ta.As(t, "acme", "ann@acme.example", accounts.Customer)
	ta.Do(t, "POST", "/api/v1/test/count", map[string]any{"note": "a"}, withKey(ann, "k"))
	res := ta.Do(t, "POST", "/api/v1/test/count", map[string]any{"note": "b"}, withKey(ann, "k"))
	if res.Status != 422 || !strings.Contains(res.Body, "header.Idempotency-Key") || !strings.Contains(res.Header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("different body: %d %s", res.Status, res.Body)
	}
	if c.n.Load() != 1 {
		t.Fatalf("acted %d times", c.n.Load())
	}
	for _, bad := range []string{strings.Repeat("x", 256), "has space", "tab\tkey"} {
		res := ta.Do(t, "POST", "/api/v1/test/count", map[string]any{"note": "a"}, withKey(ann, bad))
		if res.Status != 422 || !strings.Contains(res.Body, "Idempotency-Key") {
			t.Fatalf("key %q: %d %s", bad, res.Status, res.Body)
		}
	}
}

func TestKeysBelongToTheCaller(t *testing.T) {
	ta, c := newApp(t)
	ann := ta.As(t, "acme", "ann@acme.example", accounts.Customer)
	bob := ta.As(t, "acme", "bob@acme.example", accounts.Customer)
	eve := ta.As(t, "other", "eve@other.example", accounts.Customer)
	a := ta.Do(t, "POST", "/api/v1/test/count", map[string]any{"note": "x"}, withKey(ann, "shared"))
	b := ta.Do(t, "POST", "/api/v1/test/count", map[string]any{"note": "x"}, withKey(bob, "shared"))
	e := ta.Do(t, "POST", "/api/v1/test/count", map[string]any{"note": "x"}, withKey(eve, "shared"))
	if c.n.Load() != 3 || a.Body == b.Body || b.Body == e.Body || b.Header.Get(web.IdempotencyReplayedHeader) != "" {
		t.Fatalf("keys leaked between callers: %d acts; %s / %s / %s", c.n.Load(), a.Body, b.Body, e.Body)
	}
}

func TestFailedAnswerReleasesTheKey(t *testing.T) {
	ta, c := newApp(t)
	ann := ta.As(t, "acme", "ann@acme.example", accounts.Customer)
	c.fail.Store(true)
	if res := ta.Do(t, "POST", "/api/v1/test/count", map[string]any{"note": "a"}, withKey(ann, "k")); res.Status != 409 {
		t.Fatalf("failing: %d %s", res.Status, res.Body)
	}
	// A body that fails validation does not hold the key either.
	if res := ta.Do(t, "POST", "/api/v1/test/count", map[string]any{"note": strings.Repeat("n", 30)}, withKey(ann, "k")); res.Status != 422 {
		t.Fatalf("invalid: %d %s", res.Status, res.Body)
	}
	c.fail.Store(false)
	res := ta.Do(t, "POST", "/api/v1/test/count", map[string]any{"note": "a"}, withKey(ann, "k"))
	if res.Status != 201 || res.Header.Get(web.IdempotencyReplayedHeader) != "" || c.n.Load() != 1 {
		t.Fatalf("retry after a failure: %d %s (acts %d)", res.Status, res.Body, c.n.Load())
	}
}

// Two requests with one key at the same time: exactly one acts; the other
// waits for its answer and replays it.
func TestConcurrentRequestsWithOneKeyActOnce(t *testing.T) {
	ta, c := newApp(t)
	ann := ta.As(t, "acme", "ann@acme.example", accounts.Customer)
	gate := make(chan struct{})
	c.mu.Lock()
	c.gate = gate
	c.mu.Unlock()
	var wg sync.WaitGroup
	res := make([]*portaltest.Response, 2)
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = ta.Do(t, "POST", "/api/v1/test/count", map[string]any{"note": "a"}, withKey(ann, "together"))
		}()
	}
	time.Sleep(300 * time.Millisecond) // both are in: one acting, one waiting
	close(gate)
	wg.Wait()
	if c.n.Load() != 1 {
		t.Fatalf("acted %d times", c.n.Load())
	}
	replays := 0
	for _, r := range res {
		if r.Status != 201 || r.Body != res[0].Body {
			t.Fatalf("answers differ: %d %s / %s", r.Status, r.Body, res[0].Body)
		}
		if r.Header.Get(web.IdempotencyReplayedHeader) == "true" {
			replays++
		}
	}
	if replays != 1 {
		t.Fatalf("%d replays, want 1", replays)
	}
}

// A retry that outwaits api.idempotency_wait gets 409 with Retry-After.
func TestRetryWhileFirstIsStillRunningGets409(t *testing.T) {
	ta, c := newApp(t, portaltest.WithConfig(func(cfg *config.Config) { cfg.API.IdempotencyWait = 100 * time.Millisecond }))
	ann := ta.As(t, "acme", "ann@acme.example", accounts.Customer)
	gate := make(chan struct{})
	c.mu.Lock()
	c.gate = gate
	c.mu.Unlock()
	done := make(chan *portaltest.Response)
	go func() {
		done <- ta.Do(t, "POST", "/api/v1/test/count", map[string]any{"note": "a"}, withKey(ann, "slow"))
	}()
	time.Sleep(150 * time.Millisecond)
	res := ta.Do(t, "POST", "/api/v1/test/count", map[string]any{"note": "a"}, withKey(ann, "slow"))
	close(gate)
	first := <-done
	if res.Status != 409 || res.Header.Get("Retry-After") != "1" || !strings.Contains(res.Body, "still being answered") {
		t.Fatalf("concurrent retry: %d %v %s", res.Status, res.Header, res.Body)
	}
	if first.Status != 201 || c.n.Load() != 1 {
		t.Fatalf("first: %d, acts %d", first.Status, c.n.Load())
	}
}

func TestKeysExpireAndArePurged(t *testing.T) {
	ta, c := newApp(t)
	ann := ta.As(t, "acme", "ann@acme.example", accounts.Customer)
	if res := ta.Do(t, "POST", "/api/v1/test/count", map[string]any{"note": "a"}, withKey(ann, "old")); res.Status != 201 {
		t.Fatalf("first: %d %s", res.Status, res.Body)
	}
	var k idempotency.Key
	if err := store.AllOrgs(ta.Store.DB).Where("idem_key = ?", "old").Take(&k).Error; err != nil {
		t.Fatal(err)
	}
	if ttl := k.ExpiresAt.Sub(k.CreatedAt); ttl != ta.Config.API.IdempotencyTTL || ttl != 24*time.Hour {
		t.Fatalf("key kept for %v, want the default 24h", ttl)
	}
	if strings.Contains(string(k.Sealed), `"n":1`) {
		t.Fatal("the stored response is readable in the database")
	}
	// Once expired, the key is free: the same request acts again.
	store.AllOrgs(ta.Store.DB).Model(&idempotency.Key{}).Where("id = ?", k.ID).Update("expires_at", time.Now().Add(-time.Minute))
	res := ta.Do(t, "POST", "/api/v1/test/count", map[string]any{"note": "a"}, withKey(ann, "old"))
	if res.Status != 201 || res.Header.Get(web.IdempotencyReplayedHeader) != "" || c.n.Load() != 2 {
		t.Fatalf("after expiry: %d %s (acts %d)", res.Status, res.Body, c.n.Load())
	}
	// The purge job deletes what has expired and nothing else.
	ta.Do(t, "POST", "/api/v1/test/count", map[string]any{"note": "a"}, withKey(ann, "fresh"))
	later := time.Now().Add(ta.Config.API.IdempotencyTTL - time.Hour)
	svc, err := idempotency.New(idempotency.Options{Store: ta.Store, Config: ta.Config, Now: func() time.Time { return later }})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := svc.Purge(context.Background()); err != nil || n != 0 {
		t.Fatalf("purge before expiry: %d %v", n, err)
	}
	later = later.Add(2 * time.Hour)
	if n, err := svc.Purge(context.Background()); err != nil || n != 2 {
		t.Fatalf("purge after expiry: %d %v", n, err)
	}
}
