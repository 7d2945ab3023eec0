package notify

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portalkit/portalkit/core/store"
)

// channelWarnEvery is how often at most a failing channel is logged: the
// first failure at once, then a line every channelWarnEvery with the
// number of failed attempts since the channel began failing.
const channelWarnEvery = 5 * time.Minute

// channelHealth is this instance's view of each channel: counters for
// /metrics, and whether its deliveries are failing now. A channel is
// failing from a batch whose attempts on it all failed for a reason that
// may pass (a permanent failure, such as a deleted recipient, says nothing
// about the channel) until a batch delivers through it again.
type channelHealth struct {
	mu sync.Mutex
	m  map[string]*channelState
}

type channelState struct {
	delivered, retried, dead atomic.Int64

	// guarded by channelHealth.mu
	failing  bool
	since    time.Time
	lastErr  string
	failures int64
	warned   time.Time
	// recovered is when the channel last recovered.
	recovered time.Time
}

func (h *channelHealth) state(name string) *channelState {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[string]*channelState{}
	}
	st := h.m[name]
	if st == nil {
		st = &channelState{}
		h.m[name] = st
	}
	return st
}

// channelOutcome is what one batch did on one channel.
type channelOutcome struct {
	delivered, retried, dead int64
	// transient counts failures that may pass; lastErr is the last one.
	transient int64
	lastErr   string
	// started is when the batch's deliveries began: failures of a batch
	// that began before the channel last recovered are old news (another
	// worker's batch, sent while the server was still down, reporting
	// after one that went through) and do not mark it failing again.
	started time.Time
}

// noteOutcomes counts a batch's outcomes per channel and moves each
// channel between healthy and failing, logging the change (a failing
// channel's warning at most every channelWarnEvery).
func (s *Service) noteOutcomes(out map[string]*channelOutcome) {
	now := time.Now()
	for name, o := range out {
		st := s.health.state(name)
		st.delivered.Add(o.delivered)
		st.retried.Add(o.retried)
		st.dead.Add(o.dead)
		s.health.mu.Lock()
		switch {
		case o.delivered > 0 && st.failing:
			failures, since := st.failures, st.since
			st.failing, st.failures, st.lastErr, st.warned, st.recovered = false, 0, "", time.Time{}, now
			s.health.mu.Unlock()
			s.log.Info("notification channel recovered", "channel", name, "failed_attempts", failures,
				"failing_for", now.Sub(since).Round(time.Second).String())
			continue
		case o.delivered == 0 && o.transient > 0 && !o.started.Before(st.recovered):
			if !st.failing {
				st.failing, st.since = true, now
			}
			st.failures += o.transient
			st.lastErr = o.lastErr
			if now.Sub(st.warned) >= channelWarnEvery {
				st.warned = now
				failures, since, msg := st.failures, st.since, st.lastErr
				s.health.mu.Unlock()
				s.log.Warn("notification channel failing", "channel", name, "err", msg, "failed_attempts", failures,
					"since", since.UTC().Format(time.RFC3339), "next_report_in", channelWarnEvery.String())
				continue
			}
		}
		s.health.mu.Unlock()
	}
}

