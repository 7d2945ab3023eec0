package devices_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
)

// gauge is the test module's payload: a temperature reading.
type gauge struct {
	Seq  int       `json:"seq"`
	Temp float64   `json:"temp"`
	TS   time.Time `json:"ts,omitempty"`
}

// gaugeModule is a small module with one device stream, "temp".
type gaugeModule struct{}

func (gaugeModule) Info() module.Info {
	return module.Info{ID: "gauges", Name: "Gauges", Version: "1.0.0", Description: "Test module with a device stream"}
}

func (gaugeModule) Init(h module.Host) error {
	h.Topic("temp", devices.Stream[gauge]{
		Validate: gaugeModule{}.validate,
		Time:     func(g gauge) time.Time { return g.TS },
		Value:    func(g gauge) float64 { return g.Temp },
		Simulate: func(r *rand.Rand, now time.Time) gauge {
			return gauge{Seq: r.IntN(1 << 30), Temp: 15 + r.Float64()*10, TS: now}
		},
	})
	return nil
}

func (gaugeModule) validate(g gauge) error {
	if g.Temp < -60 || g.Temp > 150 || g.Temp != g.Temp {
		return fmt.Errorf("temp %.1f is outside -60..150", g.Temp)
	}
	return nil
}

func newApp(t testing.TB, opts ...portaltest.Option) *portaltest.TestApp {
	t.Helper()
	return portaltest.New(t, []module.Module{gaugeModule{}}, opts...)
}

// started starts the app's background services (broker and ingest).
func started(t testing.TB, ta *portaltest.TestApp) {
	t.Helper()
	if err := ta.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { ta.Stop(context.Background()) })
}

// provision creates org slug with a customer and an admin and registers a
// device of the customer.
func provision(t testing.TB, ta *portaltest.TestApp, slug, customer string) *devices.Created {
	t.Helper()
	ta.User(t, slug, customer, accounts.Customer)
	u := ta.User(t, slug, customer, accounts.Customer)
	admin := ta.User(t, slug, "admin@"+slug+".example", accounts.Admin)
	c, err := ta.Devices.Create(context.Background(), devices.Actor{OrgID: admin.OrgID, UserID: admin.ID, Role: "admin"},
		devices.NewDevice{OwnerID: u.ID, Module: "gauges", Name: "Gauge of " + customer})
	if err != nil {
		t.Fatalf("create device: %v", err)
	}
	return c
}

// connect connects a device client to url; it returns the connect error.
func connect(url, user, pass, clientID string, onLost func(error)) (paho.Client, error) {
	o := paho.NewClientOptions().AddBroker(url).SetClientID(clientID).SetUsername(user).SetPassword(pass).
		SetCleanSession(true).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second).SetWriteTimeout(5 * time.Second)
	if onLost != nil {
		o.SetConnectionLostHandler(func(_ paho.Client, err error) { onLost(err) })
	}
	c := paho.NewClient(o)
	t := c.Connect()
	if !t.WaitTimeout(10 * time.Second) {
		return nil, errors.New("connect timed out")
	}
	if t.Error() != nil {
		return nil, t.Error()
	}
	return c, nil
}

// connected connects device d to url with its own credentials, failing the
// test if it cannot; the client disconnects when the test ends.
func connected(t testing.TB, url string, d *devices.Created) paho.Client {
	t.Helper()
	c, err := connect(url, d.Username, d.Secret, d.ID, nil)
	if err != nil {
		t.Fatalf("connect %s: %v", d.ID, err)
	}
	t.Cleanup(func() { c.Disconnect(50) })
	return c
}

func publish(t testing.TB, c paho.Client, topic string, payload string) error {
	t.Helper()
	tok := c.Publish(topic, 1, false, payload)
	if !tok.WaitTimeout(10 * time.Second) {
		return errors.New("publish timed out")
	}
	return tok.Error()
}

// countReadings counts the stored readings of device id (every org).
func countReadings(t testing.TB, ta *portaltest.TestApp, id string) int64 {
	t.Helper()
	var n int64
	if err := ta.Store.DB.Raw("SELECT COUNT(*) FROM device_readings WHERE device_id = ?", id).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func rejectsOf(t testing.TB, ta *portaltest.TestApp, id string) []devices.Reject {
	t.Helper()
	var out []devices.Reject
	if err := ta.Store.DB.Raw("SELECT * FROM device_rejects WHERE device_id = ? ORDER BY id", id).Scan(&out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

func topicOf(c *devices.Created, stream string) string { return c.Topics.Publish + "/" + stream }

func gaugeJSON(seq int, temp float64) string {
	return fmt.Sprintf(`{"seq":%d,"temp":%g}`, seq, temp)
}

// lostRecorder records whether a client lost its connection.
type lostRecorder struct {
	mu   sync.Mutex
	lost bool
}

func (l *lostRecorder) set(error) { l.mu.Lock(); l.lost = true; l.mu.Unlock() }
func (l *lostRecorder) get() bool { l.mu.Lock(); defer l.mu.Unlock(); return l.lost }

var _ = http.MethodGet
var _ = strings.Contains
var _ config.Config

// counterSettle outlasts the writer's hold-back of the devices' counters
// (counterEvery), so a count read after it is final.
const counterSettle = 1200 * time.Millisecond
