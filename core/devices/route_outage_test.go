package devices_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/portaltest"
)

// awayTable renames table so that every statement on it fails, as a
// database that cannot answer looks to the router; the returned func (also
// run when the test ends) brings it back.
func awayTable(t *testing.T, ta *portaltest.TestApp, table string) (restore func()) {
	t.Helper()
	if err := ta.Store.DB.Exec(fmt.Sprintf("ALTER TABLE %s RENAME TO %s_away", table, table)).Error; err != nil {
		t.Fatal(err)
	}
	done := false
	restore = func() {
		if done {
			return
		}
		done = true
		if err := ta.Store.DB.Exec(fmt.Sprintf("ALTER TABLE %s_away RENAME TO %s", table, table)).Error; err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(restore)
	return restore
}

// TestRoutingOutageHoldsMessages: when the database cannot say where a
// message goes — the device lookup fails, or the lookup of its
// organisation's modules — the embedded broker neither stores, refuses nor
// acknowledges it: it holds it and routes it again once the database
// answers. Before, a failed lookup was taken (and cached) as "no such
// device" or "module not enabled", and the message was acknowledged and
// lost.
func TestRoutingOutageHoldsMessages(t *testing.T) {
	ta := newApp(t, portaltest.WithConfig(func(c *config.Config) { c.MQTT.RatePerDevice = 0 }))
	started(t, ta)
	for _, table := range []string{"devices", "accounts_orgs"} {
		t.Run(table, func(t *testing.T) {
			// A device of its own organisation each: nothing of it is cached
			// from before the outage but its connection.
			d := provision(t, ta, "org-"+table[:3], "carla@"+table[:3]+".example")
			c := connected(t, "tcp://"+ta.Devices.BrokerAddr(), d)
			held := ta.Devices.Stats().Held.Load()
			refused, rejected := ta.Devices.Stats().Refused.Load(), ta.Devices.Stats().Rejected.Load()
			restore := awayTable(t, ta, table)
			tk := c.Publish(topicOf(d, "temp"), 1, false, gaugeJSON(1, 20))
			if tk.WaitTimeout(1500 * time.Millisecond) {
				t.Fatalf("PUBACK while the %s lookup fails (error %v): acknowledged without being stored", table, tk.Error())
			}
			if ta.Devices.Stats().Held.Load() == held {
				t.Errorf("no held message counted while the %s lookup fails", table)
			}
			restore()
			if !tk.WaitTimeout(15*time.Second) || tk.Error() != nil {
				t.Fatalf("not acknowledged once the database answered: %v", tk.Error())
			}
			if n := countReadings(t, ta, d.ID); n != 1 {
				t.Fatalf("%d readings stored after the outage, want 1", n)
			}
			if r, j := ta.Devices.Stats().Refused.Load()-refused, ta.Devices.Stats().Rejected.Load()-rejected; r != 0 || j != 0 {
				t.Errorf("the held message was also counted refused (%d) or rejected (%d)", r, j)
			}
			if r := rejectsOf(t, ta, d.ID); len(r) != 0 {
				t.Errorf("reject log after the outage: %+v, want none", r)
			}
			// The next message goes straight through: nothing false was cached.
			if err := publish(t, c, topicOf(d, "temp"), gaugeJSON(2, 21)); err != nil {
				t.Fatal(err)
			}
			if n := countReadings(t, ta, d.ID); n != 2 {
				t.Fatalf("%d readings after the next message, want 2", n)
			}
		})
	}
}

// TestRoutingOutageThroughMosquitto: the same through an external broker,
// where the device has its PUBACK from Mosquitto at once and only the
// portal's subscription holds the message: it is not acknowledged to
// Mosquitto while the device lookup fails, and is stored once it answers.
func TestRoutingOutageThroughMosquitto(t *testing.T) {
	requireMosquitto(t)
	port := freePort(t)
	ta := newApp(t, useMosquitto(port, "portal-1"))
	d := provision(t, ta, "acme", "carla@acme.example")
	m := startMosquitto(t, ta.Devices, port, "portal-1")
	started(t, ta)
	c := connected(t, m.url, d)
	restore := awayTable(t, ta, "devices")
	if err := publish(t, c, topicOf(d, "temp"), gaugeJSON(1, 20)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the message held", func() bool { return ta.Devices.Stats().Held.Load() > 0 })
	restore()
	eventually(t, 15*time.Second, "the held reading stored", func() bool { return countReadings(t, ta, d.ID) == 1 })
	if r := ta.Devices.Stats().Refused.Load(); r != 0 {
		t.Errorf("%d messages refused: a failed lookup was taken for an unknown device", r)
	}
}
