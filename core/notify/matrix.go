package notify

import (
	"context"
	"strconv"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/store"
)

// Fixtures of the authorization matrix (accounts.Matrix): each creates,
// for the owner principal, a fresh object of the kind an operation
// addresses, so the matrix can check that the owner reaches it and nobody
// else does.

// notificationFixture sends the owner a test notification.
func (s *Service) notificationFixture(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
	var id uint
	err := tx.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		id, err = s.fixtureNotification(ctx, tx, owner)
		return err
	})
	return idParam(id), nil, err
}

// deadLetterFixture sends the owner a test notification and parks one of
// its deliveries as a dead letter of the owner's organisation.
func (s *Service) deadLetterFixture(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
	var id uint
	err := tx.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		nid, err := s.fixtureNotification(ctx, tx, owner)
		if err != nil {
			return err
		}
		var row OutboxRow
		if err := store.Org(tx, owner.OrgID).Where("notification_id = ?", nid).Order("id").Take(&row).Error; err != nil {
			return err
		}
		id = row.ID
		return store.Org(tx, owner.OrgID).Model(&OutboxRow{}).Where("id = ?", row.ID).
			Updates(map[string]any{"status": StatusDead, "last_error": "authorization matrix fixture"}).Error
	})
	return idParam(id), nil, err
}

// webhookFixture adds an inactive endpoint (it receives nothing) to the
// owner's organisation.
func (s *Service) webhookFixture(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
	h := Webhook{URL: "https://matrix.invalid/hook", Secret: "whsec_" + randomKey(), Description: "authorization matrix fixture",
		Active: false, CreatedAt: s.now().UTC()}
	if err := store.Org(tx.WithContext(ctx), owner.OrgID).Create(&h).Error; err != nil {
		return nil, nil, err
	}
	return idParam(h.ID), nil, nil
}

func (s *Service) fixtureNotification(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (uint, error) {
	res, err := s.SendMany(ctx, tx, []Notification{{OrgID: owner.OrgID, UserID: owner.UserID, Kind: KindTest,
		Data: map[string]any{"message": "authorization matrix fixture"}}})
	if err != nil {
		return 0, err
	}
	return res[0].ID, nil
}

// muteFixture sends the owner a digest-kind notification to mute: muting
// the test kind would stop the other fixtures' notifications reaching the
// owner's inbox.
func (s *Service) muteFixture(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
	var id uint
	err := tx.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res, err := s.SendMany(ctx, tx, []Notification{{OrgID: owner.OrgID, UserID: owner.UserID, Kind: KindDigest,
			Data: map[string]any{"items": []any{}}}})
		if err == nil {
			id = res[0].ID
		}
		return err
	})
	return idParam(id), nil, err
}

func idParam(id uint) map[string]string {
	return map[string]string{"id": strconv.FormatUint(uint64(id), 10)}
}
