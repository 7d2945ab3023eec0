package devices

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/store"
)

// retainChunk is how many raw readings one transaction rolls up.
const retainChunk = 5000

// Retain rolls raw readings older than devices.retention (counted from
// now, to the whole hour) into hourly aggregates and deletes them. It works
// in chunks, each in its own transaction, so a crash loses nothing and a
// rerun continues. It returns how many readings were rolled up.
func (s *Service) Retain(ctx context.Context, now time.Time) (int64, error) {
	cutoff := now.UTC().Add(-s.cfg.Devices.Retention).Truncate(time.Hour)
	var total int64
	for {
		n, err := s.retainChunk(ctx, cutoff)
		total += int64(n)
		if err != nil || n < retainChunk {
			return total, err
		}
		if ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}

type rollupKey struct {
	device, stream string
	hour           time.Time
}

func (s *Service) retainChunk(ctx context.Context, cutoff time.Time) (int, error) {
	var n int
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		// Retention is deployment-wide: it walks every organisation.
		all := store.AllOrgs(tx)
		var rows []Reading
		if err := all.Where("ts < ?", cutoff).Order("id").Limit(retainChunk).Find(&rows).Error; err != nil {
			return err
		}
		n = len(rows)
		if n == 0 {
			return nil
		}
		agg := map[rollupKey]*Rollup{}
		ids := make([]int64, 0, n)
		for _, r := range rows {
			ids = append(ids, r.ID)
			k := rollupKey{r.DeviceID, r.Stream, r.TS.UTC().Truncate(time.Hour)}
			ru := agg[k]
			if ru == nil {
				ru = &Rollup{DeviceID: k.device, Stream: k.stream, Hour: k.hour, Module: r.Module}
				ru.OrgID = r.OrgID
				agg[k] = ru
			}
			mergeRollup(ru, &Rollup{Count: 1}, r.Value)
		}
		for k, ru := range agg {
			var cur Rollup
			err := all.Where("device_id = ? AND stream = ? AND hour = ?", k.device, k.stream, k.hour).Take(&cur).Error
			switch {
			case errors.Is(err, gorm.ErrRecordNotFound):
				if err := all.Create(ru).Error; err != nil {
					return err
				}
			case err != nil:
				return err
			default:
				mergeRollup(&cur, ru, nil)
				if err := all.Model(&Rollup{}).Where("device_id = ? AND stream = ? AND hour = ?", k.device, k.stream, k.hour).
					Updates(map[string]any{"count": cur.Count, "sum": cur.Sum, "min": cur.Min, "max": cur.Max}).Error; err != nil {
					return err
				}
			}
		}
		for i := 0; i < len(ids); i += 500 {
			if err := all.Where("id IN ?", ids[i:min(i+500, len(ids))]).Delete(&Reading{}).Error; err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// mergeRollup adds add (and one value v, if given) into dst.
func mergeRollup(dst, add *Rollup, v *float64) {
	dst.Count += add.Count
	dst.Sum += add.Sum
	lo, hi := add.Min, add.Max
	if v != nil {
		dst.Sum += *v
		lo, hi = v, v
	}
	if lo != nil && (dst.Min == nil || *lo < *dst.Min) {
		x := *lo
		dst.Min = &x
	}
	if hi != nil && (dst.Max == nil || *hi > *dst.Max) {
		x := *hi
		dst.Max = &x
	}
}
