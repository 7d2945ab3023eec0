package devices_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/portaltest"
)

// TestSlowPortalMakesDevicesWait stalls the database while a device
// publishes through the embedded broker: the device's QoS 1 publishes
// stop being acknowledged (it waits) instead of the broker dropping
// messages, and once the database is back every message is stored once.
func TestSlowPortalMakesDevicesWait(t *testing.T) {
	const total = 400
	ta := newApp(t, portaltest.WithConfig(func(c *config.Config) {
		c.MQTT.BatchSize, c.MQTT.QueueSize, c.MQTT.RatePerDevice = 10, 20, 0
	}))
	d := provision(t, ta, "acme", "carla@acme.example")
	started(t, ta)

	stall := make(chan struct{})
	released := make(chan struct{})
	go func() {
		_ = ta.Store.Tx(context.Background(), func(tx *gorm.DB) error {
			if portaltest.Dialect() == "postgres" {
				if err := tx.Exec("LOCK TABLE device_readings IN EXCLUSIVE MODE").Error; err != nil {
					return err
				}
			} else if err := tx.Exec("UPDATE devices SET name = name WHERE id = ''").Error; err != nil {
				return err
			}
			close(stall)
			<-released
			return nil
		})
	}()
	<-stall

	o := paho.NewClientOptions().AddBroker("tcp://" + ta.Devices.BrokerAddr()).SetClientID(d.ID).
		SetUsername(d.Username).SetPassword(d.Secret).SetCleanSession(false).SetWriteTimeout(0)
	c := paho.NewClient(o)
	if tk := c.Connect(); !tk.WaitTimeout(10*time.Second) || tk.Error() != nil {
		t.Fatalf("connect: %v", tk.Error())
	}
	defer c.Disconnect(100)
	var acked atomic.Int64
	toks := make([]paho.Token, 0, total)
	for i := 0; i < total; i++ {
		tk := c.Publish(topicOf(d, "temp"), 1, false, gaugeJSON(i, 20))
		go func() {
			if tk.WaitTimeout(60*time.Second) && tk.Error() == nil {
				acked.Add(1)
			}
		}()
		toks = append(toks, tk)
	}
	time.Sleep(1500 * time.Millisecond)
	during := acked.Load()
	if during >= total {
		close(released)
		t.Fatalf("all %d publishes were acknowledged while the database was stalled: the device did not wait", total)
	}
	if n := countReadings(t, ta, d.ID); n != 0 {
		t.Errorf("%d readings stored while the database was locked", n)
	}
	close(released)
	for _, tk := range toks {
		if !tk.WaitTimeout(60*time.Second) || tk.Error() != nil {
			t.Fatalf("publish after the stall: %v", tk.Error())
		}
	}
	eventually(t, 30*time.Second, "every message stored", func() bool { return countReadings(t, ta, d.ID) >= total })
	time.Sleep(200 * time.Millisecond)
	if n := countReadings(t, ta, d.ID); n != total {
		t.Fatalf("stored %d, want %d", n, total)
	}
	// The devices' counters, held back while batches queue, add up.
	owner := devices.Actor{OrgID: d.Device.OrgID, UserID: d.Device.OwnerID, Role: "customer"}
	eventually(t, 5*time.Second, "the device's counter", func() bool {
		got, err := ta.Devices.Get(context.Background(), owner, d.ID)
		return err == nil && got.Accepted >= total && got.LastSeenAt != nil
	})
	t.Logf("acknowledged during the stall: %d of %d; all stored once after it", during, total)
}
