package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/app"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/live"
	"github.com/portalkit/portalkit/core/store"
)

// serverOpts is what the parent passes to the server process.
type serverOpts struct {
	dsn, addr, bare, control, mqtt, tokens string
	streams, maxConns                      int
}

// serve is the server process: the portal (one instance, PostgreSQL) on
// addr, the bare SSE fan-out on bare, and a control API on control that
// the parent drives (memory, publishing, query counts). It seeds one
// organisation with o.streams customers, each with a session, writes
// "userID token" lines to o.tokens, prints READY and serves until its
// stdin closes.
func serve(o serverOpts) error {
	raiseFileLimit()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := config.Default()
	cfg.DataDir, _ = os.MkdirTemp("", "portal-bench-live-")
	defer os.RemoveAll(cfg.DataDir)
	cfg.Database.URL = o.dsn
	cfg.Database.MaxOpenConns = o.maxConns
	cfg.HTTP.Addr = o.addr
	cfg.HTTP.BaseURL = "http://" + o.addr
	cfg.MQTT.Listen = o.mqtt
	cfg.Log.Level = "error"  // slow-SQL warnings while thousands connect at once would drown the report
	cfg.Live.MaxLifetime = 0 // no stream ends on its own during the run
	a, err := app.New(ctx, app.Options{Config: cfg, LogOutput: os.Stderr})
	if err != nil {
		return err
	}
	defer a.Close()
	var queries atomic.Int64
	countQueries(a.Store.DB, &queries)
	users, err := seed(ctx, a, o.streams, o.tokens)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srvCtx, stopSrv := context.WithCancel(ctx)
	defer stopSrv()
	served := make(chan error, 1)
	go func() { served <- a.Serve(srvCtx, ln) }()

	b := newBare()
	bareLn, err := net.Listen("tcp", o.bare)
	if err != nil {
		return err
	}
	bareSrv := &http.Server{Handler: b}
	go func() { _ = bareSrv.Serve(bareLn) }()
	defer bareSrv.Close()

	pub := a.Live.Publisher("bench")
	var orgID uint
	if err := store.AllOrgs(a.Store.DB).Model(&accounts.Org{}).Where("slug = ?", "bench").Pluck("id", &orgID).Error; err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/mem", func(w http.ResponseWriter, r *http.Request) {
		debug.FreeOSMemory() // a full GC, and the freed pages back to the OS
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		writeJSON(w, memReport{Heap: ms.HeapAlloc, Stack: ms.StackInuse, RSS: vmRSS(), Goroutines: runtime.NumGoroutine(),
			Streams: a.Live.Connected(), Bare: b.connected()})
	})
	mux.HandleFunc("/queries", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, queries.Load())
	})
	mux.HandleFunc("/publish", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		rate, _ := strconv.Atoi(q.Get("rate"))
		total, _ := strconv.Atoi(q.Get("n"))
		workers, _ := strconv.Atoi(q.Get("workers"))
		phase := q.Get("phase")
		bare := q.Get("bare") == "1"
		commits := make([]int64, total)
		rep := pace(rate, total, workers, func(i int) error {
			u := users[i%len(users)]
			data := tick{Phase: phase, I: i, T: time.Now().UnixNano()}
			if bare {
				b.push(u, data)
				commits[i] = time.Now().UnixNano()
				return nil
			}
			err := pub.Publish(r.Context(), nil, live.Event{OrgID: orgID, Name: "tick", To: []uint{u}, Data: data})
			commits[i] = time.Now().UnixNano() // the publisher saw its COMMIT return
			return err
		})
		rep.Commits = commits
		writeJSON(w, rep)
	})
	mux.HandleFunc("/debug/pprof/heap", pprof.Handler("heap").ServeHTTP)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	ctlLn, err := net.Listen("tcp", o.control)
	if err != nil {
		return err
	}
	ctl := &http.Server{Handler: mux}
	go func() { _ = ctl.Serve(ctlLn) }()
	defer ctl.Close()

	fmt.Println("READY")
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes our stdin
	stopSrv()
	return <-served
}

// memReport is the server's memory after a full GC.
type memReport struct {
	Heap       uint64 `json:"heap"`
	Stack      uint64 `json:"stack"` // goroutine stacks (not in Heap)
	RSS        uint64 `json:"rss"`
	Goroutines int    `json:"goroutines"`
	Streams    int    `json:"streams"`
	Bare       int    `json:"bare"`
}

// tick is the data of every benchmark event: its phase, its number and
// when it was handed to Publish (Unix ns).
type tick struct {
	Phase string `json:"p"`
	I     int    `json:"i"`
	T     int64  `json:"t"`
}

// pubReport is what one publishing run did.
type pubReport struct {
	Start  int64  `json:"start"` // Unix ns of the first event
	Sent   int    `json:"sent"`
	Errors int    `json:"errors"`
	Err    string `json:"err,omitempty"`
	Secs   float64
	// Commits holds, per event, when its Publish returned (Unix ns): the
	// commit as the publisher saw it.
	Commits []int64 `json:"commits,omitempty"`
}

