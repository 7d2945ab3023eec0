package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// ChannelPref is one channel of one kind on the preferences page.
type ChannelPref struct {
	Channel string `json:"channel"`
	Enabled bool   `json:"enabled"`
}

// KindPrefs is one kind with the user's channel choices.
type KindPrefs struct {
	Kind     string        `json:"kind"`
	Title    string        `json:"title"`
	Mutable  bool          `json:"mutable" doc:"false: security notices and the like cannot be switched off"`
	Urgent   bool          `json:"urgent" doc:"urgent kinds ignore quiet hours and the digest"`
	Channels []ChannelPref `json:"channels"`
}

// QuietHours is a daily window, in the user's time zone, in which
// non-urgent email waits. Start after End crosses midnight.
type QuietHours struct {
	Start string `json:"start" doc:"HH:MM, local time" example:"22:00"`
	End   string `json:"end" doc:"HH:MM, local time" example:"07:00"`
}

// Preferences is everything a user chooses about their notifications.
type Preferences struct {
	Kinds      []KindPrefs `json:"kinds"`
	QuietHours *QuietHours `json:"quiet_hours" doc:"null: no quiet hours"`
	Digest     bool        `json:"digest" doc:"fold non-urgent emails into one daily digest"`
	TimeZone   string      `json:"time_zone" doc:"the user's time zone (from their profile), used for quiet hours"`
}

// PrefChange switches one channel of one kind.
type PrefChange struct {
	Kind    string `json:"kind" maxLength:"100"`
	Channel string `json:"channel" maxLength:"32"`
	Enabled bool   `json:"enabled"`
}

// PreferencesUpdate changes some preferences; absent fields stay.
type PreferencesUpdate struct {
	Channels []PrefChange `json:"channels,omitempty" maxItems:"500"`
	// QuietHours sets the window; {"start":"","end":""} removes it.
	QuietHours *QuietHours `json:"quiet_hours,omitempty"`
	Digest     *bool       `json:"digest,omitempty"`
}

// Preferences returns the user's preferences for every declared kind.
func (s *Service) Preferences(ctx context.Context, orgID, userID uint) (*Preferences, error) {
	db := store.Org(s.st.DB.WithContext(ctx), orgID)
	var ps []preference
	if err := db.Where("user_id = ?", userID).Find(&ps).Error; err != nil {
		return nil, err
	}
	set := map[string]map[string]bool{}
	for _, p := range ps {
		if set[p.Kind] == nil {
			set[p.Kind] = map[string]bool{}
		}
		set[p.Kind][p.Channel] = p.Enabled
	}
	st, err := s.settingsOf(db, userID)
	if err != nil {
		return nil, err
	}
	out := &Preferences{Digest: st.Digest}
	if st.QuietStart != st.QuietEnd {
		out.QuietHours = &QuietHours{Start: hhmm(st.QuietStart), End: hhmm(st.QuietEnd)}
	}
	if dir, err := s.directory(); err == nil {
		if r, err := dir.Recipient(ctx, s.st.DB.WithContext(ctx), orgID, userID); err == nil {
			out.TimeZone = r.TimeZone
		}
	}
	if out.TimeZone == "" {
		out.TimeZone = "UTC"
	}
	channels := s.userChannels()
	for _, k := range s.Kinds() {
		if orgOnly(k) {
			continue // no person receives it (SendOrgWebhook): nothing to choose
		}
		e, _ := s.kind(k.ID)
		on := map[string]bool{}
		for _, ch := range s.enabledChannels(e, set) {
			on[ch] = true
		}
		kp := KindPrefs{Kind: k.ID, Title: k.Title, Mutable: k.Mutable, Urgent: k.Urgent}
		for _, ch := range channels {
			kp.Channels = append(kp.Channels, ChannelPref{Channel: ch, Enabled: on[ch]})
		}
		out.Kinds = append(out.Kinds, kp)
	}
	return out, nil
}

func (s *Service) settingsOf(db *gorm.DB, userID uint) (settings, error) {
	var st settings
	err := db.Where("user_id = ?", userID).Take(&st).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return settings{UserID: userID}, nil
	}
	return st, err
}

// UpdatePreferences applies u for the user, all or nothing. Switching off a
// kind that may not be muted, an unknown kind or channel, or a malformed
// time is a 422 naming the field.
func (s *Service) UpdatePreferences(ctx context.Context, orgID, userID uint, u PreferencesUpdate) error {
	userCh := map[string]bool{}
	for _, c := range s.userChannels() {
		userCh[c] = true
	}
	for i, c := range u.Channels {
		f := fmt.Sprintf("body.channels[%d]", i)
		k, ok := s.kind(c.Kind)
		if !ok {
			return errs.InvalidField(f+".kind", fmt.Sprintf("%q is not a notification kind", c.Kind))
		}
		if !userCh[c.Channel] {
			return errs.InvalidField(f+".channel", fmt.Sprintf("%q is not a channel you can choose", c.Channel))
		}
		if !k.Mutable && !c.Enabled {
			return errs.InvalidField(f+".enabled", fmt.Sprintf("%s notifications cannot be switched off", k.Title))
		}
	}
	var qs, qe int
	if q := u.QuietHours; q != nil && (q.Start != "" || q.End != "") {
		var err error
		if qs, err = parseHHMM(q.Start); err != nil {
			return errs.InvalidField("body.quiet_hours.start", err.Error())
		}
		if qe, err = parseHHMM(q.End); err != nil {
			return errs.InvalidField("body.quiet_hours.end", err.Error())
		}
		if qs == qe {
			return errs.InvalidField("body.quiet_hours.end", "must differ from the start")
		}
	}
	return s.st.Tx(ctx, func(tx *gorm.DB) error {
		db := store.Org(tx, orgID)
		for _, c := range u.Channels {
			p := preference{UserID: userID, Kind: c.Kind, Channel: c.Channel, Enabled: c.Enabled}
			if err := db.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "org_id"}, {Name: "user_id"}, {Name: "kind"}, {Name: "channel"}},
				DoUpdates: clause.AssignmentColumns([]string{"enabled"}),
			}).Create(&p).Error; err != nil {
				return err
			}
		}
		if u.QuietHours == nil && u.Digest == nil {
			return nil
		}
		st, err := s.settingsOf(db, userID)
		if err != nil {
			return err
		}
		if u.QuietHours != nil {
			st.QuietStart, st.QuietEnd = qs, qe
		}
		if u.Digest != nil {
			st.Digest = *u.Digest
		}
		st.UpdatedAt = s.now().UTC()
		if st.ID != 0 {
			return db.Model(&settings{}).Where("id = ?", st.ID).Updates(map[string]any{
				"quiet_start": st.QuietStart, "quiet_end": st.QuietEnd, "digest": st.Digest, "updated_at": st.UpdatedAt,
			}).Error
		}
		return db.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "org_id"}, {Name: "user_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"quiet_start", "quiet_end", "digest", "updated_at"}),
		}).Create(&st).Error
	})
}

func parseHHMM(v string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(v))
	if err != nil {
		return 0, errors.New("want a time as HH:MM, e.g. 22:00")
	}
	return t.Hour()*60 + t.Minute(), nil
}

func hhmm(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }
