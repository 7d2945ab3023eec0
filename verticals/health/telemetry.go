package health

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/store"
)

// MaxBatch bounds the readings of one device message.
const MaxBatch = 500

// DeviceReading is one reading in a wearable's batch: a kind or a LOINC
// code, the value (systolic for blood pressure), the diastolic for blood
// pressure, the unit when it is not the stored one, and when it was taken.
type DeviceReading struct {
	Kind      string    `json:"kind,omitempty"`
	Code      string    `json:"code,omitempty"`
	Value     float64   `json:"value"`
	Diastolic float64   `json:"diastolic,omitempty"`
	Unit      string    `json:"unit,omitempty"`
	Time      time.Time `json:"time"`
}

// DeviceBatch is what a wearable publishes on
// t/{org}/d/{device}/health/{watch|cuff|scale}: up to MaxBatch readings,
// so a watch that was offline sends its backlog in a few messages.
type DeviceBatch struct {
	Readings []DeviceReading `json:"readings"`
}

// deviceStream is one kind of wearable: the kinds of reading it may send
// and its simulator.
type deviceStream struct {
	name  string
	kinds map[string]bool
	sim   func(r *rand.Rand, now time.Time) DeviceBatch
}

var deviceStreams = []deviceStream{
	{"watch", map[string]bool{"heart_rate": true, "spo2": true, "steps": true}, simulateWatch},
	{"cuff", map[string]bool{"blood_pressure": true, "heart_rate": true}, simulateCuff},
	{"scale", map[string]bool{"weight": true}, simulateScale},
}

func kindOf(r DeviceReading) string {
	if r.Kind != "" {
		return r.Kind
	}
	switch r.Code {
	case CodeSystolic, CodeBPPanel:
		return "blood_pressure"
	case CodeSpO2Pulse:
		return "spo2"
	}
	for k, c := range kindCode {
		if c == r.Code {
			return k
		}
	}
	return ""
}

func (r DeviceReading) reading() NewReading {
	return NewReading{Kind: r.Kind, Code: r.Code, Value: r.Value, Diastolic: r.Diastolic, Unit: r.Unit, At: r.Time}
}

// checkBatch validates a batch as the gateway receives it: every reading
// must be of a kind the device sends, with a time, and possible; the
// reject log names the first bad one.
func (ds deviceStream) checkBatch(now func() time.Time) func(DeviceBatch) error {
	return func(b DeviceBatch) error {
		if len(b.Readings) == 0 || len(b.Readings) > MaxBatch {
			return fmt.Errorf("readings: want 1 to %d readings, got %d", MaxBatch, len(b.Readings))
		}
		for i, r := range b.Readings {
			if !ds.kinds[kindOf(r)] {
				return fmt.Errorf("readings[%d]: a %s does not send %q", i, ds.name, r.Kind+r.Code)
			}
			if r.Time.IsZero() {
				return fmt.Errorf("readings[%d].time: missing", i)
			}
			if _, err := r.reading().validate(now(), ""); err != nil {
				return fmt.Errorf("readings[%d]: %v", i, describe(err))
			}
		}
		return nil
	}
}

// describe is a validation error in one line: the field and the message.
func describe(err error) string {
	var msg string
	if e, ok := errorsAs(err); ok && len(e.Fields) == 1 {
		msg = e.Fields[0].Field + ": " + e.Fields[0].Message
	} else {
		msg = err.Error()
	}
	return msg
}

// ErrNotAPatient is returned when a health device's owner is not a
// customer: its readings stay in the device's history only.
var ErrNotAPatient = errors.New("health: the device's owner is not a patient")

// RecordDevice stores a stored device message's readings as observations
// of the device's owner, with alerts, in one transaction. Applying the
// same message again stores nothing new (unique per device, code, time).
func (s *Service) RecordDevice(ctx context.Context, orgID uint, deviceID string, b DeviceBatch) error {
	return s.st.Tx(ctx, func(tx *gorm.DB) error {
		var owner struct{ ID uint }
		err := store.Org(tx.WithContext(ctx), orgID).Model(&accounts.User{}).Select("accounts_users.id").
			Joins("JOIN devices d ON d.owner_id = accounts_users.id AND d.org_id = accounts_users.org_id").
			Where("d.id = ? AND accounts_users.role = ?", deviceID, accounts.Customer).Scan(&owner).Error
		if err != nil {
			return err
		}
		if owner.ID == 0 {
			return ErrNotAPatient
		}
		src := Source{Kind: SourceDevice, DeviceID: deviceID}
		var stored []Observation
		for _, r := range b.Readings {
			obs, err := s.Record(ctx, tx, orgID, owner.ID, src, r.reading())
			if err != nil {
				return err
			}
			stored = append(stored, obs...)
		}
		// One live event for the whole batch, not one per reading.
		return s.publishVitals(ctx, tx, orgID, owner.ID, stored)
	})
}

func (m *Module) declareStreams(topic func(string, devices.Handler), now func() time.Time) {
	for _, ds := range deviceStreams {
		topic(ds.name, devices.Stream[DeviceBatch]{
			Validate: ds.checkBatch(now),
			Time:     func(b DeviceBatch) time.Time { return b.Readings[0].Time },
			Value:    func(b DeviceBatch) float64 { return b.Readings[0].Value },
			Simulate: ds.sim,
			OnStored: func(ctx context.Context, r devices.Reading, b DeviceBatch) error {
				err := m.svc.RecordDevice(ctx, r.OrgID, r.DeviceID, b)
				if errors.Is(err, ErrNotAPatient) {
					return nil // registered to staff by mistake: the reading stays in the device's history
				}
				return err
			},
		})
	}
}

// Simulators: a watch (heart rate every minute with a daily rhythm, SpO2,
// the day's steps so far), a cuff (a morning blood pressure that is high
// now and then) and a scale.

func simulateWatch(r *rand.Rand, now time.Time) DeviceBatch {
	now = now.UTC().Truncate(time.Second)
	h := float64(now.Hour()) + float64(now.Minute())/60
	hr := 64 + 12*math.Sin((h-9)/24*2*math.Pi) + r.NormFloat64()*4
	steps := math.Round(math.Max(0, (h-7)/15) * 9000 * (0.8 + 0.4*r.Float64()))
	return DeviceBatch{Readings: []DeviceReading{
		{Kind: "heart_rate", Value: math.Round(hr), Time: now},
		{Kind: "spo2", Value: math.Min(100, math.Round(97+r.NormFloat64())), Time: now},
		{Kind: "steps", Value: math.Min(steps, 60000), Time: now},
	}}
}

func simulateCuff(r *rand.Rand, now time.Time) DeviceBatch {
	now = now.UTC().Truncate(time.Second)
	sys := math.Round(128 + r.NormFloat64()*8)
	if r.IntN(20) == 0 {
		sys += 25 // now and then a high reading: an alert episode
	}
	dia := math.Round(math.Min(sys-25, 80+r.NormFloat64()*5))
	return DeviceBatch{Readings: []DeviceReading{
		{Kind: "blood_pressure", Value: sys, Diastolic: dia, Time: now},
		{Kind: "heart_rate", Value: math.Round(70 + r.NormFloat64()*5), Time: now},
	}}
}

func simulateScale(r *rand.Rand, now time.Time) DeviceBatch {
	return DeviceBatch{Readings: []DeviceReading{{Kind: "weight", Value: math.Round((82+r.NormFloat64()*0.5)*10) / 10, Time: now.UTC().Truncate(time.Second)}}}
}
