// Command live benchmarks the portal's live streams (core/live) on
// PostgreSQL, one instance, over real TCP:
//
//  1. idle streams: N customers each open GET /api/v1/live with a bearer
//     session; once every stream has sent `ready`, the server's heap (after
//     a full GC) and RSS beyond what it used before are divided by N;
//  2. latency and rate: R module events a second for S seconds, spread over
//     the N people, each published through live.Publisher.Publish in its
//     own transaction (a few goroutines, like modules), each carrying the
//     time it was handed to Publish; the clients record publish-to-receipt
//     latency, and commit-to-receipt latency (from when Publish returned,
//     as the server reports it), and check that every event arrived exactly once — against a
//     bare Go SSE fan-out (net/http, events from memory, no database)
//     measured in the same run with the same clients;
//  3. reconnect storm: every stream is closed at once, N more events are
//     published meanwhile (one per person), and all N reconnect at once with
//     their Last-Event-ID: the time until every stream is `ready` again (with
//     what it missed replayed) and the statements it cost the database.
//
// The portal (and the bare server) run in a child process of this program,
// so the memory figures are the server's alone; the clients live here.
//
//	PORTAL_BENCH_DATABASE_URL=postgres://... go run ./bench/live -streams 10000 -rate 1000 -seconds 20
//
// PORTAL_TEST_DATABASE_URL is used when PORTAL_BENCH_DATABASE_URL is unset.
// The benchmark works in a fresh schema that it drops at the end. It listens
// on -port .. -port+3 (127.0.0.1).
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/portalkit/portalkit/bench/benchdb"
	"github.com/portalkit/portalkit/core/live"
)

