package feedback

import (
	"context"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/store"
)

// EraseUser erases, in tx, one customer's feedback (accounts.user_deleted).
// Prompts they never answered and their prompt throttle are deleted. Answered
// prompts stay for the organisation's CSAT, NPS and CES figures, which must
// not change when a customer leaves, but without anything that leads back to
// the person: the customer becomes 0, the free-text comment (which may name
// them) is emptied and the journey's subject ("booking:42", one of their
// objects) is replaced by a reference to the prompt itself, which also keeps
// (org, customer, step, subject) unique.
func (s *Service) EraseUser(ctx context.Context, tx *gorm.DB, orgID, userID uint) error {
	q := func() *gorm.DB { return store.Org(tx.WithContext(ctx), orgID) }
	if err := q().Where("customer_id = ?", userID).Delete(&gate{}).Error; err != nil {
		return err
	}
	if err := q().Where("customer_id = ? AND status <> ?", userID, StatusAnswered).Delete(&Prompt{}).Error; err != nil {
		return err
	}
	return q().Model(&Prompt{}).Where("customer_id = ?", userID).Updates(map[string]any{
		"customer_id": 0, "comment": "", "subject_ref": gorm.Expr("'erased:' || CAST(id AS VARCHAR(20))"),
	}).Error
}
