package messages

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/store"
)

// Demo gives the demo customer a conversation with their advisor: a
// question and an answer, so the inbox and the response-time figure are
// not empty. Idempotent.
func (s *Service) Demo(ctx context.Context, tx *gorm.DB, orgID, customerID, staffID uint) error {
	db := store.Org(tx.WithContext(ctx), orgID)
	const subject = "Question about my next service"
	var n int64
	if err := db.Model(&Conversation{}).Where("customer_id = ? AND subject = ?", customerID, subject).Count(&n).Error; err != nil || n > 0 {
		return err
	}
	var users []accounts.User
	if err := db.Where("id IN ?", []uint{customerID, staffID}).Find(&users).Error; err != nil {
		return err
	}
	byID := map[uint]accounts.User{}
	for _, u := range users {
		byID[u.ID] = u
	}
	as := func(id uint) *accounts.Principal {
		u := byID[id]
		return &accounts.Principal{UserID: u.ID, OrgID: orgID, Role: u.Role, Name: u.Name, Email: u.Email}
	}
	asked := s.now().Add(-26 * time.Hour)
	conv, err := s.startWith(ctx, tx, as(customerID), NewConversation{Subject: subject, StaffID: staffID,
		Body: "Hello, the car is due for its service soon. Can I bring it in on a Saturday morning?"}, nil, nil, asked)
	if err != nil {
		return err
	}
	_, err = s.send(ctx, tx, as(staffID), conv, "Good morning! Yes, we are open on Saturdays from 8:00 to 12:00. Book a slot and I will confirm it.", asked.Add(95*time.Minute))
	return err
}