func main() {
	var o options
	flag.IntVar(&o.streams, "streams", 10_000, "streams (one customer each)")
	flag.IntVar(&o.rate, "rate", 1000, "events per second while measuring latency")
	flag.IntVar(&o.seconds, "seconds", 20, "seconds of events while measuring latency")
	flag.IntVar(&o.workers, "publishers", 8, "publishing goroutines (one transaction per event)")
	flag.IntVar(&o.maxConns, "max-conns", 24, "the portal's database.max_open_conns")
	flag.IntVar(&o.openPar, "open-parallel", 256, "streams being opened at once for the idle phase (the storm opens all at once)")
	flag.StringVar(&o.profile, "profile", "", "write the server's heap profile with every stream open (heap.pprof) and its CPU profile while publishing (cpu.pprof) to this directory")
	flag.IntVar(&o.port, "port", 22400, "first of four ports on 127.0.0.1: MQTT, portal, bare SSE, control")
	var so serverOpts
	srv := flag.Bool("serve", false, "internal: be the server process")
	flag.StringVar(&so.dsn, "dsn", "", "internal")
	flag.StringVar(&so.tokens, "tokens", "", "internal")
	flag.Parse()
	if *srv {
		so.streams, so.maxConns = o.streams, o.maxConns
		so.mqtt, so.addr, so.bare, so.control = o.addrs()
		if err := serve(so); err != nil {
			fmt.Fprintln(os.Stderr, "bench/live server:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench/live:", err)
		os.Exit(1)
	}
}

type options struct {
	streams, rate, seconds, workers, maxConns, openPar, port int
	profile                                                  string
}

func (o options) addrs() (mqtt, portal, bare, control string) {
	a := func(i int) string { return "127.0.0.1:" + strconv.Itoa(o.port+i) }
	return a(0), a(1), a(2), a(3)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// raiseFileLimit lifts the open-files limit to its hard limit: every stream
// is a socket.
func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

func fileLimit() uint64 {
	var l syscall.Rlimit
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l)
	return l.Cur
}

func run(o options) error {
	raiseFileLimit()
	if lim := fileLimit(); uint64(o.streams)+200 > lim {
		return fmt.Errorf("-streams %d needs more sockets than the open-files limit %d allows; lower -streams", o.streams, lim)
	}
	dsn, drop, err := benchdb.Schema()
	if err != nil {
		return err
	}
	defer drop()
	tmp, err := os.MkdirTemp("", "portal-bench-live-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	tokens := filepath.Join(tmp, "tokens")
	self, err := os.Executable()
	if err != nil {
		return err
	}
	_, portalAddr, bareAddr, controlAddr := o.addrs()
	cmd := exec.Command(self, "-serve", "-dsn", dsn, "-tokens", tokens, "-streams", strconv.Itoa(o.streams),
		"-max-conns", strconv.Itoa(o.maxConns), "-port", strconv.Itoa(o.port))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "READY" {
				exited <- nil
			}
		}
		exited <- cmd.Wait()
	}()
	defer func() {
		stdin.Close() // the server shuts down when its stdin closes
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
		}
	}()
	fmt.Fprintf(os.Stderr, "bench/live: starting the portal and seeding %d customers ...\n", o.streams)
	select {
	case err := <-exited:
		if err != nil {
			return fmt.Errorf("server: %w", err)
		}
	case <-time.After(5 * time.Minute):
		return errors.New("server not ready after 5 minutes")
	}
	cs, err := readClients(tokens)
	if err != nil {
		return err
	}
	ctl := controller("http://" + controlAddr)
	b := &bench{o: o, clients: cs, ctl: ctl, stats: map[string]*phase{}}
	var r report
	r.o = o
	fmt.Printf("bench/live: %d streams, %d events/s for %ds from %d publishers, PostgreSQL, one instance, %d CPUs, database.max_open_conns %d\n",
		o.streams, o.rate, o.seconds, o.workers, runtime.NumCPU(), o.maxConns)

	// 1. Idle streams.
	if err := ctl.get("/mem", &r.mem0); err != nil {
		return err
	}
	portalURL := func(c *client) string { return "http://" + portalAddr + live.StreamPath }
	t0 := time.Now()
	if r.openRetries, err = b.openAll(portalURL, true, o.openPar, "opening"); err != nil {
		return err
	}
	r.openTime = time.Since(t0)
	time.Sleep(2 * time.Second) // let the first requests' garbage go
	if err := ctl.get("/mem", &r.mem1); err != nil {
		return err
	}
	if r.mem1.Streams != o.streams {
		return fmt.Errorf("the portal holds %d streams, want %d", r.mem1.Streams, o.streams)
	}

	// 2. Latency and rate through the portal.
	n := o.rate * o.seconds
	profiled := make(chan error, 1)
	if o.profile != "" {
		if err := ctl.save("/debug/pprof/heap", filepath.Join(o.profile, "heap.pprof")); err != nil {
			return err
		}
		go func() {
			profiled <- ctl.save(fmt.Sprintf("/debug/pprof/profile?seconds=%d", o.seconds), filepath.Join(o.profile, "cpu.pprof"))
		}()
	} else {
		profiled <- nil
	}
	if r.live, err = b.publish("live", o.rate, n, false); err != nil {
		return err
	}
	if err := <-profiled; err != nil {
		return err
	}

	// 3. Reconnect storm.
	b.closeAll()
	if r.stormPub, err = b.publish("storm", 4*o.rate, o.streams, false); err != nil {
		return err
	}
	var m memReport
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err := ctl.get("/mem", &m); err != nil {
			return err
		}
		if m.Streams == 0 {
			break
		}
	}
	r.staleStreams = m.Streams
	var q0, q1 int64
	if err := ctl.get("/queries", &q0); err != nil {
		return err
	}
	if o.profile != "" {
		go func() {
			profiled <- ctl.save("/debug/pprof/profile?seconds=10", filepath.Join(o.profile, "storm.pprof"))
		}()
	}
	t0 = time.Now()
	if r.stormRetries, err = b.openAll(portalURL, true, 0, "reconnecting"); err != nil {
		return err
	}
	r.stormTime = time.Since(t0)
	if o.profile != "" {
		if err := <-profiled; err != nil {
			return err
		}
	}
	if err := ctl.get("/queries", &q1); err != nil {
		return err
	}
	r.stormQueries = q1 - q0
	r.storm = b.phase("storm").check()
	r.resets = b.resets.Load()

	// The bare fan-out: the same clients, the same events, no database.
	b.closeAll()
	bareURL := func(c *client) string { return "http://" + bareAddr + "/?u=" + strconv.FormatUint(uint64(c.user), 10) }
	for _, c := range b.clients {
		c.last.Store(0)
	}
	// All at once, as the storm: the same clients' connection setup on
	// the same machine, without authentication, database or replay.
	t0 = time.Now()
	if _, err := b.openAll(bareURL, false, 0, "opening bare"); err != nil {
		return err
	}
	r.bareOpen = time.Since(t0)
	if r.bare, err = b.publish("bare", o.rate, n, true); err != nil {
		return err
	}
	b.closeAll()
	r.drops = b.drops.Load()
	r.print(os.Stdout)
	return nil
}

