// Command ingest benchmarks the device gateway on PostgreSQL: N devices
// publish QoS 1 readings through the embedded broker; the portal routes,
// validates and stores them with the batched writer. It reports readings
// stored and committed per second, p50/p99 from publish to commit and the
// portal's memory, against a baseline measured in the same run: the same
// publishers through a bare mochi broker (no hooks beyond allow-all) to
// one plain QoS 1 subscriber (what it received, and what it acknowledged
// to the publishers). It then measures the portal's memory with -idle
// devices connected and silent. -cpuprofile profiles the portal's ingest.
//
//	PORTAL_BENCH_DATABASE_URL=postgres://... go run ./bench/ingest -devices 1000 -duration 15s -idle 10000
//
// PORTAL_TEST_DATABASE_URL is used when PORTAL_BENCH_DATABASE_URL is unset.
// The load generator runs as a child process (this binary with -role), so
// the portal's memory is its own. Work happens in a fresh schema, dropped
// at the end.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/portalkit/portalkit/bench/benchdb"
	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/app"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/store"
)

// reading is the benchmark stream's payload; Sent is the publish time.
type reading struct {
	Seq  int64   `json:"seq"`
	Sent int64   `json:"sent"`
	Temp float64 `json:"temp"`
}

type benchModule struct{}

func (benchModule) Info() module.Info {
	return module.Info{ID: "benchgauge", Name: "Bench gauge", Version: "1.0.0", Description: "benchmark stream"}
}

func (benchModule) Init(h module.Host) error {
	h.Topic("temp", devices.Stream[reading]{
		Validate: func(r reading) error {
			if r.Temp < -60 || r.Temp > 150 {
				return fmt.Errorf("temp out of range")
			}
			return nil
		},
		Value: func(r reading) float64 { return r.Temp },
	})
	return nil
}

// cpuProfile is where the ingest phase's CPU profile goes ("" for none).
var cpuProfile string

// writers overrides mqtt.writers (0: the default).
var writers int

// mosquittoBin is the Mosquitto binary for the external-broker memory
// measurement ("" skips it).
var mosquittoBin string

// memProfile is where the idle phase's heap profile goes ("" for none).
var memProfile string

// cred is one device's credentials, handed to the load generator.
type cred struct{ ID, Secret, Topic string }

func main() {
	role := flag.String("role", "", "internal: load, idle or bare (the child processes)")
	n := flag.Int("devices", 1000, "publishing devices")
	dur := flag.Duration("duration", 10*time.Second, "publishing time per phase")
	window := flag.Int("window", 10, "unacknowledged publishes per device")
	idle := flag.Int("idle", 10000, "idle devices for the memory measurement (0 skips it)")
	batch := flag.Int("batch", 0, "mqtt.batch_size (0: the default)")
	flag.IntVar(&writers, "writers", 0, "mqtt.writers (0: the default)")
	credsPath := flag.String("creds", "", "internal: credentials file")
	brokerURL := flag.String("url", "", "internal: broker URL")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the portal's ingest phase to this file")
	flag.StringVar(&mosquittoBin, "mosquitto", "", "also measure the production path with this Mosquitto binary and deploy/mosquitto/mosquitto.conf: ingest through it into a second portal instance, and its memory with the idle devices")
	flag.StringVar(&memProfile, "memprofile", "", "write a heap profile of the portal with the idle devices connected to this file")
	fleet := flag.String("fleet", "", "instead of the ingest phases: grow idle raw-MQTT devices on -mosquitto through these counts (e.g. 1000,10000,50000,100000), measuring the portal and Mosquitto at each (fleet.go)")
	fleetSrc := flag.String("fleet-src", "", "internal: the fleet child's loopback source address")
	fleetRange := flag.String("fleet-range", "", "internal: the fleet child's devices, from:to")
	flag.Parse()
	var err error
	switch *role {
	case "load":
		err = load(*credsPath, *brokerURL, *dur, *window)
	case "idle":
		err = idleClients(*credsPath, *brokerURL)
	case "bare":
		err = bareBroker()
	case "fleet":
		err = fleetChild(*credsPath, *brokerURL, *fleetSrc, *fleetRange)
	default:
		if *fleet != "" {
			var steps []int
			steps, err = parseSteps(*fleet)
			if err == nil {
				err = runFleet(steps, *dur)
			}
			break
		}
		err = run(*n, *dur, *window, *idle, *batch)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/ingest:", err)
		os.Exit(1)
	}
}

