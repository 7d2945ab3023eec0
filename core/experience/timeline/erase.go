package timeline

import (
	"context"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/store"
)

// EraseUser deletes, in tx, one customer's timeline: every entry whose
// subject they are (accounts.user_deleted). Entries on other customers'
// timelines that name them as the actor stay; the actor's name now reads
// "Deleted user".
func (s *Service) EraseUser(ctx context.Context, tx *gorm.DB, orgID, userID uint) error {
	return store.Org(tx.WithContext(ctx), orgID).Where("customer_id = ?", userID).Delete(&Entry{}).Error
}