// controller talks to the server process's control API.
type controller string

func (c controller) get(path string, v any) error {
	resp, err := http.Get(string(c) + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// save writes what path answers to file.
func (c controller) save(path, file string) error {
	resp, err := http.Get(string(c) + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readClients(path string) ([]*client, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cs []*client
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		id, tok, ok := strings.Cut(line, " ")
		u, err := strconv.ParseUint(id, 10, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("tokens line %d: %q", i+1, line)
		}
		cs = append(cs, &client{idx: i, user: uint(u), token: tok})
	}
	return cs, nil
}

// bench holds the clients and what they received.
type bench struct {
	o       options
	clients []*client
	ctl     controller
	mu      sync.Mutex
	stats   map[string]*phase
	resets  atomic.Int64
	drops   atomic.Int64 // streams that ended while they should have stayed open
}

func (b *bench) phase(name string) *phase {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats[name]
}

// phase is what the clients received of one publishing run.
type phase struct {
	seen     []atomic.Int32 // per event number
	recv     []atomic.Int64 // per event number: first receipt (Unix ns)
	wrong    atomic.Int64   // reached a stream of someone else
	seqBad   atomic.Int64   // an id not one more than the last
	mu       sync.Mutex
	lat      []time.Duration
	lastRecv atomic.Int64
	latency  bool
}

type client struct {
	idx    int
	user   uint
	token  string
	last   atomic.Uint64 // the id of the last event received
	cancel context.CancelFunc
	done   chan struct{}
}

var httpClient = &http.Client{Transport: &http.Transport{
	DialContext:         (&net.Dialer{Timeout: 60 * time.Second, KeepAlive: -1}).DialContext,
	DisableKeepAlives:   true,
	DisableCompression:  true,
	MaxIdleConnsPerHost: -1,
	ReadBufferSize:      4 << 10,
	WriteBufferSize:     1 << 10,
}}

// openAll opens every client's stream (par at a time; 0: all at once),
// resuming from the last received id when resume is set, and returns once
// every stream sent `ready`. A stream refused before `ready` tries again
// after a second, as EventSource would; the retries are returned.
func (b *bench) openAll(url func(*client) string, resume bool, par int, what string) (int64, error) {
	bar := progressbar.NewOptions(len(b.clients), progressbar.OptionSetDescription(what), progressbar.OptionShowCount(),
		progressbar.OptionSetWriter(os.Stderr), progressbar.OptionThrottle(200*time.Millisecond))
	var sem chan struct{}
	if par > 0 {
		sem = make(chan struct{}, par)
	}
	var retries atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, len(b.clients))
	for _, c := range b.clients {
		if sem != nil {
			sem <- struct{}{}
		}
		wg.Add(1)
		ctx, cancel := context.WithCancel(context.Background())
		c.cancel, c.done = cancel, make(chan struct{})
		go func() {
			defer close(c.done)
			var once sync.Once
			ready := func() {
				once.Do(func() {
					_ = bar.Add(1)
					if sem != nil {
						<-sem
					}
					wg.Done()
				})
			}
			for attempt := 0; ; attempt++ {
				readied := false
				err := b.stream(ctx, c, url(c), resume, func() { readied = true; ready() })
				if ctx.Err() != nil {
					once.Do(func() { wg.Done() })
					return
				}
				if readied {
					b.drops.Add(1)
					return
				}
				if attempt == 5 {
					errc <- fmt.Errorf("stream of user %d: %w", c.user, err)
					once.Do(func() {
						if sem != nil {
							<-sem
						}
						wg.Done()
					})
					return
				}
				retries.Add(1)
				time.Sleep(time.Second)
			}
		}()
	}
	wg.Wait()
	_ = bar.Finish()
	fmt.Fprintln(os.Stderr)
	select {
	case err := <-errc:
		return retries.Load(), err
	default:
	}
	return retries.Load(), nil
}

func (b *bench) closeAll() {
	for _, c := range b.clients {
		if c.cancel != nil {
			c.cancel()
		}
	}
	for _, c := range b.clients {
		if c.done != nil {
			<-c.done
		}
	}
}

// stream reads one SSE stream until it ends.
func (b *bench) stream(ctx context.Context, c *client, url string, resume bool, ready func()) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "text/event-stream")
	if last := c.last.Load(); resume && last > 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatUint(last, 10))
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(body))
	}
	br := bufio.NewReaderSize(resp.Body, 16<<10)
	var id uint64
	var event string
	var data []byte
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			b.dispatch(c, id, event, data, ready)
			event, data = "", data[:0]
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, val, _ := bytes.Cut(line, []byte(":"))
		val = bytes.TrimPrefix(val, []byte(" "))
		switch string(field) {
		case "id":
			id, _ = strconv.ParseUint(string(val), 10, 64)
		case "event":
			event = string(val)
		case "data":
			data = append(data, val...)
		}
	}
}

