package notify

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/store"
)

// maxDigestItems bounds one digest email; the rest wait for the next one.
const maxDigestItems = 200

// SendDigests folds every user's waiting non-urgent notifications (those
// whose email was held because the user chose the daily digest) created up
// to now into one digest email per user, and returns how many digests it
// sent. It is safe to run twice or to resume after a crash: each digest and
// the marking of its items commit together, and the digest's dedupe key is
// derived from the items it folds.
//
// Nothing calls it yet: it is meant to be a daily job of core/schedule
// (exactly once per day across instances), which is not merged; the kernel
// registers it once it is, e.g. Job{Name: "notify.digest", Cron: "0 7 * * *",
// Run: func(ctx, run) error { _, err := svc.SendDigests(ctx, run.Slot); return err }}.
func (s *Service) SendDigests(ctx context.Context, now time.Time) (int, error) {
	type pendingUser struct{ OrgID, UserID uint }
	var users []pendingUser
	// A job that walks every organisation, deliberately.
	err := store.AllOrgs(s.st.DB.WithContext(ctx)).Model(&Record{}).Distinct("org_id", "user_id").
		Where("digest = ? AND created_at <= ?", "pending", now.UTC()).Order("org_id, user_id").Scan(&users).Error
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, u := range users {
		if err := ctx.Err(); err != nil {
			return sent, err
		}
		err := s.st.Tx(ctx, func(tx *gorm.DB) error {
			var items []Record
			if err := store.Org(tx, u.OrgID).Select("id", "kind", "title", "created_at").
				Where("user_id = ? AND digest = ? AND created_at <= ?", u.UserID, "pending", now.UTC()).
				Order("id").Limit(maxDigestItems).Find(&items).Error; err != nil {
				return err
			}
			if len(items) == 0 {
				return nil
			}
			list := make([]any, 0, len(items))
			ids := make([]uint, 0, len(items))
			for _, it := range items {
				list = append(list, map[string]any{"id": it.ID, "kind": it.Kind, "title": it.Title, "created_at": it.CreatedAt})
				ids = append(ids, it.ID)
			}
			isNew, err := s.Send(ctx, tx, Notification{OrgID: u.OrgID, UserID: u.UserID, Kind: KindDigest,
				Data:      map[string]any{"items": list},
				DedupeKey: fmt.Sprintf("digest:%d-%d", items[0].ID, items[len(items)-1].ID)})
			if err != nil {
				return err
			}
			if isNew {
				sent++
			}
			return store.Org(tx, u.OrgID).Model(&Record{}).Where("id IN ?", ids).Update("digest", "sent").Error
		})
		if err != nil {
			return sent, fmt.Errorf("notify: digest for user %d of org %d: %w", u.UserID, u.OrgID, err)
		}
	}
	return sent, nil
}
