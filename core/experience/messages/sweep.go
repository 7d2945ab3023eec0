package messages

import (
	"context"
	"sync"
	"time"

	"github.com/portalkit/portalkit/core/stop"
	"github.com/portalkit/portalkit/core/store"
)

// SweepOrphans removes blobs stored before before that no attachment refers
// to: what is left when a process stops between storing a file and
// committing its message (a failed transaction removes its files at once).
// Stores that cannot list their keys are skipped. It returns how many blobs
// it removed.
func (s *Service) SweepOrphans(ctx context.Context, before time.Time) (int, error) {
	lister, ok := s.blobs.(BlobLister)
	if !ok {
		return 0, nil
	}
	removed := 0
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		// Blob keys are global; the lookup deliberately spans organisations.
		var known []string
		if err := store.AllOrgs(s.st.DB.WithContext(ctx)).Model(&Attachment{}).Where("blob_key IN ?", batch).Pluck("blob_key", &known).Error; err != nil {
			return err
		}
		keep := map[string]bool{}
		for _, k := range known {
			keep[k] = true
		}
		for _, k := range batch {
			if keep[k] {
				continue
			}
			if err := s.blobs.Delete(ctx, k); err != nil {
				return err
			}
			removed++
		}
		batch = batch[:0]
		return nil
	}
	err := lister.List(ctx, before, func(key string) error {
		batch = append(batch, key)
		if len(batch) >= 500 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if removed > 0 {
		s.log.Info("messages: removed attachments no message refers to", "count", removed)
	}
	return removed, err
}

// Sweeper runs SweepOrphans every messages.sweep_interval (an app.Runner).
// Blobs younger than an hour are never touched, so a message being sent
// keeps its files.
type Sweeper struct {
	s      *Service
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Sweeper returns the background runner that removes orphaned blobs.
func (s *Service) Sweeper() *Sweeper { return &Sweeper{s: s} }

// Name implements app.Runner.
func (*Sweeper) Name() string { return "messages-sweeper" }

// Start starts the periodic sweep.
func (w *Sweeper) Start(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(w.s.cfg.SweepInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := w.s.SweepOrphans(ctx, w.s.now().Add(-time.Hour)); err != nil && ctx.Err() == nil {
					w.s.log.Warn("messages: sweeping attachments", "err", err)
				}
			}
		}
	}()
	return nil
}

// Stop ends the sweep and waits for a sweep in progress to stop.
func (w *Sweeper) Stop(ctx context.Context) error {
	if w.cancel == nil {
		return nil
	}
	w.cancel()
	return stop.Wait(ctx, &w.wg)
}
