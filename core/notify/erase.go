package notify

import (
	"context"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/store"
)

// EraseUser deletes, in tx, everything the service keeps about one person
// of orgID whose account is being purged (accounts.user_deleted): their
// notifications with their attachments, their deliveries in the outbox,
// the dev mailbox's e-mails addressed to email, their preferences and
// quiet hours. Notifications sent to other people (a clinician told that
// this patient wrote) are theirs and stay.
func (s *Service) EraseUser(ctx context.Context, tx *gorm.DB, orgID, userID uint, email string) error {
	q := func() *gorm.DB { return store.Org(tx.WithContext(ctx), orgID) }
	mine := q().Model(&Record{}).Select("id").Where("user_id = ?", userID)
	if err := q().Where("notification_id IN (?)", mine).Delete(&attachmentRow{}).Error; err != nil {
		return err
	}
	for _, m := range []any{&OutboxRow{}, &preference{}, &settings{}, &Record{}} {
		if err := q().Where("user_id = ?", userID).Delete(m).Error; err != nil {
			return err
		}
	}
	if email == "" {
		return nil
	}
	// The mailbox stores the RFC 5322 form, `"Name" <address>` or
	// `<address>`.
	return q().Where("LOWER(\"to\") LIKE ?"+store.LikeEscape, "%<"+store.EscapeLike(email)+">").Delete(&MailboxMessage{}).Error
}
