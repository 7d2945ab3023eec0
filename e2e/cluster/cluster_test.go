package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// TestCluster is issue 17's scale-out proof, one scenario after another on
// the same cluster (starting it costs most of the time).
func TestCluster(t *testing.T) {
	c := startCluster(t)
	a, b := c.portals["portal-a"], c.portals["portal-b"]

	t.Run("any instance serves a session", func(t *testing.T) {
		cl, first := login(t, c.lbURL, "customer@demo.example")
		seen := map[string]bool{first: true}
		for i := 0; i < 4; i++ {
			var me struct {
				User struct {
					Email string `json:"email"`
				} `json:"user"`
			}
			seen[do(t, http.MethodGet, c.lbURL+"/api/v1/me", cl.token, nil, http.StatusOK, &me)] = true
			if me.User.Email != "customer@demo.example" {
				t.Fatalf("GET /me through the balancer answered for %q", me.User.Email)
			}
		}
		if !seen["portal-a"] || !seen["portal-b"] {
			t.Fatalf("a signed-in session was served by %v; want both instances (round robin, no stickiness)", seen)
		}
	})

	t.Run("a notification caused on A reaches a stream held on B", func(t *testing.T) {
		onA, _ := login(t, a.url(), "customer@demo.example")
		onB, _ := login(t, b.url(), "customer@demo.example")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		events := sseEvents(ctx, t, b.url()+"/api/v1/notifications/stream", onB.token)
		time.Sleep(300 * time.Millisecond) // the stream has subscribed
		marker := "cluster-" + randHex(4)
		do(t, http.MethodPost, a.url()+"/api/v1/notifications/test", onA.token, map[string]string{"message": marker}, http.StatusAccepted, nil)
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					t.Fatal("the stream on B ended before the notification arrived")
				}
				if strings.Contains(ev, marker) {
					return
				}
			case <-ctx.Done():
				t.Fatal("the notification sent through A never reached the stream held on B")
			}
		}
	})

	t.Run("a draft saved on A resumes on B", func(t *testing.T) {
		onA, _ := login(t, a.url(), "customer@demo.example")
		onB, _ := login(t, b.url(), "customer@demo.example")
		body := map[string]any{"data": map[string]string{"note": "half-written on A"}}
		do(t, http.MethodPut, a.url()+"/api/v1/drafts/cluster.note", onA.token, body, http.StatusOK, nil)
		var got struct {
			Data map[string]string `json:"data"`
		}
		do(t, http.MethodGet, b.url()+"/api/v1/drafts/cluster.note", onB.token, nil, http.StatusOK, &got)
		if got.Data["note"] != "half-written on A" {
			t.Fatalf("B resumed the draft as %v", got.Data)
		}
	})

	t.Run("a dashboard change on A shows on B within the cache TTL", func(t *testing.T) {
		onA, _ := login(t, a.url(), "customer@demo.example")
		onB, _ := login(t, b.url(), "customer@demo.example")
		var layout struct {
			Order  []string `json:"order"`
			Hidden []string `json:"hidden"`
		}
		do(t, http.MethodGet, a.url()+"/api/v1/dashboard/layout", onA.token, nil, http.StatusOK, &layout)
		if len(layout.Order) < 2 {
			t.Fatalf("the demo customer's dashboard has %d widgets", len(layout.Order))
		}
		hide := layout.Order[0]
		widgets := func() []string {
			var d struct {
				Widgets []struct {
					ID string `json:"id"`
				} `json:"widgets"`
			}
			do(t, http.MethodGet, b.url()+"/api/v1/dashboard", onB.token, nil, http.StatusOK, &d)
			var ids []string
			for _, w := range d.Widgets {
				ids = append(ids, w.ID)
			}
			return ids
		}
		if !contains(widgets(), hide) { // B has it cached now
			t.Fatalf("B's dashboard lacks %s before the change", hide)
		}
		changed := time.Now()
		do(t, http.MethodPut, a.url()+"/api/v1/dashboard/layout", onA.token,
			map[string]any{"order": layout.Order, "hidden": []string{hide}}, http.StatusOK, nil)
		const ttl = 5 * time.Second // dashboard.cache_ttl, docs/operations.md
		for contains(widgets(), hide) {
			if time.Since(changed) > ttl+2*time.Second {
				t.Fatalf("B still shows %s %v after A hid it (cache TTL %v)", hide, time.Since(changed), ttl)
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Logf("B showed the change after %v", time.Since(changed).Round(10*time.Millisecond))
	})

	t.Run("10 000 readings through Mosquitto stored once, by both instances", func(t *testing.T) {
		readingsExactlyOnce(t, c, 10000)
	})

	t.Run("each job slot runs once", func(t *testing.T) {
		// drafts.purge runs every minute on both schedulers (the override):
		// wait for a slot after both instances were up, then every slot
		// must have been started by exactly one of them.
		both := c.started.Truncate(time.Minute).Add(time.Minute)
		deadline := both.Add(50 * time.Second)
		var slots map[string][]string
		for {
			slots = jobStarts(a, b, "drafts.purge")
			var after int
			for slot := range slots {
				if at, err := time.Parse(time.RFC3339, slot); err == nil && !at.Before(both) {
					after++
				}
			}
			if after > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no drafts.purge slot from %s on started in time; starts seen: %v", both.Format(time.TimeOnly), slots)
			}
			time.Sleep(time.Second)
		}
		for slot, by := range slots {
			if len(by) != 1 {
				t.Errorf("slot %s of drafts.purge started %d times (%v)", slot, len(by), by)
			}
		}
		t.Logf("drafts.purge slots and who ran them: %v", slots)
	})

	t.Run("kill -9 of A under load: no failure after the health check notices, no live event missed", func(t *testing.T) {
		liveAcrossAKill(t, c, a, b, func() { killUnderLoad(t, c, a) })
	})

	t.Run("rolling restart to a version with a pending migration", func(t *testing.T) {
		rollingRestart(t, c)
	})
}

