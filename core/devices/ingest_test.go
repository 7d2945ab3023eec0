package devices_test

import (
	"context"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/portaltest"
)

// gateway is one way the portal meets devices: the embedded broker, or a
// real Mosquitto (mosquitto_test.go).
type gateway struct {
	name string
	// url is where devices connect.
	url string
	// sync makes the broker learn about registry changes (Mosquitto reads
	// the exported files); a no-op for the embedded broker.
	sync func()
	// embedded is true when ACL refusals are seen by the portal.
	embedded bool
}

func embeddedGateway(t *testing.T, ta *portaltest.TestApp) gateway {
	started(t, ta)
	return gateway{name: "embedded", url: "tcp://" + ta.Devices.BrokerAddr(), sync: func() {}, embedded: true}
}

// TestIngest runs the device scenarios against every available broker.
func TestIngest(t *testing.T) {
	for _, kind := range []string{"embedded", "mosquitto"} {
		t.Run(kind, func(t *testing.T) {
			var opts []portaltest.Option
			port := 0
			if kind == "mosquitto" {
				requireMosquitto(t)
				port = freePort(t)
				opts = append(opts, useMosquitto(port, "portal-1"))
			}
			ta := newApp(t, opts...)
			a := provision(t, ta, "acme", "carla@acme.example")
			b := provision(t, ta, "acme", "bruno@acme.example")
			x := provision(t, ta, "other", "olga@other.example")
			var gw gateway
			if kind == "embedded" {
				gw = embeddedGateway(t, ta)
			} else {
				m := startMosquitto(t, ta.Devices, port, "portal-1")
				started(t, ta)
				gw = gateway{name: "mosquitto", url: m.url, sync: m.export}
			}
			ingestScenarios(t, ta, gw, a, b, x)
		})
	}
}

