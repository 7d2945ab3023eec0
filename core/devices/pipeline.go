package devices

import (
	"context"
	"hash/fnv"
	"sync"
	"time"
)

// pipeline is the batched writer both ingest paths feed: the Paho
// subscriber (external broker) and the embedded broker's hook. It commits
// readings in batches and runs each message's ack only after the batch
// holding it committed. Messages are spread over mqtt.writers lanes by
// device (one on SQLite, which has one writer anyway): each lane has its
// own queue, writer transaction and ack goroutine, so a device's messages
// stay in order and two lanes never update the same device row.
type pipeline struct {
	lanes []*lane
	stop  chan struct{}
}

// lane is one queue of the pipeline and its writer.
type lane struct {
	s      *Service
	queue  chan inbound
	writer *writer
	// committed carries committed batches, in commit order, to the
	// goroutine that lets modules act on them and acknowledges them, so
	// the writer goes on with the next batch meanwhile.
	committed chan []inbound
	stop      chan struct{}
	done      sync.WaitGroup
	acked     sync.WaitGroup
}

// inbound is a message waiting for the writer. store is false for a
// message that was refused or rejected (already recorded): it is only
// acknowledged, after the messages queued before it.
type inbound struct {
	r     Reading
	store bool
	ack   func()
	// puback, when set, is the embedded broker's connection the QoS 1
	// message came on, and pubackID its packet ID: the ack goroutine
	// writes the PUBACKs of one connection in a batch with one write,
	// before running ack.
	puback   *connState
	pubackID uint16
}

func newPipeline(s *Service) *pipeline {
	n := max(1, s.cfg.MQTT.Writers)
	if s.st.DB.Dialector.Name() != "postgres" {
		n = 1
	}
	p := &pipeline{stop: make(chan struct{})}
	s.startRouteRefresher(p.stop)
	for range n {
		l := &lane{s: s, queue: make(chan inbound, max(s.cfg.MQTT.BatchSize, s.cfg.MQTT.QueueSize/n)), writer: &writer{s: s},
			committed: make(chan []inbound, 2), stop: p.stop}
		l.done.Add(1)
		go l.run()
		l.acked.Add(1)
		go l.ack()
		p.lanes = append(p.lanes, l)
	}
	return p
}

// put queues m on the lane of device (waiting while it is full:
// back-pressure). It returns false once the pipeline stops: m is then
// never acknowledged, so the broker or the device delivers it again.
func (p *pipeline) put(device string, m inbound) bool {
	l := p.lanes[0]
	if len(p.lanes) > 1 {
		h := fnv.New32a()
		_, _ = h.Write([]byte(device))
		l = p.lanes[h.Sum32()%uint32(len(p.lanes))]
	}
	return l.put(m)
}

// close stops taking messages, commits and acknowledges what is queued,
// and returns when every lane is done.
func (p *pipeline) close() {
	close(p.stop)
	for _, l := range p.lanes {
		l.done.Wait()
		close(l.committed)
		l.acked.Wait()
	}
}

// put queues m on the lane.
func (p *lane) put(m inbound) bool {
	select {
	case <-p.stop:
		return false
	default:
	}
	select {
	case p.queue <- m:
		return true
	case <-p.stop:
		return false
	}
}

// ack lets the modules act on each committed batch (Applier) and then
// acknowledges its messages, batch after batch in commit order.
func (p *lane) ack() {
	defer p.acked.Done()
	var conns []*connState
	for batch := range p.committed {
		for i := range batch {
			if batch[i].store {
				p.apply(batch[i].r)
			}
		}
		// The PUBACKs of each connection, in the batch's order, in one
		// write per connection; then the rest of each message's ack.
		conns = conns[:0]
		for i := range batch {
			if c := batch[i].puback; c != nil {
				if len(c.acks) == 0 {
					conns = append(conns, c)
				}
				c.acks = append(c.acks, batch[i].pubackID)
			}
		}
		for _, c := range conns {
			c.writePubacks()
		}
		for i := range batch {
			batch[i].ack()
		}
	}
}

// run is the writer loop: a batch closes at mqtt.batch_size messages or
// mqtt.batch_wait after its first one.
func (p *lane) run() {
	defer p.done.Done()
	size, wait := p.s.cfg.MQTT.BatchSize, p.s.cfg.MQTT.BatchWait
	batch := make([]inbound, 0, size)
	// A flushed batch belongs to the ack goroutine: start a new one.
	next := func() []inbound { return make([]inbound, 0, size) }
	for {
		select {
		case <-p.stop:
			// drain what is already queued, then leave
			for {
				select {
				case m := <-p.queue:
					batch = append(batch, m)
					if len(batch) == size {
						p.flush(batch)
						batch = next()
					}
				default:
					p.flush(batch)
					return
				}
			}
		case m := <-p.queue:
			batch = append(batch, m)
			timer := time.NewTimer(wait)
		fill:
			for len(batch) < size {
				select {
				case m := <-p.queue:
					batch = append(batch, m)
				case <-timer.C:
					break fill
				}
			}
			timer.Stop()
			p.flush(batch)
			batch = next()
		}
	}
}

// flush commits a batch, retrying while the database refuses it (the queue
// then fills and the ingest stops taking messages), and hands it to the
// ack goroutine: each message is acknowledged only after the commit.
func (p *lane) flush(batch []inbound) {
	if len(batch) == 0 {
		return
	}
	rows := make([]Reading, 0, len(batch))
	for i := range batch {
		if batch[i].store {
			rows = append(rows, batch[i].r)
		}
	}
	for attempt := 0; len(rows) > 0; attempt++ {
		// The devices' counters wait while more messages are queued.
		err := p.writer.write(context.Background(), rows, len(p.queue) == 0)
		if err == nil {
			break
		}
		p.s.log.Warn("storing device readings failed; retrying", "readings", len(rows), "attempt", attempt+1, "err", err)
		select {
		case <-time.After(min(time.Duration(attempt+1)*100*time.Millisecond, 2*time.Second)):
		case <-p.stop:
			if attempt > 3 {
				return // unacknowledged: redelivered after restart
			}
		}
	}
	if len(rows) > 0 {
		if fn := p.s.commits.Load(); fn != nil {
			(*fn)(rows, time.Now())
		}
		p.s.stats.Stored.Add(int64(len(rows)))
		p.s.stats.Batches.Add(1)
	}
	p.committed <- batch
}

// apply hands a stored reading to its module when the stream acts on
// readings (Applier), retrying a failure a few times. The reading is stored
// whatever happens here; a failure that persists is logged with the device.
func (p *lane) apply(r Reading) {
	a, ok := p.s.handler(r.Module, r.Stream).(Applier)
	if !ok {
		return
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = a.Apply(context.Background(), r); err == nil {
			return
		}
		select {
		case <-time.After(time.Duration(attempt+1) * 50 * time.Millisecond):
		case <-p.stop:
			attempt = 3
		}
	}
	p.s.stats.ApplyFailed.Add(1)
	p.s.log.Error("a module could not act on a stored device reading", "device", r.DeviceID, "module", r.Module, "stream", r.Stream, "err", err)
}