// pace calls fn for 0..total-1 at rate per second from workers goroutines
// (each call one transaction, like a module publishing).
func pace(rate, total, workers int, fn func(i int) error) pubReport {
	if rate <= 0 || workers <= 0 {
		return pubReport{Err: "rate and workers must be positive"}
	}
	jobs := make(chan int, 1024)
	var sent, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := fn(i); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				sent.Add(1)
			}
		}()
	}
	start := time.Now()
	for i := range total {
		due := start.Add(time.Duration(int64(i) * int64(time.Second) / int64(rate)))
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	rep := pubReport{Start: start.UnixNano(), Sent: int(sent.Load()), Errors: int(failed.Load()), Secs: time.Since(start).Seconds()}
	if e, ok := firstErr.Load().(string); ok {
		rep.Err = e
	}
	return rep
}

// seed creates the organisation, its customers and a session for each in
// bulk, and writes "userID token" per line to path.
func seed(ctx context.Context, a *app.App, n int, path string) ([]uint, error) {
	org, err := a.Accounts.CreateOrg(ctx, accounts.NewOrg{Slug: "bench", Name: "Bench"})
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	us := make([]accounts.User, n)
	for i := range us {
		us[i] = accounts.User{OrgOwned: store.OrgOwned{OrgID: org.ID}, Email: fmt.Sprintf("c%d@bench.example", i),
			Name: fmt.Sprintf("Customer %d", i), Role: accounts.Customer, CreatedAt: now, UpdatedAt: now}
	}
	tokens := make([]string, n)
	err = a.Store.Tx(ctx, func(tx *gorm.DB) error {
		if err := store.Org(tx, org.ID).CreateInBatches(&us, 1000).Error; err != nil {
			return err
		}
		ss := make([]accounts.Session, n)
		for i := range ss {
			var raw [24]byte
			_, _ = rand.Read(raw[:])
			tokens[i] = "pks_" + hex.EncodeToString(raw[:]) // accounts' session token prefix
			ss[i] = accounts.Session{OrgOwned: store.OrgOwned{OrgID: org.ID}, TokenHash: sha256Hex(tokens[i]), UserID: us[i].ID,
				IP: "127.0.0.1", UserAgent: "bench/live", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(24 * time.Hour)}
		}
		return store.Org(tx, org.ID).CreateInBatches(&ss, 1000).Error
	})
	if err != nil {
		return nil, err
	}
	var sb strings.Builder
	ids := make([]uint, n)
	for i, u := range us {
		ids[i] = u.ID
		fmt.Fprintf(&sb, "%d %s\n", u.ID, tokens[i])
	}
	return ids, os.WriteFile(path, []byte(sb.String()), 0o600)
}

// countQueries counts every statement GORM runs on db.
func countQueries(db *gorm.DB, n *atomic.Int64) {
	inc := func(*gorm.DB) { n.Add(1) }
	cb := db.Callback()
	_ = cb.Create().After("gorm:create").Register("bench:count", inc)
	_ = cb.Query().After("gorm:query").Register("bench:count", inc)
	_ = cb.Update().After("gorm:update").Register("bench:count", inc)
	_ = cb.Delete().After("gorm:delete").Register("bench:count", inc)
	_ = cb.Row().After("gorm:row").Register("bench:count", inc)
	_ = cb.Raw().After("gorm:raw").Register("bench:count", inc)
}

func vmRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// bare is the baseline: the smallest Go SSE fan-out (net/http), pushing
// events from memory to each person's connections — no database, no
// authentication, no replay.
type bare struct {
	mu   sync.Mutex
	subs map[uint]map[chan []byte]struct{}
	seq  map[uint]uint64
	n    int
}

func newBare() *bare {
	return &bare{subs: map[uint]map[chan []byte]struct{}{}, seq: map[uint]uint64{}}
}

func (b *bare) connected() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

func (b *bare) push(u uint, t tick) {
	data, _ := json.Marshal(live.ModuleEvent{Name: "bench.tick", Data: mustJSON(t)})
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq[u]++
	msg := []byte("id: " + strconv.FormatUint(b.seq[u], 10) + "\nevent: module\ndata: " + string(data) + "\n\n")
	for ch := range b.subs[u] {
		select {
		case ch <- msg:
		default: // a client that does not read loses events: the bare server keeps nothing
		}
	}
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func (b *bare) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u64, err := strconv.ParseUint(r.URL.Query().Get("u"), 10, 64)
	if err != nil {
		http.Error(w, "u: not a user ID", http.StatusBadRequest)
		return
	}
	u := uint(u64)
	ch := make(chan []byte, 256)
	b.mu.Lock()
	if b.subs[u] == nil {
		b.subs[u] = map[chan []byte]struct{}{}
	}
	b.subs[u][ch] = struct{}{}
	b.n++
	seq := b.seq[u]
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.subs[u], ch)
		b.n--
		b.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	fl := w.(http.Flusher)
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "id: %d\nevent: ready\ndata: {}\n\n", seq)
	_ = bw.Flush()
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case msg := <-ch:
			_, _ = bw.Write(msg)
			for more := true; more; {
				select {
				case m := <-ch:
					_, _ = bw.Write(m)
				default:
					more = false
				}
			}
			if bw.Flush() != nil {
				return
			}
			fl.Flush()
		}
	}
}