func run(n int, dur time.Duration, window, idle, batch int) error {
	ctx := context.Background()
	cfg, tmp, cleanup, err := benchConfig()
	if err != nil {
		return err
	}
	defer cleanup()
	if batch > 0 {
		cfg.MQTT.BatchSize = batch
	}
	if writers > 0 {
		cfg.MQTT.Writers = writers
	}
	a, org, owner, err := benchApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	creds, err := register(ctx, a.Store, org, owner.ID, n)
	if err != nil {
		return err
	}
	credsPath := filepath.Join(tmp, "creds.json")
	if err := writeJSON(credsPath, creds); err != nil {
		return err
	}
	fmt.Printf("bench/ingest: %d devices, QoS 1, window %d per device, %s per phase, batch %d, PostgreSQL, %d CPUs\n", n, window, dur, cfg.MQTT.BatchSize, runtime.NumCPU())

	// Baseline: the same publishers through a bare broker to one plain
	// QoS 1 subscriber.
	baseRate, baseAcked, err := baseline(credsPath, dur, window)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	fmt.Printf("baseline   raw broker publisher -> subscriber: %8.0f msg/s; acknowledged to the publishers: %8.0f msg/s\n", baseRate, baseAcked)

	// The portal.
	if err := a.Start(ctx); err != nil {
		return err
	}
	defer a.Stop(ctx)
	res, err := ingestPhase(a, credsPath, "tcp://"+a.Devices.BrokerAddr(), dur, window, cpuProfile)
	if err != nil {
		return err
	}
	res.print("portal", baseRate, baseAcked)

	if idle > 0 {
		if err := idleMemory(ctx, a, org, owner.ID, idle, tmp); err != nil {
			return fmt.Errorf("idle: %w", err)
		}
	}
	if mosquittoBin != "" {
		if err := mosquittoIngest(ctx, cfg, a, credsPath, dur, window, tmp); err != nil {
			return fmt.Errorf("mosquitto ingest: %w", err)
		}
	}
	return nil
}

// benchConfig returns the portal configuration of a run: a fresh schema
// and a temporary data directory, which cleanup removes.
func benchConfig() (cfg config.Config, tmp string, cleanup func(), err error) {
	dsn, drop, err := benchdb.Schema()
	if err != nil {
		return cfg, "", nil, err
	}
	tmp, _ = os.MkdirTemp("", "portal-bench-ingest-")
	cfg = config.Default()
	cfg.DataDir = tmp
	cfg.Database.URL = dsn
	cfg.HTTP.BaseURL = "http://portal.bench"
	cfg.Log.Level = "warn"
	cfg.MQTT.Listen = "127.0.0.1:0"
	cfg.MQTT.RatePerDevice = 0
	return cfg, tmp, func() { os.RemoveAll(tmp); drop() }, nil
}

// benchArgon2 keeps password hashing cheap: no bench measures it.
var benchArgon2 = &accounts.Argon2Params{MemoryKiB: 1024, Time: 1, Threads: 1}

// benchApp builds a portal with the bench module on cfg and, on a
// database without them, the bench organisation and the devices' owner.
func benchApp(ctx context.Context, cfg config.Config) (*app.App, *accounts.Org, *accounts.User, error) {
	a, err := app.New(ctx, app.Options{Config: cfg, Modules: []module.Module{benchModule{}}, LogOutput: io.Discard, Argon2: benchArgon2})
	if err != nil {
		return nil, nil, nil, err
	}
	org, err := a.Accounts.CreateOrg(ctx, accounts.NewOrg{Slug: "bench", Name: "Bench", TimeZone: "UTC"})
	if err != nil {
		a.Close()
		return nil, nil, nil, err
	}
	owner, err := a.Accounts.CreateUser(ctx, nil, org.ID, accounts.NewUser{Email: "owner@bench.example", Name: "Owner", Role: accounts.Customer, Password: "bench-password-123", Verified: true})
	if err != nil {
		a.Close()
		return nil, nil, nil, err
	}
	return a, org, owner, nil
}

