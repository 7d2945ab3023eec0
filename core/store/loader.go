package store

import (
	"context"
	"sync"
	"time"
)

// Loader coalesces lookups that arrive together into one query each few
// hundred keys: while a query runs, new lookups queue, and the next query
// reads all of them. With nothing queued a lookup's query starts at once,
// so a lone request never waits for company; under a burst (thousands of
// clients reconnecting after a restart) a few queries serve everyone.
type Loader[K comparable, V any] struct {
	// Fetch reads the values of keys (distinct, at most Max); a key it
	// leaves out of the map is "not found".
	Fetch func(ctx context.Context, keys []K) (map[K]V, error)
	// Max bounds the keys of one query (default 500).
	Max int
	// Parallel bounds the queries running at once (default 4).
	Parallel int
	// Timeout bounds one query (default 30 s); it runs on behalf of many
	// callers, so no single caller's context ends it.
	Timeout time.Duration

	mu      sync.Mutex
	queue   []*loadCall[K, V]
	running int
}

type loadCall[K comparable, V any] struct {
	ctx  context.Context
	key  K
	done chan struct{}
	val  V
	ok   bool
	err  error
}

// Load returns key's value and whether it was found. It returns when its
// query did, or with ctx's error when ctx ends first.
func (l *Loader[K, V]) Load(ctx context.Context, key K) (V, bool, error) {
	c := &loadCall[K, V]{ctx: ctx, key: key, done: make(chan struct{})}
	l.mu.Lock()
	l.queue = append(l.queue, c)
	par := l.Parallel
	if par <= 0 {
		par = 4
	}
	start := l.running < par
	if start {
		l.running++
	}
	l.mu.Unlock()
	if start {
		go l.run()
	}
	select {
	case <-c.done:
		return c.val, c.ok, c.err
	case <-ctx.Done():
		var zero V
		return zero, false, ctx.Err()
	}
}

// run reads what is queued, a batch at a time, until nothing is.
func (l *Loader[K, V]) run() {
	size := l.Max
	if size <= 0 {
		size = 500
	}
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	for {
		l.mu.Lock()
		var batch []*loadCall[K, V]
		for len(l.queue) > 0 && len(batch) < size {
			c := l.queue[0]
			l.queue[0] = nil
			l.queue = l.queue[1:]
			if c.ctx.Err() == nil { // its caller has gone: skip it
				batch = append(batch, c)
			} else {
				close(c.done)
			}
		}
		if len(batch) == 0 {
			l.queue = nil
			l.running--
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		keys := make([]K, 0, len(batch))
		seen := make(map[K]struct{}, len(batch))
		for _, c := range batch {
			if _, dup := seen[c.key]; !dup {
				seen[c.key] = struct{}{}
				keys = append(keys, c.key)
			}
		}
		// The values stay (a request's locale, its trace); the caller's
		// cancellation does not end a query that others wait on.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(batch[0].ctx), timeout)
		vals, err := l.Fetch(ctx, keys)
		cancel()
		for _, c := range batch {
			c.val, c.ok = vals[c.key]
			c.err = err
			close(c.done)
		}
	}
}