func (b *bench) dispatch(c *client, id uint64, event string, data []byte, ready func()) {
	now := time.Now()
	switch event {
	case live.TypeReady:
		c.last.Store(id)
		ready()
	case live.TypeReset:
		b.resets.Add(1)
		c.last.Store(id)
	case live.TypeModule:
		var ev struct {
			Data tick `json:"data"`
		}
		if json.Unmarshal(data, &ev) != nil {
			return
		}
		p := b.phase(ev.Data.Phase)
		if p == nil {
			return
		}
		if last := c.last.Swap(id); id != last+1 {
			p.seqBad.Add(1)
		}
		if ev.Data.I < 0 || ev.Data.I >= len(p.seen) {
			return
		}
		p.seen[ev.Data.I].Add(1)
		p.recv[ev.Data.I].CompareAndSwap(0, now.UnixNano())
		if ev.Data.I%len(b.clients) != c.idx {
			p.wrong.Add(1)
		}
		if p.latency {
			p.mu.Lock()
			p.lat = append(p.lat, now.Sub(time.Unix(0, ev.Data.T)))
			p.mu.Unlock()
		}
		for {
			old := p.lastRecv.Load()
			if now.UnixNano() <= old || p.lastRecv.CompareAndSwap(old, now.UnixNano()) {
				break
			}
		}
	}
}

// result is what one publishing run delivered.
type result struct {
	pub                 pubReport
	received, missing   int
	dups, wrong, seqBad int64
	p50, p95, p99, max  time.Duration
	c50, c99            time.Duration // commit to receipt
	deliveredPerSec     float64
	waited              time.Duration
}