// phase is what one ingest phase measured.
type phase struct {
	published, stored, rows int64
	elapsed                 time.Duration
	acked                   float64 // acknowledged to the devices per second
	p50, p99                time.Duration
	heldP50                 time.Duration // from routing (the portal got it) to commit
	rssBefore, rssPeak      int64
}

// ingestPhase runs the load generator against url while the portal a
// ingests, and measures what a committed: the rate from its first commit
// to its last, the publish → commit latency, and the process's memory.
func ingestPhase(a *app.App, credsPath, url string, dur time.Duration, window int, profile string) (*phase, error) {
	var stored atomic.Int64
	var mu sync.Mutex
	var lat, held []time.Duration
	var first, last atomic.Int64
	a.Devices.ObserveCommits(func(rows []devices.Reading, at time.Time) {
		stored.Add(int64(len(rows)))
		first.CompareAndSwap(0, at.UnixNano())
		last.Store(at.UnixNano())
		ds := make([]time.Duration, 0, len(rows))
		hs := make([]time.Duration, 0, len(rows))
		for i := range rows {
			if sent := sentOf(rows[i].Payload); sent > 0 {
				ds = append(ds, at.Sub(time.Unix(0, sent)))
			}
			hs = append(hs, at.Sub(rows[i].ReceivedAt))
		}
		mu.Lock()
		lat = append(lat, ds...)
		held = append(held, hs...)
		mu.Unlock()
	})
	var rowsBefore int64
	if err := store.AllOrgs(a.Store.DB).Model(&devices.Reading{}).Count(&rowsBefore).Error; err != nil {
		return nil, err
	}
	res := &phase{rssBefore: rss()}
	peak := &peakRSS{}
	stopSampling := peak.sample()
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
	}
	published, acked, err := child("load", credsPath, url, dur, window)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(60 * time.Second)
	for stored.Load() < published && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	stopSampling()
	if profile != "" {
		pprof.StopCPUProfile()
	}
	var rows int64
	if err := store.AllOrgs(a.Store.DB).Model(&devices.Reading{}).Count(&rows).Error; err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	sort.Slice(held, func(i, j int) bool { return held[i] < held[j] })
	pctOf := func(ds []time.Duration, p float64) time.Duration {
		if len(ds) == 0 {
			return 0
		}
		return ds[int(p*float64(len(ds)-1))]
	}
	pct := func(p float64) time.Duration { return pctOf(lat, p) }
	res.heldP50 = pctOf(held, 0.50)
	// From the first commit to the last: the child's connecting is not
	// ingest time.
	res.published, res.stored, res.rows = published, stored.Load(), rows-rowsBefore
	res.elapsed = time.Unix(0, last.Load()).Sub(time.Unix(0, first.Load()))
	res.acked, res.p50, res.p99, res.rssPeak = acked, pct(0.50), pct(0.99), peak.max.Load()
	return res, nil
}

// print reports the phase against the baseline broker's rates.
func (r *phase) print(label string, baseRate, baseAcked float64) {
	rate := float64(r.stored) / r.elapsed.Seconds()
	fmt.Printf("%-10s published %d, committed %d (new rows in table %d) in %s\n", label, r.published, r.stored, r.rows, r.elapsed.Round(time.Millisecond))
	fmt.Printf("%-10s stored and committed:                %8.0f msg/s   ratio to baseline %.2f (to the publishers' acknowledged rate %.2f)\n", label, rate, rate/baseRate, rate/baseAcked)
	fmt.Printf("%-10s acknowledged to the devices:         %8.0f msg/s\n", label, r.acked)
	fmt.Printf("%-10s publish -> commit latency: p50 %s, p99 %s; of it in the portal (routed -> committed): p50 %s\n", label, r.p50.Round(time.Millisecond), r.p99.Round(time.Millisecond), r.heldP50.Round(time.Millisecond))
	fmt.Printf("%-10s memory: RSS %d MiB before, peak %d MiB during ingest\n", label, r.rssBefore>>20, r.rssPeak>>20)
	if r.stored != r.published || r.rows != r.published {
		fmt.Printf("WARNING: %d published but %d committed, %d new rows\n", r.published, r.stored, r.rows)
	}
}

