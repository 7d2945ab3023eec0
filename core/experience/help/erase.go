package help

import (
	"context"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/store"
)

// EraseUser deletes, in tx, one person's "was this helpful?" votes
// (accounts.user_deleted). The articles' counts are totals without names
// and keep the votes.
func (s *Service) EraseUser(ctx context.Context, tx *gorm.DB, orgID, userID uint) error {
	return store.Org(tx.WithContext(ctx), orgID).Where("user_id = ?", userID).Delete(&Vote{}).Error
}
