package health

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/sdk/go/device"
)

// TestSDKVitalsMatchTheGateway: the device SDK's VitalsBatch (defined in
// the SDK module, which must not import the server) is accepted by the
// gateway's stream of each wearable — strict decoding and the stream's own
// checks — lands on the stream the module declares, and decodes to the
// same readings. A drift between the two types fails here.
func TestSDKVitalsMatchTheGateway(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	at := now.Add(-time.Hour)
	batches := map[string]device.VitalsBatch{
		"watch": {Device: device.Watch, Readings: []device.Vital{{Kind: "heart_rate", Value: 64, Time: at}, {Kind: "spo2", Value: 97, Time: at}, {Kind: "steps", Value: 4200, Time: at}}},
		"cuff":  {Device: device.Cuff, Readings: []device.Vital{{Kind: "blood_pressure", Value: 128, Diastolic: 84, Time: at}, {Code: kindCode["heart_rate"], Value: 70, Time: at}}},
		"scale": {Device: device.Scale, Readings: []device.Vital{{Kind: "weight", Value: 81.5, Unit: "kg", Time: at}}},
	}
	if len(batches) != len(deviceStreams) {
		t.Fatalf("the SDK knows %d wearables, the module declares %d", len(batches), len(deviceStreams))
	}
	for _, ds := range deviceStreams {
		b, ok := batches[ds.name]
		if !ok {
			t.Fatalf("the SDK has no wearable for the stream %q", ds.name)
		}
		if want := ID + "/" + ds.name; b.Stream() != want {
			t.Fatalf("SDK stream %q, the module declares %q", b.Stream(), want)
		}
		stream := devices.Stream[DeviceBatch]{Validate: ds.checkBatch(func() time.Time { return now })}
		body, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Decode(body); err != nil {
			t.Fatalf("the %s stream rejects the SDK's batch %s: %v", ds.name, body, err)
		}
		var got DeviceBatch
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		for i, r := range b.Readings {
			g := got.Readings[i]
			if g.Kind != r.Kind || g.Code != r.Code || g.Value != r.Value || g.Diastolic != r.Diastolic || g.Unit != r.Unit || !g.Time.Equal(r.Time) {
				t.Fatalf("%s reading %d decoded as %+v from %s", ds.name, i, g, body)
			}
		}
		// The check can fail: a kind this wearable does not send.
		b.Readings = append(b.Readings, device.Vital{Kind: "glucose", Value: 5, Time: at})
		body, _ = json.Marshal(b)
		if _, err := stream.Decode(body); err == nil {
			t.Fatalf("the %s stream accepted a glucose reading", ds.name)
		}
	}
}
