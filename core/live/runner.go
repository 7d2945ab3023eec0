package live

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portalkit/portalkit/core/stop"
	"github.com/portalkit/portalkit/core/store"
)

// Name implements app.Runner.
func (s *Service) Name() string { return "live" }

type runState struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// listenStartTimeout bounds how long Start waits for the listener.
const listenStartTimeout = 10 * time.Second

// pruneEvery is how often expired live events are deleted.
const pruneEvery = 10 * time.Minute

// Start implements app.Runner: it follows commits (LISTEN on PostgreSQL,
// the table on SQLite) and prunes expired events. It returns once the
// listener is in place, so an event committed after Start reaches the
// streams connected here.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.run != nil {
		s.mu.Unlock()
		return errors.New("live: already started")
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	rs := &runState{cancel: cancel}
	s.run = rs
	s.hub.open()
	var listening chan error
	rs.wg.Add(2)
	if s.st.Dialect == store.Postgres {
		listening = make(chan error, 1)
		rs.wg.Add(1)
		go func() { defer rs.wg.Done(); s.hub.listen(ctx, listening) }()
		go func() { defer rs.wg.Done(); s.hub.load(ctx) }()
	} else {
		go func() { defer rs.wg.Done(); s.hub.tail(ctx) }()
	}
	go func() { defer rs.wg.Done(); s.pruneLoop(ctx) }()
	s.mu.Unlock()
	if listening == nil {
		return nil
	}
	select {
	case err := <-listening:
		if err != nil {
			s.log.Warn("live listener could not start; retrying in the background", "err", err)
		}
	case <-time.After(listenStartTimeout):
		s.log.Warn("live listener is slow to start; live events may be late until it does")
	}
	return nil
}

// Stop implements app.Runner: it ends every stream (clients reconnect,
// through the load balancer, to another instance) and the listener.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	rs := s.run
	s.run = nil
	s.mu.Unlock()
	s.hub.closeAll()
	if rs == nil {
		return nil
	}
	rs.cancel()
	if err := stop.Wait(ctx, &rs.wg); err != nil {
		return fmt.Errorf("live: did not stop: %w", err)
	}
	return nil
}

func (s *Service) pruneLoop(ctx context.Context) {
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Prune(ctx, time.Now().Add(-s.cfg.History)); err != nil && ctx.Err() == nil {
				s.log.Warn("live: prune failed", "err", err)
			}
		}
	}
}

// Prune deletes the live events written before before and returns how
// many; every instance runs it every 10 minutes for those older than
// live.history (deleting twice is harmless).
func (s *Service) Prune(ctx context.Context, before time.Time) (int64, error) {
	res := s.st.DB.WithContext(ctx).Exec(`DELETE FROM live_events WHERE created_at < ?`, before.UTC())
	return res.RowsAffected, res.Error
}

type metrics struct {
	streams  prometheus.Gauge
	pushed   prometheus.Counter
	replayed prometheus.Counter
	resets   prometheus.Counter
	gaps     prometheus.Counter
	ended    prometheus.Counter
}

func newMetrics() *metrics {
	return &metrics{
		streams: prometheus.NewGauge(prometheus.GaugeOpts{Name: "portal_live_streams",
			Help: "Live streams open on this instance."}),
		pushed: prometheus.NewCounter(prometheus.CounterOpts{Name: "portal_live_events_pushed_total",
			Help: "Committed live events handed to this instance's streams."}),
		replayed: prometheus.NewCounter(prometheus.CounterOpts{Name: "portal_live_events_replayed_total",
			Help: "Live events streams read from the database (reconnects, gaps, slow streams)."}),
		resets: prometheus.NewCounter(prometheus.CounterOpts{Name: "portal_live_resets_total",
			Help: "Reset events sent: a client had to refetch."}),
		gaps: prometheus.NewCounter(prometheus.CounterOpts{Name: "portal_live_gaps_total",
			Help: "Events pushed out of position order, filled from the database."}),
		ended: prometheus.NewCounter(prometheus.CounterOpts{Name: "portal_live_streams_expired_total",
			Help: "Streams ended at live.max_lifetime (clients reconnect and resume)."}),
	}
}

// RegisterMetrics adds the live metrics to reg.
func (s *Service) RegisterMetrics(reg prometheus.Registerer) error {
	m := s.metrics
	for _, c := range []prometheus.Collector{m.streams, m.pushed, m.replayed, m.resets, m.gaps, m.ended} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
