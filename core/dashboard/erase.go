package dashboard

import (
	"context"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/store"
)

// EraseUser deletes, in tx, one person's dashboard layout
// (accounts.user_deleted).
func (s *Service) EraseUser(ctx context.Context, tx *gorm.DB, orgID, userID uint) error {
	return store.Org(tx.WithContext(ctx), orgID).Where("user_id = ?", userID).Delete(&Layout{}).Error
}
