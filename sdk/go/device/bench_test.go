package device_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/portalkit/portalkit/sdk/go/device"
)

// BenchmarkPublish is the device SDK's publish rate against plain Paho on
// the same Mosquitto (started by the benchmark), QoS 1, one car
// diagnostics reading per operation: "wait" waits for each PUBACK before
// the next publish, "pipelined" keeps them all in flight and waits at the
// end. Paho runs with its memory store; the SDK with its memory store and
// with the file store a real device uses. docs/PERFORMANCE.md records it.
func BenchmarkPublish(b *testing.B) {
	br := startBroker(b)
	fuel := 50.0
	reading := device.CarDiagnostics{Time: time.Now().UTC(), Seq: 1, OdometerKm: 1000, BatteryV: 12.6, CoolantC: 90, FuelPct: &fuel,
		Tyres: device.Tyres{FL: 230, FR: 230, RL: 230, RR: 230}, DTCs: []string{}}
	ctx := context.Background()

	pahoClient := func(b *testing.B) paho.Client {
		cl := paho.NewClient(paho.NewClientOptions().AddBroker(br.url).SetClientID("plain").SetCleanSession(false))
		if tk := cl.Connect(); !tk.WaitTimeout(10*time.Second) || tk.Error() != nil {
			b.Fatal(tk.Error())
		}
		b.Cleanup(func() { cl.Disconnect(100) })
		return cl
	}
	sdkClient := func(b *testing.B, dir string) *device.Client {
		c, err := device.Connect(ctx, config(br, dir))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(c.Close)
		return c
	}
	const topic = "t/demo/d/plain/automotive/diagnostics"

	b.Run("wait/paho", func(b *testing.B) {
		cl := pahoClient(b)
		for b.Loop() {
			// Plain Paho: the caller encodes the payload itself.
			body, _ := json.Marshal(reading)
			if tk := cl.Publish(topic, 1, false, body); !tk.WaitTimeout(10*time.Second) || tk.Error() != nil {
				b.Fatal(tk.Error())
			}
		}
	})
	b.Run("wait/sdk-memory", func(b *testing.B) {
		c := sdkClient(b, "")
		for b.Loop() {
			if err := c.Send(ctx, reading); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("wait/sdk-file-store", func(b *testing.B) {
		c := sdkClient(b, b.TempDir())
		for b.Loop() {
			if err := c.Send(ctx, reading); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pipelined/paho", func(b *testing.B) {
		cl := pahoClient(b)
		tks := make([]paho.Token, 0, b.N)
		for b.Loop() {
			body, _ := json.Marshal(reading)
			tks = append(tks, cl.Publish(topic, 1, false, body))
		}
		for _, tk := range tks {
			if !tk.WaitTimeout(30*time.Second) || tk.Error() != nil {
				b.Fatal(tk.Error())
			}
		}
	})
	pipelined := func(dir string) func(b *testing.B) {
		return func(b *testing.B) {
			if dir == "file" {
				dir = b.TempDir()
			}
			c := sdkClient(b, dir)
			ps := make([]*device.Pending, 0, b.N)
			for b.Loop() {
				p, err := c.PublishAsync(reading.Stream(), reading)
				if err != nil {
					b.Fatal(err)
				}
				ps = append(ps, p)
			}
			for _, p := range ps {
				if err := p.Wait(ctx); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("pipelined/sdk-memory", pipelined(""))
	b.Run("pipelined/sdk-file-store", pipelined("file"))
}