func ingestScenarios(t *testing.T, ta *portaltest.TestApp, gw gateway, a, b, x *devices.Created) {
	ctx := context.Background()
	t.Run("registered device publishes and the reading is stored", func(t *testing.T) {
		c, err := connect(gw.url, a.Username, a.Secret, a.ID, nil)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer c.Disconnect(50)
		for i := 0; i < 5; i++ {
			if err := publish(t, c, topicOf(a, "temp"), gaugeJSON(i, 21.5)); err != nil {
				t.Fatal(err)
			}
		}
		// A redelivered duplicate is stored once.
		if err := publish(t, c, topicOf(a, "temp"), gaugeJSON(0, 21.5)); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "5 readings", func() bool { return countReadings(t, ta, a.ID) == 5 })
		time.Sleep(100 * time.Millisecond)
		if n := countReadings(t, ta, a.ID); n != 5 {
			t.Errorf("readings: %d, want 5", n)
		}
		// The accepted counter counts what was committed: the redelivery
		// is not counted (issue 19, item 13).
		actor := devices.Actor{OrgID: a.Device.OrgID, UserID: a.Device.OwnerID, Role: "customer"}
		eventually(t, 5*time.Second, "counters written", func() bool {
			d, err := ta.Devices.Get(ctx, actor, a.ID)
			return err == nil && d.LastSeenAt != nil && d.Accepted >= 5
		})
		time.Sleep(counterSettle)
		d, _ := ta.Devices.Get(ctx, actor, a.ID)
		if d.LastSeenAt == nil || d.Accepted != 5 {
			t.Errorf("device counters: accepted %d, want 5 (readings stored: %d)", d.Accepted, countReadings(t, ta, a.ID))
		}
	})
	t.Run("wrong secret is refused", func(t *testing.T) {
		if c, err := connect(gw.url, a.Username, a.Secret+"x", a.ID+"-bad", nil); err == nil {
			c.Disconnect(10)
			t.Fatal("connected with a wrong secret")
		}
		if c, err := connect(gw.url, "nobody", "nothing", "nobody", nil); err == nil {
			c.Disconnect(10)
			t.Fatal("connected as an unknown device")
		}
	})
	t.Run("publishing to another device's or org's topic is not stored", func(t *testing.T) {
		refused := ta.Devices.Stats().Refused.Load()
		for _, target := range []*devices.Created{b, x} {
			c, err := connect(gw.url, a.Username, a.Secret, a.ID, nil)
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			_ = publish(t, c, topicOf(target, "temp"), gaugeJSON(100, 20))
			c.Disconnect(10)
		}
		time.Sleep(300 * time.Millisecond)
		if n := countReadings(t, ta, b.ID) + countReadings(t, ta, x.ID); n != 0 {
			t.Errorf("spoofed readings stored: %d", n)
		}
		if gw.embedded {
			eventually(t, 5*time.Second, "refusals counted", func() bool { return ta.Devices.Stats().Refused.Load() >= refused+2 })
			eventually(t, 5*time.Second, "refusals in the reject log", func() bool {
				n := 0
				for _, r := range rejectsOf(t, ta, a.ID) {
					if strings.Contains(r.Reason, "topic not allowed") {
						n++
					}
				}
				return n >= 2
			})
		}
	})
	t.Run("its own ID under another organisation or module is not stored", func(t *testing.T) {
		// Mosquitto's ACL lets a device publish anywhere under t/+/d/<its
		// ID>/ (one pattern rule for the whole fleet); the router refuses
		// the rest: another organisation's segment, another module's.
		before := countReadings(t, ta, a.ID)
		c, err := connect(gw.url, a.Username, a.Secret, a.ID, nil)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		own := strings.TrimPrefix(a.Topics.Publish, "t/acme/")
		_ = publish(t, c, "t/other/"+own+"/temp", gaugeJSON(500, 20))
		_ = publish(t, c, strings.TrimSuffix(a.Topics.Publish, "/gauges")+"/banking/temp", gaugeJSON(501, 20))
		c.Disconnect(10)
		eventually(t, 5*time.Second, "the other module's message in the reject log", func() bool {
			for _, r := range rejectsOf(t, ta, a.ID) {
				if strings.Contains(r.Reason, "is not this device's module") || strings.Contains(r.Reason, "topic not allowed") {
					return true
				}
			}
			return false
		})
		time.Sleep(200 * time.Millisecond)
		if n := countReadings(t, ta, a.ID); n != before {
			t.Errorf("readings under another organisation or module were stored: %d, want %d", n, before)
		}
	})
	t.Run("invalid payloads land in the reject log with a reason", func(t *testing.T) {
		c, err := connect(gw.url, b.Username, b.Secret, b.ID, nil)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer c.Disconnect(50)
		cases := map[string]string{
			`{"seq": 1, "temp": `:                                  "bad JSON",
			`{"seq": "one", "temp": 20}`:                           "wrong type",
			`{"seq": 2, "temp": 900}`:                              "out of range",
			`{"seq": 3, "temp": 20, "ts": "2001-01-01T00:00:00Z"}`: "clock far off",
			`{"seq": 4, "temp": 20, "colour": "red"}`:              "bad JSON",
		}
		for p := range cases {
			if err := publish(t, c, topicOf(b, "temp"), p); err != nil {
				t.Fatal(err)
			}
		}
		if err := publish(t, c, topicOf(b, "pressure"), gaugeJSON(5, 20)); err != nil {
			t.Fatal(err)
		}
		big := `{"seq": 6, "temp": 20, "x": "` + strings.Repeat("a", 70<<10) + `"}`
		_ = publish(t, c, topicOf(b, "temp"), big) // the broker may refuse it outright
		eventually(t, 10*time.Second, "6 rejects", func() bool { return len(rejectsOf(t, ta, b.ID)) >= 6 })
		var reasons []string
		for _, r := range rejectsOf(t, ta, b.ID) {
			reasons = append(reasons, r.Reason)
		}
		all := strings.Join(reasons, "\n")
		for _, want := range []string{"bad JSON", "wrong type", "out of range", "clock far off", "unknown stream"} {
			if !strings.Contains(all, want) {
				t.Errorf("no reject with %q in:\n%s", want, all)
			}
		}
		if n := countReadings(t, ta, b.ID); n != 0 {
			t.Errorf("invalid payloads stored: %d", n)
		}
		// The owner sees them through the API.
		owner := portaltest.Bearer(ta.Login(t, "acme", "bruno@acme.example"))
		if r := ta.Do(t, "GET", "/api/v1/devices/"+b.ID+"/rejects", nil, owner); r.Status != 200 || !strings.Contains(r.Body, "out of range") {
			t.Errorf("owner's reject log: %d %s", r.Status, r.Body)
		}
	})
	t.Run("a command reaches the device", func(t *testing.T) {
		c, err := connect(gw.url, a.Username, a.Secret, a.ID, nil)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer c.Disconnect(50)
		got := make(chan string, 1)
		if tk := c.Subscribe(a.Topics.Commands, 1, func(_ paho.Client, m paho.Message) { got <- m.Topic() + " " + string(m.Payload()) }); !tk.WaitTimeout(5*time.Second) || tk.Error() != nil {
			t.Fatalf("subscribe: %v", tk.Error())
		}
		// A device may not listen to another device's commands: the
		// embedded broker refuses the subscription, Mosquitto grants it
		// but never delivers.
		leak := make(chan string, 1)
		if tk := c.Subscribe(b.Topics.Commands, 1, func(_ paho.Client, m paho.Message) { leak <- m.Topic() }); tk.WaitTimeout(5*time.Second) && tk.Error() == nil && gw.embedded {
			if st := tk.(*paho.SubscribeToken).Result()[b.Topics.Commands]; st != 0x80 {
				t.Errorf("subscribing to another device's commands: granted %#x", st)
			}
		}
		owner := devices.Actor{OrgID: a.Device.OrgID, UserID: a.Device.OwnerID, Role: "customer"}
		if _, err := ta.Devices.Command(ctx, owner, a.ID, "diagnose", map[string]any{"full": true}); err == nil {
			t.Error("a customer sent a command")
		}
		stranger := devices.Actor{OrgID: b.Device.OrgID, UserID: b.Device.OwnerID, Role: "customer"}
		if _, err := ta.Devices.OwnerCommand(ctx, stranger, a.ID, "diagnose", nil); err == nil {
			t.Error("a customer sent an owner command to another customer's device")
		}
		admin := devices.Actor{OrgID: a.Device.OrgID, UserID: 1, Role: "admin"}
		if _, err := ta.Devices.Command(ctx, admin, a.ID, "diagnose", map[string]any{"full": true}); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-got:
			if m != "t/acme/d/"+a.ID+"/cmd/diagnose "+`{"full":true}` {
				t.Errorf("command received: %q", m)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the command did not arrive")
		}
		if _, err := ta.Devices.Command(ctx, admin, b.ID, "diagnose", nil); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-leak:
			t.Errorf("device %s received another device's command on %s", a.ID, m)
		case <-time.After(300 * time.Millisecond):
		}
	})
	t.Run("a disabled device is cut off", func(t *testing.T) {
		lost := &lostRecorder{}
		c, err := connect(gw.url, x.Username, x.Secret, x.ID, lost.set)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer c.Disconnect(10)
		if err := publish(t, c, topicOf(x, "temp"), gaugeJSON(1, 20)); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "reading before disable", func() bool { return countReadings(t, ta, x.ID) == 1 })
		admin := devices.Actor{OrgID: x.Device.OrgID, UserID: 1, Role: "admin"}
		if _, err := ta.Devices.Disable(ctx, admin, x.ID); err != nil {
			t.Fatal(err)
		}
		// The embedded broker drops it at once; Mosquitto when it reloads
		// the exported files (gw.sync), which drops clients whose
		// credentials are gone.
		gw.sync()
		eventually(t, 5*time.Second, "disconnect", lost.get)
		_ = publish(t, c, topicOf(x, "temp"), gaugeJSON(2, 20))
		if c2, err := connect(gw.url, x.Username, x.Secret, x.ID+"-again", nil); err == nil {
			c2.Disconnect(10)
			t.Error("a disabled device connected")
		}
		time.Sleep(300 * time.Millisecond)
		if n := countReadings(t, ta, x.ID); n != 1 {
			t.Errorf("readings after disable: %d, want 1", n)
		}
	})
	t.Run("another device's client ID takes nothing over", func(t *testing.T) {
		// Issue 19, item 11: device a signs in with its own credentials
		// but b's ID as client ID. b keeps its connection, and both go on
		// publishing to their own topics.
		lostB := &lostRecorder{}
		cb, err := connect(gw.url, b.Username, b.Secret, b.ID, lostB.set)
		if err != nil {
			t.Fatalf("connect b: %v", err)
		}
		defer cb.Disconnect(50)
		ca, err := connect(gw.url, a.Username, a.Secret, b.ID, nil)
		if err != nil {
			t.Fatalf("connect a with b's client ID: %v", err)
		}
		defer ca.Disconnect(50)
		time.Sleep(500 * time.Millisecond)
		if lostB.get() || !cb.IsConnectionOpen() {
			t.Fatal("device b was disconnected by a connection that used its client ID")
		}
		beforeA, beforeB := countReadings(t, ta, a.ID), countReadings(t, ta, b.ID)
		if err := publish(t, cb, topicOf(b, "temp"), gaugeJSON(900, 19)); err != nil {
			t.Fatalf("b publishes: %v", err)
		}
		if err := publish(t, ca, topicOf(a, "temp"), gaugeJSON(900, 19)); err != nil {
			t.Fatalf("a publishes: %v", err)
		}
		eventually(t, 10*time.Second, "one reading each", func() bool {
			return countReadings(t, ta, a.ID) == beforeA+1 && countReadings(t, ta, b.ID) == beforeB+1
		})
		// The client ID is the device: a's second connection, whatever
		// client ID it gives, replaces a's first (one device, one session).
		lostA := &lostRecorder{}
		ca2, err := connect(gw.url, a.Username, a.Secret, "any-id", lostA.set)
		if err != nil {
			t.Fatalf("a connects again: %v", err)
		}
		defer ca2.Disconnect(50)
		eventually(t, 5*time.Second, "a's first connection replaced", func() bool { return !ca.IsConnectionOpen() })
		if lostB.get() {
			t.Error("device b lost its connection when a reconnected")
		}
	})
}
