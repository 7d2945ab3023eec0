package schedule

import (
	"sort"
	"sync"
	"time"
)

// Clock is the scheduler's source of time. Slots, heartbeats, leases and
// durations are all read from it, so a test can run the scheduler across
// many slots in milliseconds with a SimClock.
type Clock interface {
	// Now is the current time.
	Now() time.Time
	// After delivers the time once d has passed on this clock.
	After(d time.Duration) <-chan time.Time
}

// Ticker is implemented by clocks that also decide when the scheduler
// ticks. The real clock does not implement it: in production robfig/cron
// wakes the scheduler at each activation. A SimClock does, so that moving
// simulated time is what makes slots fall due.
type Ticker interface {
	// OnTick calls fn with the new time whenever the clock moves; the
	// returned function stops the calls.
	OnTick(fn func(now time.Time)) (stop func())
}

// RealClock is the wall clock.
type RealClock struct{}

// Now implements Clock.
func (RealClock) Now() time.Time { return time.Now() }

// After implements Clock.
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// SimClock is a simulated clock for tests. Time stands still until Advance
// or Set moves it; then waiters whose time has come are woken and every
// scheduler using the clock ticks (in the caller's goroutine: by the time
// Advance returns, each due slot has been claimed and its run started).
// Several schedulers (app instances) may share one SimClock.
type SimClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []simWaiter
	tickers map[int]func(time.Time)
	nextID  int
}

type simWaiter struct {
	at time.Time
	ch chan time.Time
}

var (
	_ Clock  = (*SimClock)(nil)
	_ Ticker = (*SimClock)(nil)
	_ Clock  = RealClock{}
)

// NewSimClock returns a simulated clock standing at start.
func NewSimClock(start time.Time) *SimClock {
	return &SimClock{now: start.UTC(), tickers: map[int]func(time.Time){}}
}

// Now implements Clock.
func (c *SimClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After implements Clock: the channel receives once the clock has been
// moved at least d past now.
func (c *SimClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	at := c.now.Add(d)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, simWaiter{at: at, ch: ch})
	return ch
}

// OnTick implements Ticker.
func (c *SimClock) OnTick(fn func(now time.Time)) (stop func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.nextID
	c.nextID++
	c.tickers[id] = fn
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.tickers, id)
	}
}

// Advance moves the clock forward by d.
func (c *SimClock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// Set moves the clock to t (never backwards), wakes due waiters and ticks
// every scheduler using the clock, in the order they subscribed.
func (c *SimClock) Set(t time.Time) {
	c.mu.Lock()
	if t.Before(c.now) {
		c.mu.Unlock()
		panic("schedule: SimClock cannot go backwards")
	}
	c.now = t.UTC()
	now := c.now
	var keep []simWaiter
	for _, w := range c.waiters {
		if !w.at.After(now) {
			w.ch <- now
		} else {
			keep = append(keep, w)
		}
	}
	c.waiters = keep
	ids := make([]int, 0, len(c.tickers))
	for id := range c.tickers {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	fns := make([]func(time.Time), 0, len(ids))
	for _, id := range ids {
		fns = append(fns, c.tickers[id])
	}
	c.mu.Unlock()
	for _, fn := range fns {
		fn(now)
	}
}