// publish has the server publish n events at rate through the portal (or
// the bare fan-out), waits until the clients received them (or 30 s more),
// and checks them.
func (b *bench) publish(name string, rate, n int, bare bool) (result, error) {
	p := &phase{seen: make([]atomic.Int32, n), recv: make([]atomic.Int64, n), latency: name != "storm", lat: make([]time.Duration, 0, n)}
	b.mu.Lock()
	b.stats[name] = p
	b.mu.Unlock()
	bar := progressbar.NewOptions(n, progressbar.OptionSetDescription(name+" events received"), progressbar.OptionShowCount(),
		progressbar.OptionShowIts(), progressbar.OptionSetWriter(os.Stderr), progressbar.OptionThrottle(200*time.Millisecond))
	count := func() int {
		k := 0
		for i := range p.seen {
			if p.seen[i].Load() > 0 {
				k++
			}
		}
		return k
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(250 * time.Millisecond):
				_ = bar.Set(count())
			}
		}
	}()
	var rep pubReport
	bareFlag := "0"
	if bare {
		bareFlag = "1"
	}
	err := b.ctl.get(fmt.Sprintf("/publish?phase=%s&rate=%d&n=%d&workers=%d&bare=%s", name, rate, n, b.o.workers, bareFlag), &rep)
	if err != nil {
		close(done)
		return result{}, err
	}
	if rep.Err != "" {
		fmt.Fprintf(os.Stderr, "%s: %d publish errors, the first: %s\n", name, rep.Errors, rep.Err)
	}
	t0 := time.Now()
	if name != "storm" { // storm events arrive on reconnect
		for count() < rep.Sent && time.Since(t0) < 30*time.Second {
			time.Sleep(50 * time.Millisecond)
		}
	}
	close(done)
	_ = bar.Set(count())
	_ = bar.Finish()
	fmt.Fprintln(os.Stderr)
	r := p.check()
	r.pub, r.waited = rep, time.Since(t0)
	if p.latency && len(rep.Commits) == n {
		// Commit to receipt: from when Publish returned (the event may
		// arrive before the publisher sees its COMMIT answered: 0).
		var lat []time.Duration
		for i := range n {
			if got := p.recv[i].Load(); got > 0 && rep.Commits[i] > 0 {
				lat = append(lat, max(0, time.Duration(got-rep.Commits[i])))
			}
		}
		slices.Sort(lat)
		if len(lat) > 0 {
			r.c50, r.c99 = lat[len(lat)/2], lat[min(len(lat)-1, int(0.99*float64(len(lat))))]
		}
	}
	if last := p.lastRecv.Load(); last > 0 {
		r.deliveredPerSec = float64(r.received) / (time.Duration(last - rep.Start).Seconds())
	}
	return r, nil
}

// check counts what arrived of n events: missing, duplicated, at the wrong
// stream, out of order; and the latency percentiles.
func (p *phase) check() result {
	var r result
	for i := range p.seen {
		switch k := p.seen[i].Load(); {
		case k == 0:
			r.missing++
		default:
			r.received++
			r.dups += int64(k - 1)
		}
	}
	r.wrong, r.seqBad = p.wrong.Load(), p.seqBad.Load()
	p.mu.Lock()
	lat := slices.Clone(p.lat)
	p.mu.Unlock()
	slices.Sort(lat)
	if len(lat) > 0 {
		q := func(f float64) time.Duration { return lat[min(len(lat)-1, int(f*float64(len(lat))))] }
		r.p50, r.p95, r.p99, r.max = q(0.50), q(0.95), q(0.99), lat[len(lat)-1]
	}
	return r
}

type report struct {
	o                         options
	mem0, mem1                memReport
	openTime, stormTime       time.Duration
	bareOpen                  time.Duration // the bare fan-out's streams, all opened at once
	openRetries, stormRetries int64
	live, bare, storm         result
	stormPub                  result
	staleStreams              int
	stormQueries, resets      int64
	drops                     int64
}

