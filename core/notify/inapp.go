package notify

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// The in-app channel. The notification row written by Send is the inbox
// entry, visible as soon as the caller commits; the outbox row of the
// in-app channel is its live push to the user's open pages (SSE).
//
// Live push crosses instances through PostgreSQL: the dispatcher that
// delivers a batch sends one NOTIFY on pgNotifyChannel with the IDs, and
// every instance's hub LISTENs and pushes to the streams connected to it.
// On SQLite (one instance) the hub is called directly. NOTIFY is
// fire-and-forget, so a stream that missed events (a reconnect, a listener
// restart) catches up from the database: clients resubscribe with
// Last-Event-ID and the stream replays newer inbox rows first.

const pgNotifyChannel = "portal_notify_inapp"

// maxNotifyPayload stays under PostgreSQL's 8000-byte NOTIFY payload limit.
const maxNotifyPayload = 7000

type inAppChannel struct{ s *Service }

var _ BatchChannel = (*inAppChannel)(nil)

func (c *inAppChannel) Name() string { return ChannelInApp }

func (c *inAppChannel) Deliver(ctx context.Context, d *Delivery) error {
	return c.DeliverBatch(ctx, []*Delivery{d})[0]
}

// ref identifies one pushed notification: [id, org, user].
type ref [3]uint

func (c *inAppChannel) DeliverBatch(ctx context.Context, ds []*Delivery) []error {
	errs := make([]error, len(ds))
	refs := make([]ref, 0, len(ds))
	for _, d := range ds {
		refs = append(refs, ref{d.Notification.ID, d.Notification.OrgID, d.Notification.UserID})
	}
	if c.s.st.Dialect != store.Postgres {
		c.s.hub.publish(ctx, refs)
		return errs
	}
	// One NOTIFY per payload-sized chunk; a failed chunk is retried.
	start := 0
	for start < len(refs) {
		end := start
		size := 2
		for end < len(refs) && size < maxNotifyPayload {
			size += 40
			end++
		}
		payload, _ := json.Marshal(refs[start:end])
		if err := c.s.st.DB.WithContext(ctx).Exec("SELECT pg_notify(?, ?)", pgNotifyChannel, string(payload)).Error; err != nil {
			for i := start; i < end; i++ {
				errs[i] = err
			}
		}
		start = end
	}
	return errs
}

