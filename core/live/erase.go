package live

import (
	"context"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/store"
)

// EraseUser deletes, in tx, one person's live events and their position
// (accounts.user_deleted). Their streams ended when the account was closed.
func (s *Service) EraseUser(ctx context.Context, tx *gorm.DB, orgID, userID uint) error {
	for _, m := range []any{&entry{}, &cursor{}} {
		if err := store.Org(tx.WithContext(ctx), orgID).Where("user_id = ?", userID).Delete(m).Error; err != nil {
			return err
		}
	}
	return nil
}
