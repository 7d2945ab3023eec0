package devices_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/devices"
)

// TestFloodOfRefusedTopicsIsBounded: a device publishing QoS 0 to another
// device's topic as fast as it can (mochi refuses it at the ACL, before
// the rate limit, and keeps the connection) costs a counter per message:
// every refusal is counted, the reject log is written by one goroutine and
// keeps its size, what did not fit the log's queue is counted as such, and
// nothing reaches the other device.
func TestFloodOfRefusedTopicsIsBounded(t *testing.T) {
	ta := newApp(t)
	a := provision(t, ta, "acme", "carla@acme.example")
	b := provision(t, ta, "acme", "bruno@acme.example")
	gw := embeddedGateway(t, ta)
	c := connected(t, gw.url, a)
	st := ta.Devices.Stats()
	before := st.Refused.Load()
	// writers counts the goroutines writing a refusal to the log now.
	buf := make([]byte, 4<<20)
	writers := func() int {
		return strings.Count(string(buf[:runtime.Stack(buf, true)]), "devices.(*Service).logRefusal(")
	}
	const flood = 3000
	peak := 0
	start := time.Now()
	for i := 0; i < flood; i++ {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("the broker stopped reading the device: %d of %d published in 30 s", i, flood)
		}
		c.Publish(topicOf(b, "temp"), 0, false, gaugeJSON(i, 20))
		if i%50 == 0 {
			peak = max(peak, writers())
		}
	}
	eventually(t, 20*time.Second, "every refusal counted", func() bool { return st.Refused.Load()-before == flood })
	if peak > 1 {
		t.Errorf("%d goroutines wrote refusals at once; one should", peak)
	}
	actor := devices.Actor{OrgID: a.Device.OrgID, UserID: a.Device.OwnerID, Role: "customer"}
	eventually(t, 20*time.Second, "logged + unlogged = refused", func() bool {
		d, err := ta.Devices.Get(context.Background(), actor, a.ID)
		return err == nil && d.Rejected+st.RefusedUnlogged.Load() == flood
	})
	if n := len(rejectsOf(t, ta, a.ID)); n == 0 || n > ta.Config.Devices.RejectLogSize {
		t.Errorf("reject log holds %d entries (size %d)", n, ta.Config.Devices.RejectLogSize)
	}
	if n := countReadings(t, ta, b.ID); n != 0 {
		t.Errorf("%d spoofed readings stored", n)
	}
	// The device is still connected and its own readings still go in.
	if err := publish(t, c, topicOf(a, "temp"), gaugeJSON(1, 21)); err != nil {
		t.Fatal(err)
	}
	if n := countReadings(t, ta, a.ID); n != 1 {
		t.Errorf("own reading after the flood: %d stored", n)
	}
}
