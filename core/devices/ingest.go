package devices

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/portalkit/portalkit/core/errs"
)

// Ingest is the portal's MQTT subscriber at an external broker
// (Mosquitto, EMQX): a Paho client with a persistent session that reads
// every device topic (a shared subscription, so several instances split
// the load), routes each message and acknowledges it only after the batch
// holding it has committed. The embedded broker does not use it: its hook
// hands messages to the writer directly (broker.go).
type Ingest struct {
	s      *Service
	client paho.Client
	filter string
	p      *pipeline
	// subscribed is closed when the first subscription is granted: Start
	// waits for it, so nothing published right after start is missed.
	subscribed chan struct{}
	subOnce    sync.Once
	// work carries messages from Paho's handler to the routing workers
	// (unbuffered: nothing waits there when the portal stops).
	work chan paho.Message
}

type ingestOptions struct {
	URL, Username, Password, ClientID, Filter string
}

func newIngest(s *Service, o ingestOptions) *Ingest {
	in := &Ingest{s: s, filter: o.Filter, subscribed: make(chan struct{}), work: make(chan paho.Message)}
	opts := paho.NewClientOptions().AddBroker(o.URL).SetClientID(o.ClientID).
		SetUsername(o.Username).SetPassword(o.Password).
		SetCleanSession(false).SetOrderMatters(false).SetAutoAckDisabled(true).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(500 * time.Millisecond).
		SetMaxReconnectInterval(5 * time.Second).SetKeepAlive(30 * time.Second).
		SetDefaultPublishHandler(in.onMessage)
	opts.SetOnConnectHandler(func(c paho.Client) {
		// A persistent session keeps the subscription, but a broker that
		// lost its state (restart without persistence) needs it again.
		t := c.Subscribe(in.filter, 1, in.onMessage)
		go func() {
			switch {
			case !t.WaitTimeout(10 * time.Second):
				s.log.Error("mqtt subscribe timed out", "filter", in.filter)
			case t.Error() != nil:
				s.log.Error("mqtt subscribe failed", "filter", in.filter, "err", t.Error())
			default:
				in.subOnce.Do(func() { close(in.subscribed) })
			}
		}()
		s.log.Info("mqtt ingest connected", "broker", o.URL, "client_id", o.ClientID, "filter", in.filter)
	})
	opts.SetConnectionLostHandler(func(_ paho.Client, err error) {
		s.log.Warn("mqtt ingest connection lost", "err", err)
	})
	in.client = paho.NewClient(opts)
	return in
}

func (in *Ingest) start(ctx context.Context) error {
	in.p = newPipeline(in.s)
	for range max(8, 4*runtime.GOMAXPROCS(0)) {
		go in.worker()
	}
	t := in.client.Connect()
	if !t.WaitTimeout(15 * time.Second) {
		return errors.New("mqtt: connecting to the broker timed out")
	}
	if err := t.Error(); err != nil {
		return fmt.Errorf("mqtt: connecting to the broker: %w", err)
	}
	select {
	case <-in.subscribed:
		return nil
	case <-time.After(15 * time.Second):
		return fmt.Errorf("mqtt: subscribing to %s timed out", in.filter)
	}
}

// Connected reports whether the client is connected to the broker.
func (in *Ingest) Connected() bool { return in.client.IsConnectionOpen() }

// stopIngest stops taking messages, lets the writer commit and
// acknowledge what it holds, then disconnects.
func (in *Ingest) stopIngest(ctx context.Context) {
	if in.p != nil {
		in.p.close()
	}
	in.client.Disconnect(250)
}

// onMessage hands a message to the routing workers. Paho calls it on a
// new goroutine per message; routing there grew each one's stack (JSON
// decoding) and copying stacks cost an eighth of the ingest's CPU, so a
// few long-lived workers route instead.
func (in *Ingest) onMessage(_ paho.Client, m paho.Message) {
	select {
	case in.work <- m:
	case <-in.p.stop:
		// stopping: not acknowledged, the broker delivers it again
	}
}

// worker routes messages until the pipeline stops.
func (in *Ingest) worker() {
	for {
		select {
		case m := <-in.work:
			in.handle(m)
		case <-in.p.stop:
			return
		}
	}
}

