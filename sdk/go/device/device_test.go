package device_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/portalkit/portalkit/sdk/go/device"
)

// broker is a Mosquitto started for one test from PORTAL_TEST_MOSQUITTO.
// It accepts any username and password: the portal's gateway checks
// credentials (the main module's tests), these tests are about the SDK's
// MQTT.
type broker struct {
	t    testing.TB
	bin  string
	conf string
	url  string
	cmd  *exec.Cmd
}

func startBroker(t testing.TB) *broker {
	t.Helper()
	bin := os.Getenv("PORTAL_TEST_MOSQUITTO")
	if bin == "" {
		msg := "SERVICE MISSING: Mosquitto is not available (set PORTAL_TEST_MOSQUITTO to the mosquitto binary)"
		if os.Getenv("PORTAL_REQUIRE_SERVICES") == "1" {
			t.Fatalf("%s; PORTAL_REQUIRE_SERVICES=1 makes this a failure", msg)
		}
		t.Skipf("%s — SKIPPED", msg)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	b := &broker{t: t, bin: bin, conf: filepath.Join(dir, "mosquitto.conf"), url: fmt.Sprintf("tcp://127.0.0.1:%d", port)}
	conf := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nmax_inflight_messages 0\nmax_queued_messages 100000\nlog_dest stderr\nlog_type error\n", port)
	if err := os.WriteFile(b.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	b.start()
	t.Cleanup(b.stop)
	return b
}

func (b *broker) start() {
	b.t.Helper()
	b.cmd = exec.Command(b.bin, "-c", b.conf)
	b.cmd.Stderr = os.Stderr
	if err := b.cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	addr := strings.TrimPrefix(b.url, "tcp://")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatal("mosquitto did not start listening")
		}
	}
}

func (b *broker) stop() {
	if b.cmd == nil {
		return
	}
	_ = b.cmd.Process.Kill()
	_ = b.cmd.Wait()
	b.cmd = nil
}

// watch subscribes a plain Paho client to every device topic and collects
// the payloads by topic.
type watcher struct {
	mu  sync.Mutex
	got map[string][]string
	cl  paho.Client
}

var watchers atomic.Int64

func watch(t *testing.T, url string) *watcher {
	t.Helper()
	w := &watcher{got: map[string][]string{}}
	w.cl = paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("watcher-%d", watchers.Add(1))).SetCleanSession(true))
	if tk := w.cl.Connect(); !tk.WaitTimeout(10*time.Second) || tk.Error() != nil {
		t.Fatalf("watcher: %v", tk.Error())
	}
	if tk := w.cl.Subscribe("t/#", 1, func(_ paho.Client, m paho.Message) {
		w.mu.Lock()
		w.got[m.Topic()] = append(w.got[m.Topic()], string(m.Payload()))
		w.mu.Unlock()
	}); !tk.WaitTimeout(10*time.Second) || tk.Error() != nil {
		t.Fatalf("watcher: %v", tk.Error())
	}
	t.Cleanup(func() { w.cl.Disconnect(100) })
	return w
}

