package notify

import (
	"context"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// OrgEvent is something that happened in an organisation as a whole (a
// public work finished, a timetable published) that its webhook endpoints
// should hear about, with no person as recipient.
type OrgEvent struct {
	OrgID uint
	// Kind is a declared kind ID; endpoints filter on it as on any kind.
	Kind string
	// Data is the payload's "data"; it must marshal to JSON. It goes to
	// the organisation's endpoints, so keep personal data out of it.
	Data map[string]any
	// DedupeKey makes SendOrgWebhook idempotent per organisation ("" means
	// no deduplication).
	DedupeKey string
}

// orgOnly reports whether k is an organisation-level kind: no default
// channel and not mutable, so no person ever receives it and preferences
// leave it out.
func orgOnly(k Kind) bool { return len(k.DefaultChannels) == 0 && !k.Mutable }

// SendOrgWebhook queues ev for every active webhook endpoint of its
// organisation that subscribes to ev.Kind, inside tx (the caller's
// transaction). Send reaches endpoints only as a copy of a notification to
// a person, whose user ID the payload then carries; this is the
// organisation-level event, sent with user_id 0 and no user channel. It
// returns false, and no error, when an event with the same dedupe key was
// already sent.
func (s *Service) SendOrgWebhook(ctx context.Context, tx *gorm.DB, ev OrgEvent) (bool, error) {
	if tx == nil {
		return false, fmt.Errorf("notify: SendOrgWebhook needs the caller's transaction")
	}
	if ev.OrgID == 0 {
		return false, errs.InvalidField("org_id", "is required")
	}
	k, ok := s.kind(ev.Kind)
	if !ok {
		return false, errs.InvalidField("kind", fmt.Sprintf("%q is not a declared notification kind", ev.Kind))
	}
	if ev.Data == nil {
		ev.Data = map[string]any{}
	}
	data, err := json.Marshal(ev.Data)
	if err != nil {
		return false, errs.InvalidField("data", "must be JSON-serialisable")
	}
	key := ev.DedupeKey
	if key == "" {
		key = "auto:" + randomKey()
	}
	if len(key) > 200 {
		return false, errs.InvalidField("dedupe_key", "longer than 200 characters")
	}
	tx = tx.WithContext(ctx)
	now := s.now().UTC()
	var ids []uint
	// user_id 0: no person's inbox, digest or erasure ever selects it.
	err = tx.Raw(`INSERT INTO notify_notifications (org_id, user_id, kind, data, title, body, locale, dedupe_key, urgent, in_app, digest, created_at)
		VALUES (?, 0, ?, ?, ?, '', '', ?, ?, ?, '', ?) ON CONFLICT (org_id, user_id, dedupe_key) DO NOTHING RETURNING id`,
		ev.OrgID, k.ID, string(data), truncate(k.Title, 300), key, k.Urgent, false, now).Scan(&ids).Error
	if err != nil {
		return false, fmt.Errorf("notify: insert organisation event: %w", err)
	}
	if len(ids) == 0 {
		return false, nil
	}
	var hooks []Webhook
	if err := store.Org(tx, ev.OrgID).Where("active = ?", true).Order("id").Find(&hooks).Error; err != nil {
		return false, err
	}
	var rows []OutboxRow
	for _, h := range hooks {
		if h.wants(k.ID) {
			rows = append(rows, s.outboxRow(ev.OrgID, ids[0], 0, ChannelWebhook, h.ID, now))
		}
	}
	if err := insertOutbox(tx, rows); err != nil {
		return false, fmt.Errorf("notify: insert outbox: %w", err)
	}
	return true, nil
}
