package devices

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/portalkit/portalkit/core/config"
)

// Broker is the embedded MQTT broker (mochi-mqtt) with the registry's
// authentication, ACL and rate limits. Its hook is also the portal's
// ingest: a device's publish is routed and handed to the batched writer
// on the device's own connection, and its PUBACK is written only after
// the batch holding it committed. No subscriber client sits in between, so
// nothing can overflow a subscriber's queue, and a device's PUBACK means
// its reading is in the database.
type Broker struct {
	s      *Service
	server *mqtt.Server
	tcp    *listeners.TCP
	hook   *gatewayHook
	p      *pipeline
	// serving is true from start until close (for /readyz).
	serving atomic.Bool
	// warnedSize is set once the size warning was logged.
	warnedSize atomic.Bool
}

// connBufferBytes is the read and write buffer of each device connection
// (mochi's default: 2 KiB each).
const connBufferBytes = 1024

// BrokerOptions are the mochi options the embedded broker runs with:
// its limits per connection and per message, its buffers and the inline
// client, with a logger that discards. bench/ingest starts its bare
// baseline broker with them too, so the two compare like for like.
func BrokerOptions(m config.MQTT) *mqtt.Options {
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = uint32(m.MaxMessageBytes)
	caps.ReceiveMaximum = uint16(m.MaxInflight)
	// Devices only receive commands: a short write queue each (mochi
	// allocates it per connection).
	caps.MaximumClientWritesPending = int32(m.MaxQueued)
	caps.MaximumInflight = 65535
	caps.MaximumSessionExpiryInterval = 24 * 3600
	caps.RetainAvailable = 0
	// The inline client publishes the portal's commands; it bypasses the
	// ACL hook, and the hook lets its publishes through untouched.
	return &mqtt.Options{Capabilities: caps, InlineClient: true,
		// Per connection: device packets are small, and mochi reads a
		// larger one past the buffer.
		ClientNetReadBufferSize: connBufferBytes, ClientNetWriteBufferSize: connBufferBytes,
		Logger: slog.New(slog.NewTextHandler(discard{}, nil))}
}

func newBroker(s *Service) (*Broker, error) {
	m := s.cfg.MQTT
	opts := BrokerOptions(m)
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		opts.Logger = s.log.With("component", "mqtt-broker").WithGroup("mochi")
	}
	srv := mqtt.New(opts)
	b := &Broker{s: s, server: srv}
	b.hook = &gatewayHook{b: b}
	if err := srv.AddHook(b.hook, nil); err != nil {
		return nil, err
	}
	lc := listeners.Config{ID: "devices", Address: m.Listen}
	if m.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(m.TLSCert, m.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("mqtt.tls_cert: %w", err)
		}
		lc.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	b.tcp = listeners.NewTCP(lc)
	if err := srv.AddListener(b.tcp); err != nil {
		return nil, fmt.Errorf("mqtt.listen %s: %w", m.Listen, err)
	}
	return b, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Addr is the address the broker listens on (with the real port when
// mqtt.listen asked for port 0).
func (b *Broker) Addr() string { return b.tcp.Address() }

func (b *Broker) start() error {
	b.p = newPipeline(b.s)
	if err := b.server.Serve(); err != nil {
		return err
	}
	b.serving.Store(true)
	return nil
}

// close stops taking device messages (a device publishing now gets no
// PUBACK and delivers again on reconnect), commits and acknowledges what
// the writer holds, then closes the broker.
func (b *Broker) close() error {
	b.serving.Store(false)
	if b.p != nil {
		b.p.close()
	}
	return b.server.Close()
}

// publish sends a command to the devices subscribed to topic (QoS 1).
func (b *Broker) publish(topic string, payload []byte) error {
	return b.server.Publish(topic, payload, false, 1)
}

// kickDevice disconnects every connection of device id.
func (b *Broker) kickDevice(id string) {
	for _, cl := range b.server.Clients.GetAll() {
		if !cl.Net.Inline && string(cl.Properties.Username) == id && !cl.Closed() {
			_ = b.server.DisconnectClient(cl, packets.ErrNotAuthorized)
			cl.Stop(errors.New("device disabled or its secret rotated"))
		}
	}
}

// Connected counts connected device clients.
func (b *Broker) Connected() int {
	n := 0
	for _, cl := range b.server.Clients.GetAll() {
		if !cl.Net.Inline && !cl.Closed() {
			n++
		}
	}
	return n
}

// gatewayHook authenticates devices against the registry, enforces their
// topics and rates, and ingests their messages.
type gatewayHook struct {
	mqtt.HookBase
	b *Broker
	// orgs maps a connected device's username to its org slug.
	orgs sync.Map
	// conns holds each connection's *connState.
	conns sync.Map
}

// connState is what the hook keeps per device connection.
type connState struct {
	cl *mqtt.Client
	// pending holds a token per message handed to the writer and not yet
	// acknowledged: at most mqtt.max_inflight, then the device's next
	// publish waits (its connection is not read meanwhile).
	pending chan struct{}
	mu      sync.Mutex
	bucket  *bucket
	// acks are the packet IDs of committed QoS 1 messages whose PUBACKs
	// the ack goroutine of the connection's writer lane is about to
	// write, and out the buffer it encodes them into (only that
	// goroutine touches either).
	acks []uint16
	out  bytes.Buffer
}

// pubackWriteTimeout bounds the write of a connection's PUBACKs: a
// device that stopped reading is disconnected instead of holding up its
// writer lane's acknowledgements.
const pubackWriteTimeout = 5 * time.Second

// writePubacks writes the PUBACKs in acks with one write, as mochi writes
// a packet: whole packets, under the client's lock. A PUBACK lost with a
// closed connection is harmless: the device delivers the message again
// and the unique key absorbs the copy.
func (st *connState) writePubacks() {
	cl := st.cl
	st.out.Reset()
	for _, id := range st.acks {
		pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: id,
			ProtocolVersion: cl.Properties.ProtocolVersion}
		_ = pk.PubackEncode(&st.out) // a PUBACK with a packet ID always encodes
	}
	st.acks = st.acks[:0]
	if cl.Closed() || cl.Net.Conn == nil {
		return
	}
	cl.Lock()
	_ = cl.Net.Conn.SetWriteDeadline(time.Now().Add(pubackWriteTimeout))
	_, err := cl.Net.Conn.Write(st.out.Bytes())
	_ = cl.Net.Conn.SetWriteDeadline(time.Time{})
	cl.Unlock()
	if err != nil {
		cl.Stop(fmt.Errorf("writing PUBACKs: %w", err))
	}
}

