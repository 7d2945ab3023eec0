package devices_test

import (
	"testing"
	"time"
)

// /metrics reports the gateway: connected devices and stored, rejected
// and refused messages, as they happen.
func TestGatewayMetrics(t *testing.T) {
	ta := newApp(t)
	a := provision(t, ta, "acme", "carla@acme.example")
	gw := embeddedGateway(t, ta)
	metric := func(name string) float64 { t.Helper(); return ta.Metric(t, name) }
	if n := metric("portal_devices_connected"); n != 0 {
		t.Fatalf("connected before any device: %v", n)
	}
	c := connected(t, gw.url, a)
	eventually(t, 5*time.Second, "one connected", func() bool { return metric("portal_devices_connected") == 1 })
	for i := range 3 {
		if err := publish(t, c, topicOf(a, "temp"), gaugeJSON(i, 20)); err != nil {
			t.Fatal(err)
		}
	}
	if err := publish(t, c, topicOf(a, "temp"), `{"seq":"x"}`); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "3 stored, 1 rejected", func() bool {
		return metric("portal_devices_readings_stored_total") == 3 && metric("portal_devices_messages_rejected_total") == 1
	})
	c.Disconnect(50)
	eventually(t, 5*time.Second, "none connected", func() bool { return metric("portal_devices_connected") == 0 })
}
