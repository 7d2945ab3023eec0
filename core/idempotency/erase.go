package idempotency

import (
	"context"
	"strconv"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/store"
)

// EraseUser deletes, in tx, the Idempotency-Keys one person used and the
// sealed responses stored with them (accounts.user_deleted).
func (s *Service) EraseUser(ctx context.Context, tx *gorm.DB, orgID, userID uint) error {
	return store.Org(tx.WithContext(ctx), orgID).Where("caller = ?", "u:"+strconv.FormatUint(uint64(userID), 10)).Delete(&Key{}).Error
}
