package messages

import (
	"context"
	"errors"
	"strings"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// OpenInGroup is Open for a conversation that belongs to a policy group
// (core/accounts groups): the customer p, a customer-side member of group
// groupID, asks its staff side — a student asks the professors and TAs of
// one course. Only the group's staff-side members (and admins) read and
// answer it, not other staff who reach the customer through an assignment
// or another group. It goes to the group's first staff member (409 when it
// has none); a second call about the same object adds firstMessage to the
// existing conversation. It runs in the caller's transaction tx.
func (s *Service) OpenInGroup(ctx context.Context, tx *gorm.DB, p *accounts.Principal, groupID uint, module, subjectType, subjectID, subjectTitle, firstMessage string) (*Conversation, error) {
	if p == nil || !p.Is(accounts.Customer) {
		return nil, errs.Forbiddenf("only the customer opens a conversation with their group's staff")
	}
	subjectType, subjectID, subjectTitle = strings.TrimSpace(subjectType), strings.TrimSpace(subjectID), strings.TrimSpace(subjectTitle)
	if subjectType == "" || subjectID == "" {
		return nil, errs.Validation("the conversation needs an object", errs.Field("subject_type", "is required"), errs.Field("subject_id", "is required"))
	}
	db := tx.WithContext(ctx)
	fresh := func() *gorm.DB { return db.Session(&gorm.Session{NewDB: true}) }
	var member accounts.GroupMember
	if err := store.Org(fresh(), p.OrgID).Where("group_id = ? AND user_id = ? AND side = ?", groupID, p.UserID, accounts.CustomerSide).
		First(&member).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, errs.NotFoundf("not found")
		}
		return nil, err
	}
	var conv Conversation
	err := store.Org(fresh(), p.OrgID).
		Where("customer_id = ? AND group_id = ? AND module = ? AND subject_type = ? AND subject_id = ?", p.UserID, groupID, module, subjectType, subjectID).
		Order("id").First(&conv).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		var staff accounts.GroupMember
		err := store.Org(fresh(), p.OrgID).Where("group_id = ? AND side = ?", groupID, accounts.StaffSide).Order("id").First(&staff).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, errs.Conflictf("no one looks after this yet, so there is no one to write to; please contact your organisation")
		}
		if err != nil {
			return nil, err
		}
		subject := subjectTitle
		if subject == "" {
			subject = subjectType + " " + subjectID
		}
		return s.startWith(ctx, tx, p, NewConversation{Module: module, Subject: subject, SubjectType: subjectType,
			SubjectID: subjectID, SubjectTitle: subjectTitle, Body: firstMessage, fromModule: true,
			group: groupID, groupStaff: staff.UserID}, nil, nil, s.now())
	case err != nil:
		return nil, err
	}
	if strings.TrimSpace(firstMessage) != "" {
		if _, err := s.send(ctx, tx, p, &conv, firstMessage, s.now()); err != nil {
			return nil, err
		}
	}
	return &conv, nil
}

// mayAccess reports whether p may read (write: and answer) conv, as a
// not-found error when not: a group's conversation is its staff side's
// (and the customer's and admins'); any other follows the messages area's
// policy.
func (s *Service) mayAccess(ctx context.Context, db *gorm.DB, p *accounts.Principal, conv *Conversation, write bool) error {
	if conv.GroupID != 0 && p != nil && p.Role == accounts.Staff && p.OrgID == conv.OrgID {
		ok, err := s.acc.GroupReaches(ctx, db, conv.OrgID, conv.GroupID, p.UserID, conv.CustomerID)
		if err != nil {
			return err
		}
		if !ok {
			return errs.NotFoundf("no conversation %d", conv.ID)
		}
		return nil
	}
	if write {
		return s.canWrite(ctx, db, p, conv.OrgID, conv.CustomerID)
	}
	return s.acc.Reach(Area).CanRead(ctx, p, conv.OrgID, conv.CustomerID)
}

// whereVisible narrows q (conversations) to those p sees: for staff, the
// conversations outside groups of the customers they reach and those of
// the groups whose staff side they stand on.
func (s *Service) whereVisible(ctx context.Context, p *accounts.Principal, q *gorm.DB) (*gorm.DB, error) {
	if p.Role != accounts.Staff {
		return s.acc.Reach(Area).WhereVisible(ctx, p, q, "customer_id")
	}
	fresh := func() *gorm.DB { return s.st.DB.WithContext(ctx).Session(&gorm.Session{NewDB: true}) }
	reached, err := s.acc.Reach(Area).WhereVisible(ctx, p, fresh().Where("group_id = 0"), "customer_id")
	if err != nil {
		return nil, err
	}
	mine := fresh().Table("accounts_group_members").Select("group_id").
		Where("org_id = ? AND user_id = ? AND side = ?", p.OrgID, p.UserID, accounts.StaffSide)
	return q.Where(reached.Or("group_id IN (?)", mine)), nil
}

// groupRecipient is whom a customer's message in a group's conversation
// notifies: the conversation's staff member while still on the group's
// staff side, else the group's first staff member, else nobody.
func (s *Service) groupRecipient(ctx context.Context, db *gorm.DB, conv *Conversation) (uint, error) {
	var ids []uint
	err := store.Org(db.Session(&gorm.Session{NewDB: true}).WithContext(ctx), conv.OrgID).Model(&accounts.GroupMember{}).
		Where("group_id = ? AND side = ?", conv.GroupID, accounts.StaffSide).Order("id").Pluck("user_id", &ids).Error
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	for _, id := range ids {
		if id == conv.StaffID {
			return id, nil
		}
	}
	return ids[0], nil
}
