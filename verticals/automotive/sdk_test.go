package automotive_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/sdk/go/device"
	"github.com/portalkit/portalkit/verticals/automotive"
)

// TestSDKDiagnosticsMatchTheGateway: the device SDK's CarDiagnostics
// (defined in the SDK module, which must not import the server) marshals
// to a payload the gateway's diagnostics stream accepts — strict decoding
// (an unknown or renamed field fails) and the module's validation — and
// decodes to the same values. A drift between the two types fails here.
func TestSDKDiagnosticsMatchTheGateway(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	stream := devices.Stream[automotive.Diagnostics]{Validate: automotive.CheckDiagnostics(func() time.Time { return now })}
	fuel, soc := 40.0, 75.0
	in := device.CarDiagnostics{Time: now.Add(-time.Minute), Seq: 3, OdometerKm: 12345.5, BatteryV: 12.4, CoolantC: 88,
		FuelPct: &fuel, SocPct: &soc, Tyres: device.Tyres{FL: 231, FR: 232, RL: 229, RR: 228},
		DTCs: []string{"P0300"}, Position: &device.Position{Lat: 45.46, Lon: 9.19}}
	body, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Decode(body); err != nil {
		t.Fatalf("the gateway rejects the SDK's diagnostics %s: %v", body, err)
	}
	var got automotive.Diagnostics
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if !got.Time.Equal(in.Time) || got.Seq != 3 || got.OdometerKm != 12345.5 || got.BatteryV != 12.4 || got.CoolantC != 88 ||
		*got.FuelPct != 40 || *got.SocPct != 75 || got.Tyres != (automotive.Tyres{FL: 231, FR: 232, RL: 229, RR: 228}) ||
		len(got.DTCs) != 1 || got.DTCs[0] != "P0300" || *got.Position != (automotive.Position{Lat: 45.46, Lon: 9.19}) {
		t.Fatalf("decoded %+v from %s", got, body)
	}
	if want := automotive.ID + "/diagnostics"; in.Stream() != want {
		t.Fatalf("SDK stream %q, the module declares %q", in.Stream(), want)
	}
	if device.CommandRefreshDiagnostics != automotive.CommandRefresh {
		t.Fatalf("SDK refresh command %q, the module sends %q", device.CommandRefreshDiagnostics, automotive.CommandRefresh)
	}
	// And the gateway still refuses what it should: the check above can fail.
	in.BatteryV = 99
	body, _ = json.Marshal(in)
	if _, err := stream.Decode(body); err == nil {
		t.Fatal("a battery of 99 V was accepted")
	}
}

// TestCarOnTheDeviceSDK is a car built on the device SDK against a real
// portal (embedded broker): its diagnostics are stored and reach the car;
// readings it publishes while cut off wait in its file store, survive a
// reboot before anything was acknowledged, and are all stored once it is
// back; the owner's "Refresh diagnostics" reaches it as a command, which it
// answers with a fresh reading.
func TestCarOnTheDeviceSDK(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ta, v := startedDemo(t, ctx)
	admin := ta.User(t, "demo", "admin@demo.example", accounts.Admin)
	adminActor := devices.Actor{OrgID: admin.OrgID, UserID: admin.ID, Role: "admin"}
	unit, err := ta.Devices.Create(ctx, adminActor, devices.NewDevice{OwnerID: v.OwnerID, Module: automotive.ID, Name: "SDK telematics"})
	if err != nil {
		t.Fatal(err)
	}
	staff := ta.Browser()
	staff.SignIn(t, "demo", "staff@demo.example")
	carPath := fmt.Sprintf("/m/automotive/vehicles/%d", v.ID)
	staff.Get(t, carPath)
	if r := staff.Post(t, carPath+"/device", url.Values{"device_id": {unit.ID}}); r.Status != 303 {
		t.Fatalf("linking the unit: %d", r.Status)
	}

	dir := t.TempDir()
	cfg := device.Config{Broker: "tcp://" + ta.Devices.BrokerAddr(), Username: unit.Username, Secret: unit.Secret,
		Topics:   device.Topics{Publish: unit.Topics.Publish, Commands: unit.Topics.Commands},
		StoreDir: dir, MaxBackoff: time.Second}
	car, err := device.Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	fuel := 55.0
	reading := func(seq int64) device.CarDiagnostics {
		return device.CarDiagnostics{Time: now.Add(-time.Duration(1000-seq) * time.Second), Seq: seq, OdometerKm: float64(v.OdometerKm + 10),
			BatteryV: 12.6, CoolantC: 90, FuelPct: &fuel, Tyres: device.Tyres{FL: 230, FR: 230, RL: 230, RR: 230}, DTCs: []string{}}
	}
	stored := func() int64 {
		var n int64
		store.AllOrgs(ta.Store.DB).Model(&devices.Reading{}).Where("device_id = ? AND stream = ?", unit.ID, "diagnostics").Count(&n)
		return n
	}

	// Publish → stored: the SDK returns once the gateway acknowledged,
	// which the embedded broker does after the commit.
	if err := car.Send(ctx, reading(1)); err != nil {
		t.Fatal(err)
	}
	if n := stored(); n != 1 {
		t.Fatalf("%d readings stored after an acknowledged publish, want 1", n)
	}

	// Cut off (the device is disabled): what it publishes waits in the
	// file store, unacknowledged, and the device is switched off.
	if _, err := ta.Devices.Disable(ctx, adminActor, unit.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the disabled car to be cut off", func() bool { return !car.Connected() })
	const offline = 20
	for i := range offline {
		if _, err := car.PublishAsync("diagnostics", reading(int64(10+i))); err != nil {
			t.Fatal(err)
		}
	}
	car.Close()
	if files, _ := filepath.Glob(filepath.Join(dir, "o.*")); len(files) != offline {
		t.Fatalf("%d readings in the car's file store, want %d", len(files), offline)
	}

	// Reboot: enabled again, the car connects with the same store and
	// every reading arrives, each once.
	if _, err := ta.Devices.Enable(ctx, adminActor, unit.ID); err != nil {
		t.Fatal(err)
	}
	car, err = device.Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer car.Close()
	waitFor(t, 15*time.Second, "the readings kept across the reboot", func() bool { return stored() == 1+offline })

	// Refresh diagnostics: the owner asks, the car receives the command
	// and answers with a fresh reading.
	commands := make(chan device.Command, 2)
	if err := car.OnCommand(ctx, func(c device.Command) error {
		commands <- c
		if c.Name != device.CommandRefreshDiagnostics {
			return errors.New("unknown command")
		}
		return car.Send(ctx, reading(500))
	}); err != nil {
		t.Fatal(err)
	}
	owner := ta.Browser()
	owner.SignIn(t, "demo", "customer@demo.example")
	owner.Get(t, carPath)
	if r := owner.Post(t, carPath+"/refresh", nil); r.Status != 303 {
		t.Fatalf("refresh: %d", r.Status)
	}
	select {
	case c := <-commands:
		var p struct{ VIN string }
		if c.Name != automotive.CommandRefresh || json.Unmarshal(c.Payload, &p) != nil || p.VIN != v.VIN {
			t.Fatalf("command %s %s", c.Name, c.Payload)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the car never received the refresh command")
	}
	waitFor(t, 15*time.Second, "the refreshed reading", func() bool { return stored() == 2+offline })
	waitFor(t, 15*time.Second, "the refreshed reading on the car", func() bool {
		var n int64
		store.AllOrgs(ta.Store.DB).Model(&automotive.Reading{}).Where("vehicle_id = ? AND at = ? AND seq = ?", v.ID, reading(500).Time, 500).Count(&n)
		return n == 1
	})
}
