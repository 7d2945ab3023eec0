package live

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/errs"
)

// pgChannel is the NOTIFY channel that tells every instance which live
// events committed (in the public schema; see channel).
const pgChannel = "portal_live"

// channel returns the NOTIFY channel of the deployment's schema. NOTIFY
// reaches every listener of a database, whatever its search_path, so two
// deployments in one database (one schema each — and the test suites,
// which give every test its own schema) would hand each other's events to
// the streams of people with the same IDs. Outside public the schema's
// name is part of the channel (cut to PostgreSQL's 63-byte identifiers).
func (s *Service) channel(db *gorm.DB) (string, error) {
	s.channelMu.Lock()
	defer s.channelMu.Unlock()
	if s.channelName != "" {
		return s.channelName, nil
	}
	var schema string
	if err := db.Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		return "", fmt.Errorf("live: current schema: %w", err)
	}
	ch := pgChannel
	if schema != "" && schema != "public" {
		ch = pgChannel + "_" + schema
	}
	s.channelName = ch[:min(len(ch), 63)]
	return s.channelName, nil
}

// maxNotifyPayload stays under PostgreSQL's 8000-byte NOTIFY payload limit.
const maxNotifyPayload = 7000

// ref identifies one committed live event: [id, org, user, seq].
type ref [4]uint64

// notice is one committed live event as a NOTIFY announces it: its ref,
// and its type and data when they are small enough to travel along, so
// that instances hand it to their streams without reading it back.
type notice struct {
	R ref             `json:"r"`
	T string          `json:"t,omitempty"`
	D json.RawMessage `json:"d,omitempty"`
}

// maxInline is the largest event data a NOTIFY carries; a bigger event is
// announced by its ref and read by the instances that have its person's
// stream.
const maxInline = 2000

// announce tells every instance about ns once tx commits (PostgreSQL): a
// NOTIFY inside tx, delivered on commit, in commit order, dropped on
// rollback.
func (s *Service) announce(tx *gorm.DB, ns []notice) error {
	ch, err := s.channel(tx)
	if err != nil {
		return err
	}
	for start := 0; start < len(ns); {
		end, size := start, 2
		for end < len(ns) && (end == start || size+noticeSize(ns[end]) <= maxNotifyPayload) {
			size += noticeSize(ns[end])
			end++
		}
		payload, err := json.Marshal(ns[start:end])
		if err != nil {
			return err
		}
		if err := tx.Exec("SELECT pg_notify(?, ?)", ch, string(payload)).Error; err != nil {
			return fmt.Errorf("live: notify: %w", err)
		}
		start = end
	}
	return nil
}

// noticeSize bounds a notice's JSON size (JSON escapes could only grow the
// type, which is at most 20 ASCII characters).
func noticeSize(n notice) int { return 100 + 6*len(n.T) + len(n.D) }

// wire is one live event as a stream sends it.
type wire struct {
	Seq  uint64
	Type string
	Data string
}

// hub fans committed live events out to this instance's streams.
type hub struct {
	s      *Service
	mu     sync.Mutex
	subs   map[userKey]map[*sub]struct{}
	count  int
	closed bool
	wake   chan struct{} // the SQLite tail's nudge

	// What the PostgreSQL listener heard and the loader has not read yet:
	// the listener only queues, so NOTIFYs that arrive while one batch is
	// being read are read together in the next (one query for many).
	qmu    sync.Mutex
	queued []ref
	qwake  chan struct{}
}

// maxPending bounds the events waiting for one slow stream; beyond it the
// stream reads from the database instead.
const maxPending = 256

type sub struct {
	key  userKey
	wake chan struct{} // capacity 1: something is pending
	gone chan struct{} // closed when the hub drops the stream
	once sync.Once

	mu      sync.Mutex
	pending []wire
	lagged  bool // events were not kept: read from the database
}

func (x *sub) drop() { x.once.Do(func() { close(x.gone) }) }

