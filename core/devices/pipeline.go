package devices

import (
	"context"
	"sync"
	"time"
)

// pipeline is the batched writer both ingest paths feed: the Paho
// subscriber (external broker) and the embedded broker's hook. It commits
// readings in batches and runs each message's ack only after the batch
// holding it committed, in the order the messages were queued.
type pipeline struct {
	s      *Service
	queue  chan inbound
	writer *writer
	stop   chan struct{}
	done   sync.WaitGroup
}

// inbound is a message waiting for the writer. store is false for a
// message that was refused or rejected (already recorded): it is only
// acknowledged, after the messages queued before it.
type inbound struct {
	r     Reading
	store bool
	ack   func()
}

func newPipeline(s *Service) *pipeline {
	p := &pipeline{s: s, queue: make(chan inbound, s.cfg.MQTT.QueueSize), writer: &writer{s: s}, stop: make(chan struct{})}
	p.done.Add(1)
	go p.run()
	return p
}

// put queues m, waiting while the queue is full (back-pressure). It
// returns false once the pipeline stops: m is then never acknowledged, so
// the broker or the device delivers it again.
func (p *pipeline) put(m inbound) bool {
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

// close stops taking messages, commits and acknowledges what is queued,
// and returns when the writer is done.
func (p *pipeline) close() {
	close(p.stop)
	p.done.Wait()
}

// run is the writer loop: a batch closes at mqtt.batch_size messages or
// mqtt.batch_wait after its first one.
func (p *pipeline) run() {
	defer p.done.Done()
	size, wait := p.s.cfg.MQTT.BatchSize, p.s.cfg.MQTT.BatchWait
	batch := make([]inbound, 0, size)
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
						batch = batch[:0]
					}
				default:
					p.flush(batch)
					return
				}
			}
		case m := <-p.queue:
			batch = append(batch[:0], m)
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
			batch = batch[:0]
		}
	}
}

// flush commits a batch, retrying while the database refuses it (the queue
// then fills and the ingest stops taking messages), and acknowledges each
// message only after the commit.
func (p *pipeline) flush(batch []inbound) {
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
		err := p.writer.write(context.Background(), rows)
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
	for i := range batch {
		if batch[i].store {
			p.apply(batch[i].r)
		}
		batch[i].ack()
	}
}

// apply hands a stored reading to its module when the stream acts on
// readings (Applier), retrying a failure a few times. The reading is stored
// whatever happens here; a failure that persists is logged with the device.
func (p *pipeline) apply(r Reading) {
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