// Event is one live message on a user's stream.
type Event struct {
	ID        uint      `json:"id"`
	Kind      string    `json:"kind"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	Urgent    bool      `json:"urgent"`
	CreatedAt time.Time `json:"created_at"`
	// Unread is the user's unread count after this notification.
	Unread int64 `json:"unread"`
}

// Hub fans live notifications out to the streams connected to this
// instance.
type Hub struct {
	s      *Service
	mu     sync.Mutex
	subs   map[userKey]map[*subscriber]struct{}
	closed bool
}

type subscriber struct {
	key    userKey
	events chan Event
	gone   chan struct{} // closed when the hub drops the subscriber
	once   sync.Once
}

func (sub *subscriber) drop() { sub.once.Do(func() { close(sub.gone) }) }

func newHub(s *Service) *Hub {
	return &Hub{s: s, subs: map[userKey]map[*subscriber]struct{}{}}
}

func (h *Hub) subscribe(k userKey) (*subscriber, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errs.New(errs.Unavailable, "the server is shutting down; reconnect")
	}
	sub := &subscriber{key: k, events: make(chan Event, 64), gone: make(chan struct{})}
	if h.subs[k] == nil {
		h.subs[k] = map[*subscriber]struct{}{}
	}
	h.subs[k][sub] = struct{}{}
	return sub, nil
}

func (h *Hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if m := h.subs[sub.key]; m != nil {
		delete(m, sub)
		if len(m) == 0 {
			delete(h.subs, sub.key)
		}
	}
	sub.drop()
}

// Connected returns how many streams are open on this instance.
func (h *Hub) Connected() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.subs {
		n += len(m)
	}
	return n
}

func (h *Hub) open() {
	h.mu.Lock()
	h.closed = false
	h.mu.Unlock()
}

func (h *Hub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, m := range h.subs {
		for sub := range m {
			sub.drop()
		}
	}
	h.subs = map[userKey]map[*subscriber]struct{}{}
}

// publish pushes the referenced notifications to this instance's streams
// of their users; rows of users with no stream here are not even read.
func (h *Hub) publish(ctx context.Context, refs []ref) {
	h.mu.Lock()
	var ids []uint
	for _, r := range refs {
		if len(h.subs[userKey{r[1], r[2]}]) > 0 {
			ids = append(ids, r[0])
		}
	}
	h.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	var recs []Record
	db := store.AllOrgs(h.s.st.DB.WithContext(ctx)) // rows of several orgs; each goes only to its own user's streams below
	if err := db.Where("id IN ? AND in_app", ids).Order("id").Find(&recs).Error; err != nil {
		h.s.log.Warn("live push: loading notifications failed", "err", err)
		return
	}
	unread := map[userKey]int64{}
	for _, r := range recs {
		k := userKey{r.OrgID, r.UserID}
		if _, ok := unread[k]; !ok {
			n, err := h.s.UnreadCount(ctx, r.OrgID, r.UserID)
			if err != nil {
				h.s.log.Warn("live push: unread count failed", "err", err)
			}
			unread[k] = n
		}
		ev := eventOf(r, unread[k])
		h.mu.Lock()
		for sub := range h.subs[k] {
			select {
			case sub.events <- ev:
			default:
				// A stream that cannot keep up is dropped; its client reconnects
				// with Last-Event-ID and catches up from the database.
				delete(h.subs[k], sub)
				sub.drop()
			}
		}
		h.mu.Unlock()
	}
}

func eventOf(r Record, unread int64) Event {
	return Event{ID: r.ID, Kind: r.Kind, Title: r.Title, Body: r.Body, Urgent: r.Urgent, CreatedAt: r.CreatedAt, Unread: unread}
}

// listen receives the in-app NOTIFYs of every instance (PostgreSQL) until
// ctx ends, reconnecting after errors. The outcome of the first LISTEN (nil
// once it is in place) is sent on started.
func (h *Hub) listen(ctx context.Context, started chan<- error) {
	var once sync.Once
	report := func(err error) { once.Do(func() { started <- err }) }
	for ctx.Err() == nil {
		err := h.listenOnce(ctx, report)
		report(err)
		if ctx.Err() != nil {
			return
		}
		h.s.log.Warn("live push listener lost its connection; reconnecting", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (h *Hub) listenOnce(ctx context.Context, listening func(error)) error {
	return h.s.st.WithPgxConn(ctx, func(pc *pgx.Conn) error {
		if _, err := pc.Exec(ctx, "LISTEN "+pgNotifyChannel); err != nil {
			return err
		}
		listening(nil)
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				// The connection is left mid-wait: never reuse it.
				return fmt.Errorf("%w: %v", driver.ErrBadConn, err)
			}
			var refs []ref
			if err := json.Unmarshal([]byte(n.Payload), &refs); err != nil {
				h.s.log.Warn("live push: bad payload", "err", err)
				continue
			}
			h.publish(ctx, refs)
		}
	})
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

// since returns the user's inbox rows newer than id, oldest first (stream
// catch-up).
func (s *Service) since(ctx context.Context, orgID, userID, id uint, limit int) ([]Record, error) {
	var out []Record
	err := store.Org(s.st.DB.WithContext(ctx), orgID).Where("user_id = ? AND in_app AND id > ?", userID, id).
		Order("id").Limit(limit).Find(&out).Error
	return out, err
}

// UnreadCount returns how many of the user's inbox notifications are unread.
func (s *Service) UnreadCount(ctx context.Context, orgID, userID uint) (int64, error) {
	var n int64
	err := store.Org(s.st.DB.WithContext(ctx), orgID).Model(&Record{}).
		Where("user_id = ? AND in_app AND read_at IS NULL", userID).Count(&n).Error
	return n, err
}

// MarkRead marks one of the user's notifications read. Another user's
// notification is "not found".
func (s *Service) MarkRead(ctx context.Context, orgID, userID, id uint) error {
	db := store.Org(s.st.DB.WithContext(ctx), orgID)
	res := db.Model(&Record{}).Where("id = ? AND user_id = ? AND in_app", id, userID).
		Where("read_at IS NULL").Update("read_at", s.now().UTC())
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
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
	res := store.Org(s.st.DB.WithContext(ctx), orgID).Model(&Record{}).
		Where("user_id = ? AND in_app AND read_at IS NULL", userID).Update("read_at", s.now().UTC())
	return res.RowsAffected, res.Error
}
