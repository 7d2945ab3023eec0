// Package events is the in-process bus on which core services announce what
// happened (a user was created, a device was seen, feedback was given) and on
// which modules react. Handlers run synchronously, in subscription order, in
// the caller's transaction when the event carries one, so that a reaction is
// committed or rolled back together with its cause.
//
// events imports nothing from PortalKit.
package events

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"
)

// Event is something that happened in an organisation.
type Event struct {
	// Name is "<area>.<what>", e.g. "accounts.user_created".
	Name string
	// OrgID is the organisation the event belongs to (0 for platform events).
	OrgID uint
	// ActorID is the user who caused it, if any.
	ActorID uint
	// SubjectID is the customer the event is about, if any (timelines use it).
	SubjectID uint
	// Time is when it happened; Publish fills it when zero.
	Time time.Time
	// Data is the event's typed payload.
	Data any
	// Summary is a sentence for the customer's timeline, in English, used
	// as the translation key: "Signed in from %s". Events with a SubjectID
	// and a Summary appear on the subject's timeline.
	Summary string
	// SummaryArgs are the values of Summary's verbs (strings and numbers;
	// they are stored as JSON).
	SummaryArgs []any
	// Link is a portal path about the event ("/messages/12"), if any.
	Link string
	// Tx is the transaction the event happened in, if any. Handlers that write
	// should use it so their writes commit or roll back with the cause.
	Tx *gorm.DB
}

// Handler reacts to an event. An error aborts the publisher's operation when
// the publisher treats events as part of its transaction.
type Handler func(ctx context.Context, e Event) error

// BatchHandler reacts to several events at once: what one PublishMany
// call published (all in the publisher's one transaction), or a single
// Publish as a batch of one. A subscriber that writes a row per event uses
// it to write them in one statement.
type BatchHandler func(ctx context.Context, es []Event) error

// Bus delivers events to subscribers. The zero value is not usable; use New.
type Bus struct {
	mu        sync.RWMutex
	handlers  map[string][]Handler
	batches   map[string][]BatchHandler
	observers []func(Event)
}

// New returns an empty bus.
func New() *Bus { return &Bus{handlers: map[string][]Handler{}, batches: map[string][]BatchHandler{}} }

// SubscribeBatch adds h for events called name ("*": every event); h gets
// the events of one Publish or PublishMany call together.
func (b *Bus) SubscribeBatch(name string, h BatchHandler) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.batches[name] = append(b.batches[name], h)
}

// Subscribe adds h for events called name. "*" receives every event.
func (b *Bus) Subscribe(name string, h Handler) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.handlers[name] = append(b.handlers[name], h)
}

// Observe registers fn to see every published event before handlers run.
// Tests use it to assert which events fired.
func (b *Bus) Observe(fn func(Event)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.observers = append(b.observers, fn)
}

// Publish runs every handler for e.Name and for "*". It runs them all and
// returns their errors joined, each prefixed with the event name.
func (b *Bus) Publish(ctx context.Context, e Event) error {
	return b.PublishMany(ctx, []Event{e})
}

// PublishMany publishes several events of one operation, which must share
// one transaction (Event.Tx): every Handler runs per event, as with
// Publish, and every BatchHandler once with the events it subscribed to.
// It runs them all and returns their errors joined.
func (b *Bus) PublishMany(ctx context.Context, es []Event) error {
	if len(es) == 0 {
		return nil
	}
	now := time.Now().UTC()
	for i := range es {
		if es[i].Time.IsZero() {
			es[i].Time = now
		}
	}
	b.mu.RLock()
	handlers := make(map[string][]Handler)
	batches := make(map[string][]BatchHandler)
	for _, e := range es {
		if _, ok := handlers[e.Name]; !ok {
			handlers[e.Name] = append(append([]Handler(nil), b.handlers[e.Name]...), b.handlers["*"]...)
			batches[e.Name] = append([]BatchHandler(nil), b.batches[e.Name]...)
		}
	}
	every := append([]BatchHandler(nil), b.batches["*"]...)
	obs := append(make([]func(Event), 0, len(b.observers)), b.observers...)
	b.mu.RUnlock()
	var errs []error
	byName := map[string][]Event{}
	var names []string
	for _, e := range es {
		for _, o := range obs {
			o(e)
		}
		for _, h := range handlers[e.Name] {
			if err := h(ctx, e); err != nil {
				errs = append(errs, fmt.Errorf("event %s: %w", e.Name, err))
			}
		}
		if _, ok := byName[e.Name]; !ok {
			names = append(names, e.Name)
		}
		byName[e.Name] = append(byName[e.Name], e)
	}
	for _, name := range names {
		for _, h := range batches[name] {
			if err := h(ctx, byName[name]); err != nil {
				errs = append(errs, fmt.Errorf("event %s: %w", name, err))
			}
		}
	}
	for _, h := range every {
		if err := h(ctx, es); err != nil {
			errs = append(errs, fmt.Errorf("events %s…: %w", es[0].Name, err))
		}
	}
	return errors.Join(errs...)
}
