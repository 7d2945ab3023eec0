package cityworks_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/store"

	"example.com/portal-examples/cityworks"
)

// base is a Monday morning in the past: the counts' own times, never the
// clock, decide congestion.
var base = time.Date(2026, 6, 15, 8, 0, 0, 0, time.UTC)

// TestCountsOverMQTT: a sensor registered to the council's sensors account
// publishes through the embedded broker; good counts are stored, bad ones
// land in the device's reject log with the reason; congestion against the
// usual level opens one episode (whatever redeliveries and further high
// counts follow), notifies the segment's department only, and closes when
// traffic is back to usual.
func TestCountsOverMQTT(t *testing.T) {
	ta, m := newApp(t)
	c := newCouncil(t, ta, m)
	ctx := context.Background()
	// The gateway refuses readings more than a day from its clock.
	base := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Hour)
	c.history(t, base)
	sensors := ta.User(t, "council", "sensors@council.example", accounts.Customer)
	adm := ta.Principal(t, c.admin["Authorization"][len("Bearer "):])
	dev, err := ta.Devices.Create(ctx, devices.Actor{OrgID: adm.OrgID, UserID: adm.UserID, Role: "admin"},
		devices.NewDevice{OwnerID: sensors.ID, Module: cityworks.ID, Name: "Sensor Via Roma", Kind: "bluetooth-counter"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ta.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ta.Stop(context.Background()) })
	o := paho.NewClientOptions().AddBroker("tcp://" + ta.Devices.BrokerAddr()).SetClientID(dev.Username).SetUsername(dev.Username).
		SetPassword(dev.Secret).SetCleanSession(true).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
	cl := paho.NewClient(o)
	if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("the sensor could not connect: %v", tok.Error())
	}
	t.Cleanup(func() { cl.Disconnect(100) })
	topic := dev.Topics.Publish + "/counts"
	publish := func(payload string) {
		t.Helper()
		if tok := cl.Publish(topic, 1, false, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
	count := func(min, vehicles int) string {
		return fmt.Sprintf(`{"ts":%q,"segment":"via-roma-1","vehicles":%d,"pedestrians":17,"minutes":5}`, base.Add(time.Duration(min)*time.Minute).Format(time.RFC3339), vehicles)
	}
	stored := func() int {
		var n int64
		store.Org(ta.Store.DB, c.org).Model(&cityworks.TrafficCount{}).Where("device_id = ?", dev.ID).Count(&n)
		return int(n)
	}
	alerts := func(user uint) int {
		var n int64
		store.Org(ta.Store.DB, c.org).Model(&notify.Record{}).Where("user_id = ? AND kind = ?", user, cityworks.KindCongestion).Count(&n)
		return int(n)
	}
	episodes := func() []cityworks.Congestion {
		var cs []cityworks.Congestion
		store.Org(ta.Store.DB, c.org).Order("id").Find(&cs)
		return cs
	}

	publish(count(0, 55)) // 660 an hour against a usual 600: usual traffic
	waitFor(t, 10*time.Second, "the first count", func() bool {
		var reasons []string
		ta.Store.DB.Raw("SELECT reason FROM device_rejects WHERE device_id = ?", dev.ID).Scan(&reasons)
		if len(reasons) > 0 {
			t.Fatalf("rejected: %v", reasons)
		}
		return stored() == 1
	})
	if n := len(episodes()); n != 0 {
		t.Fatalf("%d episodes for usual traffic", n)
	}
	publish(count(5, 100)) // 1200 an hour: twice the usual
	waitFor(t, 10*time.Second, "the high count", func() bool { return stored() == 2 })
	publish(count(5, 100)) // a redelivery
	publish(count(10, 110))
	waitFor(t, 10*time.Second, "the second high count", func() bool { return stored() == 3 })
	if eps := episodes(); len(eps) != 1 || eps[0].ClosedAt != nil || eps[0].UsualPerH != 600 || eps[0].PerHour != 1200 {
		t.Fatalf("episodes after a congestion: %+v", eps)
	}
	waitFor(t, 5*time.Second, "the department's alert", func() bool { return alerts(c.rossiID) == 1 })
	if alerts(c.crewID) != 1 || alerts(c.bianchiID) != 0 || alerts(c.verdiID) != 0 {
		t.Fatalf("alerts: crew %d, mobility %d, parks %d", alerts(c.crewID), alerts(c.bianchiID), alerts(c.verdiID))
	}
	var open []cityworks.CongestionView
	c.must(t, "GET", "/api/v1/cityworks/congestions?open=true", nil, c.rossi, 200).JSON(t, &open)
	if len(open) != 1 || open[0].Segment != "Via Roma" {
		t.Fatalf("rossi's open congestion: %+v", open)
	}
	c.must(t, "GET", "/api/v1/cityworks/congestions", nil, c.verdi, 200).JSON(t, &open)
	if len(open) != 0 {
		t.Fatalf("parks sees the works department's congestion: %+v", open)
	}
	publish(count(15, 50)) // back to usual: the episode ends
	waitFor(t, 10*time.Second, "the usual count", func() bool { return stored() == 4 })
	if eps := episodes(); len(eps) != 1 || eps[0].ClosedAt == nil {
		t.Fatalf("the episode is not closed: %+v", eps)
	}

	// Bad payloads: refused with the reason, nothing counted.
	at := base.Add(20 * time.Minute).Format(time.RFC3339)
	for _, bad := range []struct{ payload, reason string }{
		{fmt.Sprintf(`{"ts":%q,"segment":"via-roma-1","vehicles":-3,"pedestrians":0,"minutes":5}`, at), "vehicles: must be between 0 and"},
		{fmt.Sprintf(`{"ts":%q,"segment":"via-roma-1","vehicles":3,"pedestrians":0,"minutes":0}`, at), "minutes: must be between 1 and 60"},
		{fmt.Sprintf(`{"ts":%q,"segment":"Via Roma!","vehicles":3,"pedestrians":0,"minutes":5}`, at), "segment: \"Via Roma!\" is not a segment code"},
		{fmt.Sprintf(`{"ts":%q,"segment":"via-roma-1","vehicles":3,"colour":"red","minutes":5}`, at), "colour"},
	} {
		publish(bad.payload)
		waitFor(t, 10*time.Second, "the reject "+bad.reason, func() bool {
			var reasons []string
			ta.Store.DB.Raw("SELECT reason FROM device_rejects WHERE device_id = ?", dev.ID).Scan(&reasons)
			for _, r := range reasons {
				if strings.Contains(r, bad.reason) {
					return true
				}
			}
			return false
		})
	}
	// A segment the council does not have: kept in the device's history,
	// not counted.
	publish(fmt.Sprintf(`{"ts":%q,"segment":"via-ignota","vehicles":3,"pedestrians":0,"minutes":5}`, base.Add(25*time.Minute).Format(time.RFC3339)))
	waitFor(t, 10*time.Second, "the unknown segment's reading in the device history", func() bool {
		var n int64
		ta.Store.DB.Raw("SELECT COUNT(*) FROM device_readings WHERE device_id = ?", dev.ID).Scan(&n)
		return n == 5
	})
	if n := stored(); n != 4 {
		t.Fatalf("%d counts after rejected and unknown ones, want 4", n)
	}
}

// TestCongestionRule: no episode without MinWeeks of history, none for
// usual traffic, one (not two) for a congestion, a new one after traffic
// went back to usual.
func TestCongestionRule(t *testing.T) {
	ta, m := newApp(t)
	c := newCouncil(t, ta, m)
	ctx := context.Background()
	rec := func(at time.Time, vehicles int) {
		t.Helper()
		if _, err := m.Record(ctx, c.org, "dvtest", cityworks.Count{TS: at, Segment: "via-roma-1", Vehicles: vehicles, Minutes: 5}); err != nil {
			t.Fatal(err)
		}
	}
	episodes := func() int {
		var n int64
		store.Org(ta.Store.DB, c.org).Model(&cityworks.Congestion{}).Count(&n)
		return int(n)
	}
	rec(base, 500) // no history at all
	if episodes() != 0 {
		t.Fatal("an episode without history")
	}
	// Two weeks of history only: still no usual level.
	for w := 1; w <= cityworks.MinWeeks-1; w++ {
		rec(base.AddDate(0, 0, -7*w), 50)
	}
	rec(base.Add(5*time.Minute), 500)
	if episodes() != 0 {
		t.Fatal("an episode with less than the minimum history")
	}
	if _, ok, _ := cityworks.Usual(ta.Store.DB, c.org, c.roma, base); ok {
		t.Fatal("a usual level with two weeks of history")
	}
	rec(base.AddDate(0, 0, -7*cityworks.MinWeeks), 70)
	if u, ok, err := cityworks.Usual(ta.Store.DB, c.org, c.roma, base); err != nil || !ok || u != 600 {
		t.Fatalf("usual level: %v %v %v, want the median 600", u, ok, err)
	}
	rec(base.Add(10*time.Minute), 74) // 888 an hour: under 1.5 × 600
	if episodes() != 0 {
		t.Fatal("an episode for traffic under the factor")
	}
	rec(base.Add(15*time.Minute), 80) // 960: congested
	rec(base.Add(20*time.Minute), 90)
	if n := episodes(); n != 1 {
		t.Fatalf("%d episodes for one congestion", n)
	}
	// The live event reaches the department's staff and nobody else.
	liveEvents := func(user uint) int {
		var n int64
		ta.Store.DB.Raw("SELECT COUNT(*) FROM live_events WHERE user_id = ? AND type = ? AND data LIKE ?", user, "module", `%"name":"cityworks.congestion"%`).Scan(&n)
		return int(n)
	}
	if liveEvents(c.rossiID) != 1 || liveEvents(c.crewID) != 1 || liveEvents(c.bianchiID) != 0 || liveEvents(c.verdiID) != 0 || liveEvents(c.annaID) != 0 {
		t.Fatalf("live congestion events: rossi %d, crew %d, mobility %d, parks %d, citizen %d",
			liveEvents(c.rossiID), liveEvents(c.crewID), liveEvents(c.bianchiID), liveEvents(c.verdiID), liveEvents(c.annaID))
	}
	if stored, err := m.Record(ctx, c.org, "dvtest", cityworks.Count{TS: base.Add(20 * time.Minute), Segment: "via-roma-1", Vehicles: 90, Minutes: 5}); err != nil || stored {
		t.Fatalf("a redelivery was stored again: %v %v", stored, err)
	}
	rec(base.Add(25*time.Minute), 40)
	rec(base.Add(30*time.Minute), 95)
	if n := episodes(); n != 2 {
		t.Fatalf("%d episodes after usual traffic and a new congestion, want 2", n)
	}
	if _, err := m.Record(ctx, c.org, "dvtest", cityworks.Count{TS: base, Segment: "via-ignota", Vehicles: 1, Minutes: 5}); err != cityworks.ErrUnknownSegment {
		t.Fatalf("unknown segment: %v", err)
	}
	// Segments are the council's own: another organisation's sensor naming
	// via-roma-1 counts nothing here.
	other := ta.Org(t, "other").ID
	if _, err := m.Record(ctx, other, "dvother", cityworks.Count{TS: base.Add(35 * time.Minute), Segment: "via-roma-1", Vehicles: 500, Minutes: 5}); err != cityworks.ErrUnknownSegment {
		t.Fatalf("another organisation's count: %v", err)
	}
	if n := episodes(); n != 2 {
		t.Fatalf("%d episodes after another organisation's count, want 2", n)
	}
}
