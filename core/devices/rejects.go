package devices

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// rejectReason is why the gateway turned a device's message away: the
// reason label of portal_devices_rejects_total and of the log line.
type rejectReason int

const (
	// reasonTopic: a topic outside the device's own prefix.
	reasonTopic rejectReason = iota
	// reasonSystemTopic: a $SYS topic, which no client may publish to.
	reasonSystemTopic
	// reasonNoDevice: a topic naming no active device of the organisation
	// (with an external broker, or a device disabled a moment ago).
	reasonNoDevice
	// reasonTooLarge: a message over mqtt.max_message_bytes.
	reasonTooLarge
	// reasonInvalid: a payload or stream the router rejected.
	reasonInvalid
	numReasons
)

var reasonNames = [numReasons]string{"topic_not_allowed", "system_topic", "no_device", "too_large", "invalid"}

func (r rejectReason) String() string { return reasonNames[r] }

// rejectLogEvery is how often at most the gateway logs a refused or
// rejected message of one reason; the lines in between are counted and
// the next line says how many were not logged.
const rejectLogEvery = 10 * time.Second

// rejectCounts counts turned-away messages per reason and logs them, one
// line per reason per rejectLogEvery.
type rejectCounts struct {
	n    [numReasons]atomic.Int64
	mu   sync.Mutex
	last [numReasons]time.Time
	// skipped counts the messages not logged since the last line.
	skipped [numReasons]int64
}

// note counts a turned-away message and logs it unless one of its reason
// was logged within rejectLogEvery.
func (s *Service) noteReject(reason rejectReason, device, topic, detail string) {
	rc := &s.rejects
	rc.n[reason].Add(1)
	now := time.Now()
	rc.mu.Lock()
	if !rc.last[reason].IsZero() && now.Sub(rc.last[reason]) < rejectLogEvery {
		rc.skipped[reason]++
		rc.mu.Unlock()
		return
	}
	skipped := rc.skipped[reason]
	rc.last[reason], rc.skipped[reason] = now, 0
	rc.mu.Unlock()
	s.log.Warn("device message refused", "reason", reason.String(), "device", device, "topic", topic,
		"detail", detail, "not_logged_since_last", skipped)
}

// rejectCollectors report portal_devices_rejects_total, one series per
// reason.
func (s *Service) rejectCollectors() []prometheus.Collector {
	out := make([]prometheus.Collector, 0, numReasons)
	for r := range numReasons {
		v := &s.rejects.n[r]
		out = append(out, prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "portal_devices_rejects_total",
			Help:        "Device messages the gateway turned away, by reason (each logged at most once per 10 s per reason).",
			ConstLabels: prometheus.Labels{"reason": r.String()}}, func() float64 { return float64(v.Load()) }))
	}
	return out
}
