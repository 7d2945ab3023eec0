package automotive

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/live"
	"github.com/portalkit/portalkit/core/store"
)

// CheckDiagnostics is the diagnostics stream's validation for the device
// gateway: every out-of-range field in one message, so the device's reject
// log says everything that was wrong.
func CheckDiagnostics(now func() time.Time) func(Diagnostics) error {
	return func(d Diagnostics) error {
		ps := d.Validate(now())
		if len(ps) == 0 {
			return nil
		}
		parts := make([]string, len(ps))
		for i, p := range ps {
			parts[i] = p.String()
		}
		return errors.New(strings.Join(parts, "; "))
	}
}

// ErrNoVehicle is returned for a reading from a device linked to no
// vehicle: the reading stays in the device's history, nothing else happens.
var ErrNoVehicle = errors.New("automotive: the device is linked to no vehicle")

// ApplyDeviceReading applies a diagnostics reading that device deviceID of
// org sent: the vehicle it is linked to gets the reading, and alerts are
// raised or cleared (ApplyReading), in one transaction. Applying the same
// reading twice changes nothing, so the gateway may redeliver.
func (s *Service) ApplyDeviceReading(ctx context.Context, org uint, deviceID string, d Diagnostics) error {
	return s.st.Tx(ctx, func(tx *gorm.DB) error {
		var v Vehicle
		err := store.Org(tx.WithContext(ctx), org).Where("device_id = ?", deviceID).Take(&v).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNoVehicle
		}
		if err != nil {
			return err
		}
		if err := s.ApplyReading(ctx, tx, &v, &d); err != nil {
			return err
		}
		// The car's page (health, warnings, diagnostics chart) and the
		// dashboard of everyone who may see the car refresh on commit.
		return s.live.Publish(ctx, tx, live.Event{OrgID: org, Name: "reading", Owner: v.OwnerID,
			Subject: fmt.Sprintf("vehicle:%d", v.ID), Data: map[string]any{"vehicle": v.ID, "at": d.Time}})
	})
}

// SimulateDiagnostics returns a realistic reading of a petrol car at now:
// the odometer grows with time, the 12 V battery drains slowly over each
// week and recovers, tyres lose a little pressure between fortnightly
// top-ups, the engine is warm, and about one reading in two hundred
// carries a trouble code.
func SimulateDiagnostics(r *rand.Rand, now time.Time) Diagnostics {
	// Hours since Monday 2025-01-06 00:00 UTC: weeks start on Mondays.
	hours := now.Sub(simEpoch).Hours()
	week := math.Mod(hours, 7*24) / (7 * 24)        // 0..1 through the week
	fortnight := math.Mod(hours, 14*24) / (14 * 24) // 0..1 between top-ups
	fuel := 100 - math.Mod(hours*1.1, 90)
	d := Diagnostics{
		Time:       now.UTC().Truncate(time.Second),
		Seq:        now.UnixMilli(),
		OdometerKm: math.Round(15000 + hours*1.4 + r.Float64()*0.5),
		BatteryV:   round1(12.6 - 0.5*week + r.NormFloat64()*0.03),
		CoolantC:   math.Round(88 + r.NormFloat64()*2),
		FuelPct:    &fuel,
		Tyres: Tyres{
			FL: math.Round(235 - 12*fortnight + r.NormFloat64()),
			FR: math.Round(235 - 12*fortnight + r.NormFloat64()),
			RL: math.Round(230 - 12*fortnight + r.NormFloat64()),
			RR: math.Round(230 - 12*fortnight + r.NormFloat64()),
		},
		DTCs: []string{},
	}
	if r.IntN(200) == 0 {
		d.DTCs = []string{[]string{"P0171", "P0300", "P0420", "P0128"}[r.IntN(4)]}
	}
	return d
}

var simEpoch = time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)

func round1(v float64) float64 { return math.Round(v*10) / 10 }
