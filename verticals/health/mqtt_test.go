package health_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/devices/mosquittotest"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/verticals/health"
)

// TestWearablesOverMQTT runs the wearable path through the embedded broker
// and a real Mosquitto: a cuff publishes batches; the readings reach the
// patient's page; the high episode alerts the care team once however many
// high readings (and redeliveries) follow, and a new episode after a normal
// reading alerts again; an impossible value lands in the device's reject
// log with the reading named.
func TestWearablesOverMQTT(t *testing.T) {
	for _, gw := range []string{"embedded", "mosquitto"} {
		t.Run(gw, func(t *testing.T) {
			var opts []portaltest.Option
			port := 0
			if gw == "mosquitto" {
				mosquittotest.Require(t)
				port = mosquittotest.FreePort(t)
				opts = append(opts, mosquittotest.Use(port, "portal-1"))
			}
			// Real time: the gateway stamps what it receives with the wall clock.
			ta := portaltest.New(t, []module.Module{&health.Module{}}, opts...)
			c := newClinic(t, ta)
			ctx := context.Background()
			adm := ta.Principal(t, c.admin["Authorization"][len("Bearer "):])
			cuff, err := ta.Devices.Create(ctx, devices.Actor{OrgID: adm.OrgID, UserID: adm.UserID, Role: "admin"},
				devices.NewDevice{OwnerID: c.patientID, Module: health.ID, Name: "Anna's cuff", Kind: "cuff"})
			if err != nil {
				t.Fatal(err)
			}
			url := ""
			if gw == "mosquitto" {
				m := mosquittotest.Start(t, ta.Devices, port, "portal-1")
				url = m.URL
			}
			if err := ta.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ta.Stop(context.Background()) })
			if url == "" {
				url = "tcp://" + ta.Devices.BrokerAddr()
			}
			cl := mqttClient(t, url, cuff)
			topic := cuff.Topics.Publish + "/cuff"
			base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
			bp := func(min int, sys, dia float64) string {
				return fmt.Sprintf(`{"kind":"blood_pressure","value":%g,"diastolic":%g,"time":%q}`, sys, dia, base.Add(time.Duration(min)*time.Minute).Format(time.RFC3339))
			}
			send := func(items ...string) {
				t.Helper()
				if tok := cl.Publish(topic, 1, false, `{"readings":[`+strings.Join(items, ",")+`]}`); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
					t.Fatalf("publish: %v", tok.Error())
				}
			}
			systolic := func() int {
				var n int64
				store.AllOrgs(ta.Store.DB).Model(&health.Observation{}).Where("patient_id = ? AND code = ? AND source = ?", c.patientID, health.CodeSystolic, health.SourceDevice).Count(&n)
				return int(n)
			}
			alerts := func() int {
				var n int64
				store.AllOrgs(ta.Store.DB).Model(&notify.Record{}).Where("user_id = ? AND kind = ?", c.rossiID, health.KindVitalAlert).Count(&n)
				return int(n)
			}
			first := bp(0, 128, 82) + `,{"kind":"heart_rate","value":71,"time":"` + base.Format(time.RFC3339) + `"}`
			send(first, bp(10, 165, 98))
			send(bp(20, 170, 101), bp(30, 168, 99))
			send(first, bp(10, 165, 98)) // a redelivery of the first message
			waitFor(t, 10*time.Second, "four blood pressure readings", func() bool { return systolic() == 4 })
			if n := alerts(); n != 1 {
				t.Fatalf("%d alerts for one high episode, want 1", n)
			}
			send(bp(40, 125, 80)) // back in range: the episode ends
			// Ten minutes apart on a real cuff: the next reading is sent once
			// this one is in. (Two messages of one device sent back to back may
			// be stored in either order, and the episode is judged on arrival.)
			waitFor(t, 10*time.Second, "five readings", func() bool { return systolic() == 5 })
			send(bp(50, 166, 97)) // a new episode
			waitFor(t, 10*time.Second, "six readings", func() bool { return systolic() == 6 })
			waitFor(t, 5*time.Second, "the second episode's alert", func() bool { return alerts() == 2 })
			var bianchi int64
			store.AllOrgs(ta.Store.DB).Model(&notify.Record{}).Where("user_id = ? AND kind = ?", c.bianchiID, health.KindVitalAlert).Count(&bianchi)
			if bianchi != 0 {
				t.Fatal("a clinician outside the care team was alerted")
			}
			b := ta.Browser()
			b.SignIn(t, "clinic", "anna@clinic.example")
			if page := b.Get(t, "/m/health/"); !strings.Contains(page.Body, "166/97") || !strings.Contains(page.Body, "source: device") {
				t.Fatalf("the cuff's reading is not on the patient's page")
			}
			send(bp(60, 400, 80))
			waitFor(t, 10*time.Second, "the impossible reading in the reject log", func() bool {
				var reasons []string
				ta.Store.DB.Raw("SELECT reason FROM device_rejects WHERE device_id = ?", cuff.ID).Scan(&reasons)
				return len(reasons) == 1 && strings.Contains(reasons[0], "readings[0]: value: Systolic blood pressure must be between 50 and 300")
			})
			if n := systolic(); n != 6 {
				t.Fatalf("%d readings after a rejected batch, want 6", n)
			}
		})
	}
}

func mqttClient(t *testing.T, url string, c *devices.Created) paho.Client {
	t.Helper()
	o := paho.NewClientOptions().AddBroker(url).SetClientID(c.Username).SetUsername(c.Username).SetPassword(c.Secret).
		SetCleanSession(true).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
	cl := paho.NewClient(o)
	if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("the device could not connect: %v", tok.Error())
	}
	t.Cleanup(func() { cl.Disconnect(100) })
	return cl
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
