package notes

import (
	"context"
	"fmt"
	"strconv"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/core/store"
)

// The weekly reminder is the module's scheduled job, the worked example
// of docs/jobs.md: exactly once per slot across instances, in chunks, each
// chunk's notifications, idempotency keys and cursor in one transaction.

func (m *Module) weeklyJob() schedule.Job {
	return schedule.Job{
		Name:        "weekly", // becomes "notes.weekly"
		Description: "Reminds everyone with notes how many they keep",
		Cron:        "0 8 * * 1",   // Mondays at 08:00 ...
		TimeZone:    "Europe/Rome", // ... in Rome (empty: UTC)
		Run:         m.weekly,
	}
}

var weeklyKind = notify.Kind{ID: "notes.weekly", Title: "Weekly reminder of your notes",
	DefaultChannels: []string{notify.ChannelInApp, notify.ChannelEmail}, Mutable: true}

// owner is one person with notes, and how many.
type owner struct {
	OrgID, OwnerID uint
	Count          int64
}

func (m *Module) weekly(ctx context.Context, r *schedule.Run) error {
	after, _ := strconv.ParseUint(r.Cursor(), 10, 64) // "" → 0: a fresh slot
	var done int64
	for {
		var batch []owner
		err := m.st.Tx(ctx, func(tx *gorm.DB) error {
			// Deliberately every organisation: the job serves the whole deployment.
			q := store.AllOrgs(tx).Model(&Note{}).Select("org_id, owner_id, COUNT(*) AS count")
			err := q.Where("owner_id > ?", after).Group("org_id, owner_id").Order("owner_id").Limit(500).Scan(&batch).Error
			if err != nil || len(batch) == 0 {
				return err
			}
			for _, o := range batch {
				first, err := r.Once(tx, fmt.Sprintf("owner/%d", o.OwnerID))
				if err != nil {
					return err
				}
				if !first { // this slot has reminded this person already
					continue
				}
				_, err = m.notify.Send(ctx, tx, notify.Notification{OrgID: o.OrgID, UserID: o.OwnerID, Kind: weeklyKind.ID,
					Data: map[string]any{"count": o.Count}, DedupeKey: r.Key("owner", o.OwnerID)})
				if err != nil {
					return err
				}
			}
			return r.SaveCursor(tx, strconv.FormatUint(uint64(batch[len(batch)-1].OwnerID), 10))
		})
		if err != nil || len(batch) == 0 {
			return err
		}
		after = uint64(batch[len(batch)-1].OwnerID)
		done += int64(len(batch))
		r.Progress(done, 0) // 0: the total is not known
	}
}