// register creates n devices in bulk (the registry's Create does the same
// per device, with its checks, which is not what is measured here).
func register(ctx context.Context, st *store.Store, org *accounts.Org, ownerID uint, n int) ([]cred, error) {
	out := make([]cred, n)
	rows := make([]devices.Device, n)
	for i := range rows {
		secret := randHex(16)
		h, err := devices.HashSecret(secret)
		if err != nil {
			return nil, err
		}
		id := fmt.Sprintf("dvbench%06d%s", i, randHex(3))
		rows[i] = devices.Device{ID: id, OrgSlug: org.Slug, OwnerID: ownerID, Module: "benchgauge", Name: id, Status: devices.StatusActive, SecretHash: h}
		out[i] = cred{ID: id, Secret: secret, Topic: "t/" + org.Slug + "/d/" + id + "/benchgauge/temp"}
	}
	return out, store.Org(st.DB.WithContext(ctx), org.ID).CreateInBatches(rows, 1000).Error
}

// baseline runs a bare mochi broker with one QoS 1 subscriber and the same
// load, and returns the messages per second the subscriber received and
// the broker acknowledged to the publishers (which is more: the bare
// broker drops what overflows the subscriber's write queue).
func baseline(credsPath string, dur time.Duration, window int) (received, acked float64, err error) {
	srv := mqtt.New(&mqtt.Options{InlineClient: false, Logger: discardLogger()})
	_ = srv.AddHook(new(auth.AllowHook), nil)
	tcp := listeners.NewTCP(listeners.Config{ID: "base", Address: "127.0.0.1:0"})
	if err := srv.AddListener(tcp); err != nil {
		return 0, 0, err
	}
	if err := srv.Serve(); err != nil {
		return 0, 0, err
	}
	defer srv.Close()
	return subscriberRate("tcp://"+tcp.Address(), "", "", credsPath, dur, window)
}

