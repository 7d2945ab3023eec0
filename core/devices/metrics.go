package devices

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// embeddedSizingWarn is the number of connections on the embedded broker
// past which the portal suggests an external broker: each costs about
// 26 KiB here against under 1 KiB in Mosquitto (docs/devices.md, "Sizing").
const embeddedSizingWarn = 5000

// Collectors are the gateway's metrics for /metrics. They read the
// service's counters when scraped, so ingest pays nothing for them.
func (s *Service) Collectors() []prometheus.Collector {
	counter := func(name, help string, v *atomic.Int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v.Load()) })
	}
	return append(s.rejectCollectors(),
		counter("portal_devices_readings_stored_total", "Device readings committed by the batched writer.", &s.stats.Stored),
		counter("portal_devices_batches_total", "Batches of device readings committed.", &s.stats.Batches),
		counter("portal_devices_messages_rejected_total", "Device messages rejected as invalid (kept in the reject log, acknowledged).", &s.stats.Rejected),
		counter("portal_devices_messages_refused_total", "Messages on topics no registered active device may use.", &s.stats.Refused),
		counter("portal_devices_refused_unlogged_total", "Refused messages not written to the reject log because its queue was full.", &s.stats.RefusedUnlogged),
		counter("portal_devices_apply_failed_total", "Stored readings their module could not act on.", &s.stats.ApplyFailed),
		counter("portal_devices_messages_held_total", "Times a device message waited because the database could not route it (it is routed again, never dropped).", &s.stats.Held),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "portal_devices_connected",
			Help: "Devices connected to the embedded broker (0 with an external broker, which reports its own)."},
			func() float64 { return float64(s.Connected()) }),
	)
}

// Connected is how many devices are connected to the embedded broker now
// (0 when it is not running or the portal uses an external broker).
func (s *Service) Connected() int64 {
	b := s.broker.Load()
	if b == nil {
		return 0
	}
	return atomic.LoadInt64(&b.server.Info.ClientsConnected)
}

// noteConnections logs, once per start, that the embedded broker holds
// more connections than it is sized for.
func (b *Broker) noteConnections() {
	n := atomic.LoadInt64(&b.server.Info.ClientsConnected)
	if n >= embeddedSizingWarn && b.warnedSize.CompareAndSwap(false, true) {
		b.s.log.Warn("the embedded MQTT broker holds many device connections; past a few thousand, run Mosquitto and set mqtt.url (docs/devices.md, Sizing)",
			"connected", n, "approx_memory_mib", n*26/1024)
	}
}
