// Package live is the portal's one realtime channel: every page and app
// holds one Server-Sent Events stream per person (GET /api/v1/live), and
// notifications, secure messages and modules' own events reach it the
// moment their transaction commits — every event once, in one order,
// without gaps.
//
// Every live event is written for each person it is for, in the
// publisher's transaction, with the next number of that person's position
// (live_cursors, one row per person, whose lock the transaction holds until
// it ends, so a person's numbers are handed out in commit order). A stream
// sends a person's events in that order; an event whose number is not the
// next one means some are still on their way or were pushed while the
// stream was busy, so the stream reads them from live_events first. A
// client that reconnects sends the number it is up to (Last-Event-ID) and
// gets what it missed from live_events (kept for live.history), or a
// `reset` event when that is no longer possible, and refetches.
//
// How instances hear of commits: on PostgreSQL the publishing transaction
// sends NOTIFY (delivered on commit, in commit order) and every instance
// LISTENs; on SQLite (one instance, one writer, so IDs commit in order) the
// instance follows live_events by ID. docs/notifications.md ("Live events")
// describes the wire protocol.
//
// live may import accounts (the caller, the policy layer's Audience),
// config, errs and store.
package live

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// Event types: the SSE `event:` name of each live event on the wire.
const (
	// TypeReady is the first event of every stream: where it is up to, and
	// what the kernel adds (the unread count).
	TypeReady = "ready"
	// TypeReset says the stream cannot replay what the client missed: the
	// client refetches what it shows.
	TypeReset = "reset"
	// TypeNotification is a new in-app notification (core/notify).
	TypeNotification = "notification"
	// TypeUnread is the person's new unread count after notifications were
	// read (in another tab or app).
	TypeUnread = "unread"
	// TypeMessage is a new secure message in a conversation the person is
	// part of (core/experience/messages).
	TypeMessage = "message"
	// TypeModule is a module's event (Publisher.Publish).
	TypeModule = "module"
)

// MaxDataBytes bounds the JSON data of one live event: events say what
// changed; pages fetch the rest.
const MaxDataBytes = 8 << 10

// Service appends live events and serves the streams of this instance.
type Service struct {
	cfg      config.Live
	httpCfg  config.HTTP
	st       *store.Store
	log      *slog.Logger
	acc      *accounts.Service
	hub      *hub
	metrics  *metrics
	readyFns []ReadyFunc
	// Streams starting together share their reads (a reconnect storm).
	standings *store.Loader[where, standing]
	ready     *store.Loader[userKey, map[string]any]

	mu  sync.Mutex
	run *runState

	// channelName is the NOTIFY channel of this deployment's schema, once
	// known (channel).
	channelMu   sync.Mutex
	channelName string
}

// ReadyFunc adds fields to the ready events of streams that start
// together: for each of userIDs (people of orgID), the fields to add
// (notify adds "unread"). One call serves many streams, so it should read
// all of them at once.
type ReadyFunc func(ctx context.Context, orgID uint, userIDs []uint) (map[uint]map[string]any, error)

// Options builds a Service.
type Options struct {
	Config   config.Config
	Store    *store.Store
	Log      *slog.Logger
	Accounts *accounts.Service
}

// New builds the live service. Start it (it is an app.Runner) to deliver.
func New(o Options) *Service {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	s := &Service{cfg: o.Config.Live, httpCfg: o.Config.HTTP, st: o.Store, log: log, acc: o.Accounts, metrics: newMetrics()}
	s.hub = newHub(s)
	s.standings = s.newStandings()
	s.ready = &store.Loader[userKey, map[string]any]{Fetch: s.fetchReady, Max: 500, Parallel: 4}
	return s
}

// fetchReady reads the ready fields of many starting streams, one call of
// each ReadyFunc per organisation.
func (s *Service) fetchReady(ctx context.Context, keys []userKey) (map[userKey]map[string]any, error) {
	out := make(map[userKey]map[string]any, len(keys))
	byOrg := map[uint][]uint{}
	for _, k := range keys {
		out[k] = map[string]any{}
		byOrg[k.org] = append(byOrg[k.org], k.user)
	}
	for org, users := range byOrg {
		for _, fn := range s.readyFns {
			m, err := fn(ctx, org, users)
			if err != nil {
				return nil, err
			}
			for u, fields := range m {
				if dst, ok := out[userKey{org, u}]; ok {
					maps.Copy(dst, fields)
				}
			}
		}
	}
	return out, nil
}

// OnReady adds fields to every stream's ready event.
func (s *Service) OnReady(fn ReadyFunc) { s.readyFns = append(s.readyFns, fn) }

// Connected returns how many streams are open on this instance.
func (s *Service) Connected() int { return s.hub.connected() }