// subscriberRate runs the load generator against the broker at url with
// one plain QoS 1 subscriber to every device topic (as user, if given),
// and returns the messages per second the subscriber received and the
// broker acknowledged to the publishers.
func subscriberRate(url, user, pass, credsPath string, dur time.Duration, window int) (received, acked float64, err error) {
	var got atomic.Int64
	var first, last atomic.Int64
	o := paho.NewClientOptions().AddBroker(url).SetClientID("baseline-sub").SetOrderMatters(false)
	if user != "" {
		o.SetUsername(user).SetPassword(pass)
	}
	sub := paho.NewClient(o)
	if tk := sub.Connect(); !tk.WaitTimeout(10*time.Second) || tk.Error() != nil {
		return 0, 0, fmt.Errorf("subscriber: %v", tk.Error())
	}
	defer sub.Disconnect(100)
	if tk := sub.Subscribe("t/+/d/+/#", 1, func(_ paho.Client, _ paho.Message) {
		now := time.Now().UnixNano()
		first.CompareAndSwap(0, now)
		last.Store(now)
		got.Add(1)
	}); !tk.WaitTimeout(10*time.Second) || tk.Error() != nil {
		return 0, 0, fmt.Errorf("subscribe: %v", tk.Error())
	}
	published, acked, err := child("load", credsPath, url, dur, window)
	if err != nil {
		return 0, 0, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for got.Load() < published && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got.Load() < published {
		fmt.Printf("baseline   note: subscriber received %d of %d\n", got.Load(), published)
	}
	return float64(got.Load()) / time.Unix(0, last.Load()).Sub(time.Unix(0, first.Load())).Seconds(), acked, nil
}

// idleMemory connects idle devices and reports the portal's memory.
func idleMemory(ctx context.Context, a *app.App, org *accounts.Org, ownerID uint, idle int, tmp string) error {
	creds, err := register(ctx, a.Store, org, ownerID, idle)
	if err != nil {
		return err
	}
	p := filepath.Join(tmp, "idle.json")
	if err := writeJSON(p, creds); err != nil {
		return err
	}
	if err := bareIdle(p, idle); err != nil {
		return fmt.Errorf("bare broker: %w", err)
	}
	if mosquittoBin != "" {
		if err := mosquittoIdle(ctx, a, p, idle, tmp); err != nil {
			return fmt.Errorf("mosquitto: %w", err)
		}
	}
	debug.FreeOSMemory()
	before := rss()
	fleet, err := connectIdle(p, "tcp://"+a.Devices.BrokerAddr())
	if err != nil {
		return err
	}
	defer fleet.close()
	debug.FreeOSMemory()
	after := rss()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("idle       %s; portal RSS %d MiB before, %d MiB with them (+%d MiB, %.1f KiB per device); goroutines %d, Go heap in use %d MiB, stacks %d MiB\n",
		fleet.summary, before>>20, after>>20, (after-before)>>20, float64(after-before)/1024/float64(idle), runtime.NumGoroutine(), ms.HeapInuse>>20, ms.StackInuse>>20)
	// Each GC halves the stacks of goroutines that use under a quarter of
	// theirs (idle connections); a running portal collects at least every
	// two minutes, so a few cycles later is where it settles.
	for range 4 {
		runtime.GC()
	}
	debug.FreeOSMemory()
	settled := rss()
	runtime.ReadMemStats(&ms)
	fmt.Printf("idle       after 5 GC cycles: portal RSS %d MiB (+%d MiB, %.1f KiB per device); Go heap in use %d MiB, stacks %d MiB\n",
		settled>>20, (settled-before)>>20, float64(settled-before)/1024/float64(idle), ms.HeapInuse>>20, ms.StackInuse>>20)
	if b := bareRSS.Load(); b > 0 {
		fmt.Printf("idle       portal RSS %.2f× the bare broker's with the same devices (+%d MiB)\n", float64(settled)/float64(b), (settled-b)>>20)
	}
	if memProfile != "" {
		f, err := os.Create(memProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			return err
		}
	}
	return nil
}

// bareIdle is the memory baseline: a bare mochi broker in its own process,
// with the embedded broker's options (devices.BrokerOptions) and an
// allow-all hook, holding the same idle connections. What the portal
// needs beyond it is the portal's own cost.
func bareIdle(credsPath string, idle int) error {
	cmd := exec.Command(os.Args[0], "-role", "bare")
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
	defer func() { stdin.Close(); _ = cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	next := func() (string, error) {
		if !lines.Scan() {
			return "", fmt.Errorf("the bare broker stopped: %v", lines.Err())
		}
		return lines.Text(), nil
	}
	measure := func() (bareMem, error) {
		var m bareMem
		if _, err := io.WriteString(stdin, "measure\n"); err != nil {
			return m, err
		}
		line, err := next()
		if err != nil {
			return m, err
		}
		return m, json.Unmarshal([]byte(line), &m)
	}
	url, err := next()
	if err != nil {
		return err
	}
	empty, err := measure()
	if err != nil {
		return err
	}
	fleet, err := connectIdle(credsPath, url)
	if err != nil {
		return err
	}
	defer fleet.close()
	full, err := measure()
	if err != nil {
		return err
	}
	fmt.Printf("idle       baseline, bare broker: %s; RSS %d MiB before, %d MiB with them (+%d MiB, %.1f KiB per device) after 5 GC cycles; Go heap in use %d MiB, stacks %d MiB\n",
		fleet.summary, empty.RSS>>20, full.RSS>>20, (full.RSS-empty.RSS)>>20, float64(full.RSS-empty.RSS)/1024/float64(idle), full.Heap>>20, full.Stacks>>20)
	bareRSS.Store(full.RSS)
	return nil
}

// mosquittoIdle measures the production path's broker: Mosquitto with the
// shipped configuration and the registry's exported password file and
// ACL, holding the same idle devices. (The portal then keeps one
// connection to it, whatever the number of devices.)
func mosquittoIdle(ctx context.Context, a *app.App, credsPath string, idle int, tmp string) error {
	broker, err := startMosquitto(ctx, a, filepath.Join(tmp, "mosquitto-idle"))
	if err != nil {
		return err
	}
	defer broker.stop()
	empty := rssOf(broker.cmd.Process.Pid)
	fleet, err := connectIdle(credsPath, broker.url)
	if err != nil {
		return err
	}
	defer fleet.close()
	full := rssOf(broker.cmd.Process.Pid)
	fmt.Printf("idle       Mosquitto (deploy/mosquitto, %s): %s; broker RSS %d MiB before, %d MiB with them (+%.1f KiB per device)\n",
		mosquittoBin, fleet.summary, empty>>20, full>>20, float64(full-empty)/1024/float64(idle))
	return nil
}

// mosquittoLog receives the Mosquitto processes' log (-fleet sends it to a
// file: a line per connecting device).
var mosquittoLog io.Writer = os.Stderr

// mosquitto is a Mosquitto process the bench started.
type mosquitto struct {
	cmd *exec.Cmd
	url string
}

// startMosquitto starts Mosquitto with the shipped configuration
// (deploy/mosquitto/mosquitto.conf, its paths moved to dir and its
// listener to a free port) and the password file and ACL exported from
// the registry, with the portal's accounts.
func startMosquitto(ctx context.Context, a *app.App, dir string, portal ...devices.PortalAccount) (*mosquitto, error) {
	src, err := os.ReadFile(filepath.Join("deploy", "mosquitto", "mosquitto.conf"))
	if err != nil {
		return nil, fmt.Errorf("run from the repository's root: %w", err)
	}
	if _, err := a.Devices.ExportMosquitto(ctx, dir, portal...); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	conf := strings.ReplaceAll(string(src), "/etc/mosquitto/portal", dir)
	conf = strings.ReplaceAll(conf, "/var/lib/mosquitto/", dir+"/")
	conf = strings.Replace(conf, "listener 1883 127.0.0.1", fmt.Sprintf("listener %d 127.0.0.1", port), 1)
	if !strings.Contains(conf, fmt.Sprintf("listener %d", port)) {
		return nil, errors.New("deploy/mosquitto/mosquitto.conf no longer has the listener line this rewrites")
	}
	conf += "\nuser root\n"
	if err := os.WriteFile(filepath.Join(dir, "mosquitto.conf"), []byte(conf), 0o644); err != nil {
		return nil, err
	}
	m := &mosquitto{cmd: exec.Command(mosquittoBin, "-c", filepath.Join(dir, "mosquitto.conf")), url: fmt.Sprintf("tcp://127.0.0.1:%d", port)}
	m.cmd.Stdout, m.cmd.Stderr = mosquittoLog, mosquittoLog
	if err := m.cmd.Start(); err != nil {
		return nil, err
	}
	// It reads the whole password file and ACL before it listens: with
	// 100 000 devices that takes minutes (Mosquitto 2.0 loads a per-user
	// ACL in quadratic time: docs/scaling.md).
	for range 12000 {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return m, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	m.stop()
	return nil, fmt.Errorf("%s did not listen on port %d within 10 minutes", mosquittoBin, port)
}

func (m *mosquitto) stop() { _ = m.cmd.Process.Signal(syscall.SIGTERM); _ = m.cmd.Wait() }

// mosquittoIngest measures the production path: the same load through
// Mosquitto (shipped configuration) into a second portal instance on the
// same database that reads it with its Paho client (shared subscription,
// persistent session, acknowledgement after commit). Its baseline, in the
// same run: the load through the same Mosquitto to one plain QoS 1
// subscriber.
func mosquittoIngest(ctx context.Context, cfg config.Config, a *app.App, credsPath string, dur time.Duration, window int, tmp string) error {
	pw := randHex(16)
	hash, err := devices.HashSecret(pw)
	if err != nil {
		return err
	}
	broker, err := startMosquitto(ctx, a, filepath.Join(tmp, "mosquitto-ingest"), devices.PortalAccount{Username: "portal-bench", Hash: hash})
	if err != nil {
		return err
	}
	defer broker.stop()
	baseRate, baseAcked, err := subscriberRate(broker.url, "portal-bench", pw, credsPath, dur, window)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	fmt.Printf("mosquitto  baseline publisher -> plain subscriber: %8.0f msg/s; acknowledged to the publishers: %8.0f msg/s\n", baseRate, baseAcked)
	b, stop, err := portalOnMosquitto(ctx, cfg, broker.url, pw)
	if err != nil {
		return err
	}
	defer stop()
	profile := ""
	if cpuProfile != "" {
		profile = cpuProfile + ".mosquitto"
	}
	res, err := ingestPhase(b, credsPath, broker.url, dur, window, profile)
	if err != nil {
		return err
	}
	res.print("mosquitto", baseRate, baseAcked)
	return nil
}

// bareRSS is the bare broker's RSS with the idle devices, for the ratio.
var bareRSS atomic.Int64

// bareMem is what the bare broker reports when asked to measure.
type bareMem struct{ RSS, Heap, Stacks int64 }

// bareBroker runs the baseline broker: it prints its URL, then answers
// each line on stdin with its memory after five GC cycles, and stops when
// stdin closes.
func bareBroker() error {
	srv := mqtt.New(devices.BrokerOptions(config.Default().MQTT))
	_ = srv.AddHook(new(auth.AllowHook), nil)
	tcp := listeners.NewTCP(listeners.Config{ID: "bare", Address: "127.0.0.1:0"})
	if err := srv.AddListener(tcp); err != nil {
		return err
	}
	if err := srv.Serve(); err != nil {
		return err
	}
	// No srv.Close at the end: it can wait on the 10 000 connections
	// dropping at once, and this process only exits.
	fmt.Println("tcp://" + tcp.Address())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		for range 5 {
			runtime.GC()
		}
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b, _ := json.Marshal(bareMem{RSS: rss(), Heap: int64(ms.HeapInuse), Stacks: int64(ms.StackInuse)})
		fmt.Println(string(b))
	}
	return nil
}

// child runs the load generator and returns how many messages the
// broker acknowledged to it and at what rate (from the first publish to
// the last acknowledgement).
func child(role, credsPath, url string, dur time.Duration, window int) (int64, float64, error) {
	cmd := exec.Command(os.Args[0], "-role", role, "-creds", credsPath, "-url", url, "-duration", dur.String(), "-window", strconv.Itoa(window))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, fmt.Errorf("load generator: %w", err)
	}
	var n int64
	var secs float64
	if _, err := fmt.Sscan(string(out), &n, &secs); err != nil {
		return 0, 0, fmt.Errorf("load generator output %q: %w", out, err)
	}
	return n, float64(n) / secs, nil
}

// load connects every device and publishes for dur with at most window
// unacknowledged messages per device; it prints the acknowledged count.
func load(credsPath, url string, dur time.Duration, window int) error {
	var creds []cred
	if err := readJSON(credsPath, &creds); err != nil {
		return err
	}
	clients, err := connectAll(creds, url)
	if err != nil {
		return err
	}
	var acked atomic.Int64
	var wg sync.WaitGroup
	begin := time.Now()
	end := begin.Add(dur)
	for i, c := range clients {
		wg.Add(1)
		go func(i int, c paho.Client) {
			defer wg.Done()
			pending := make([]paho.Token, 0, window)
			for seq := int64(0); time.Now().Before(end); seq++ {
				if len(pending) == window {
					if pending[0].WaitTimeout(60*time.Second) && pending[0].Error() == nil {
						acked.Add(1)
					}
					pending = pending[1:]
				}
				payload := fmt.Sprintf(`{"seq":%d,"sent":%d,"temp":21.5}`, seq, time.Now().UnixNano())
				pending = append(pending, c.Publish(creds[i].Topic, 1, false, payload))
			}
			for _, tk := range pending {
				if tk.WaitTimeout(60*time.Second) && tk.Error() == nil {
					acked.Add(1)
				}
			}
		}(i, c)
	}
	wg.Wait()
	for _, c := range clients {
		c.Disconnect(50)
	}
	fmt.Println(acked.Load(), time.Since(begin).Seconds())
	return nil
}

// idleFleet is the child process that holds the idle devices'
// connections.
type idleFleet struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	read    chan struct{} // closed when its output has been read to the end
	summary string        // its report: how many connected, how fast
}

