package messages

import (
	"context"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/store"
)

// EraseUser deletes, in tx, the conversations one customer had with staff
// (accounts.user_deleted): their messages from both sides, attachments and
// read receipts. The attachments' files are left to SweepOrphans, which
// removes files no attachment refers to once the deletion has committed (a
// rolled-back purge must find them still there). Response times stay for
// the staff's figures, with the customer set to 0.
func (s *Service) EraseUser(ctx context.Context, tx *gorm.DB, orgID, userID uint) error {
	q := func() *gorm.DB { return store.Org(tx.WithContext(ctx), orgID) }
	theirs := q().Model(&Conversation{}).Select("id").Where("customer_id = ?", userID)
	for _, m := range []any{&Attachment{}, &Read{}, &Message{}} {
		if err := q().Where("conversation_id IN (?)", theirs).Delete(m).Error; err != nil {
			return err
		}
	}
	if err := q().Model(&ResponseTime{}).Where("customer_id = ?", userID).Update("customer_id", 0).Error; err != nil {
		return err
	}
	return q().Where("customer_id = ?", userID).Delete(&Conversation{}).Error
}
