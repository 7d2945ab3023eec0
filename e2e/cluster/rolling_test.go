package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// nextVersion is the version the rolling restart upgrades to.
const nextVersion = "cluster-next"

// buildNext builds e2e/cluster/nextversion: the portal plus one module
// with one pending migration, under a version of its own.
func (c *cluster) buildNext() string {
	c.t.Helper()
	bin := filepath.Join(c.dir, "portal-next")
	build := exec.Command("go", "build", "-ldflags", "-X github.com/portalkit/portalkit/core/app.Version="+nextVersion,
		"-o", bin, "./e2e/cluster/nextversion")
	build.Dir = "../.."
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		c.t.Fatalf("building the next version: %v\n%s", err, out)
	}
	return bin
}

// version is the version an instance reports in its OpenAPI document.
func version(t *testing.T, p *portal) string {
	t.Helper()
	var doc struct {
		Info struct {
			Version string `json:"version"`
		} `json:"info"`
	}
	do(t, http.MethodGet, p.url()+"/api/openapi.json", "", nil, http.StatusOK, &doc)
	return doc.Info.Version
}

// bothServing waits until the balancer answers from both instances.
func (c *cluster) bothServing() {
	c.t.Helper()
	seen := map[string]bool{}
	deadline := time.Now().Add(20 * time.Second)
	for len(seen) < 2 {
		if resp, err := http.Get(c.lbURL + "/healthz"); err == nil {
			if resp.StatusCode == http.StatusOK {
				seen[resp.Header.Get("X-Served-By")] = true
			}
			resp.Body.Close()
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the balancer serves only from %v", seen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// loadResult is one request of the rolling restart's steady load.
type loadResult struct {
	at    time.Time
	ok    bool
	by    string
	draft string // the draft key a write saved, when it was a write
}

// steadyLoad sends a bounded mix of reads (GET /me) and writes (a new
// draft each, its key prefix-N) through the balancer until stop is
// closed; the function it returns waits for the clients and gives every
// request's result.
func steadyLoad(c *cluster, token, prefix string, stop <-chan struct{}) func() []loadResult {
	var (
		mu      sync.Mutex
		results []loadResult
		wg      sync.WaitGroup
		seq     atomic.Int64
	)
	httpc := &http.Client{Timeout: 5 * time.Second}
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var req *http.Request
				var key string
				if i%3 == 2 {
					key = fmt.Sprintf("%s-%d", prefix, seq.Add(1))
					body, _ := json.Marshal(map[string]any{"data": map[string]string{"note": key}})
					req, _ = http.NewRequest(http.MethodPut, c.lbURL+"/api/v1/drafts/"+key, bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
				} else {
					req, _ = http.NewRequest(http.MethodGet, c.lbURL+"/api/v1/me", nil)
				}
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := httpc.Do(req)
				r := loadResult{at: time.Now(), ok: err == nil && resp.StatusCode == http.StatusOK}
				if err == nil {
					r.by = resp.Header.Get("X-Served-By")
					resp.Body.Close()
				}
				if r.ok {
					r.draft = key
				}
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
				time.Sleep(20 * time.Millisecond) // ~150-200 requests/s in all
			}
		}()
	}
	return func() []loadResult { wg.Wait(); return results }
}

// rollingRestart upgrades the two instances one at a time, under a steady
// load through the balancer, to a version with one pending migration. The
// new A migrates (under the migration lock) while the old B keeps serving
// on the expanded schema; then B is replaced and finds nothing to do.
func rollingRestart(t *testing.T, c *cluster) {
	a, b := c.portals["portal-a"], c.portals["portal-b"]
	select {
	case <-a.done: // the kill scenario left A down: bring it back, old version
		c.startPortal(a.name)
	default:
	}
	c.bothServing()
	old := version(t, a)
	if old == nextVersion || version(t, b) != old {
		t.Fatalf("before the upgrade A runs %q and B %q", old, version(t, b))
	}
	next := c.buildNext()
	cl, _ := login(t, c.lbURL, "customer@demo.example")

	stop := make(chan struct{})
	wait := steadyLoad(c, cl.token, "cluster.roll", stop)
	time.Sleep(2 * time.Second)
	type window struct{ from, to time.Time }
	var stopped []window // from SIGTERM to the new instance in the pool
	var aBack, bStop time.Time
	for _, p := range []*portal{a, b} {
		from := time.Now()
		if p == b {
			bStop = from
		}
		c.stop(p, syscall.SIGTERM) // graceful: in-flight requests finish
		c.bin = next
		c.startPortal(p.name)
		// Wait for the balancer to take the new instance back (rise 2,
		// inter 1s) before the next one goes: never both out at once.
		deadline := time.Now().Add(15 * time.Second)
		for {
			resp, err := http.Get(c.lbURL + "/healthz")
			if err == nil {
				by := resp.Header.Get("X-Served-By")
				resp.Body.Close()
				if by == p.name {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("the balancer did not take the upgraded %s back within 15 s", p.name)
			}
			time.Sleep(50 * time.Millisecond)
		}
		stopped = append(stopped, window{from, time.Now()})
		if p == a {
			// Both serve for a while: the old B on the schema the new A
			// has just expanded.
			aBack = time.Now()
			time.Sleep(3 * time.Second)
		}
	}
	time.Sleep(2 * time.Second)
	close(stop)
	results := wait()

	// Requests: a failure is allowed only while an instance is leaving,
	// before HAProxy's checks (inter 1s, fall 2) have taken it out.
	const settle = 3 * time.Second
	var failed, late, oldOnNewSchema int
	var acked []string
	for _, r := range results {
		if r.draft != "" {
			acked = append(acked, r.draft)
		}
		if r.ok && r.by == b.name && r.at.After(aBack) && r.at.Before(bStop) {
			oldOnNewSchema++
		}
		if r.ok {
			continue
		}
		failed++
		inWindow := false
		for _, w := range stopped {
			if !r.at.Before(w.from) && r.at.Before(w.from.Add(settle)) {
				inWindow = true
			}
		}
		if !inWindow {
			late++
		}
	}
	t.Logf("rolling restart: %d requests (%d writes acknowledged), %d failed, %d of them outside the %v after a SIGTERM; the old B served %d requests on the migrated schema",
		len(results), len(acked), failed, late, settle, oldOnNewSchema)
	if late > 0 {
		t.Errorf("%d requests failed outside the %v after an instance was stopped", late, settle)
	}
	if len(results) < 300 {
		t.Errorf("only %d requests in the rolling restart: the load was not steady", len(results))
	}
	if oldOnNewSchema == 0 {
		t.Errorf("the old B served nothing between the new A's migration and its own restart")
	}

	// Both instances run the new version.
	for _, p := range []*portal{a, b} {
		if v := version(t, p); v != nextVersion {
			t.Errorf("%s runs %q after the rolling restart, want %q", p.name, v, nextVersion)
		}
	}

	// The migration ran exactly once: one record, one row written by its
	// Up, one "migrations applied" in the instances' logs (the release
	// step migrated before they first started, so only the upgrade did).
	ctx := context.Background()
	var recorded, marks int
	if err := c.db.QueryRow(ctx, `SELECT count(*) FROM portal_migrations WHERE id = 'nextversion:0001_marks'`).Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	if err := c.db.QueryRow(ctx, `SELECT count(*) FROM nextversion_marks`).Scan(&marks); err != nil {
		t.Fatal(err)
	}
	applied := map[string]int{}
	for _, p := range []*portal{a, b} {
		data, _ := os.ReadFile(p.log)
		applied[p.name] = strings.Count(string(data), `"msg":"migrations applied"`)
	}
	if recorded != 1 || marks != 1 || applied[a.name] != 1 || applied[b.name] != 0 {
		t.Errorf("the pending migration: recorded %d times, its row written %d times, applied by %v; want once, by the first upgraded instance",
			recorded, marks, applied)
	}

	// Nothing acknowledged during the restart is lost.
	rows, err := c.db.Query(ctx, `SELECT draft_key FROM drafts_forms WHERE draft_key LIKE 'cluster.roll-%'`)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		have[k] = true
	}
	rows.Close()
	var lost []string
	for _, k := range acked {
		if !have[k] {
			lost = append(lost, k)
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d of %d acknowledged writes are not in the database: %v", len(lost), len(acked), lost)
	}
}