// Item is one live event for one person, as core services append it.
type Item struct {
	OrgID, UserID uint
	// Type is the event's SSE name (TypeNotification, TypeMessage, ...).
	Type string
	// Data is marshalled as the event's JSON data.
	Data any
}

type userKey struct{ org, user uint }

// Append writes items in tx, the caller's transaction: they reach the
// people's streams when tx commits, and never if it rolls back. Each person
// gets the next numbers of their position; the position row stays locked
// until tx ends, so call Append late in a transaction that other
// transactions for the same person may wait on. A nil tx runs in a
// transaction of its own.
func (s *Service) Append(ctx context.Context, tx *gorm.DB, items []Item) error {
	if len(items) == 0 {
		return nil
	}
	if tx == nil {
		return s.st.Tx(ctx, func(tx *gorm.DB) error { return s.Append(ctx, tx, items) })
	}
	tx = tx.WithContext(ctx)
	datas := make([]string, len(items))
	counts := map[userKey]uint64{}
	for i, it := range items {
		if it.OrgID == 0 || it.UserID == 0 {
			return errs.InvalidField("recipient", "live events need an organisation and a user")
		}
		if it.Type == "" || len(it.Type) > 20 {
			return errs.InvalidField("type", "must be 1-20 characters")
		}
		b, err := json.Marshal(it.Data)
		if err != nil {
			return errs.InvalidField("data", "must be JSON-serialisable")
		}
		if len(b) > MaxDataBytes {
			return errs.InvalidField("data", fmt.Sprintf("is %d bytes of JSON, over %d", len(b), MaxDataBytes))
		}
		datas[i] = string(b)
		counts[userKey{it.OrgID, it.UserID}]++
	}
	keys := make([]userKey, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	// One order for every transaction, so two that append for the same
	// people lock their positions in the same order.
	slices.SortFunc(keys, func(a, b userKey) int {
		return cmp.Or(cmp.Compare(a.org, b.org), cmp.Compare(a.user, b.user))
	})
	next := make(map[userKey]uint64, len(keys))
	for start := 0; start < len(keys); start += 500 {
		part := keys[start:min(start+500, len(keys))]
		args := make([]any, 0, 3*len(part))
		for _, k := range part {
			args = append(args, k.org, k.user, counts[k])
		}
		rows, err := tx.Raw(store.MultiRow(`INSERT INTO live_cursors (org_id, user_id, seq) VALUES `, len(part), 3,
			` ON CONFLICT (org_id, user_id) DO UPDATE SET seq = live_cursors.seq + excluded.seq RETURNING org_id, user_id, seq`), args...).Rows()
		if err != nil {
			return fmt.Errorf("live: positions: %w", err)
		}
		for rows.Next() {
			var k userKey
			var last uint64
			if err := rows.Scan(&k.org, &k.user, &last); err != nil {
				rows.Close()
				return err
			}
			next[k] = last - counts[k] + 1
		}
		if err := rows.Close(); err != nil {
			return err
		}
	}
	now := time.Now().UTC()
	refs := make([]ref, 0, len(items))
	// Which item each position is, for the announcement's inline events.
	itemAt := make(map[[3]uint64]int, len(items))
	for start := 0; start < len(items); start += 400 {
		end := min(start+400, len(items))
		args := make([]any, 0, 6*(end-start))
		for i := start; i < end; i++ {
			k := userKey{items[i].OrgID, items[i].UserID}
			args = append(args, k.org, k.user, next[k], items[i].Type, datas[i], now)
			itemAt[[3]uint64{uint64(k.org), uint64(k.user), next[k]}] = i
			next[k]++
		}
		rows, err := tx.Raw(store.MultiRow(`INSERT INTO live_events (org_id, user_id, seq, type, data, created_at) VALUES `, end-start, 6,
			` RETURNING id, org_id, user_id, seq`), args...).Rows()
		if err != nil {
			return fmt.Errorf("live: events: %w", err)
		}
		for rows.Next() {
			var r ref
			if err := rows.Scan(&r[0], &r[1], &r[2], &r[3]); err != nil {
				rows.Close()
				return err
			}
			refs = append(refs, r)
		}
		if err := rows.Close(); err != nil {
			return err
		}
	}
	if s.st.Dialect != store.Postgres {
		s.hub.nudge()
		return nil
	}
	ns := make([]notice, len(refs))
	for j, r := range refs {
		ns[j].R = r
		if i, ok := itemAt[[3]uint64{r[1], r[2], r[3]}]; ok && len(datas[i]) <= maxInline {
			ns[j].T, ns[j].D = items[i].Type, json.RawMessage(datas[i])
		}
	}
	return s.announce(tx, ns)
}

// Event is a module's live event.
type Event struct {
	// OrgID is the organisation the event belongs to.
	OrgID uint
	// Name is the event's name, "<module id>.<name>" ("automotive.reading");
	// Publisher.Publish prefixes a bare name with the module's ID.
	Name string
	// Owner is the customer who owns the object the event is about: it goes
	// to everyone who may read that object in the module's area (accounts'
	// Reach(module).Audience: the owner, the staff who reach them through an
	// assignment or a group opening the area, the organisation's admins),
	// and no one else.
	Owner uint
	// To names the people it is for instead (active users of OrgID; others
	// are skipped). Owner and To may be combined.
	To []uint
	// Subject says what the event is about, so a page can tell whether it
	// shows it: "vehicle:12", "account:7".
	Subject string
	// Data is what changed, as small JSON (at most MaxDataBytes); pages
	// fetch the rest through the API, which checks access again.
	Data any
}

// ModuleEvent is the data of a TypeModule event on the wire.
type ModuleEvent struct {
	Name    string          `json:"name"`
	Subject string          `json:"subject,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// Publisher publishes one module's live events (module.Host.Live).
type Publisher struct {
	s      *Service
	module string
}

// Publisher returns the publisher of module id's events.
func (s *Service) Publisher(module string) Publisher { return Publisher{s: s, module: module} }

// Publish writes e in tx, the caller's transaction, for every person it is
// for: they receive it as a "module" event on their stream once tx commits
// (never if it rolls back). A nil tx publishes in a transaction of its own.
// Bad input (no organisation, no recipients, a name outside the module,
// data over MaxDataBytes) is an invalid-kind error naming the field.
func (p Publisher) Publish(ctx context.Context, tx *gorm.DB, e Event) error {
	if p.s == nil {
		return nil // the zero Publisher (a service built without the kernel) publishes nothing
	}
	if tx == nil {
		return p.s.st.Tx(ctx, func(tx *gorm.DB) error { return p.Publish(ctx, tx, e) })
	}
	if e.OrgID == 0 {
		return errs.InvalidField("org_id", "is required")
	}
	name := e.Name
	if !strings.Contains(name, ".") {
		name = p.module + "." + name
	}
	if !strings.HasPrefix(name, p.module+".") || len(name) > 100 || strings.TrimSpace(name) != name || len(name) == len(p.module)+1 {
		return errs.InvalidField("name", fmt.Sprintf("%q is not \"%s.<name>\" (at most 100 characters)", e.Name, p.module))
	}
	if e.Owner == 0 && len(e.To) == 0 {
		return errs.InvalidField("owner", "name the object's owner or the recipients (to)")
	}
	if len(e.Subject) > 200 {
		return errs.InvalidField("subject", "longer than 200 characters")
	}
	raw, err := json.Marshal(e.Data)
	if err != nil {
		return errs.InvalidField("data", "must be JSON-serialisable")
	}
	if len(raw) > MaxDataBytes {
		return errs.InvalidField("data", fmt.Sprintf("is %d bytes of JSON, over %d", len(raw), MaxDataBytes))
	}
	who, err := p.s.recipients(ctx, tx, p.module, e.OrgID, e.Owner, e.To)
	if err != nil {
		return err
	}
	ev := ModuleEvent{Name: name, Subject: e.Subject, Data: raw}
	items := make([]Item, len(who))
	for i, u := range who {
		items[i] = Item{OrgID: e.OrgID, UserID: u, Type: TypeModule, Data: ev}
	}
	return p.s.Append(ctx, tx, items)
}

// recipients resolves an event's audience inside tx: everyone who may read
// owner's objects in the module's area (its staff may reach the owner
// through an assignment or through a group opening that area), plus the
// named people who are active users of org.
func (s *Service) recipients(ctx context.Context, tx *gorm.DB, area string, org, owner uint, to []uint) ([]uint, error) {
	var out []uint
	if owner != 0 {
		ids, err := s.acc.Reach(area).Audience(ctx, tx, org, owner)
		if err != nil {
			return nil, err
		}
		out = ids
	}
	if len(to) > 0 {
		var ids []uint
		if err := store.Org(tx.WithContext(ctx), org).Model(&accounts.User{}).
			Where("id IN ? AND disabled_at IS NULL", to).Pluck("id", &ids).Error; err != nil {
			return nil, err
		}
		out = append(out, ids...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Position returns the number of the last live event of the person: a page
// renders it so that its stream starts exactly where the page's data ends.
func (s *Service) Position(ctx context.Context, orgID, userID uint) (uint64, error) {
	var seq []uint64
	err := s.st.DB.WithContext(ctx).Raw(`SELECT seq FROM live_cursors WHERE org_id = ? AND user_id = ?`, orgID, userID).
		Scan(&seq).Error
	if err != nil || len(seq) == 0 {
		return 0, err
	}
	return seq[0], nil
}