// connectIdle starts the child that connects every device of credsPath to
// url and returns once all are connected and two more seconds have passed
// (for the broker to settle), or with an error if the child stops first.
func connectIdle(credsPath, url string) (*idleFleet, error) {
	cmd, stdin, stdout, err := startChild("-role", "idle", "-creds", credsPath, "-url", url)
	if err != nil {
		return nil, err
	}
	f := &idleFleet{cmd: cmd, stdin: stdin, read: make(chan struct{})}
	report := make(chan string, 1)
	go func() {
		defer close(f.read)
		lines := bufio.NewScanner(stdout)
		if lines.Scan() {
			report <- lines.Text()
		}
		close(report)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line, ok := <-report:
		if !ok {
			f.close()
			return nil, errors.New("the idle devices' process stopped before they were all connected")
		}
		f.summary = line
	case <-time.After(5 * time.Minute):
		_ = cmd.Process.Kill()
		f.close()
		return nil, errors.New("the idle devices were not all connected within 5 minutes")
	}
	time.Sleep(2 * time.Second)
	return f, nil
}

// close disconnects the devices and waits for the child to exit.
func (f *idleFleet) close() {
	f.stdin.Close()
	<-f.read
	_ = f.cmd.Wait()
}

// idleClients connects every device and stays until stdin closes.
func idleClients(credsPath, url string) error {
	var creds []cred
	if err := readJSON(credsPath, &creds); err != nil {
		return err
	}
	t0 := time.Now()
	clients, err := connectAll(creds, url)
	if err != nil {
		return err
	}
	fmt.Printf("%d idle devices connected in %s\n", len(clients), time.Since(t0).Round(time.Millisecond))
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

func connectAll(creds []cred, url string) ([]paho.Client, error) {
	clients := make([]paho.Client, len(creds))
	sem := make(chan struct{}, 100)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for i, c := range creds {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, c cred) {
			defer func() { <-sem; wg.Done() }()
			o := paho.NewClientOptions().AddBroker(url).SetClientID(c.ID).SetUsername(c.ID).SetPassword(c.Secret).
				SetCleanSession(true).SetKeepAlive(5 * time.Minute).SetAutoReconnect(false).SetConnectTimeout(30 * time.Second)
			cl := paho.NewClient(o)
			if tk := cl.Connect(); !tk.WaitTimeout(60*time.Second) || tk.Error() != nil {
				firstErr.CompareAndSwap(nil, fmt.Errorf("device %s: %v", c.ID, tk.Error()))
				return
			}
			clients[i] = cl
		}(i, c)
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return nil, err
	}
	return clients, nil
}

