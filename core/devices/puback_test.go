package devices_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/devices"
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

// TestFailedCommitSendsNoPuback: while a batch's commit fails the device
// gets no PUBACK, nothing is stored, and the device's retry of the same
// reading (on a new connection, as a device whose connection dropped
// delivers again) is stored once when the database takes writes again.
func TestFailedCommitSendsNoPuback(t *testing.T) {
	ta := newApp(t, portaltest.WithConfig(func(c *config.Config) { c.MQTT.RatePerDevice = 0 }))
	d := provision(t, ta, "acme", "carla@acme.example")
	started(t, ta)
	url := "tcp://" + ta.Devices.BrokerAddr()
	// The table goes away: every commit fails until it is back.
	if err := ta.Store.DB.Exec("ALTER TABLE device_readings RENAME TO device_readings_away").Error; err != nil {
		t.Fatal(err)
	}
	restored := false
	restore := func() {
		if !restored {
			restored = true
			if err := ta.Store.DB.Exec("ALTER TABLE device_readings_away RENAME TO device_readings").Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(restore)
	first, err := connect(url, d.Username, d.Secret, d.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	tk := first.Publish(topicOf(d, "temp"), 1, false, gaugeJSON(1, 20))
	if tk.WaitTimeout(1500 * time.Millisecond) {
		t.Fatalf("PUBACK while every commit fails (error %v): the reading was acknowledged before it was stored", tk.Error())
	}
	// The device gives up on that connection and delivers again on a new
	// one (which replaces the first: same device).
	second := connected(t, url, d)
	retry := second.Publish(topicOf(d, "temp"), 1, false, gaugeJSON(1, 20))
	if retry.WaitTimeout(500 * time.Millisecond) {
		t.Fatalf("PUBACK for the retry while every commit fails (error %v)", retry.Error())
	}
	restore()
	if !retry.WaitTimeout(15*time.Second) || retry.Error() != nil {
		t.Fatalf("the retry was not acknowledged once the database took writes: %v", retry.Error())
	}
	if n := countReadings(t, ta, d.ID); n != 1 {
		t.Fatalf("%d readings stored after a failed commit and a retry, want 1", n)
	}
	first.Disconnect(0)
}

// TestCoalescedPubacksReachEveryMessage: many QoS 1 messages of several
// devices in flight at once, their PUBACKs written per connection and
// batch: every publish is acknowledged, each reading stored once.
func TestCoalescedPubacksReachEveryMessage(t *testing.T) {
	ta := newApp(t, portaltest.WithConfig(func(c *config.Config) { c.MQTT.RatePerDevice = 0 }))
	devs := []*devices.Created{provision(t, ta, "acme", "a@acme.example"), provision(t, ta, "acme", "b@acme.example"), provision(t, ta, "beta", "c@beta.example")}
	started(t, ta)
	var sent atomic.Int64
	publishMany(t, "tcp://"+ta.Devices.BrokerAddr(), devs, 3000, &sent)
	var n int64
	for _, d := range devs {
		n += countReadings(t, ta, d.ID)
	}
	if n != 3000 || sent.Load() != 3000 {
		t.Fatalf("%d readings stored of %d sent and acknowledged, want 3000", n, sent.Load())
	}
}

// TestAnotherInstancesDisableReachesTheRouter: a device disabled by
// another instance (straight in the database: this one's cache is not
// told) is refused here once its cached entry expired and the background
// refresher read it again, and re-enabled the same way it is stored
// again — the refresher answers stale entries only until then.
func TestAnotherInstancesDisableReachesTheRouter(t *testing.T) {
	ta := newApp(t, portaltest.WithConfig(func(c *config.Config) { c.MQTT.RatePerDevice = 0 }))
	d := provision(t, ta, "acme", "carla@acme.example")
	started(t, ta)
	c := connected(t, "tcp://"+ta.Devices.BrokerAddr(), d)
	if err := publish(t, c, topicOf(d, "temp"), gaugeJSON(0, 20)); err != nil {
		t.Fatal(err)
	}
	setStatus := func(status string) {
		t.Helper()
		if err := ta.Store.DB.Exec("UPDATE devices SET status = ? WHERE id = ?", status, d.ID).Error; err != nil {
			t.Fatal(err)
		}
	}
	// Publishes until the router's answer turns: stored (want true) or
	// refused; it returns how long that took.
	until := func(stored bool) time.Duration {
		t.Helper()
		t0 := time.Now()
		for seq := 1; ; seq++ {
			before := countReadings(t, ta, d.ID)
			if err := publish(t, c, topicOf(d, "temp"), gaugeJSON(int(t0.UnixNano()%1e6)*1000+seq, 20)); err != nil {
				t.Fatal(err)
			}
			if (countReadings(t, ta, d.ID) > before) == stored {
				return time.Since(t0)
			}
			if time.Since(t0) > 10*time.Second {
				t.Fatalf("after 10 s the router still answers with the old status (want stored=%v)", stored)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	setStatus(string(devices.StatusDisabled))
	if took := until(false); took > 5*time.Second {
		t.Errorf("a disable made elsewhere took %s to reach the router (cache 2 s plus one refresh)", took)
	}
	setStatus(string(devices.StatusActive))
	until(true)
}
