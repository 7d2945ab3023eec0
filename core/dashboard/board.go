package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

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
	// Anchor is the card's HTML id ("w-core-account").
	Anchor string
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
// the board.
func (s *Service) Board(ctx context.Context, p *accounts.Principal, requestID string) (*Board, error) {
	order, hidden, err := s.layoutOf(ctx, p)
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
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	type result struct {
		data any
		err  error
	}
	// Modules' widgets run concurrently, each on its own goroutine so that
	// one ignoring its context cannot hold the response; the core's own
	// widgets (trusted, quick) run on this goroutine meanwhile.
	chans := make([]chan result, len(visible))
	for i, w := range visible {
		if !w.module {
			continue
		}
		ch := make(chan result, 1) // buffered: a late widget never blocks on a gone reader
		chans[i] = ch
		go func(w *registered) {
			defer func() {
				if r := recover(); r != nil {
					s.log.Error("dashboard widget panicked", "widget", w.key, "request_id", requestID, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
					ch <- result{err: errPanic}
				}
			}()
			d, err := w.Data(ctx, p)
			ch <- result{d, err}
		}(w)
	}
	for i, w := range visible {
		c := newCard(w)
		c.First, c.Last = i == 0, i == len(visible)-1
		var r result
		if chans[i] == nil {
			r.data, r.err = s.runHere(ctx, w, p, requestID)
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
			c.Data = r.data
		}
		b.Cards[i] = c
	}
	return b, nil
}

// runHere runs a core widget's data function on the calling goroutine: a
// panic or an error fails only its card. Core widgets are quick reads that
// honour ctx, so the deadline ends them through their queries; unlike a
// module's widget, one that ignored ctx would hold the response.
func (s *Service) runHere(ctx context.Context, w *registered, p *accounts.Principal, requestID string) (data any, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("dashboard widget panicked", "widget", w.key, "request_id", requestID, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			data, err = nil, errPanic
		}
	}()
	return w.Data(ctx, p)
}

func newCard(w *registered) *Card {
	return &Card{ID: w.key, Title: w.Title, Size: w.Size, Template: w.Template, Anchor: "w-" + strings.ReplaceAll(w.key, ".", "-")}
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
		if !c.Failed {
			raw, err := json.Marshal(c.Data)
			if err != nil {
				s.log.Error("dashboard widget data does not marshal to JSON", "widget", c.ID, "request_id", requestID, "err", err)
				c.Failed = true
			} else {
				cj.Data = raw
			}
		}
		if c.Failed {
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
