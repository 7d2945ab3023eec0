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
)

// Broker is the embedded MQTT broker (mochi-mqtt) with the registry's
// authentication, ACL, rate limits and admission window.
type Broker struct {
	s      *Service
	server *mqtt.Server
	tcp    *listeners.TCP
	hook   *gatewayHook

	// internal credentials of the portal's own ingest client.
	user, pass, clientID string
}

// admissionWindow is how many messages the portal's ingest client may
// have unacknowledged at the broker. Beyond it a device's QoS 1 publish
// waits (its PUBACK is not sent), so a slow portal slows devices down
// instead of the broker dropping messages to a subscriber that fell
// behind. mochi sends an MQTT 3.1.1 client everything at once through a
// write buffer of mqtt.max_queued packets and drops what does not fit
// (after the device had its PUBACK), so the window stays below it.
func (b *Broker) admissionWindow() int {
	return max(1, min(b.s.cfg.MQTT.QueueSize, b.s.cfg.MQTT.MaxQueued*15/16))
}

func newBroker(s *Service, user, pass, clientID string) (*Broker, error) {
	m := s.cfg.MQTT
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = uint32(m.MaxMessageBytes)
	caps.ReceiveMaximum = uint16(m.MaxInflight)
	caps.MaximumClientWritesPending = int32(m.MaxQueued)
	caps.MaximumInflight = 65535
	caps.MaximumSessionExpiryInterval = 24 * 3600
	caps.RetainAvailable = 0
	opts := &mqtt.Options{Capabilities: caps, InlineClient: false,
		Logger: s.log.With("component", "mqtt-broker").WithGroup("mochi")}
	if !s.log.Enabled(context.Background(), slog.LevelDebug) {
		opts.Logger = slog.New(slog.NewTextHandler(discard{}, nil))
	}
	srv := mqtt.New(opts)
	b := &Broker{s: s, server: srv, user: user, pass: pass, clientID: clientID}
	b.hook = &gatewayHook{b: b, buckets: map[string]*bucket{}}
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

func (b *Broker) start() error { return b.server.Serve() }

func (b *Broker) close() error { return b.server.Close() }

// kickDevice disconnects every connection of device id.
func (b *Broker) kickDevice(id string) {
	for _, cl := range b.server.Clients.GetAll() {
		if string(cl.Properties.Username) == id && !cl.Closed() {
			_ = b.server.DisconnectClient(cl, packets.ErrNotAuthorized)
			cl.Stop(errors.New("device disabled or its secret rotated"))
		}
	}
}

// Connected counts connected device clients.
func (b *Broker) Connected() int {
	n := 0
	for _, cl := range b.server.Clients.GetAll() {
		if !cl.Closed() {
			n++
		}
	}
	return n
}

// gatewayHook authenticates devices against the registry and enforces
// their topics, rates and the admission window.
type gatewayHook struct {
	mqtt.HookBase
	b  *Broker
	mu sync.Mutex
	// orgs maps a connected device's username to its org slug.
	orgs    sync.Map
	buckets map[string]*bucket
	// inTransit counts admitted device publishes not yet handed to the
	// subscribers: with the portal's inflight count, what the window
	// bounds.
	inTransit atomic.Int64
	admitted  sync.Map // *mqtt.Client -> struct{}: its current publish was admitted
}

func (h *gatewayHook) ID() string { return "portal-devices" }

func (h *gatewayHook) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnPublish, mqtt.OnPacketProcessed, mqtt.OnDisconnect}, []byte{b})
}

func (h *gatewayHook) internal(cl *mqtt.Client) bool {
	return string(cl.Properties.Username) == h.b.user
}

func (h *gatewayHook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	user, pass := string(pk.Connect.Username), string(pk.Connect.Password)
	if user == h.b.user {
		return pass == h.b.pass && cl.ID == h.b.clientID
	}
	org, ok := h.b.s.auth.check(user, pass)
	if !ok {
		return false
	}
	h.orgs.Store(user, org)
	return true
}

func (h *gatewayHook) OnDisconnect(cl *mqtt.Client, err error, expire bool) {
	h.mu.Lock()
	delete(h.buckets, cl.ID)
	h.mu.Unlock()
}

// OnACLCheck lets a device publish only under t/{org}/d/{device}/ (not
// its command topics) and subscribe only to t/{org}/d/{device}/cmd/....
func (h *gatewayHook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	user := string(cl.Properties.Username)
	if h.internal(cl) {
		if write {
			return strings.HasPrefix(topic, "t/") && strings.Contains(topic, "/cmd/")
		}
		return true
	}
	v, ok := h.orgs.Load(user)
	if !ok {
		return false
	}
	prefix := "t/" + v.(string) + "/d/" + user + "/"
	if write {
		if strings.HasPrefix(topic, prefix) && !strings.HasPrefix(topic, prefix+"cmd/") {
			return true
		}
		h.b.s.refused(user, topic)
		return false
	}
	return strings.HasPrefix(topic, prefix+"cmd/")
}

// OnPublish applies the per-device rate limit and the admission window:
// both make the device wait, neither drops its message.
func (h *gatewayHook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if h.internal(cl) {
		return pk, nil
	}
	if rate := h.b.s.cfg.MQTT.RatePerDevice; rate > 0 {
		h.mu.Lock()
		bk := h.buckets[cl.ID]
		if bk == nil {
			bk = &bucket{tokens: float64(rate), last: time.Now()}
			h.buckets[cl.ID] = bk
		}
		wait := bk.take(float64(rate), time.Now())
		h.mu.Unlock()
		if wait > 0 {
			time.Sleep(wait)
		}
	}
	if pk.FixedHeader.Qos > 0 {
		h.admit(cl)
	}
	return pk, nil
}

// admit blocks while the portal's ingest client has a full window of
// unacknowledged messages at the broker.
func (h *gatewayHook) admit(cl *mqtt.Client) {
	window := int64(h.b.admissionWindow())
	for i := 0; ; i++ {
		n := h.inTransit.Load()
		portal, ok := h.b.server.Clients.Get(h.b.clientID)
		if !ok || cl.Closed() || int64(portal.State.Inflight.Len())+n < window {
			if h.inTransit.CompareAndSwap(n, n+1) {
				h.admitted.Store(cl, struct{}{})
				return
			}
			continue
		}
		time.Sleep(time.Millisecond * time.Duration(min(1+i, 20)))
	}
}

// OnPacketProcessed ends an admitted publish's transit: mochi has handed
// it to the subscribers (it is in the portal's inflight) or failed.
func (h *gatewayHook) OnPacketProcessed(cl *mqtt.Client, pk packets.Packet, err error) {
	// A client's packets are processed one at a time, so one mark per
	// client is enough; publishes refused before OnPublish carry none.
	if pk.FixedHeader.Type == packets.Publish {
		if _, ok := h.admitted.LoadAndDelete(cl); ok {
			h.inTransit.Add(-1)
		}
	}
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