// sentOf reads "sent" from a payload without a full decode.
func sentOf(p string) int64 {
	i := strings.Index(p, `"sent":`)
	if i < 0 {
		return 0
	}
	p = p[i+7:]
	j := strings.IndexByte(p, ',')
	if j < 0 {
		return 0
	}
	v, _ := strconv.ParseInt(p[:j], 10, 64)
	return v
}

// rss is the process's resident set size in bytes.
func rss() int64 { return rssOf(0) }

// rssOf is process pid's resident set size in bytes (0: this process).
func rssOf(pid int) int64 {
	path := "/proc/self/status"
	if pid > 0 {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

type peakRSS struct{ max atomic.Int64 }

func (p *peakRSS) sample() func() {
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if r := rss(); r > p.max.Load() {
				p.max.Store(r)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(stop) }
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func writeJSON(p string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(p, b, 0o600)
}

func readJSON(p string, v any) error {
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// portalOnMosquitto starts the measured portal with Mosquitto's client, as
// in production, and waits (up to 10 s) until its ingest is connected; stop
// stops and closes it.
func portalOnMosquitto(ctx context.Context, cfg config.Config, url, password string) (*app.App, func(), error) {
	cfg.MQTT.URL, cfg.MQTT.Username, cfg.MQTT.Password, cfg.MQTT.ClientID = url, "portal-bench", password, "portal-bench"
	a, err := app.New(ctx, app.Options{Config: cfg, Modules: []module.Module{benchModule{}}, LogOutput: io.Discard, Argon2: benchArgon2})
	if err != nil {
		return nil, nil, err
	}
	if err := a.Start(ctx); err != nil {
		a.Close()
		return nil, nil, err
	}
	deadline := time.Now().Add(10 * time.Second)
	for a.Devices.Ready(ctx) != nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	return a, func() { a.Stop(ctx); a.Close() }, nil
}

// startChild starts this program again with args (a -role child), its
// stderr ours, and returns the pipes to its stdin (closing it ends the
// child) and from its stdout (its reports).
func startChild(args ...string) (*exec.Cmd, io.WriteCloser, io.ReadCloser, error) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, nil, err
	}
	return cmd, stdin, stdout, nil
}
