package devices

import (
	"context"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/store"
)

// EraseUser deletes, in tx, the devices one customer owns with their
// readings, roll-ups, rejects and commands (accounts.user_deleted), and
// disconnects them. The broker's caches are dropped before the commit: a
// device that reconnects in between is looked up again, and after the
// commit it is unknown.
func (s *Service) EraseUser(ctx context.Context, tx *gorm.DB, orgID, userID uint) error {
	q := func() *gorm.DB { return store.Org(tx.WithContext(ctx), orgID) }
	var ids []string
	if err := q().Model(&Device{}).Where("owner_id = ?", userID).Pluck("id", &ids).Error; err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	for _, m := range []any{&Reading{}, &Reject{}, &Rollup{}, &Command{}} {
		if err := q().Where("device_id IN ?", ids).Delete(m).Error; err != nil {
			return err
		}
	}
	if err := q().Where("id IN ?", ids).Delete(&Device{}).Error; err != nil {
		return err
	}
	for _, id := range ids {
		s.changed(id, true)
	}
	return nil
}
