package notify

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/live"
	"github.com/portalkit/portalkit/core/store"
)

// The in-app channel. The notification row written by Send is the inbox
// entry, visible as soon as the caller commits. Its live push is a live
// event (core/live) that Send appends in the same transaction, so it reaches
// the user's open pages on commit, in order, exactly once per stream; the
// outbox row of the in-app channel only records the delivery for the
// outbox page.

type inAppChannel struct{ s *Service }

var _ BatchChannel = (*inAppChannel)(nil)

func (c *inAppChannel) Name() string { return ChannelInApp }

func (c *inAppChannel) Deliver(ctx context.Context, d *Delivery) error {
	return c.DeliverBatch(ctx, []*Delivery{d})[0]
}

// DeliverBatch has nothing left to do: the live event committed with the
// notification.
func (c *inAppChannel) DeliverBatch(_ context.Context, ds []*Delivery) []error {
	return make([]error, len(ds))
}

// Event is a notification as the live stream sends it (a "notification"
// event).
type Event struct {
	ID    uint   `json:"id"`
	Kind  string `json:"kind"`
	Title string `json:"title"`
	Body  string `json:"body"`
	// Link is the portal page it is about ("" when none).
	Link      string    `json:"link,omitempty"`
	Urgent    bool      `json:"urgent"`
	CreatedAt time.Time `json:"created_at"`
	// Unread is the user's unread count after this notification.
	Unread int64 `json:"unread"`
}

// Unread is the data of an "unread" live event: the user's unread count
// after notifications were read.
type Unread struct {
	Unread int64 `json:"unread"`
}

// pushNew appends the live events of newly sent in-app notifications in
// tx: one "notification" event each, carrying the user's unread count.
func (s *Service) pushNew(ctx context.Context, tx *gorm.DB, recs []Record) error {
	if s.live == nil || len(recs) == 0 {
		return nil
	}
	byOrg := map[uint][]uint{}
	for _, r := range recs {
		byOrg[r.OrgID] = append(byOrg[r.OrgID], r.UserID)
	}
	unread := map[userKey]int64{}
	for org, users := range byOrg {
		rows, err := s.unreadCounts(tx, org, users)
		if err != nil {
			return err
		}
		for _, r := range rows {
			unread[userKey{org, r.UserID}] = r.N
		}
	}
	items := make([]live.Item, len(recs))
	for i, r := range recs {
		items[i] = live.Item{OrgID: r.OrgID, UserID: r.UserID, Type: live.TypeNotification,
			Data: eventOf(r, unread[userKey{r.OrgID, r.UserID}])}
	}
	return s.live.Append(ctx, tx, items)
}

type unreadRow struct {
	UserID uint
	N      int64
}

// unreadCounts counts the unread in-app notifications of each of users in
// org. On PostgreSQL it looks each user up in the unread index (one probe
// per user, whatever the planner thinks of the table): a grouped
// `user_id IN (…)` over a table that grew since it was last analysed (a
// fan-out filling it) was planned as a scan, and cost a recall's chunk of
// 2 000 owners more with every chunk (0.2 s → 1.9 s). SQLite plans the IN
// list on the index by itself.
func (s *Service) unreadCounts(tx *gorm.DB, org uint, users []uint) ([]unreadRow, error) {
	var rows []unreadRow
	if s.st.Dialect != store.Postgres {
		err := store.Org(tx, org).Model(&Record{}).Select("user_id, COUNT(*) AS n").
			Where("user_id IN ? AND in_app AND read_at IS NULL", users).Group("user_id").Scan(&rows).Error
		return rows, err
	}
	var ids strings.Builder
	ids.WriteByte('{')
	for i, u := range users {
		if i > 0 {
			ids.WriteByte(',')
		}
		ids.WriteString(strconv.FormatUint(uint64(u), 10))
	}
	ids.WriteByte('}')
	err := tx.Raw(`SELECT u.id AS user_id,
		(SELECT COUNT(*) FROM notify_notifications n
		  WHERE n.org_id = ? AND n.user_id = u.id AND n.in_app AND n.read_at IS NULL) AS n
		FROM unnest(CAST(? AS bigint[])) AS u(id)`, org, ids.String()).Scan(&rows).Error
	return rows, err
}

// pushUnread appends an "unread" live event with the user's count, in tx.
func (s *Service) pushUnread(ctx context.Context, tx *gorm.DB, orgID, userID uint) error {
	if s.live == nil {
		return nil
	}
	var n int64
	if err := store.Org(tx, orgID).Model(&Record{}).
		Where("user_id = ? AND in_app AND read_at IS NULL", userID).Count(&n).Error; err != nil {
		return err
	}
	return s.live.Append(ctx, tx, []live.Item{{OrgID: orgID, UserID: userID, Type: live.TypeUnread, Data: Unread{n}}})
}

func eventOf(r Record, unread int64) Event {
	return Event{ID: r.ID, Kind: r.Kind, Title: r.Title, Body: r.Body, Link: r.Link(), Urgent: r.Urgent, CreatedAt: r.CreatedAt, Unread: unread}
}