func (x *sub) signal() {
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

// take returns what is pending and whether the stream must read from the
// database first.
func (x *sub) take() ([]wire, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	p, l := x.pending, x.lagged
	x.pending, x.lagged = nil, false
	return p, l
}

func (x *sub) push(w wire) {
	x.mu.Lock()
	if !x.lagged {
		if len(x.pending) < maxPending {
			x.pending = append(x.pending, w)
		} else {
			x.pending, x.lagged = nil, true
		}
	}
	x.mu.Unlock()
	x.signal()
}

func (x *sub) resync() {
	x.mu.Lock()
	x.pending, x.lagged = nil, true
	x.mu.Unlock()
	x.signal()
}

func newHub(s *Service) *hub {
	return &hub{s: s, subs: map[userKey]map[*sub]struct{}{}, wake: make(chan struct{}, 1), qwake: make(chan struct{}, 1)}
}

func (h *hub) subscribe(k userKey) (*sub, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errs.New(errs.Unavailable, "the server is shutting down; reconnect")
	}
	if len(h.subs[k]) >= h.s.cfg.MaxStreamsPerUser {
		return nil, errs.RateLimitedf(h.s.cfg.Retry, "too many live streams open for you (%d); close a tab or app", h.s.cfg.MaxStreamsPerUser)
	}
	x := &sub{key: k, wake: make(chan struct{}, 1), gone: make(chan struct{})}
	if h.subs[k] == nil {
		h.subs[k] = map[*sub]struct{}{}
	}
	h.subs[k][x] = struct{}{}
	h.count++
	h.s.metrics.streams.Set(float64(h.count))
	return x, nil
}

func (h *hub) unsubscribe(x *sub) {
	h.mu.Lock()
	if m := h.subs[x.key]; m != nil {
		if _, ok := m[x]; ok {
			delete(m, x)
			h.count--
			h.s.metrics.streams.Set(float64(h.count))
		}
		if len(m) == 0 {
			delete(h.subs, x.key)
		}
	}
	h.mu.Unlock()
	x.drop()
}

func (h *hub) connected() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.count
}

func (h *hub) open() {
	h.mu.Lock()
	h.closed = false
	h.mu.Unlock()
}

func (h *hub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, m := range h.subs {
		for x := range m {
			x.drop()
		}
	}
	h.subs = map[userKey]map[*sub]struct{}{}
	h.count = 0
	h.s.metrics.streams.Set(0)
}

// resyncAll makes every stream read from the database: after the listener
// lost its connection, NOTIFYs sent meanwhile are gone.
func (h *hub) resyncAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range h.subs {
		for x := range m {
			x.resync()
		}
	}
}

func (h *hub) nudge() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// wants filters refs to the events of people with a stream here.
func (h *hub) wants(refs []ref) []uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ids []uint64
	for _, r := range refs {
		if len(h.subs[userKey{uint(r[1]), uint(r[2])}]) > 0 {
			ids = append(ids, r[0])
		}
	}
	return ids
}

// deliver hands committed events (in position order per person) to the
// streams of their people.
func (h *hub) deliver(es []entry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, e := range es {
		subs := h.subs[userKey{e.OrgID, e.UserID}]
		for x := range subs {
			x.push(wire{Seq: e.Seq, Type: e.Type, Data: e.Data})
		}
		if len(subs) > 0 {
			n++
		}
	}
	h.s.metrics.pushed.Add(float64(n))
}