func (r report) print(w io.Writer) {
	n := float64(r.o.streams)
	kib := func(a, b uint64) float64 { return (float64(a) - float64(b)) / n / 1024 }
	fmt.Fprintf(w, "\n1. idle streams: %d open and ready in %s (%d retries)\n", r.o.streams, r.openTime.Round(time.Millisecond), r.openRetries)
	fmt.Fprintf(w, "   server heap %.1f -> %.1f MiB: %.1f KiB per stream; stacks %.1f KiB per stream; RSS %.1f -> %.1f MiB: %.1f KiB per stream; goroutines %d -> %d\n",
		mib(r.mem0.Heap), mib(r.mem1.Heap), kib(r.mem1.Heap, r.mem0.Heap), kib(r.mem1.Stack, r.mem0.Stack),
		mib(r.mem0.RSS), mib(r.mem1.RSS), kib(r.mem1.RSS, r.mem0.RSS), r.mem0.Goroutines, r.mem1.Goroutines)
	aim(w, "   ", kib(r.mem1.Heap, r.mem0.Heap) <= 16 && kib(r.mem1.RSS, r.mem0.RSS) <= 16, "<= 16 KiB per stream (heap and RSS)")
	line := func(name string, x result) {
		fmt.Fprintf(w, "   %-6s sent %d in %.1fs (%d errors), received %d, missing %d, duplicated %d, wrong stream %d, out of order %d; "+
			"latency p50 %s p95 %s p99 %s max %s; commit to receipt p50 %s p99 %s; delivered %.0f/s\n",
			name, x.pub.Sent, x.pub.Secs, x.pub.Errors, x.received, x.missing, x.dups, x.wrong, x.seqBad,
			ms(x.p50), ms(x.p95), ms(x.p99), ms(x.max), ms(x.c50), ms(x.c99), x.deliveredPerSec)
	}
	fmt.Fprintf(w, "2. latency and rate: %d events/s for %ds over %d streams (publish to receipt)\n", r.o.rate, r.o.seconds, r.o.streams)
	line("portal", r.live)
	line("bare", r.bare)
	ratio := 0.0
	if r.bare.deliveredPerSec > 0 {
		ratio = r.live.deliveredPerSec / r.bare.deliveredPerSec
	}
	fmt.Fprintf(w, "   ratio portal/bare delivered per second: %.2f\n", ratio)
	aim(w, "   ", r.live.c99 < 100*time.Millisecond, "commit-to-browser p99 < 100 ms")
	aim(w, "   ", r.live.p99 < 100*time.Millisecond, "publish-to-browser p99 < 100 ms (the publishing transaction included)")
	aim(w, "   ", ratio >= 0.5, ">= 0.5 of the bare fan-out's rate")
	aim(w, "   ", r.live.missing == 0 && r.live.dups == 0 && r.live.wrong == 0, "every event exactly once, to its own stream")
	fmt.Fprintf(w, "3. reconnect storm: %d events published while closed (%.1fs, %d errors; %d streams not yet noticed closed by the server)\n",
		r.stormPub.pub.Sent, r.stormPub.pub.Secs, r.stormPub.pub.Errors, r.staleStreams)
	fmt.Fprintf(w, "   all %d reconnected at once with Last-Event-ID and ready in %s (%d retries); %d database statements (%.2f per stream); "+
		"replayed: received %d, missing %d, duplicated %d; resets %d\n",
		r.o.streams, r.stormTime.Round(time.Millisecond), r.stormRetries, r.stormQueries, float64(r.stormQueries)/n,
		r.storm.received, r.storm.missing, r.storm.dups, r.resets)
	fmt.Fprintf(w, "   the bare fan-out's %d streams opened at once: all ready in %s (the storm took %.2f× that)\n",
		r.o.streams, r.bareOpen.Round(time.Millisecond), r.stormTime.Seconds()/r.bareOpen.Seconds())
	aim(w, "   ", r.stormTime < 10*time.Second && r.storm.missing == 0 && r.storm.dups == 0, "every stream ready again within 10 s, nothing missed")
	fmt.Fprintf(w, "streams that ended on their own: %d\n", r.drops)
}

func aim(w io.Writer, indent string, ok bool, what string) {
	if ok {
		fmt.Fprintf(w, "%saim met: %s\n", indent, what)
	} else {
		fmt.Fprintf(w, "%sAIM MISSED: %s\n", indent, what)
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }
