// Command http is PortalKit's HTTP load benchmark. It starts the portal
// binary with demo data (SQLite, or a fresh PostgreSQL database), signs in
// as the demo customer, and drives GET /api/v1/me and GET /api/v1/dashboard
// with a closed-loop load generator (N connections, each sending its next
// request as soon as the previous answer arrives) from this process, and —
// as the baseline measured in the same run — a bare Fiber JSON handler
// running in a third process. It prints requests per second, p50/p90/p99
// latency and the ratio of each portal route to the baseline, as Markdown
// for docs/PERFORMANCE.md.
//
//	go run ./bench/http -db sqlite
//	go run ./bench/http -db postgres -pg-url 'postgres://portal@127.0.0.1:5432/postgres?sslmode=disable'
//	go run ./bench/http -db both -portal /tmp/portal-after -before /tmp/portal-before   # before/after in one run
//
// The dashboard is measured twice: as the issue asks (the demo customer,
// repeated, so after the first load it mostly comes from the dashboard
// cache) and cold, against a second portal with the cache off
// (PORTAL_DASHBOARD_CACHE_TTL=0: every request reads the layout and runs
// every widget), unless -cold=false.
//
// The machine's cores are shared by the servers and the load generator, as
// in any single-host benchmark; compare ratios rather than absolute numbers.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/schollz/progressbar/v3"
	"github.com/valyala/fasthttp"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

const demoPassword = "bench-demo-password-7"

type options struct {
	db       string
	pgURL    string
	portal   string
	before   string
	conns    int
	rounds   int
	duration time.Duration
	warmup   time.Duration
	logLevel string
	out      string
	cold     bool
	cacheTTL time.Duration // negative: the default
	ports    string
}

func main() {
	bare := flag.String("serve-bare", "", "internal: serve the bare Fiber baseline on this address")
	var o options
	flag.StringVar(&o.db, "db", "sqlite", "database: sqlite, postgres or both")
	flag.StringVar(&o.pgURL, "pg-url", os.Getenv("PORTAL_TEST_DATABASE_URL"), "PostgreSQL server URL with rights to CREATE DATABASE (a fresh database is created and dropped)")
	flag.StringVar(&o.portal, "portal", "", "portal binary (default: built from ./cmd/portal)")
	flag.StringVar(&o.before, "before", "", "a second portal binary (e.g. built from an earlier commit) measured in the same rounds, for a before/after comparison (with -cold, also with its cache off)")
	flag.IntVar(&o.conns, "c", 200, "concurrent connections")
	flag.DurationVar(&o.duration, "d", 10*time.Second, "measured duration per route and round")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds; each runs every route once, interleaved")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up per route")
	flag.StringVar(&o.logLevel, "log-level", "info", "the portal's log.level (info logs every request, as in production)")
	flag.StringVar(&o.out, "o", "", "also append the Markdown results to this file")
	flag.BoolVar(&o.cold, "cold", true, "also measure the dashboard with the dashboard cache off, on a second portal")
	flag.DurationVar(&o.cacheTTL, "cache-ttl", -1, "-cpuprofile only: the portal's dashboard.cache_ttl (e.g. 0s for the uncached path; negative: the default)")
	flag.StringVar(&o.ports, "ports", "", "take the bench's listening ports from this range (e.g. 22800-22899) instead of any free port")
	profile := flag.String("cpuprofile", "", "instead of the comparison: run the portal in this process and write a CPU profile of loading -route")
	route := flag.String("route", "/api/v1/dashboard", "the route -cpuprofile loads")
	flag.Parse()
	if err := setPorts(o.ports); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if *profile != "" {
		if err := profileRoute(o, *route, *profile); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *bare != "" {
		serveBare(*bare)
		return
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// serveBare is the baseline: the smallest Fiber JSON handler, with Fiber's
// defaults, in its own process like the portal.
func serveBare(addr string) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/json", func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"message": "Hello, World!"})
	})
	if err := app.Listen(addr); err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}

type result struct {
	DB, Name, Path string
	Requests       int64
	Errors         int64
	RPS            float64
	P50, P90, P99  time.Duration
	Max            time.Duration
	Bytes          int
	Rounds         []float64 // requests/s of each round
}

