package automotive_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/verticals/automotive"
)

// TestCarReadingsOverMQTT is the automotive path end to end through the
// embedded broker: staff register a telematics unit for the demo owner and
// link it to the car; the car publishes a reading with a weak battery and a
// trouble code over MQTT; the owner's car page shows both warnings and the
// owner is notified once; "Refresh diagnostics" reaches the car as a
// command; a bad reading lands in the unit's reject log with its reason;
// another customer can neither see nor command the car.
func TestCarReadingsOverMQTT(t *testing.T) {
	ctx := context.Background()
	ta, v := startedDemo(t, ctx)
	admin := ta.User(t, "demo", "admin@demo.example", accounts.Admin)
	other := ta.User(t, "demo", "customer2@demo.example", accounts.Customer)
	unit, err := ta.Devices.Create(ctx, devices.Actor{OrgID: admin.OrgID, UserID: admin.ID, Role: "admin"},
		devices.NewDevice{OwnerID: v.OwnerID, Module: automotive.ID, Name: "Golf telematics"})
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := ta.Devices.Create(ctx, devices.Actor{OrgID: admin.OrgID, UserID: admin.ID, Role: "admin"},
		devices.NewDevice{OwnerID: other.ID, Module: automotive.ID, Name: "Someone else's unit"})
	if err != nil {
		t.Fatal(err)
	}

	staff := ta.Browser()
	staff.SignIn(t, "demo", "staff@demo.example")
	carPath := fmt.Sprintf("/m/automotive/vehicles/%d", v.ID)
	staff.Get(t, carPath)
	// The staff member does not reach the stranger's owner, so the unit is
	// invisible to them: refused like a unit that does not exist.
	if r := staff.Post(t, carPath+"/device", url.Values{"device_id": {stranger.ID}}); r.Status != 422 || !strings.Contains(r.Body, "is not a device of this organisation") {
		t.Fatalf("linking another customer's unit: %d", r.Status)
	}
	if r := staff.Post(t, carPath+"/device", url.Values{"device_id": {unit.ID}}); r.Status != 303 {
		t.Fatalf("linking the unit: %d", r.Status)
	}

	// The car connects with its own credentials and listens for commands.
	car := mqttClient(t, ta.Devices.BrokerAddr(), unit)
	commands := make(chan string, 4)
	if tok := car.Subscribe(unit.Topics.Commands, 1, func(_ paho.Client, m paho.Message) { commands <- m.Topic() }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	now := time.Now().UTC().Truncate(time.Second)
	reading := fmt.Sprintf(`{"time":%q,"seq":901,"odometer_km":%d,"battery_v":11.3,"coolant_c":91,"fuel_pct":40,
		"tyres_kpa":{"fl":232,"fr":231,"rl":229,"rr":230},"dtcs":["P0300"]}`, now.Format(time.RFC3339), v.OdometerKm+40)
	topic := unit.Topics.Publish + "/diagnostics"
	for range 2 { // the second is a QoS 1 redelivery of the same reading
		if tok := car.Publish(topic, 1, false, reading); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}

	owner := ta.Browser()
	owner.SignIn(t, "demo", "customer@demo.example")
	waitFor(t, 10*time.Second, "the reading to reach the car's page", func() bool {
		page := owner.Get(t, carPath)
		return strings.Contains(page.Body, "Low battery voltage") && strings.Contains(page.Body, "P0300")
	})
	var alerts int64
	store.AllOrgs(ta.Store.DB).Model(&notify.Record{}).Where("user_id = ? AND kind = ? AND data LIKE ?", v.OwnerID, automotive.KindAlert, "%battery%").Count(&alerts)
	if alerts != 1 {
		t.Fatalf("%d battery notifications for the owner, want exactly 1", alerts)
	}

	// Refresh diagnostics: a command on the car's own command topic.
	if r := owner.Post(t, carPath+"/refresh", nil); r.Status != 303 {
		t.Fatalf("refresh: %d", r.Status)
	}
	select {
	case got := <-commands:
		if want := strings.TrimSuffix(unit.Topics.Commands, "#") + automotive.CommandRefresh; got != want {
			t.Fatalf("command on %s, want %s", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the car never received the refresh command")
	}
	intruder := ta.Browser()
	intruder.SignIn(t, "demo", "customer2@demo.example")
	intruder.Get(t, "/m/automotive/")
	if r := intruder.Post(t, carPath+"/refresh", nil); r.Status != 404 {
		t.Fatalf("another customer commanded the car: %d", r.Status)
	}

	// A reading out of range is rejected with the field named.
	bad := strings.Replace(reading, `"battery_v":11.3`, `"battery_v":99`, 1)
	if tok := car.Publish(topic, 1, false, bad); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	waitFor(t, 10*time.Second, "the bad reading in the reject log", func() bool {
		var reasons []string
		ta.Store.DB.Raw("SELECT reason FROM device_rejects WHERE device_id = ?", unit.ID).Scan(&reasons)
		return len(reasons) == 1 && strings.Contains(reasons[0], "battery_v: 99 is outside")
	})
}

// startedDemo is a running demo portal (embedded broker) and its demo car.
func startedDemo(t *testing.T, ctx context.Context) (*portaltest.TestApp, automotive.Vehicle) {
	t.Helper()
	ta, _ := newApp(t)
	ta.Demo(t)
	if err := ta.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ta.Stop(context.Background()) })
	var v automotive.Vehicle
	store.AllOrgs(ta.Store.DB).Where("vin = ?", automotive.DemoVIN).First(&v)
	return ta, v
}

func mqttClient(t *testing.T, addr string, c *devices.Created) paho.Client {
	t.Helper()
	o := paho.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(c.Username).SetUsername(c.Username).SetPassword(c.Secret).
		SetCleanSession(true).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
	cl := paho.NewClient(o)
	if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("the car could not connect: %v", tok.Error())
	}
	t.Cleanup(func() { cl.Disconnect(100) })
	return cl
}

var waitMu sync.Mutex

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	waitMu.Lock()
	defer waitMu.Unlock()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
