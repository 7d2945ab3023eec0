package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/store"
)

// Lookups that arrive while a query runs are answered together by the
// next: 200 callers cost a handful of queries, each caller gets its own
// key's value (or "not found"), and no query holds more than Max keys or
// runs beside more than Parallel others.
func TestLoaderCoalesces(t *testing.T) {
	var queries, running, peak atomic.Int64
	release := make(chan struct{})
	l := &store.Loader[int, string]{Max: 50, Parallel: 2, Fetch: func(ctx context.Context, keys []int) (map[int]string, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		if queries.Add(1) <= 2 {
			<-release // the first queries wait until every caller queued
		}
		if len(keys) > 50 {
			return nil, fmt.Errorf("%d keys in one query", len(keys))
		}
		out := map[int]string{}
		for _, k := range keys {
			if k%7 != 0 { // multiples of 7 do not exist
				out[k] = fmt.Sprint("v", k)
			}
		}
		return out, nil
	}}
	const callers = 200
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	var queued sync.WaitGroup
	queued.Add(callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			queued.Done()
			v, ok, err := l.Load(context.Background(), i%150) // some keys twice
			switch {
			case err != nil:
				errs <- err
			case (i%150)%7 == 0 && ok:
				errs <- fmt.Errorf("key %d found", i%150)
			case (i%150)%7 != 0 && (!ok || v != fmt.Sprint("v", i%150)):
				errs <- fmt.Errorf("key %d: %q %v", i%150, v, ok)
			}
		}()
	}
	queued.Wait()
	time.Sleep(50 * time.Millisecond) // let them reach the queue
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if q := queries.Load(); q > 8 {
		t.Errorf("%d queries for %d callers, want a few", q, callers)
	}
	if p := peak.Load(); p > 2 {
		t.Errorf("%d queries at once, Parallel is 2", p)
	}
	// A lone lookup does not wait for company.
	t0 := time.Now()
	if _, _, err := l.Load(context.Background(), 1); err != nil || time.Since(t0) > time.Second {
		t.Errorf("lone lookup: %v after %v", err, time.Since(t0))
	}
}

// A failed query fails every caller it served; a caller whose context ends
// returns at once with its error while the query goes on for the others.
func TestLoaderErrorsAndCancel(t *testing.T) {
	boom := errors.New("boom")
	l := &store.Loader[int, int]{Fetch: func(ctx context.Context, keys []int) (map[int]int, error) { return nil, boom }}
	if _, _, err := l.Load(context.Background(), 1); !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	slow := make(chan struct{})
	l2 := &store.Loader[int, int]{Fetch: func(ctx context.Context, keys []int) (map[int]int, error) {
		<-slow
		return map[int]int{keys[0]: 1}, nil
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := l2.Load(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the deadline", err)
	}
	close(slow)
	if v, ok, err := l2.Load(context.Background(), 2); err != nil || !ok || v != 1 {
		t.Fatalf("after: %d %v %v", v, ok, err)
	}
}