// Failing describes the channels whose deliveries are failing on this
// instance ("" when none): /readyz shows it without failing readiness,
// since the portal serves while a mail server is down and the outbox keeps
// what it cannot deliver yet.
func (s *Service) Failing() string {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	var parts []string
	for name, st := range s.health.m {
		if st.failing {
			parts = append(parts, fmt.Sprintf("%s failing since %s (%d failed attempts): %s",
				name, st.since.UTC().Format(time.RFC3339), st.failures, st.lastErr))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// ReadyDetail is Failing as an error for /readyz's detail.
func (s *Service) ReadyDetail(context.Context) error {
	if f := s.Failing(); f != "" {
		return fmt.Errorf("%s", f)
	}
	return nil
}

// channelNames lists the declared channels, sorted.
func (s *Service) channelNames() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.channels))
	for name := range s.channels {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// waitingStats is what the outbox holds for one channel.
type waitingStats struct {
	Count int64
	// Oldest is when the oldest row that is due (or was tried) was queued.
	Oldest time.Time
}

// waiting reads the outbox's pending rows per channel, across
// organisations. A row deferred to later (an e-mail held for the
// recipient's quiet hours) counts as waiting but not towards the age
// until it has been tried.
func (s *Service) waiting(ctx context.Context) (map[string]waitingStats, error) {
	db := store.AllOrgs(s.st.DB.WithContext(ctx))
	var counts []struct {
		Channel string
		N       int64
	}
	if err := db.Model(&OutboxRow{}).Select("channel, count(*) AS n").Where("status = ?", StatusPending).
		Group("channel").Scan(&counts).Error; err != nil {
		return nil, err
	}
	out := make(map[string]waitingStats, len(counts))
	now := s.now().UTC()
	for _, c := range counts {
		w := waitingStats{Count: c.N}
		var oldest []OutboxRow
		if err := db.Select("created_at").Where("status = ? AND channel = ? AND (attempts > 0 OR next_attempt_at <= ?)", StatusPending, c.Channel, now).
			Order("created_at").Limit(1).Find(&oldest).Error; err != nil {
			return nil, err
		}
		if len(oldest) == 1 {
			w.Oldest = oldest[0].CreatedAt
		}
		out[c.Channel] = w
	}
	return out, nil
}

var (
	descWaiting = prometheus.NewDesc("portal_notify_waiting",
		"Notification deliveries waiting in the outbox (all instances), per channel.", []string{"channel"}, nil)
	descOldest = prometheus.NewDesc("portal_notify_oldest_waiting_seconds",
		"Age of the oldest due delivery waiting in the outbox, per channel (0 when none waits).", []string{"channel"}, nil)
	descDelivered = prometheus.NewDesc("portal_notify_delivered_total",
		"Deliveries this instance completed, per channel.", []string{"channel"}, nil)
	descRetried = prometheus.NewDesc("portal_notify_retried_total",
		"Failed delivery attempts this instance scheduled for a retry, per channel.", []string{"channel"}, nil)
	descDead = prometheus.NewDesc("portal_notify_dead_total",
		"Deliveries this instance made dead letters (failed for good or out of attempts), per channel.", []string{"channel"}, nil)
	descFailing = prometheus.NewDesc("portal_notify_channel_failing",
		"1 while this instance's deliveries through the channel are failing.", []string{"channel"}, nil)
)

// Collectors are the notification pipeline's metrics for /metrics.
func (s *Service) Collectors() []prometheus.Collector {
	return []prometheus.Collector{metricsCollector{s}}
}

type metricsCollector struct{ s *Service }

func (metricsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descWaiting, descOldest, descDelivered, descRetried, descDead, descFailing} {
		ch <- d
	}
}

// Collect reads the counters, and the outbox for the waiting gauges (left
// out of a scrape the database does not answer within 2 s).
func (c metricsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	waiting, err := s.waiting(ctx)
	now := s.now().UTC()
	for _, name := range s.channelNames() {
		st := s.health.state(name)
		s.health.mu.Lock()
		failing := 0.0
		if st.failing {
			failing = 1
		}
		s.health.mu.Unlock()
		ch <- prometheus.MustNewConstMetric(descDelivered, prometheus.CounterValue, float64(st.delivered.Load()), name)
		ch <- prometheus.MustNewConstMetric(descRetried, prometheus.CounterValue, float64(st.retried.Load()), name)
		ch <- prometheus.MustNewConstMetric(descDead, prometheus.CounterValue, float64(st.dead.Load()), name)
		ch <- prometheus.MustNewConstMetric(descFailing, prometheus.GaugeValue, failing, name)
		if err != nil {
			continue
		}
		w := waiting[name]
		age := 0.0
		if !w.Oldest.IsZero() {
			age = max(0, now.Sub(w.Oldest).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(descWaiting, prometheus.GaugeValue, float64(w.Count), name)
		ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, age, name)
	}
}

// ChannelProblem is a channel whose deliveries of the organisation are
// failing: how many wait, and the error of the latest failed attempt.
type ChannelProblem struct {
	Channel   string
	Waiting   int64
	LastError string
}

// ChannelProblems lists the organisation's channels with waiting
// deliveries whose last attempt failed (the admin page), from the outbox,
// so every instance shows the same.
func (s *Service) ChannelProblems(ctx context.Context, orgID uint) ([]ChannelProblem, error) {
	var rows []OutboxRow
	err := store.Org(s.st.DB.WithContext(ctx), orgID).Select("channel", "last_error", "next_attempt_at", "id").
		Where("status = ? AND last_error <> ''", StatusPending).Order("next_attempt_at DESC, id DESC").Limit(500).Find(&rows).Error
	if err != nil {
		return nil, err
	}
	at := map[string]int{}
	var out []ChannelProblem
	for _, r := range rows {
		i, seen := at[r.Channel]
		if !seen {
			i = len(out)
			at[r.Channel] = i
			out = append(out, ChannelProblem{Channel: r.Channel, LastError: r.LastError})
		}
		out[i].Waiting++
	}
	sort.Slice(out, func(i, j int) bool { return channelOrder(out[i].Channel) < channelOrder(out[j].Channel) })
	return out, nil
}
