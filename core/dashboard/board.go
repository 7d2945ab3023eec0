package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
)

// Card is one widget on a person's dashboard, with its data computed.
type Card struct {
	// ID is "<owner>.<id>".
	ID string
	// Title is the English title; templates translate it.
	Title    string
	Size     Size
	Template string
	// Data is what the widget's data function returned.
	Data any
	// Failed is set when the data function failed, panicked or timed out;
	// the card then shows an error with the request ID.
	Failed bool
	// raw is Data as JSON when the cache computed it.
	raw json.RawMessage
	// Anchor is the card's HTML id ("w-core-account").
	Anchor string
	// Live is the live events that refresh the card's body (live.js's
	// data-live syntax), from the widget's LiveOn.
	Live string `json:"-"`
	// First and Last mark the ends of the visible list (no "move up" on
	// the first card).
	First, Last bool
}

// Board is a person's dashboard: the visible cards in their order, with
// data, and the hidden ones (without data: they cost nothing).
type Board struct {
	Cards  []*Card
	Hidden []*Card
}

// errTimeout and errPanic are what the log says about a widget; callers
// see only a generic message.
var (
	errTimeout = errors.New("widget data timed out")
	errPanic   = errors.New("widget data panicked")
)

// Board computes p's dashboard: it reads their layout and runs the data
// functions of the visible widgets concurrently, all under one deadline of
// dashboard.widget_timeout. A failing widget is logged with requestID and
// marked Failed; it never fails the board. Only the layout read can fail
// the board. With the cache on (dashboard.cache_ttl), the layout and each
// widget's data come from it while fresh, and concurrent loads of one
// person's widget compute it once; failed widgets are never cached.
func (s *Service) Board(ctx context.Context, p *accounts.Principal, requestID string) (*Board, error) {
	started := s.now()
	var variant string
	if s.cache != nil {
		variant = variantOf(p)
	}
	order, hidden, err := s.boardLayout(ctx, p, variant, started)
	if err != nil {
		return nil, err
	}
	_, visible, hid := arrange(s.available(p), order, hidden)
	b := &Board{Cards: make([]*Card, len(visible)), Hidden: make([]*Card, len(hid))}
	for i, w := range hid {
		b.Hidden[i] = newCard(w)
	}
	if len(visible) == 0 {
		return b, nil
	}
	// Cached widgets first: they need no deadline and no goroutine.
	cached := make([]*cachedWidget, len(visible))
	missing := 0
	if s.cache != nil {
		k := personKey{p.OrgID, p.UserID}
		for i, w := range visible {
			if w.MaxAge == NoCache {
				missing++
				continue
			}
			if cw, ok := s.cache.widget(k, variant, w.key, started); ok {
				cached[i] = cw
				if cw.due(started) {
					s.renew(ctx, w, p, variant, requestID)
				}
			} else {
				missing++
			}
		}
	} else {
		missing = len(visible)
	}
	var cancel context.CancelFunc = func() {}
	if missing > 0 {
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
	}
	defer cancel()
	// Modules' widgets run concurrently, each on its own goroutine so that
	// one ignoring its context cannot hold the response; the core's own
	// widgets (trusted, quick) run on this goroutine meanwhile.
	chans := make([]chan result, len(visible))
	for i, w := range visible {
		if !w.module || cached[i] != nil {
			continue
		}
		ch := make(chan result, 1) // buffered: a late widget never blocks on a gone reader
		chans[i] = ch
		go func(w *registered) {
			ch <- s.load(ctx, w, p, variant, requestID, started)
		}(w)
	}
	for i, w := range visible {
		c := newCard(w)
		c.First, c.Last = i == 0, i == len(visible)-1
		b.Cards[i] = c
		if cw := cached[i]; cw != nil {
			c.Data, c.raw = cw.data, cw.raw
			continue
		}
		var r result
		if chans[i] == nil {
			r = s.load(ctx, w, p, variant, requestID, started)
		} else {
			select {
			case r = <-chans[i]: // finished while we waited for the others
			default:
				select {
				case r = <-chans[i]:
				case <-ctx.Done():
					r.err = errTimeout
				}
			}
		}
		if r.err != nil {
			c.Failed = true
			if !errors.Is(r.err, errPanic) {
				s.log.Error("dashboard widget failed", "widget", w.key, "request_id", requestID, "err", r.err)
			}
		} else {
			c.Data, c.raw = r.data, r.raw
		}
	}
	return b, nil
}

