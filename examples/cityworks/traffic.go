package cityworks

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sort"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/live"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/store"
)

// Count is what a traffic sensor publishes on
// t/<org>/d/<device>/cityworks/counts, one message per interval.
type Count struct {
	TS          time.Time `json:"ts"`
	Segment     string    `json:"segment"`
	Vehicles    int       `json:"vehicles"`
	Pedestrians int       `json:"pedestrians"`
	Minutes     int       `json:"minutes"`
}

// Congestion rule: the latest interval's vehicles per hour against the
// usual level for the same weekday and hour (the median over previous
// weeks), with at least MinWeeks weeks of history.
const (
	Factor      = 1.5
	MinWeeks    = 3
	MaxWeeks    = 8
	MaxMinutes  = 60
	MaxVehicles = 100000
)

var segmentCode = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// validateCount is the gateway's check. It has no organisation (the core's
// Validate sees only the payload), so a segment code unknown to the
// organisation is refused later, when the reading is applied: see apply.
func validateCount(c Count) error {
	switch {
	case c.TS.IsZero():
		return errors.New("ts: missing")
	case !segmentCode.MatchString(c.Segment):
		return fmt.Errorf("segment: %q is not a segment code (lowercase letters, digits and dashes)", c.Segment)
	case c.Minutes < 1 || c.Minutes > MaxMinutes:
		return fmt.Errorf("minutes: must be between 1 and %d, got %d", MaxMinutes, c.Minutes)
	case c.Vehicles < 0 || c.Vehicles > MaxVehicles:
		return fmt.Errorf("vehicles: must be between 0 and %d, got %d", MaxVehicles, c.Vehicles)
	case c.Pedestrians < 0 || c.Pedestrians > MaxVehicles:
		return fmt.Errorf("pedestrians: must be between 0 and %d, got %d", MaxVehicles, c.Pedestrians)
	}
	return nil
}

func simulateCount(r *rand.Rand, now time.Time) Count {
	h := now.UTC().Hour()
	base := 20 + 40*float64(max(0, 6-abs(h-8)))/6 + 40*float64(max(0, 6-abs(h-18)))/6
	return Count{TS: now.UTC().Truncate(5 * time.Minute), Segment: "via-roma-1",
		Vehicles: int(base * (0.8 + 0.4*r.Float64())), Pedestrians: r.IntN(30), Minutes: 5}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func (m *Module) countStream() devices.Stream[Count] {
	return devices.Stream[Count]{
		Validate: validateCount,
		Time:     func(c Count) time.Time { return c.TS },
		Value:    func(c Count) float64 { return float64(c.Vehicles) },
		Simulate: simulateCount,
		OnStored: func(ctx context.Context, rd devices.Reading, c Count) error {
			_, err := m.Record(ctx, rd.OrgID, rd.DeviceID, c)
			if errors.Is(err, ErrUnknownSegment) {
				m.log.Warn("cityworks: a count for a segment the organisation does not have", "device", rd.DeviceID, "segment", c.Segment)
				return nil // stays in the device's history only
			}
			return err
		},
	}
}

// ErrUnknownSegment is returned for a count naming a segment the
// organisation does not have.
var ErrUnknownSegment = errors.New("cityworks: unknown segment")

// Record stores a count and judges congestion, in one transaction. A count
// already stored (a redelivery) changes nothing and returns false.
func (m *Module) Record(ctx context.Context, orgID uint, deviceID string, c Count) (bool, error) {
	if err := validateCount(c); err != nil {
		return false, err
	}
	stored := false
	err := m.st.Tx(ctx, func(tx *gorm.DB) error {
		var seg Segment
		err := store.Org(tx, orgID).Where("code = ?", c.Segment).Take(&seg).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrUnknownSegment
		}
		if err != nil {
			return err
		}
		row := TrafficCount{SegmentID: seg.ID, DeviceID: deviceID, TS: c.TS.UTC(), Vehicles: c.Vehicles, Pedestrians: c.Pedestrians, Minutes: c.Minutes}
		row.OrgID = orgID
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil // counted before
		}
		stored = true
		return m.judge(ctx, tx, &seg, &row)
	})
	return stored, err
}

