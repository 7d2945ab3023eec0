// Package stop is how the core's background services end: they cancel
// their goroutines' context and wait for them, but never longer than the
// caller's deadline (a shutdown must not hang on a stuck worker).
package stop

import (
	"context"
	"sync"
)

// Wait blocks until wg's goroutines have all returned, or until ctx ends;
// then it returns ctx's error. The goroutines keep running in that case:
// the caller reports them as not stopped.
func Wait(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