// Inbox queries. Every one is scoped to the organisation and the user: a
// user only ever sees their own notifications.

// Page asks for one page of the inbox, newest first.
type Page struct {
	// Before is the cursor: only notifications with a smaller ID (0: from
	// the newest).
	Before uint
	// Limit is the page size, 1-100 (default 20).
	Limit int
	// Unread limits the page to unread notifications.
	Unread bool
}

// List returns one page of the user's inbox and the cursor of the next page
// (0 when this is the last).
func (s *Service) List(ctx context.Context, orgID, userID uint, p Page) ([]Record, uint, error) {
	if p.Limit <= 0 {
		p.Limit = 20
	}
	if p.Limit > 100 {
		p.Limit = 100
	}
	q := store.Org(s.st.DB.WithContext(ctx), orgID).Where("user_id = ? AND in_app", userID)
	if p.Before > 0 {
		q = q.Where("id < ?", p.Before)
	}
	if p.Unread {
		q = q.Where("read_at IS NULL")
	}
	var out []Record
	if err := q.Order("id DESC").Limit(p.Limit + 1).Find(&out).Error; err != nil {
		return nil, 0, err
	}
	var next uint
	if len(out) > p.Limit {
		out = out[:p.Limit]
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

// Localized renders recs (the user's own notifications) again for the
// reader in locale, so a notification reads in the language the person
// uses now, not the one they used when it was sent; times follow their
// current time zone too. Templates render from the notification's data
// and the recipient only, so the words are the same as at sending, in
// another language. A record whose kind is no longer declared, or whose
// data does not render, keeps the text stored at sending, and its Locale
// says which language that is (the inbox marks it with lang).
func (s *Service) Localized(ctx context.Context, orgID, userID uint, locale string, recs []Record) []Record {
	if len(recs) == 0 || s.dir == nil {
		return recs
	}
	rcp, err := s.dir.Recipient(ctx, s.st.DB.WithContext(ctx), orgID, userID)
	if err != nil {
		s.log.Warn("notify: reading the reader for localized notifications", "user", userID, "err", err)
		return recs
	}
	if locale != "" {
		rcp.Locale = locale
	}
	for i := range recs {
		r := &recs[i]
		k, ok := s.kind(r.Kind)
		if !ok {
			continue
		}
		var data map[string]any
		if r.Data != "" {
			if err := json.Unmarshal([]byte(r.Data), &data); err != nil {
				continue
			}
		}
		msg, err := k.render(TemplateData{Data: data, Recipient: rcp, BaseURL: s.base, Notification: r, catalog: s.catalog}, false)
		if err != nil {
			continue
		}
		r.Title, r.Body, r.Locale = truncate(msg.Subject, 300), msg.Text, msg.Locale
	}
	return recs
}

// UnreadCount returns how many of the user's inbox notifications are unread.
func (s *Service) UnreadCount(ctx context.Context, orgID, userID uint) (int64, error) {
	var n int64
	err := store.Org(s.st.DB.WithContext(ctx), orgID).Model(&Record{}).
		Where("user_id = ? AND in_app AND read_at IS NULL", userID).Count(&n).Error
	return n, err
}

// UnreadCounts returns the unread in-app notifications of each of userIDs
// (people of orgID) in one query; a user with none is 0.
func (s *Service) UnreadCounts(ctx context.Context, orgID uint, userIDs []uint) (map[uint]int64, error) {
	rows, err := s.unreadCounts(s.st.DB.WithContext(ctx), orgID, userIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[uint]int64, len(userIDs))
	for _, u := range userIDs {
		out[u] = 0
	}
	for _, r := range rows {
		out[r.UserID] = r.N
	}
	return out, nil
}

// MarkRead marks one of the user's notifications read. Another user's
// notification is "not found".
func (s *Service) MarkRead(ctx context.Context, orgID, userID, id uint) error {
	var changed bool
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		res := store.Org(tx, orgID).Model(&Record{}).Where("id = ? AND user_id = ? AND in_app", id, userID).
			Where("read_at IS NULL").Update("read_at", s.now().UTC())
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		changed = true
		// The user's other pages and apps update their badge.
		return s.pushUnread(ctx, tx, orgID, userID)
	})
	if err != nil {
		return err
	}
	if !changed {
		db := store.Org(s.st.DB.WithContext(ctx), orgID)
		var n int64
		if err := db.Model(&Record{}).Where("id = ? AND user_id = ? AND in_app", id, userID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return errs.NotFoundf("notification %d not found", id)
		}
	}
	return nil
}

// MarkAllRead marks every unread notification of the user read and returns
// how many it marked.
func (s *Service) MarkAllRead(ctx context.Context, orgID, userID uint) (int64, error) {
	var n int64
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		res := store.Org(tx, orgID).Model(&Record{}).
			Where("user_id = ? AND in_app AND read_at IS NULL", userID).Update("read_at", s.now().UTC())
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		n = res.RowsAffected
		return s.pushUnread(ctx, tx, orgID, userID)
	})
	return n, err
}