func perHour(vehicles, minutes int) float64 {
	if minutes <= 0 {
		return 0
	}
	return float64(vehicles) * 60 / float64(minutes)
}

// Usual returns the usual vehicles per hour on seg at the weekday and hour
// of at: the median, over the previous MaxWeeks weeks that have counts in
// that hour, of each week's rate; ok is false with fewer than MinWeeks.
func Usual(db *gorm.DB, orgID, segID uint, at time.Time) (float64, bool, error) {
	at = at.UTC()
	hour := at.Truncate(time.Hour)
	var rates []float64
	for w := 1; w <= MaxWeeks; w++ {
		from := hour.AddDate(0, 0, -7*w)
		var agg struct{ V, M int }
		err := store.Org(db, orgID).Model(&TrafficCount{}).Select("COALESCE(SUM(vehicles),0) AS v, COALESCE(SUM(minutes),0) AS m").
			Where("segment_id = ? AND ts >= ? AND ts < ?", segID, from, from.Add(time.Hour)).Scan(&agg).Error
		if err != nil {
			return 0, false, err
		}
		if agg.M > 0 {
			rates = append(rates, perHour(agg.V, agg.M))
		}
	}
	if len(rates) < MinWeeks {
		return 0, false, nil
	}
	sort.Float64s(rates)
	n := len(rates)
	if n%2 == 1 {
		return rates[n/2], true, nil
	}
	return (rates[n/2-1] + rates[n/2]) / 2, true, nil
}

// judge opens an episode when the count is above Factor × usual and none
// is open, and closes the open one when traffic is back to usual. The
// unique index on open_segment keeps one open episode per segment.
func (m *Module) judge(ctx context.Context, tx *gorm.DB, seg *Segment, c *TrafficCount) error {
	usual, ok, err := Usual(tx, seg.OrgID, seg.ID, c.TS)
	if err != nil || !ok {
		return err
	}
	rate := perHour(c.Vehicles, c.Minutes)
	db := store.Org(tx, seg.OrgID)
	if rate <= Factor*usual {
		now := m.now()
		return db.Model(&Congestion{}).Where("open_segment = ?", seg.ID).
			Updates(map[string]any{"open_segment": nil, "closed_at": now}).Error
	}
	id := seg.ID
	ep := Congestion{SegmentID: seg.ID, OpenSegment: &id, OpenedAt: c.TS, PerHour: rate, UsualPerH: usual}
	ep.OrgID = seg.OrgID
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&ep)
	if res.Error != nil || res.RowsAffected == 0 {
		return res.Error // already open
	}
	staff, err := m.departmentStaff(ctx, tx, seg.OrgID, seg.DepartmentID)
	if err != nil {
		return err
	}
	var dept Department
	if err := db.Where("id = ?", seg.DepartmentID).Take(&dept).Error; err != nil {
		return err
	}
	ns := make([]notify.Notification, 0, len(staff))
	for _, u := range staff {
		ns = append(ns, notify.Notification{OrgID: seg.OrgID, UserID: u, Kind: KindCongestion,
			Data: map[string]any{"segment": seg.Name, "department": dept.Name, "per_hour": int(rate), "usual": int(usual),
				"link": fmt.Sprintf("/m/cityworks/segments/%d", seg.ID)},
			DedupeKey: fmt.Sprintf("congestion:%d", ep.ID)})
	}
	if len(staff) == 0 {
		return nil // a department without staff: the episode is on its pages
	}
	if _, err := m.notify.SendMany(ctx, tx, ns); err != nil {
		return err
	}
	return m.live.Publish(ctx, tx, live.Event{OrgID: seg.OrgID, Name: "congestion", To: staff,
		Subject: fmt.Sprintf("segment:%d", seg.ID),
		Data:    map[string]any{"segment": seg.ID, "episode": ep.ID, "per_hour": int(rate), "usual": int(usual)}})
}