func (h *gatewayHook) ID() string { return "portal-devices" }

func (h *gatewayHook) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnPacketRead, mqtt.OnPublish, mqtt.OnPublishDropped, mqtt.OnDisconnect}, []byte{b})
}

// OnConnectAuthenticate checks a device's credentials and binds its
// client ID to the device: whatever client ID it sent, its session is its
// username's, as Mosquitto's use_username_as_clientid does. mochi calls it
// before it looks up the session to take over, so a device signed in with
// another device's ID as client ID cannot disconnect that device; a
// device's own second connection replaces its first. (Rewriting rather
// than refusing keeps devices whose libraries pick a random client ID
// working, and behaves the same on both brokers.)
func (h *gatewayHook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	user, pass := string(pk.Connect.Username), string(pk.Connect.Password)
	org, ok := h.b.s.auth.check(user, pass)
	if !ok {
		return false
	}
	if cl.Properties.Props.AssignedClientID != "" {
		// MQTT 5 with an empty client ID: tell the device the one it got.
		cl.Properties.Props.AssignedClientID = user
	}
	cl.ID = user
	h.orgs.Store(user, org)
	h.b.noteConnections()
	return true
}

// OnPublishDropped reports a command mochi dropped because the device's
// write queue (mqtt.max_queued) was full: the device stopped reading.
func (h *gatewayHook) OnPublishDropped(cl *mqtt.Client, pk packets.Packet) {
	h.b.s.log.Warn("a command to a device was dropped: its connection's write queue is full",
		"device", string(cl.Properties.Username), "topic", pk.TopicName, "max_queued", h.b.s.cfg.MQTT.MaxQueued)
}

// OnDisconnect forgets the connection. A device whose message was over
// mqtt.max_message_bytes was cut off by mochi before the message was read
// (it does not read a packet it will not take): that is recorded here.
func (h *gatewayHook) OnDisconnect(cl *mqtt.Client, err error, expire bool) {
	h.conns.Delete(cl)
	if err != nil && errors.Is(err, packets.ErrPacketTooLarge) && !cl.Net.Inline {
		h.b.s.turnedAway(string(cl.Properties.Username), "", reasonTooLarge,
			fmt.Sprintf(tooLargePrefix+"a message over mqtt.max_message_bytes (%d bytes); the broker closed the connection", h.b.s.cfg.MQTT.MaxMessageBytes))
	}
}