// result is a widget's computed data (and its JSON when it was computed
// for the cache), or why it failed.
type result struct {
	data any
	raw  json.RawMessage
	err  error
}

// boardLayout reads p's layout, through the cache when it is on.
func (s *Service) boardLayout(ctx context.Context, p *accounts.Principal, variant string, started time.Time) (order, hidden []string, err error) {
	if s.cache == nil {
		return s.layoutOf(ctx, p)
	}
	k := personKey{p.OrgID, p.UserID}
	if order, hidden, ok := s.cache.layout(k, variant, started); ok {
		return order, hidden, nil
	}
	if order, hidden, err = s.layoutOf(ctx, p); err != nil {
		return nil, nil, err
	}
	s.cache.putLayout(k, variant, order, hidden, started)
	return order, hidden, nil
}

// load computes a widget's data for p. With the cache on, concurrent loads
// of the same person's widget share one computation, whose data (with its
// JSON) is stored unless it failed, does not marshal, or the person was
// forgotten meanwhile. A panic fails only this widget.
func (s *Service) load(ctx context.Context, w *registered, p *accounts.Principal, variant, requestID string, started time.Time) result {
	if s.cache == nil || w.MaxAge == NoCache {
		d, err := s.run(ctx, w, p, requestID)
		return result{data: d, err: err}
	}
	k := personKey{p.OrgID, p.UserID}
	v, err, _ := s.cache.flights.Do(s.cache.flightKey(k, variant, w.key), func() (any, error) {
		// A flight that ended between our caller's cache miss and this one
		// starting has stored its data: serve that rather than compute again
		// (unless it is due, which is a renewal asking for the next value).
		if cw, ok := s.cache.widget(k, variant, w.key, started); ok && started.Before(cw.renewAt) {
			return cw, nil
		}
		d, err := s.run(ctx, w, p, requestID)
		if err != nil {
			return nil, err
		}
		cw := &cachedWidget{data: d}
		if raw, err := json.Marshal(d); err == nil {
			cw.raw = raw
			s.cache.putWidget(k, variant, w.key, cw, w.MaxAge, started)
		}
		return cw, nil
	})
	if err != nil {
		return result{err: err}
	}
	cw := v.(*cachedWidget)
	return result{data: cw.data, raw: cw.raw}
}

// renew computes a cached widget's next value in the background, under its
// own deadline, while the current one is still served: it replaces the
// entry unless the person was forgotten meanwhile.
func (s *Service) renew(ctx context.Context, w *registered, p *accounts.Principal, variant, requestID string) {
	pc := *p // the request's principal is not ours to keep
	ctx = context.WithoutCancel(ctx)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, s.timeout)
		defer cancel()
		if r := s.load(ctx, w, &pc, variant, requestID, s.now()); r.err != nil && !errors.Is(r.err, errPanic) {
			s.log.Error("dashboard widget failed", "widget", w.key, "request_id", requestID, "err", r.err)
		}
	}()
}

// run calls a widget's data function: a panic or an error fails only its
// card. Core widgets run on the request's goroutine: they are quick reads
// that honour ctx, so the deadline ends them through their queries; unlike
// a module's widget (on its own goroutine), one that ignored ctx would hold
// the response.
func (s *Service) run(ctx context.Context, w *registered, p *accounts.Principal, requestID string) (data any, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("dashboard widget panicked", "widget", w.key, "request_id", requestID, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			data, err = nil, errPanic
		}
	}()
	return w.Data(ctx, p)
}

func newCard(w *registered) *Card {
	return &Card{ID: w.key, Title: w.Title, Size: w.Size, Template: w.Template, Anchor: w.anchor, Live: w.live}
}

// CardJSON is a widget as the JSON API shows it.
type CardJSON struct {
	ID    string          `json:"id" doc:"<owner>.<id>, e.g. core.account"`
	Title string          `json:"title" doc:"The title in the caller's language"`
	Size  Size            `json:"size" enum:"small,medium,large"`
	Data  json.RawMessage `json:"data,omitempty" doc:"The widget's data (its shape is the widget's own; charts are core/chart.Chart)"`
	Error string          `json:"error,omitempty" doc:"Set instead of data when this widget could not be loaded; the rest of the dashboard is unaffected. Quote request_id when reporting it."`
}

