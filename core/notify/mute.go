package notify

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// Mute switches off, on every channel, the kind of one of the user's
// notifications: "stop notifications like this", from the notification
// itself, so a person does not have to find the kind on the preferences
// page. It returns the kind. Another user's notification is not found; a
// kind that cannot be switched off (a security notice) is a conflict.
func (s *Service) Mute(ctx context.Context, orgID, userID, id uint) (Kind, error) {
	var rec Record
	err := store.Org(s.st.DB.WithContext(ctx), orgID).Where("id = ? AND user_id = ?", id, userID).Take(&rec).Error
	if err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return Kind{}, errs.NotFoundf("notification %d not found", id)
		}
		return Kind{}, err
	}
	k, ok := s.kind(rec.Kind)
	if !ok {
		return Kind{}, errs.Conflictf("notifications of this kind are no longer sent")
	}
	if !k.Mutable {
		return k.Kind, errs.Conflictf("%s notifications cannot be switched off", k.Title)
	}
	var upd PreferencesUpdate
	for _, ch := range s.userChannels() {
		upd.Channels = append(upd.Channels, PrefChange{Kind: k.ID, Channel: ch, Enabled: false})
	}
	return k.Kind, s.UpdatePreferences(ctx, orgID, userID, upd)
}

// mutableKinds are the IDs of the kinds a user may switch off (the inbox
// offers "Stop notifications like this" on theirs).
func (s *Service) mutableKinds() map[string]bool {
	out := map[string]bool{}
	for _, k := range s.Kinds() {
		if k.Mutable {
			out[k.ID] = true
		}
	}
	return out
}