func (in *Ingest) handle(m paho.Message) {
	r, ok, stopped := in.s.routeHeld(in.p.stop, m.Topic(), m.Payload())
	if stopped {
		return // not acknowledged: the broker delivers it again to the session
	}
	if !ok {
		m.Ack()
		return
	}
	// Not queued once stopping: not acknowledged, the broker redelivers
	// it to the session.
	in.p.put(r.DeviceID, inbound{r: r, store: true, ack: m.Ack})
}

// routeRetryMax bounds the wait between two attempts to route a message
// while the database does not answer.
const routeRetryMax = 2 * time.Second

// routeHeld routes a message like route, and while the database cannot
// say where it goes, holds it and tries again (50 ms, doubling to
// routeRetryMax) until it can or stop closes (stopped: the caller does not
// acknowledge it, so the device or broker delivers it again). A message is
// acknowledged only once it is stored or knowingly refused, never because
// a lookup failed. Held messages hold their routing worker or device
// connection, so a database outage slows devices down instead of losing
// what they send.
func (s *Service) routeHeld(stop <-chan struct{}, topic string, payload []byte) (r Reading, ok, stopped bool) {
	wait := 50 * time.Millisecond
	for {
		r, ok, err := s.route(context.Background(), topic, payload)
		if err == nil {
			return r, ok, false
		}
		s.stats.Held.Add(1)
		if now, last := time.Now().UnixNano(), s.heldLogged.Load(); now-last > int64(10*time.Second) && s.heldLogged.CompareAndSwap(last, now) {
			s.log.Warn("device messages held: the database cannot route them; retrying", "topic", topic, "err", err)
		}
		select {
		case <-stop:
			return Reading{}, false, true
		case <-time.After(wait):
		}
		wait = min(2*wait, routeRetryMax)
	}
}

// route checks a message's topic against the registry and decodes it with
// the module's stream. ok is false when the message was refused or
// rejected (and recorded): it is acknowledged without storing. err is set
// when the database could not answer a lookup: the message is neither
// stored nor refused, and must not be acknowledged (routeHeld).
func (s *Service) route(ctx context.Context, topic string, payload []byte) (Reading, bool, error) {
	// t/{org}/d/{device}/{module}/{stream...}
	parts := strings.SplitN(topic, "/", 6)
	if len(parts) < 5 || parts[0] != "t" || parts[2] != "d" {
		s.stats.Refused.Add(1)
		s.noteReject(reasonTopic, "", topic, "not a device topic: want t/{org}/d/{device}/{module}/{stream}")
		return Reading{}, false, nil
	}
	org, id := parts[1], parts[3]
	d, err := s.routeDevice(id)
	if err != nil {
		return Reading{}, false, err
	}
	if d == nil || d.OrgSlug != org || d.Status != StatusActive {
		s.stats.Refused.Add(1)
		s.noteReject(reasonNoDevice, id, topic, "no active device of that organisation")
		return Reading{}, false, nil
	}
	if parts[4] == "cmd" {
		return Reading{}, false, nil // our own commands, if the broker echoes them
	}
	rej := func(reason string) (Reading, bool, error) {
		kind := reasonInvalid
		if strings.HasPrefix(reason, tooLargePrefix) {
			kind = reasonTooLarge
		}
		s.noteReject(kind, d.ID, topic, reason)
		if err := s.reject(ctx, d, topic, reason, payload); err != nil {
			s.log.Error("recording a rejected device message", "device", d.ID, "err", err)
		}
		return Reading{}, false, nil
	}
	if len(parts) < 6 || parts[5] == "" {
		return rej("topic names no stream: want t/{org}/d/{device}/{module}/{stream}")
	}
	module, stream := parts[4], parts[5]
	if module != d.Module {
		return rej(fmt.Sprintf("module %q is not this device's module (%s)", module, d.Module))
	}
	enabled, err := s.moduleEnabled(ctx, d.OrgID, module)
	if err != nil {
		return Reading{}, false, err
	}
	if !enabled {
		return rej(fmt.Sprintf("module %q is not enabled for the organisation", module))
	}
	h := s.handler(module, stream)
	if h == nil {
		return rej(fmt.Sprintf("unknown stream %q of module %s", stream, module))
	}
	if len(payload) > s.cfg.MQTT.MaxMessageBytes {
		return rej(fmt.Sprintf(tooLargePrefix+"%d bytes (at most %d)", len(payload), s.cfg.MQTT.MaxMessageBytes))
	}
	dec, err := h.Decode(payload)
	if err != nil {
		return rej(err.Error())
	}
	now := s.now().UTC()
	ts := dec.TS.UTC()
	if dec.TS.IsZero() {
		ts = now
	} else if skew := s.cfg.Devices.MaxClockSkew; ts.Before(now.Add(-skew)) || ts.After(now.Add(skew)) {
		return rej(fmt.Sprintf("clock far off: reading time %s is more than %s from the portal's", ts.Format(time.RFC3339), skew))
	}
	sum := sha256.Sum256(append([]byte(stream+"\n"), payload...))
	r := Reading{DeviceID: d.ID, Key: hex.EncodeToString(sum[:]), Module: module, Stream: stream,
		TS: ts, ReceivedAt: now, Value: dec.Value, Payload: string(payload)}
	r.OrgID = d.OrgID
	return r, true, nil
}