// msgWidgetFailed is the one thing a caller learns about a failed widget.
const msgWidgetFailed = "This widget could not be loaded. Please try again later."

// JSON turns the board into the API's cards for a viewer in locale. Data
// that does not marshal fails only its own card.
func (s *Service) JSON(b *Board, locale, requestID string) (cards, hidden []CardJSON) {
	cards = make([]CardJSON, 0, len(b.Cards))
	for _, c := range b.Cards {
		cj := CardJSON{ID: c.ID, Title: s.t(locale, c.Title), Size: c.Size}
		if raw, ok := s.cardData(c, requestID); ok {
			cj.Data = raw
		} else {
			cj.Error = s.t(locale, msgWidgetFailed)
		}
		cards = append(cards, cj)
	}
	hidden = make([]CardJSON, 0, len(b.Hidden))
	for _, c := range b.Hidden {
		hidden = append(hidden, CardJSON{ID: c.ID, Title: s.t(locale, c.Title), Size: c.Size})
	}
	return cards, hidden
}

// cardData is a card's data as JSON: what the widget's cache kept, or its
// data marshalled now. ok is false for a failed card, and a card whose
// data does not marshal fails (logged with the request's ID).
func (s *Service) cardData(c *Card, requestID string) (json.RawMessage, bool) {
	if c.Failed {
		return nil, false
	}
	if c.raw != nil {
		return c.raw, true
	}
	raw, err := json.Marshal(c.Data)
	if err != nil {
		s.log.Error("dashboard widget data does not marshal to JSON", "widget", c.ID, "request_id", requestID, "err", err)
		c.Failed = true
		return nil, false
	}
	return raw, true
}

// EncodeJSON is the API's answer for the board — what JSON gives, encoded
// as {"widgets": [...], "hidden": [...], "request_id": "..."} — built from
// each card's JSON without decoding or re-compacting it (most of a cached
// dashboard's cost was encoding/json compacting the cards' data again).
// Data that does not marshal fails only its own card.
func (s *Service) EncodeJSON(b *Board, locale, requestID string) []byte {
	size := 64 + len(requestID)
	for _, c := range b.Cards {
		size += 96 + len(c.raw)
	}
	buf := make([]byte, 0, size+64*len(b.Hidden))
	buf = append(buf, `{"widgets":[`...)
	for i, c := range b.Cards {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = s.appendCardHead(buf, c, locale)
		raw, ok := s.cardData(c, requestID)
		if !ok {
			buf = append(buf, `,"error":`...)
			buf = appendJSONString(buf, s.t(locale, msgWidgetFailed))
		} else {
			buf = append(buf, `,"data":`...)
			buf = append(buf, raw...)
		}
		buf = append(buf, '}')
	}
	buf = append(buf, `],"hidden":[`...)
	for i, c := range b.Hidden {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(s.appendCardHead(buf, c, locale), '}')
	}
	buf = append(buf, `],"request_id":`...)
	buf = appendJSONString(buf, requestID)
	return append(buf, '}')
}

// appendCardHead appends {"id":…,"title":…,"size":… (unclosed). Heads
// depend only on the widget and the language, so each is encoded once.
func (s *Service) appendCardHead(buf []byte, c *Card, locale string) []byte {
	k := headKey{locale, c.ID}
	if h, ok := s.heads.Load(k); ok {
		return append(buf, h.([]byte)...)
	}
	h := append([]byte(`{"id":`), appendJSONString(nil, c.ID)...)
	h = append(h, `,"title":`...)
	h = appendJSONString(h, s.t(locale, c.Title))
	h = append(h, `,"size":`...)
	h = appendJSONString(h, string(c.Size))
	s.heads.Store(k, h) // bounded: widgets × languages of the catalogue
	return append(buf, h...)
}

type headKey struct{ locale, id string }

// appendJSONString appends v as a JSON string, escaped as encoding/json
// escapes it.
func appendJSONString(buf []byte, v string) []byte {
	q, _ := json.Marshal(v) // a string always marshals
	return append(buf, q...)
}
