package devices_test

import (
	"context"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/devices"
)

func TestSimulatorPublishesThroughTheBroker(t *testing.T) {
	ta := newApp(t)
	ta.User(t, "demo", "customer@demo.example", accounts.Customer)
	started(t, ta)
	ctx := context.Background()
	var last int64
	res, err := ta.Devices.Simulate(ctx, devices.SimOptions{Org: "demo", Devices: 5, Rate: 200, Duration: 1500 * time.Millisecond,
		URL: "tcp://" + ta.Devices.BrokerAddr(), Progress: func(n int64) { last = n }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Devices != 5 || res.Acked < 100 || last != res.Acked {
		t.Fatalf("simulation: %+v (last progress %d)", res, last)
	}
	// Each device registered with its own credentials; every
	// acknowledged message is stored and valid.
	list, _ := ta.Devices.List(ctx, devices.Actor{OrgID: ta.Org(t, "demo").ID, Role: "admin"}, devices.ListFilter{})
	if len(list) != 5 {
		t.Fatalf("simulated devices: %d", len(list))
	}
	eventually(t, 10*time.Second, "acknowledged messages stored", func() bool {
		var n int64
		for _, d := range list {
			n += countReadings(t, ta, d.ID)
		}
		return n >= res.Acked
	})
	for _, d := range list {
		if r := rejectsOf(t, ta, d.ID); len(r) != 0 {
			t.Errorf("simulated payload rejected: %+v", r[0])
		}
	}
	// A second run reuses the devices with fresh secrets.
	if _, err := ta.Devices.Simulate(ctx, devices.SimOptions{Org: "demo", Devices: 5, Rate: 50, Duration: 300 * time.Millisecond,
		URL: "tcp://" + ta.Devices.BrokerAddr()}); err != nil {
		t.Fatal(err)
	}
	if again, _ := ta.Devices.List(ctx, devices.Actor{OrgID: ta.Org(t, "demo").ID, Role: "admin"}, devices.ListFilter{}); len(again) != 5 {
		t.Errorf("devices after a second run: %d", len(again))
	}
	if _, err := ta.Devices.Simulate(ctx, devices.SimOptions{Org: "nowhere", Devices: 1, Rate: 1, URL: "tcp://127.0.0.1:1"}); err == nil {
		t.Error("simulated an unknown organisation")
	}
}