func (w *watcher) payloads(topic string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.got[topic]...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func config(b *broker, dir string) device.Config {
	return device.Config{Broker: b.url, Username: "dvcar1", Secret: "s3cret",
		Topics:   device.Topics{Publish: "t/demo/d/dvcar1/automotive", Commands: "t/demo/d/dvcar1/cmd/#"},
		StoreDir: dir, MaxBackoff: 2 * time.Second}
}

// TestPublishTypedReadings: a typed reading goes to its module's stream in
// the documented JSON, a stream without its module takes the device's.
func TestPublishTypedReadings(t *testing.T) {
	b := startBroker(t)
	w := watch(t, b.url)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := device.Connect(ctx, config(b, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fuel := 40.0
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	d := device.CarDiagnostics{Time: at, Seq: 7, OdometerKm: 1200, BatteryV: 12.6, CoolantC: 90, FuelPct: &fuel,
		Tyres: device.Tyres{FL: 230, FR: 231, RL: 229, RR: 230}, DTCs: []string{"P0300"}}
	if err := c.Send(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(ctx, device.VitalsBatch{Device: device.Cuff, Readings: []device.Vital{{Kind: "blood_pressure", Value: 120, Diastolic: 80, Time: at}}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(ctx, "diagnostics", json.RawMessage(`{"raw":true}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "three readings", func() bool {
		return len(w.payloads("t/demo/d/dvcar1/automotive/diagnostics")) == 2 && len(w.payloads("t/demo/d/dvcar1/health/cuff")) == 1
	})
	got := w.payloads("t/demo/d/dvcar1/automotive/diagnostics")
	want := `{"time":"2026-12-01T08:00:00Z","seq":7,"odometer_km":1200,"battery_v":12.6,"coolant_c":90,"fuel_pct":40,"tyres_kpa":{"fl":230,"fr":231,"rl":229,"rr":230},"dtcs":["P0300"]}`
	if got[0] != want || got[1] != `{"raw":true}` {
		t.Fatalf("diagnostics payloads %q, want %q and the raw one", got, want)
	}
	if bp := w.payloads("t/demo/d/dvcar1/health/cuff")[0]; bp != `{"readings":[{"kind":"blood_pressure","value":120,"diastolic":80,"time":"2026-12-01T08:00:00Z"}]}` {
		t.Fatalf("vitals payload %s", bp)
	}
	for _, bad := range []string{"", "a/+", "#"} {
		if err := c.Publish(ctx, bad, 1); err == nil {
			t.Errorf("stream %q accepted", bad)
		}
	}
}

// TestConfigErrors: a configuration that cannot work says what is wrong
// before connecting.
func TestConfigErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		cfg  device.Config
		want string
	}{
		{device.Config{Username: "dv1", Secret: "x", Org: "demo"}, "Broker is required"},
		{device.Config{Broker: "tcp://127.0.0.1:1", Org: "demo"}, "Username and Secret"},
		{device.Config{Broker: "tcp://127.0.0.1:1", Username: "dv1", Secret: "x"}, "give Org"},
		{device.Config{Broker: "tcp://127.0.0.1:1", Username: "dv1", Secret: "x", Topics: device.Topics{Publish: "x/demo"}}, "not a device topic"},
		{device.Config{Broker: "tcp://127.0.0.1:1", Username: "dv1", Secret: "x", Topics: device.Topics{Publish: "t/demo/d/dv1/automotive", Commands: "t/demo/d/dv2/cmd/#"}}, "does not belong"},
	} {
		if _, err := device.Connect(ctx, tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
	// Nothing listens: Connect keeps trying with back-off until ctx ends.
	short, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := device.Connect(short, device.Config{Broker: "tcp://127.0.0.1:1", Username: "dv1", Secret: "x", Org: "demo"})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) < time.Second {
		t.Fatalf("connecting to nothing: %v after %v", err, time.Since(start))
	}
}

// TestRebootLosesNothing: readings published while the broker is down wait
// in the file store; the device is switched off before they were ever
// acknowledged, boots with the same store, and every reading arrives. The
// client also reconnects by itself after the broker comes back.
func TestRebootLosesNothing(t *testing.T) {
	b := startBroker(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := device.Connect(ctx, config(b, dir))
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	b.stop()
	waitFor(t, "the client to notice the broker is gone", func() bool { return !c.Connected() })
	var pending []*device.Pending
	for i := range n {
		p, err := c.PublishAsync("diagnostics", map[string]int{"seq": i})
		if err != nil {
			t.Fatal(err)
		}
		pending = append(pending, p)
	}
	for _, p := range pending {
		select {
		case <-p.Done():
			t.Fatalf("a reading was settled while the broker was down: %v", p.Err())
		default:
		}
	}
	c.Close() // the device reboots: nothing was acknowledged
	if files, _ := filepath.Glob(filepath.Join(dir, "o.*")); len(files) != n {
		t.Fatalf("%d readings in the file store, want %d", len(files), n)
	}

	b.start()
	w := watch(t, b.url)
	c, err = device.Connect(ctx, config(b, dir))
	if err != nil {
		t.Fatal(err)
	}
	topic := "t/demo/d/dvcar1/automotive/diagnostics"
	waitFor(t, fmt.Sprintf("%d readings after the reboot", n), func() bool { return len(w.payloads(topic)) >= n })
	seen := map[string]bool{}
	for _, p := range w.payloads(topic) {
		seen[p] = true
	}
	for i := range n {
		if !seen[fmt.Sprintf(`{"seq":%d}`, i)] {
			t.Fatalf("reading %d lost across the reboot", i)
		}
	}
	waitFor(t, "the store to empty once acknowledged", func() bool {
		files, _ := filepath.Glob(filepath.Join(dir, "o.*"))
		return len(files) == 0
	})

	// The broker restarts while the device runs: it reconnects by itself
	// and what it publishes meanwhile arrives.
	b.stop()
	waitFor(t, "the client to notice the broker is gone", func() bool { return !c.Connected() })
	p, err := c.PublishAsync("diagnostics", map[string]int{"seq": 1000})
	if err != nil {
		t.Fatal(err)
	}
	b.start()
	w = watch(t, b.url)
	if err := p.Wait(ctx); err != nil {
		t.Fatalf("the reading published while reconnecting: %v", err)
	}
	waitFor(t, "the reading published while reconnecting", func() bool { return len(w.payloads(topic)) >= 1 })
	c.Close()
}

// TestCommands: a command reaches the handler with its name and payload
// and is acknowledged; a command the handler fails is delivered again
// when the device reconnects (the broker kept the session).
func TestCommands(t *testing.T) {
	b := startBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := device.Connect(ctx, config(b, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan device.Command, 4)
	fail := true
	var mu sync.Mutex
	if err := c.OnCommand(ctx, func(cmd device.Command) error {
		got <- cmd
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return errors.New("not now")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	portal := paho.NewClient(paho.NewClientOptions().AddBroker(b.url).SetClientID("portal"))
	if tk := portal.Connect(); !tk.WaitTimeout(10*time.Second) || tk.Error() != nil {
		t.Fatal(tk.Error())
	}
	defer portal.Disconnect(100)
	if tk := portal.Publish("t/demo/d/dvcar1/cmd/"+device.CommandRefreshDiagnostics, 1, false, `{"vin":"WVW1"}`); !tk.WaitTimeout(10*time.Second) || tk.Error() != nil {
		t.Fatal(tk.Error())
	}
	recv := func() device.Command {
		t.Helper()
		select {
		case cmd := <-got:
			return cmd
		case <-time.After(15 * time.Second):
			t.Fatal("no command received")
		}
		return device.Command{}
	}
	cmd := recv()
	if cmd.Name != device.CommandRefreshDiagnostics || string(cmd.Payload) != `{"vin":"WVW1"}` || cmd.Topic != "t/demo/d/dvcar1/cmd/refresh_diagnostics" {
		t.Fatalf("command %+v", cmd)
	}
	// Not acknowledged: after a reconnection the broker delivers it again,
	// and this time the handler succeeds.
	mu.Lock()
	fail = false
	mu.Unlock()
	c.Close()
	// Kept by the broker, it arrives as the device connects: a handler in
	// the Config gets it.
	cfg := config(b, t.TempDir())
	cfg.OnCommand = func(cmd device.Command) error { got <- cmd; return nil }
	c, err = device.Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if again := recv(); again.Name != device.CommandRefreshDiagnostics {
		t.Fatalf("redelivered command %+v", again)
	}
	// Acknowledged this time: another reconnection brings nothing. (A
	// PUBACK still queued when the client closes is lost, and the command
	// comes again: handlers must be idempotent. A reading's round trip
	// lets the PUBACK go out first.)
	if err := c.Publish(ctx, "diagnostics", map[string]int{"seq": 1}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if c, err = device.Connect(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	select {
	case cmd := <-got:
		t.Fatalf("an acknowledged command came again: %+v", cmd)
	case <-time.After(time.Second):
	}
}