// OnPacketRead catches a device's publish to a $SYS topic, which mochi
// would drop without a word: no PUBACK, no disconnect, so a QoS 1 device
// waited for ever. It is refused like a topic the ACL refuses: recorded,
// and for QoS 1 and 2 the connection is closed (MQTT 3.1.1) or the
// publish answered "not authorized" (MQTT 5); QoS 0 is dropped.
func (h *gatewayHook) OnPacketRead(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if pk.FixedHeader.Type != packets.Publish || cl.Net.Inline || !isSysTopic(pk.TopicName) {
		return pk, nil
	}
	h.b.s.refused(string(cl.Properties.Username), pk.TopicName, reasonSystemTopic, systemTopic)
	if pk.FixedHeader.Qos == 0 {
		return pk, nil // mochi drops it
	}
	if cl.Properties.ProtocolVersion < 5 {
		return pk, packets.ErrRejectPacket // mochi closes the connection
	}
	ack := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: pk.PacketID, ReasonCode: packets.ErrNotAuthorized.Code}
	if pk.FixedHeader.Qos == 2 {
		ack.FixedHeader.Type = packets.Pubrec
	}
	_ = cl.WritePacket(ack)
	return pk, nil
}

// isSysTopic is mochi's test for a topic no client may publish to.
func isSysTopic(topic string) bool {
	return len(topic) >= len(mqtt.SysPrefix) && strings.EqualFold(topic[:len(mqtt.SysPrefix)], mqtt.SysPrefix)
}

// OnACLCheck lets a device publish only under t/{org}/d/{device}/ (not
// its command topics) and subscribe only to t/{org}/d/{device}/cmd/....
// (mochi does not ask it about the inline client's commands.)
func (h *gatewayHook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	user := string(cl.Properties.Username)
	v, ok := h.orgs.Load(user)
	if !ok {
		return false
	}
	prefix := "t/" + v.(string) + "/d/" + user + "/"
	if write {
		if strings.HasPrefix(topic, prefix) && !strings.HasPrefix(topic, prefix+"cmd/") {
			return true
		}
		h.b.s.refused(user, topic, reasonTopic, topicNotAllowed)
		return false
	}
	return strings.HasPrefix(topic, prefix+"cmd/")
}

func (h *gatewayHook) state(cl *mqtt.Client) *connState {
	if v, ok := h.conns.Load(cl); ok {
		return v.(*connState)
	}
	st := &connState{cl: cl, pending: make(chan struct{}, max(1, h.b.s.cfg.MQTT.MaxInflight))}
	v, _ := h.conns.LoadOrStore(cl, st)
	return v.(*connState)
}

// OnPublish ingests a device's message. mochi calls it on the device's
// read goroutine before it would acknowledge and fan the message out. The
// message is routed, queued for the writer (waiting while the queue is
// full) and answered with ErrRejectPacket, so mochi neither acknowledges
// nor publishes it; the writer sends the PUBACK after the batch commits.
// A refused or rejected message (recorded) is acknowledged too, in order.
// QoS 2 waits here for the commit and lets mochi run its handshake. While
// stopping, nothing is acknowledged: the device delivers again later.
// (With the portal's log at debug level, mochi logs every message as
// "publish packet rejected": that is this hand-over, not a refusal.)
func (h *gatewayHook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline {
		return pk, nil // the portal's own command
	}
	st := h.state(cl)
	dev := string(cl.Properties.Username)
	if rate := h.b.s.cfg.MQTT.RatePerDevice; rate > 0 {
		st.mu.Lock()
		if st.bucket == nil {
			st.bucket = &bucket{tokens: float64(rate), last: time.Now()}
		}
		wait := st.bucket.take(float64(rate), time.Now())
		st.mu.Unlock()
		if wait > 0 {
			time.Sleep(wait)
		}
	}
	p := h.b.p
	select {
	case st.pending <- struct{}{}:
	case <-p.stop:
		return pk, packets.ErrRejectPacket
	}
	release := func() { <-st.pending }
	r, ok, stopped := h.b.s.routeHeld(p.stop, pk.TopicName, pk.Payload)
	if stopped {
		release()
		return pk, packets.ErrRejectPacket // not acknowledged: the device sends it again
	}
	m := inbound{r: r, store: ok}
	switch pk.FixedHeader.Qos {
	case 0:
		m.ack = release
	case 1:
		// The writer's ack goroutine writes the PUBACK after the commit,
		// with the connection's others of the batch, then releases.
		m.puback, m.pubackID, m.ack = st, pk.PacketID, release
	default:
		done := make(chan struct{})
		m.ack = func() { release(); close(done) }
		if !p.put(dev, m) {
			release()
			return pk, packets.ErrRejectPacket
		}
		select {
		case <-done:
			return pk, packets.CodeSuccessIgnore
		case <-p.stop:
			return pk, packets.ErrRejectPacket
		}
	}
	if !p.put(dev, m) {
		release()
	}
	return pk, packets.ErrRejectPacket
}

// bucket is a token bucket of one connection.
type bucket struct {
	tokens float64
	last   time.Time
}

// take spends a token and returns how long to wait for it.
func (b *bucket) take(rate float64, now time.Time) time.Duration {
	b.tokens = min(rate, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / rate * float64(time.Second))
}
