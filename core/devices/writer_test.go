package devices_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/store"
)

// A batch holding a redelivery among new readings stores every new one
// and adds only those to the device's accepted counter (issue 19, item
// 13); the redelivery still moves last seen.
func TestWriterCountsWhatWasStored(t *testing.T) {
	ta := newApp(t)
	a := provision(t, ta, "acme", "carla@acme.example")
	b := provision(t, ta, "acme", "bruno@acme.example")
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Second)
	row := func(d *devices.Created, seq int, dt time.Duration) devices.Reading {
		return devices.Reading{OrgOwned: store.OrgOwned{OrgID: d.Device.OrgID}, DeviceID: d.ID, Key: fmt.Sprintf("seq-%d", seq),
			Module: "gauge", Stream: "temp", TS: at, ReceivedAt: at.Add(dt), Payload: fmt.Sprintf(`{"seq":%d}`, seq)}
	}
	if err := devices.WriteBatch(ctx, ta.Devices, []devices.Reading{row(a, 1, 0), row(a, 2, 0), row(b, 1, 0)}); err != nil {
		t.Fatal(err)
	}
	// a's seq 1 and b's seq 1 come again, between new readings.
	if err := devices.WriteBatch(ctx, ta.Devices, []devices.Reading{row(a, 3, time.Second), row(a, 1, 2*time.Second),
		row(b, 2, time.Second), row(b, 1, 3*time.Second), row(a, 4, time.Second)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		d    *devices.Created
		want int64
		seen time.Time
	}{{a, 4, at.Add(2 * time.Second)}, {b, 2, at.Add(3 * time.Second)}} {
		if n := countReadings(t, ta, tc.d.ID); n != tc.want {
			t.Errorf("%s: %d readings stored, want %d", tc.d.ID, n, tc.want)
		}
		var d devices.Device
		if err := store.AllOrgs(ta.Store.DB).Where("id = ?", tc.d.ID).First(&d).Error; err != nil {
			t.Fatal(err)
		}
		if d.Accepted != tc.want {
			t.Errorf("%s: accepted %d, want %d", tc.d.ID, d.Accepted, tc.want)
		}
		if d.LastSeenAt == nil || !d.LastSeenAt.Equal(tc.seen) {
			t.Errorf("%s: last seen %v, want %v", tc.d.ID, d.LastSeenAt, tc.seen)
		}
	}
}
