package devices_test

import (
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/portaltest"
)

// TestBrokerRejectsAreCountedLoggedAndShown (issue 19, item 12): a QoS 1
// publish to $SYS and a message over mqtt.max_message_bytes, sent by a
// real MQTT client to the embedded broker, each end the device's
// connection (MQTT 3.1.1 has no negative PUBACK), and each is counted in
// /metrics under its reason, logged once, and written to the device's
// reject log, which its owner reads on the device page and the API.
func TestBrokerRejectsAreCountedLoggedAndShown(t *testing.T) {
	ta := newApp(t, portaltest.WithConfig(func(c *config.Config) { c.MQTT.MaxMessageBytes = 4096 }))
	a := provision(t, ta, "acme", "carla@acme.example")
	gw := embeddedGateway(t, ta)
	metric := func(reason string) float64 {
		t.Helper()
		return ta.Metric(t, `portal_devices_rejects_total{reason="`+reason+`"}`)
	}
	hasReject := func(topic, reason string) bool {
		for _, r := range rejectsOf(t, ta, a.ID) {
			if r.Topic == topic && strings.Contains(r.Reason, reason) {
				return true
			}
		}
		return false
	}
	send := func(topic, payload string) {
		t.Helper()
		lost := &lostRecorder{}
		c, err := connect(gw.url, a.Username, a.Secret, a.ID, lost.set)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer c.Disconnect(10)
		c.Publish(topic, 1, false, payload)
		// Before the fix a $SYS publish got neither a PUBACK nor a
		// disconnect: the device waited for ever.
		eventually(t, 5*time.Second, "the broker ends the connection", lost.get)
	}

	send("$SYS/broker/load", gaugeJSON(1, 20))
	eventually(t, 5*time.Second, "the $SYS publish in the reject log", func() bool { return hasReject("$SYS/broker/load", "system topic") })
	if n := metric("system_topic"); n != 1 {
		t.Errorf(`rejects{reason="system_topic"} = %v, want 1`, n)
	}

	big := `{"seq":2,"temp":20,"pad":"` + strings.Repeat("x", 5000) + `"}`
	send(topicOf(a, "temp"), big)
	eventually(t, 5*time.Second, "the oversized message in the reject log", func() bool { return hasReject("", "too large") })
	if n := metric("too_large"); n != 1 {
		t.Errorf(`rejects{reason="too_large"} = %v, want 1`, n)
	}
	if n := countReadings(t, ta, a.ID); n != 0 {
		t.Errorf("%d readings stored", n)
	}

	// The owner sees both on the device page and through the API.
	b := ta.Browser()
	b.SignIn(t, "acme", "carla@acme.example")
	page := b.Get(t, "/devices/"+a.ID)
	for _, want := range []string{"$SYS/broker/load", "system topic", "too large"} {
		if page.Status != 200 || !strings.Contains(page.Body, want) {
			t.Errorf("the device page (%d) lacks %q", page.Status, want)
		}
	}
	owner := portaltest.Bearer(ta.Login(t, "acme", "carla@acme.example"))
	if r := ta.Do(t, "GET", "/api/v1/devices/"+a.ID+"/rejects", nil, owner); r.Status != 200 || !strings.Contains(r.Body, "too large") {
		t.Errorf("owner's reject log: %d %s", r.Status, r.Body)
	}

	// One warning line each, naming the device and the reason.
	logs := ta.LogText()
	for _, reason := range []string{"system_topic", "too_large"} {
		n := 0
		for _, l := range strings.Split(logs, "\n") {
			if strings.Contains(l, "device message refused") && strings.Contains(l, "reason="+reason) && strings.Contains(l, a.ID) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d log lines for %s, want 1", n, reason)
		}
	}
}

// TestBrokerRejectLogLinesAreRateLimited: a device repeating a refused
// publish is counted every time but logged about once per interval.
func TestBrokerRejectLogLinesAreRateLimited(t *testing.T) {
	ta := newApp(t)
	a := provision(t, ta, "acme", "carla@acme.example")
	b := provision(t, ta, "acme", "bruno@acme.example")
	gw := embeddedGateway(t, ta)
	c := connected(t, gw.url, a)
	for i := range 200 {
		c.Publish(topicOf(b, "temp"), 0, false, gaugeJSON(i, 20))
	}
	st := ta.Devices.Stats()
	eventually(t, 10*time.Second, "200 refusals counted", func() bool { return st.Refused.Load() == 200 })
	n := strings.Count(ta.LogText(), "device message refused")
	if n < 1 || n > 2 {
		t.Errorf("%d log lines for 200 refusals in a moment, want 1", n)
	}
}
