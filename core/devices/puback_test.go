package devices_test

import (
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/portaltest"
)

// TestEmbeddedPubackMeansCommitted: with the embedded broker a device's
// QoS 1 (and QoS 2) publish is acknowledged only once its reading is
// committed. The writer waits a long batch_wait, so an acknowledgement
// sent on receipt would arrive while the reading is still queued.
func TestEmbeddedPubackMeansCommitted(t *testing.T) {
	const wait = 300 * time.Millisecond
	ta := newApp(t, portaltest.WithConfig(func(c *config.Config) {
		c.MQTT.BatchWait, c.MQTT.RatePerDevice = wait, 0
	}))
	d := provision(t, ta, "acme", "carla@acme.example")
	started(t, ta)
	c := connected(t, "tcp://"+ta.Devices.BrokerAddr(), d)
	for i, qos := range []byte{1, 1, 2, 1} {
		t0 := time.Now()
		tk := c.Publish(topicOf(d, "temp"), qos, false, gaugeJSON(i, 20))
		if !tk.WaitTimeout(10*time.Second) || tk.Error() != nil {
			t.Fatalf("publish %d (QoS %d): %v", i, qos, tk.Error())
		}
		took := time.Since(t0)
		if n := countReadings(t, ta, d.ID); n != int64(i+1) {
			t.Fatalf("publish %d (QoS %d) acknowledged after %s with %d readings stored, want %d", i, qos, took, n, i+1)
		}
		if took < wait/2 {
			t.Errorf("publish %d acknowledged after %s, before its batch could close (batch_wait %s)", i, took, wait)
		}
	}
	// QoS 0 has no acknowledgement; it is stored all the same.
	if tk := c.Publish(topicOf(d, "temp"), 0, false, gaugeJSON(7, 20)); !tk.WaitTimeout(10*time.Second) || tk.Error() != nil {
		t.Fatalf("QoS 0 publish: %v", tk.Error())
	}
	eventually(t, 10*time.Second, "the QoS 0 reading", func() bool { return countReadings(t, ta, d.ID) == 5 })
	// A rejected message is acknowledged too (it must not loop), after
	// being recorded.
	if err := publish(t, c, topicOf(d, "temp"), `{"seq": 9, "temp": 900}`); err != nil {
		t.Fatal(err)
	}
	if r := rejectsOf(t, ta, d.ID); len(r) != 1 {
		t.Fatalf("rejects after the acknowledged invalid publish: %d, want 1", len(r))
	}
}

// TestBatchWithARedeliveryStoresTheRest: a batch that holds a reading
// already stored (a QoS 1 redelivery) next to new ones stores the new
// ones and the old one once. On PostgreSQL the batch's direct COPY fails
// on the unique key and the batch is written again through the staging
// table; on SQLite the insert skips the conflict.
func TestBatchWithARedeliveryStoresTheRest(t *testing.T) {
	ta := newApp(t, portaltest.WithConfig(func(c *config.Config) {
		c.MQTT.BatchWait, c.MQTT.RatePerDevice = 300*time.Millisecond, 0
	}))
	d := provision(t, ta, "acme", "carla@acme.example")
	started(t, ta)
	c := connected(t, "tcp://"+ta.Devices.BrokerAddr(), d)
	if err := publish(t, c, topicOf(d, "temp"), gaugeJSON(1, 20)); err != nil {
		t.Fatal(err)
	}
	// One batch (within batch_wait): the redelivered reading 1 and two new.
	var toks []interface {
		WaitTimeout(time.Duration) bool
		Error() error
	}
	for _, seq := range []int{2, 1, 3} {
		toks = append(toks, c.Publish(topicOf(d, "temp"), 1, false, gaugeJSON(seq, 20)))
	}
	for i, tk := range toks {
		if !tk.WaitTimeout(10*time.Second) || tk.Error() != nil {
			t.Fatalf("publish %d: %v", i, tk.Error())
		}
	}
	if n := countReadings(t, ta, d.ID); n != 3 {
		t.Fatalf("%d readings stored, want 3 (1, 2, 3 once each)", n)
	}
}