// moduleEnabled asks accounts whether module is enabled for org, cached
// like devices. An organisation that does not exist has nothing enabled;
// a database that cannot answer is an error, not cached (see routeDevice).
func (s *Service) moduleEnabled(ctx context.Context, orgID uint, module string) (bool, error) {
	key := fmt.Sprintf("%d/%s", orgID, module)
	now := time.Now()
	if v, ok := s.modCache.Load(key); ok {
		c := v.(cachedFlag)
		if now.Before(c.expires) {
			return c.ok, nil
		}
	}
	org, err := s.accounts.OrgByID(ctx, orgID)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return false, err
	}
	ok := err == nil && org.ModuleEnabled(module)
	s.modCache.Store(key, cachedFlag{ok: ok, expires: now.Add(routeCacheTTL)})
	return ok, nil
}

type cachedFlag struct {
	ok      bool
	expires time.Time
}

// refused records a device's publish to a topic that is not its own:
// counted, logged (rate-limited) and written to its reject log.
func (s *Service) refused(deviceID, topic string, reason rejectReason, text string) {
	s.stats.Refused.Add(1)
	s.turnedAway(deviceID, topic, reason, text)
}

// turnedAway counts and logs a message the broker would not take from a
// device and queues it for the device's reject log. What does not fit the
// queue is only counted (Stats.RefusedUnlogged).
func (s *Service) turnedAway(deviceID, topic string, reason rejectReason, text string) {
	s.noteReject(reason, deviceID, topic, text)
	l := s.refusals.Load()
	if l == nil {
		return
	}
	select {
	case l.queue <- refusal{device: deviceID, topic: topic, reason: text}:
	default:
		s.stats.RefusedUnlogged.Add(1)
	}
}

// refusal is a message the broker refused: its device, topic (empty
// when the broker could not read it) and the reject log's reason.
type refusal struct{ device, topic, reason string }

// Reasons the broker's refusals carry in the reject log.
const (
	topicNotAllowed = "topic not allowed: a device publishes only under its own prefix"
	systemTopic     = "system topic: devices may not publish to $SYS topics"
	tooLargePrefix  = "too large: "
)

// refusalLog writes refused publishes to their device's reject log from
// one goroutine. mochi asks the ACL on the device's connection, before the
// per-device rate limit, so a device flooding topics it may not use would
// otherwise cost a goroutine and a transaction per message; now it costs a
// counter, and beyond refusalQueue waiting entries only the counter
// (Stats.RefusedUnlogged).
type refusalLog struct {
	queue chan refusal
	stop  chan struct{}
	done  chan struct{}
}

const refusalQueue = 256

func (s *Service) startRefusalLog() {
	l := &refusalLog{queue: make(chan refusal, refusalQueue), stop: make(chan struct{}), done: make(chan struct{})}
	s.refusals.Store(l)
	go func() {
		defer close(l.done)
		for {
			select {
			case r := <-l.queue:
				s.logRefusal(r)
			case <-l.stop:
				return
			}
		}
	}()
}

// stopRefusalLog stops the writer; refusals still queued are only
// counted. It waits for a write in progress a few seconds at most.
func (s *Service) stopRefusalLog() {
	if l := s.refusals.Swap(nil); l != nil {
		close(l.stop)
		select {
		case <-l.done:
		case <-time.After(5 * time.Second):
			s.log.Warn("stopping: a refused publish is still being written to the reject log")
		}
	}
}

func (s *Service) logRefusal(r refusal) {
	d, err := s.lookup(r.device)
	if err != nil {
		return
	}
	if err := s.reject(context.Background(), d, r.topic, r.reason, nil); err != nil {
		s.log.Error("recording a refused device publish", "device", r.device, "err", err)
	}
}
