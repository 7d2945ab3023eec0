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

// Bus delivers events to subscribers. The zero value is not usable; use New.
type Bus struct {
	mu        sync.RWMutex
	handlers  map[string][]Handler
	observers []func(Event)
}

// New returns an empty bus.
func New() *Bus { return &Bus{handlers: map[string][]Handler{}} }

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
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	b.mu.RLock()
	hs := append(append([]Handler(nil), b.handlers[e.Name]...), b.handlers["*"]...)
	obs := append(make([]func(Event), 0, len(b.observers)), b.observers...)
	b.mu.RUnlock()
	for _, o := range obs {
		o(e)
	}
	var errs []error
	for _, h := range hs {
		if err := h(ctx, e); err != nil {
			errs = append(errs, fmt.Errorf("event %s: %w", e.Name, err))
		}
	}
	return errors.Join(errs...)
}