// listen follows the live NOTIFYs of every instance (PostgreSQL) until ctx
// ends, reconnecting after errors; started gets the outcome of the first
// LISTEN (nil once it is in place).
func (h *hub) listen(ctx context.Context, started chan<- error) {
	var once sync.Once
	report := func(err error) { once.Do(func() { started <- err }) }
	first := true
	for ctx.Err() == nil {
		err := h.listenOnce(ctx, func() {
			report(nil)
			if !first {
				// NOTIFYs sent while no one listened are lost: every stream
				// reads what it may have missed from the database.
				h.resyncAll()
			}
			first = false
		})
		report(err)
		if ctx.Err() != nil {
			return
		}
		h.s.log.Warn("live listener lost its connection; reconnecting", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (h *hub) listenOnce(ctx context.Context, listening func()) error {
	return h.s.st.WithSessionConn(ctx, func(pc *pgx.Conn) error {
		ch, err := h.s.channel(h.s.st.DB.WithContext(ctx))
		if err != nil {
			return err
		}
		if _, err := pc.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return err
		}
		listening()
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				// The connection is left mid-wait: never reuse it.
				return fmt.Errorf("%w: %v", driver.ErrBadConn, err)
			}
			var ns []notice
			if err := json.Unmarshal([]byte(n.Payload), &ns); err != nil {
				h.s.log.Warn("live: bad notify payload", "err", err)
				continue
			}
			// Events that came with their data go to their streams at once;
			// the others are read by the loader.
			var inline []entry
			var refs []ref
			for _, x := range ns {
				if x.D == nil {
					refs = append(refs, x.R)
					continue
				}
				inline = append(inline, entry{ID: x.R[0], OrgID: uint(x.R[1]), UserID: uint(x.R[2]), Seq: x.R[3], Type: x.T, Data: string(x.D)})
			}
			if len(inline) > 0 {
				h.deliver(inline)
			}
			if len(refs) > 0 {
				h.enqueue(refs)
			}
		}
	})
}

// maxLoad bounds the IDs of one query of the loader.
const maxLoad = 5000

func (h *hub) enqueue(refs []ref) {
	h.qmu.Lock()
	h.queued = append(h.queued, refs...)
	h.qmu.Unlock()
	select {
	case h.qwake <- struct{}{}:
	default:
	}
}

// load reads the events the listener heard of, for the people with a
// stream here, and hands them to their streams (PostgreSQL) until ctx
// ends. Everything queued while a query runs is read by the next one, so
// the listener never waits on the database and a burst of commits costs a
// few queries, not one each.
func (h *hub) load(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.qwake:
		}
		h.qmu.Lock()
		refs := h.queued
		h.queued = nil
		h.qmu.Unlock()
		ids := h.wants(refs)
		for start := 0; start < len(ids); start += maxLoad {
			var es []entry
			if err := h.s.st.DB.WithContext(ctx).Raw(`SELECT id, org_id, user_id, seq, type, data FROM live_events WHERE id IN ? ORDER BY org_id, user_id, seq`,
				ids[start:min(start+maxLoad, len(ids))]).Scan(&es).Error; err != nil {
				if ctx.Err() != nil {
					return
				}
				// The streams concerned read the events themselves.
				h.s.log.Warn("live: loading events failed", "err", err)
				h.resyncAll()
				break
			}
			h.deliver(es)
		}
	}
}

// tail follows live_events by ID (SQLite: one writer, so IDs commit in
// order) until ctx ends.
func (h *hub) tail(ctx context.Context) {
	var last uint64
	if err := h.s.st.DB.WithContext(ctx).Raw(`SELECT COALESCE(MAX(id), 0) FROM live_events`).Scan(&last).Error; err != nil {
		h.s.log.Warn("live tail: start failed", "err", err)
	}
	tick := time.NewTicker(h.s.cfg.TailInterval)
	defer tick.Stop()
	nudged := true
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.wake:
			nudged = true
			continue
		case <-tick.C:
		}
		if !nudged && h.connected() == 0 {
			continue
		}
		var es []entry
		if err := h.s.st.DB.WithContext(ctx).Raw(`SELECT id, org_id, user_id, seq, type, data FROM live_events WHERE id > ? ORDER BY id LIMIT 2000`, last).
			Scan(&es).Error; err != nil {
			if ctx.Err() == nil {
				h.s.log.Warn("live tail failed", "err", err)
			}
			continue
		}
		if len(es) == 0 {
			nudged = false
			continue
		}
		last = es[len(es)-1].ID
		h.deliver(es)
	}
}