func run(o options) error {
	tmp, err := os.MkdirTemp("", "portal-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if o.portal == "" {
		o.portal = filepath.Join(tmp, "portal")
		fmt.Fprintln(os.Stderr, "building ./cmd/portal ...")
		b := exec.Command("go", "build", "-o", o.portal, "./cmd/portal")
		b.Stdout, b.Stderr = os.Stderr, os.Stderr
		if err := b.Run(); err != nil {
			return fmt.Errorf("go build: %w", err)
		}
	}
	var dbs []string
	switch o.db {
	case "sqlite", "postgres":
		dbs = []string{o.db}
	case "both":
		dbs = []string{"sqlite", "postgres"}
	default:
		return fmt.Errorf("-db %q: want sqlite, postgres or both", o.db)
	}
	var all []result
	loads := map[string][2]loadAvg{}
	for _, db := range dbs {
		rs, avg, err := runDB(o, db, tmp)
		if err != nil {
			return fmt.Errorf("%s: %w", db, err)
		}
		all = append(all, rs...)
		loads[db] = avg
	}
	pg := ""
	for _, db := range dbs {
		if db == "postgres" {
			if pg, err = pgSettings(o.pgURL); err != nil {
				return err
			}
		}
	}
	md := markdown(o, all, dbs, loads, pg)
	fmt.Println(md)
	if o.out != "" {
		f, err := os.OpenFile(o.out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.WriteString(md + "\n")
		return err
	}
	return nil
}

// runDB measures one database's routes; avg is the load average just
// before the first measured route and just after the last.
func runDB(o options, db, tmp string) (_ []result, avg [2]loadAvg, err error) {
	self, err := os.Executable()
	if err != nil {
		return nil, avg, err
	}
	bareAddr, err := freeAddr()
	if err != nil {
		return nil, avg, err
	}
	bare := exec.Command(self, "-serve-bare", bareAddr)
	bare.Stderr = os.Stderr
	if err := bare.Start(); err != nil {
		return nil, avg, err
	}
	defer stop(bare)

	if err := waitReady("http://"+bareAddr+"/json", 10*time.Second); err != nil {
		return nil, avg, fmt.Errorf("bare server: %w", err)
	}
	portalAddr, auth, stopPortal, err := startPortal(o, o.portal, db, tmp, "", nil)
	if err != nil {
		return nil, avg, err
	}
	defer stopPortal()
	var stops []func()
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()
	type target struct{ name, addr, path, auth string }
	targets := []target{
		{"bare Fiber JSON (baseline)", bareAddr, "/json", ""},
		{"GET /api/v1/me", portalAddr, "/api/v1/me", auth},
		{"GET /api/v1/dashboard", portalAddr, "/api/v1/dashboard", auth},
	}
	// cold adds binary's dashboard with the cache off, on a portal of its own.
	cold := func(binary, prefix, suffix string) error {
		addr, auth, stop, err := startPortal(o, binary, db, tmp, suffix, []string{"PORTAL_DASHBOARD_CACHE_TTL=0s"})
		if err != nil {
			return fmt.Errorf("%scache-off portal: %w", prefix, err)
		}
		stops = append(stops, stop)
		targets = append(targets, target{prefix + "GET /api/v1/dashboard, cache off (cold)", addr, "/api/v1/dashboard", auth})
		return nil
	}
	if o.cold {
		if err := cold(o.portal, "", "-nocache"); err != nil {
			return nil, avg, err
		}
	}
	if o.before != "" {
		beforeAddr, beforeAuth, stopBefore, err := startPortal(o, o.before, db, tmp, "-before", nil)
		if err != nil {
			return nil, avg, fmt.Errorf("-before portal: %w", err)
		}
		stops = append(stops, stopBefore)
		targets = append(targets,
			target{"before: GET /api/v1/me", beforeAddr, "/api/v1/me", beforeAuth},
			target{"before: GET /api/v1/dashboard", beforeAddr, "/api/v1/dashboard", beforeAuth})
		if o.cold {
			if err := cold(o.before, "before: ", "-before-nocache"); err != nil {
				return nil, avg, err
			}
		}
	}
	per := o.warmup + o.duration
	steps := int64(per.Seconds()) * int64(len(targets)*o.rounds)
	bar := progressbar.NewOptions64(steps,
		progressbar.OptionSetDescription(db), progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(time.Second))
	// Rounds interleave the routes, so a change in the machine's load
	// (it is shared) affects the baseline and the portal alike.
	avg[0] = readLoad()
	warnLoad(db, "before", avg[0])
	samples := make([][]sample, len(targets))
	step := int64(0)
	for round := 1; round <= o.rounds; round++ {
		for i, t := range targets {
			bar.Describe(fmt.Sprintf("%s round %d/%d: %s", db, round, o.rounds, t.name))
			base := step
			s, err := load(t.addr, t.path, t.auth, o.conns, o.warmup, o.duration, func(elapsed time.Duration) {
				_ = bar.Set64(base + int64(elapsed.Seconds()))
			})
			if err != nil {
				return nil, avg, fmt.Errorf("%s: %w", t.name, err)
			}
			samples[i] = append(samples[i], s)
			step += int64(per.Seconds())
		}
	}
	avg[1] = readLoad()
	warnLoad(db, "after", avg[1])
	var out []result
	for i, t := range targets {
		r, err := summarise(samples[i])
		if err != nil {
			return nil, avg, fmt.Errorf("%s: %w", t.name, err)
		}
		r.DB, r.Name, r.Path = db, t.name, t.path
		out = append(out, r)
	}
	_ = bar.Finish()
	return out, avg, nil
}

// startPortal starts binary with demo data on db (its own data dir, or a
// fresh PostgreSQL database), signs in as the demo customer and checks the
// dashboard. It returns the address, the Authorization header and a stop
// function.
func startPortal(o options, binary, db, tmp, suffix string, extraEnv []string) (addr, auth string, stopAll func(), err error) {
	var cleanups []func()
	cleanup := func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	stopAll = cleanup
	defer func() {
		if err != nil {
			cleanup() // the error returns set stopAll to nil
		}
	}()
	env := append(os.Environ(), "PORTAL_LOG_FORMAT=json", "PORTAL_LOG_LEVEL="+o.logLevel)
	env = append(env, extraEnv...)
	if db == "postgres" {
		if o.pgURL == "" {
			return "", "", nil, errors.New("-pg-url (or PORTAL_TEST_DATABASE_URL) is required for PostgreSQL")
		}
		dbURL, drop, err := freshDatabase(o.pgURL)
		if err != nil {
			return "", "", nil, err
		}
		cleanups = append(cleanups, drop)
		env = append(env, "PORTAL_DATABASE_URL="+dbURL)
	}
	addr, err = freeAddr()
	if err != nil {
		return "", "", nil, err
	}
	// Each portal's embedded MQTT broker on its own port: several portals
	// (and other benchmarks on the machine) run at once.
	mqttAddr, err := freeAddr()
	if err != nil {
		return "", "", nil, err
	}
	env = append(env, "PORTAL_MQTT_LISTEN="+mqttAddr)
	dataDir := filepath.Join(tmp, "data-"+db+suffix)
	env = append(env, "PORTAL_HTTP_ADDR="+addr, "PORTAL_DATA_DIR="+dataDir, "PORTAL_HTTP_BASE_URL=http://"+addr)
	logFile, err := os.Create(filepath.Join(tmp, "portal-"+db+suffix+".log"))
	if err != nil {
		return "", "", nil, err
	}
	cleanups = append(cleanups, func() { logFile.Close() })
	portal := exec.Command(binary, "serve", "--demo", "--demo-password", demoPassword)
	portal.Env, portal.Stdout, portal.Stderr = env, logFile, logFile
	if err := portal.Start(); err != nil {
		return "", "", nil, err
	}
	cleanups = append(cleanups, func() { stop(portal) })
	if err := waitReady("http://"+addr+"/readyz", 60*time.Second); err != nil {
		tail, _ := os.ReadFile(logFile.Name())
		return "", "", nil, fmt.Errorf("portal did not get ready: %w\n%s", err, lastLines(string(tail), 20))
	}
	token, err := login(addr)
	if err != nil {
		return "", "", nil, err
	}
	auth = "Bearer " + token
	if err := checkDashboard(addr, auth); err != nil {
		return "", "", nil, err
	}
	return addr, auth, stopAll, nil
}

// load runs conns closed-loop workers against addr+path: warm-up first
// (not measured), then duration measured.
func load(addr, path, auth string, conns int, warmup, duration time.Duration, progress func(time.Duration)) (sample, error) {
	hc := &fasthttp.HostClient{Addr: addr, MaxConns: conns, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
		MaxIdleConnDuration: time.Minute}
	var measuring atomic.Bool
	var stopped atomic.Bool
	var errCount, bodyBytes atomic.Int64
	lat := make([][]time.Duration, conns)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(res)
			req.SetRequestURI("http://" + addr + path)
			req.Header.SetMethod(fasthttp.MethodGet)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			local := make([]time.Duration, 0, 1<<14)
			for !stopped.Load() {
				start := time.Now()
				err := hc.Do(req, res)
				d := time.Since(start)
				if !measuring.Load() {
					continue
				}
				if err != nil || res.StatusCode() != 200 {
					errCount.Add(1)
					if err == nil {
						err = fmt.Errorf("status %d: %s", res.StatusCode(), truncate(string(res.Body()), 200))
					}
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				bodyBytes.Store(int64(len(res.Body())))
				local = append(local, d)
			}
			lat[w] = local
		}(w)
	}
	start := time.Now()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var measureStart time.Time
	for {
		<-tick.C
		el := time.Since(start)
		progress(el)
		if measureStart.IsZero() && el >= warmup {
			measuring.Store(true)
			measureStart = time.Now()
		}
		if !measureStart.IsZero() && time.Since(measureStart) >= duration {
			measuring.Store(false)
			break
		}
	}
	elapsed := time.Since(measureStart)
	stopped.Store(true)
	wg.Wait()
	sm := sample{elapsed: elapsed, errors: errCount.Load(), bytes: int(bodyBytes.Load())}
	for _, l := range lat {
		sm.lat = append(sm.lat, l...)
	}
	if msg, ok := firstErr.Load().(string); ok {
		sm.firstErr = msg
		fmt.Fprintf(os.Stderr, "\n%s%s: %d errors, first: %s\n", addr, path, sm.errors, msg)
	}
	return sm, nil
}

