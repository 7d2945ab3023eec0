package quiz

import (
	"context"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/store"
)

// EraseUser deletes, in tx, one person's quiz attempts and their answers
// (accounts.user_deleted). Their progress lives in their drafts, which the
// drafts service erases.
func (s *Service) EraseUser(ctx context.Context, tx *gorm.DB, orgID, userID uint) error {
	for _, m := range []any{&Response{}, &Attempt{}} {
		if err := store.Org(tx.WithContext(ctx), orgID).Where("user_id = ?", userID).Delete(m).Error; err != nil {
			return err
		}
	}
	return nil
}