// jobStarts reads both instances' JSON logs: for each slot of job, which
// instances logged its start.
func jobStarts(a, b *portal, job string) map[string][]string {
	out := map[string][]string{}
	for _, p := range []*portal{a, b} {
		data, _ := os.ReadFile(p.log)
		for _, line := range strings.Split(string(data), "\n") {
			var rec struct {
				Msg, Job, Slot string
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "run starts" && rec.Job == job {
				out[rec.Slot] = append(out[rec.Slot], p.name)
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// readingsExactlyOnce registers a device with the CLI (as an operator
// would), publishes n QoS 1 readings through Mosquitto and checks every
// one is stored exactly once, with both instances storing some.
func readingsExactlyOnce(t *testing.T, c *cluster, n int) {
	out := c.run("devices", "add", "--config", "../../configs/production.yaml", "--org", "demo",
		"--owner", "customer@demo.example", "--module", "automotive", "--name", "Cluster car")
	user := regexp.MustCompile(`username: (\S+)`).FindStringSubmatch(out)
	secret := regexp.MustCompile(`secret:\s+(\S+)`).FindStringSubmatch(out)
	topic := regexp.MustCompile(`publish:\s+(\S+)/<stream>`).FindStringSubmatch(out)
	if user == nil || secret == nil || topic == nil {
		t.Fatalf("devices add printed:\n%s", out)
	}
	deviceID := user[1]

	opts := mqtt.NewClientOptions().AddBroker("tcp://" + c.mqttAddr).
		SetClientID(deviceID).SetUsername(deviceID).SetPassword(secret[1]).
		SetCleanSession(true).SetConnectRetry(true).SetConnectRetryInterval(300 * time.Millisecond)
	// The exporter picks the new device up within mqtt.export_interval.
	var pub mqtt.Client
	deadline := time.Now().Add(20 * time.Second)
	for {
		pub = mqtt.NewClient(opts.SetConnectRetry(false))
		tok := pub.Connect()
		if tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the device cannot connect to Mosquitto 20 s after registration: %v", tok.Error())
		}
		time.Sleep(500 * time.Millisecond)
	}
	defer pub.Disconnect(250)

	before := map[string]int64{}
	for name, p := range c.portals {
		before[name] = metric(t, p, "portal_devices_readings_stored_total")
	}
	start := time.Now().UTC().Add(-time.Hour)
	var toks []mqtt.Token
	for i := 0; i < n; i++ {
		at := start.Add(time.Duration(i) * 100 * time.Millisecond)
		payload := fmt.Sprintf(`{"time":%q,"seq":%d,"odometer_km":%d,"battery_v":12.5,"coolant_c":90,"fuel_pct":50,"tyres_kpa":{"fl":232,"fr":231,"rl":229,"rr":230},"dtcs":[]}`,
			at.Format(time.RFC3339Nano), i+1, 18000+i/100)
		toks = append(toks, pub.Publish(topic[1]+"/diagnostics", 1, false, payload))
		if len(toks) == 500 {
			waitAll(t, toks)
			toks = toks[:0]
		}
	}
	waitAll(t, toks)

	var stored, distinct int
	deadline = time.Now().Add(60 * time.Second)
	for {
		err := c.db.QueryRow(context.Background(),
			`SELECT count(*), count(DISTINCT payload::json->>'seq') FROM device_readings WHERE device_id = $1`, deviceID).Scan(&stored, &distinct)
		if err != nil {
			t.Fatal(err)
		}
		if stored >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if stored != n || distinct != n {
		t.Fatalf("stored %d readings (%d distinct) of %d published", stored, distinct, n)
	}
	var total int64
	for name, p := range c.portals {
		got := metric(t, p, "portal_devices_readings_stored_total") - before[name]
		t.Logf("%s stored %d", name, got)
		if got == 0 {
			t.Errorf("%s stored nothing: the shared subscription should split the load", name)
		}
		total += got
	}
	if total != int64(n) {
		t.Errorf("the instances count %d stored readings, the database holds %d", total, n)
	}
}

func waitAll(t *testing.T, toks []mqtt.Token) {
	for _, tok := range toks {
		if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
			t.Fatalf("publish not acknowledged: %v", tok.Error())
		}
	}
}

// metric reads one counter from an instance's /metrics.
func metric(t *testing.T, p *portal, name string) int64 {
	resp, err := http.Get(p.url() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	all, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + name + `(?:\{[^}]*\})? (\S+)$`).FindSubmatch(all)
	if m == nil {
		t.Fatalf("%s: no metric %s", p.name, name)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return int64(v)
}

// killUnderLoad sends a steady, bounded stream of requests through the
// balancer, kills A with SIGKILL, and checks that failures stop once
// HAProxy's health checks have taken A out (inter 1s, fall 2).
func killUnderLoad(t *testing.T, c *cluster, victim *portal) {
	cl, _ := login(t, c.lbURL, "customer@demo.example")
	stop := make(chan struct{})
	wait := steadyLoad(c, cl.token, "cluster.kill", stop)
	time.Sleep(2 * time.Second)
	killed := time.Now()
	c.stop(victim, syscall.SIGKILL)
	time.Sleep(6 * time.Second)
	close(stop)
	results := wait()

	// HAProxy marks a server down after fall(2) failed checks inter(1s)
	// apart: allow that plus one interval for the check in flight.
	const settle = 3 * time.Second
	var before, failed, late int
	for _, r := range results {
		switch {
		case r.at.Before(killed):
			before++
			if !r.ok {
				t.Errorf("a request failed before the kill")
			}
		case !r.ok:
			failed++
			if r.at.After(killed.Add(settle)) {
				late++
			}
		}
	}
	t.Logf("%d requests before the kill, %d after; %d failed after the kill, %d of them later than %v",
		before, len(results)-before, failed, late, settle)
	if late > 0 {
		t.Fatalf("%d requests failed more than %v after the kill", late, settle)
	}
	if len(results)-before < 100 {
		t.Fatalf("only %d requests after the kill: the load was not steady", len(results)-before)
	}
}