// sample is one measured period of one route.
type sample struct {
	lat      []time.Duration
	errors   int64
	elapsed  time.Duration
	bytes    int
	firstErr string
}

// summarise merges the rounds of one route: requests/s over the measured
// time of all rounds, percentiles over every request.
func summarise(ss []sample) (result, error) {
	var all []time.Duration
	var r result
	var elapsed time.Duration
	for _, s := range ss {
		all = append(all, s.lat...)
		r.Errors += s.errors
		elapsed += s.elapsed
		r.Bytes = s.bytes
		r.Rounds = append(r.Rounds, float64(len(s.lat))/s.elapsed.Seconds())
	}
	if len(all) == 0 {
		return r, fmt.Errorf("no successful request (%d errors; first: %s)", r.Errors, ss[0].firstErr)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	q := func(p float64) time.Duration { return all[int(p*float64(len(all)-1))] }
	r.Requests = int64(len(all))
	r.RPS = float64(len(all)) / elapsed.Seconds()
	r.P50, r.P90, r.P99, r.Max = q(0.50), q(0.90), q(0.99), all[len(all)-1]
	return r, nil
}

func markdown(o options, rs []result, dbs []string, loads map[string][2]loadAvg, pg string) string {
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "Run %s on %s (%d CPUs, %s), %d connections, %d interleaved rounds of %s measured after %s warm-up per route, portal log level %s.\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), host, runtime.NumCPU(), runtime.Version(), o.conns, o.rounds, o.duration, o.warmup, o.logLevel)
	for _, db := range dbs {
		l := loads[db]
		fmt.Fprintf(&b, "Load average (1/5/15 min) during %s: %s before, %s after", db, l[0], l[1])
		if l[0].busy() || l[1].busy() {
			fmt.Fprintf(&b, " — **above %g: repeat the run on a quieter machine**", busyLoad)
		}
		b.WriteString(".\n")
	}
	if pg != "" {
		fmt.Fprintf(&b, "PostgreSQL server settings: %s.\n", pg)
	}
	b.WriteString("\n")
	b.WriteString("| database | route | requests/s | per round | p50 | p90 | p99 | max | errors | body bytes | of baseline |\n")
	b.WriteString("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	base := map[string]float64{}
	for _, r := range rs {
		if r.Path == "/json" {
			base[r.DB] = r.RPS
		}
	}
	for _, r := range rs {
		ratio := "—"
		if r.Path != "/json" && base[r.DB] > 0 {
			ratio = fmt.Sprintf("%.1f%%", 100*r.RPS/base[r.DB])
		}
		var rounds []string
		for _, x := range r.Rounds {
			rounds = append(rounds, fmt.Sprintf("%.0f", x))
		}
		fmt.Fprintf(&b, "| %s | %s | %.0f | %s | %s | %s | %s | %s | %d | %d | %s |\n", r.DB, r.Name, r.RPS, strings.Join(rounds, " / "),
			ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max), r.Errors, r.Bytes, ratio)
	}
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func login(addr string) (string, error) {
	body, _ := json.Marshal(map[string]string{"org": "demo", "email": "customer@demo.example", "password": demoPassword})
	req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(res)
	req.SetRequestURI("http://" + addr + "/api/v1/auth/login")
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	req.SetBody(body)
	if err := fasthttp.DoTimeout(req, res, 30*time.Second); err != nil {
		return "", err
	}
	if res.StatusCode() != 200 {
		return "", fmt.Errorf("sign-in as the demo customer: %d %s", res.StatusCode(), res.Body())
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(res.Body(), &out); err != nil || out.Token == "" {
		return "", fmt.Errorf("sign-in answer: %v %s", err, res.Body())
	}
	return out.Token, nil
}

// checkDashboard makes sure the measured dashboard is a real one: widgets
// with data, none failing.
func checkDashboard(addr, auth string) error {
	req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(res)
	req.SetRequestURI("http://" + addr + "/api/v1/dashboard")
	req.Header.Set("Authorization", auth)
	if err := fasthttp.DoTimeout(req, res, 30*time.Second); err != nil {
		return err
	}
	var d struct {
		Widgets []struct {
			ID    string          `json:"id"`
			Data  json.RawMessage `json:"data"`
			Error string          `json:"error"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal(res.Body(), &d); err != nil || res.StatusCode() != 200 {
		return fmt.Errorf("dashboard: %d %v %s", res.StatusCode(), err, truncate(string(res.Body()), 300))
	}
	if len(d.Widgets) == 0 {
		return errors.New("the demo customer's dashboard has no widgets")
	}
	for _, w := range d.Widgets {
		if w.Error != "" || !bytes.Contains(w.Data, []byte("{")) {
			return fmt.Errorf("dashboard widget %s failed: %s", w.ID, w.Error)
		}
	}
	return nil
}

func freshDatabase(serverURL string) (string, func(), error) {
	var raw [4]byte
	_, _ = rand.Read(raw[:])
	name := "portal_bench_" + hex.EncodeToString(raw[:])
	admin, err := gorm.Open(postgres.Open(serverURL), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return "", nil, err
	}
	if err := admin.Exec("CREATE DATABASE " + name).Error; err != nil {
		return "", nil, err
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	u.Path = "/" + name
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := admin.WithContext(ctx).Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)").Error; err != nil {
			fmt.Fprintln(os.Stderr, "dropping", name+":", err)
		}
		if d, err := admin.DB(); err == nil {
			d.Close()
		}
	}
	return u.String(), drop, nil
}

func freeAddr() (string, error) {
	ln, err := listen()
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitReady(u string, within time.Duration) error {
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) {
		status, _, err := fasthttp.GetTimeout(nil, u, 2*time.Second)
		if err == nil && status == 200 {
			return nil
		}
		last = err
		if err == nil {
			last = fmt.Errorf("status %d", status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s: %v", u, last)
}

// stop ends a child process: SIGINT first (the portal shuts down cleanly),
// then kill.
func stop(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
