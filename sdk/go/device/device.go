// Package device is PortalKit's device SDK: what a car's telematics unit,
// a wearable or any other device needs to talk to a portal's MQTT gateway
// (docs/devices.md) — its credentials and topics, typed readings in the
// documented payload of its module, QoS 1 with the unacknowledged readings
// kept in a file store across a reboot, reconnection with back-off, and
// the portal's commands.
//
//	c, err := device.Connect(ctx, device.Config{
//		Broker: "tcp://portal.example.com:1883", Username: id, Secret: secret,
//		Topics: device.Topics{Publish: pub, Commands: cmds}, // as `portal devices add` prints them
//		StoreDir: "/var/lib/car/mqtt",
//	})
//	err = c.OnCommand(ctx, func(cmd device.Command) error { return sendDiagnostics(ctx, c) })
//	err = c.Send(ctx, device.CarDiagnostics{Time: time.Now(), BatteryV: 12.6, ...})
//
// It depends on Eclipse Paho only (github.com/eclipse/paho.mqtt.golang),
// not on the server's module.
package device

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// Topics are a device's topics as the portal prints them when it registers
// the device (`portal devices add`, POST /api/v1/devices): the prefix it
// publishes under (t/{org}/d/{device}/{module}) and the filter of its
// commands (t/{org}/d/{device}/cmd/#).
type Topics struct {
	Publish  string `json:"publish"`
	Commands string `json:"commands"`
}

// Config is how a device reaches its portal.
type Config struct {
	// Broker is the portal's MQTT address: tcp://host:1883, ssl://host:8883.
	Broker string
	// Username is the device's ID (dv…), its MQTT username and client ID;
	// Secret is the secret shown once when it was registered.
	Username, Secret string
	// Either Org (the organisation's slug) and ID (default: Username), or
	// Topics as printed on registration. Topics also name the device's
	// module, so Publish accepts a stream without it ("diagnostics").
	Org, ID string
	Topics  Topics
	// StoreDir keeps the readings not yet acknowledged by the portal (and
	// the commands being handled) in files, so they are delivered after a
	// reboot. Empty: in memory only.
	StoreDir string
	// MaxBackoff bounds the wait between connection attempts, which
	// doubles from one second (default 1 minute).
	MaxBackoff time.Duration
	// OnCommand, if set, handles commands from the first connection on,
	// including those the broker kept while the device was offline (they
	// arrive as soon as it connects, before Client.OnCommand could be
	// called). See Client.OnCommand.
	OnCommand func(Command) error
	// Options, if set, adjusts Paho's options last (TLS, keep-alive,
	// logging); the SDK's client ID, session and store are set before.
	Options func(*paho.ClientOptions)
}

// Command is a command the portal sent to the device, such as the
// automotive module's "refresh_diagnostics".
type Command struct {
	// Name is the last segment of the topic t/{org}/d/{device}/cmd/{name}.
	Name string
	// Payload is the command's JSON (for refresh_diagnostics {"vin": …}).
	Payload json.RawMessage
	// Topic is the whole topic.
	Topic string
}

// Client is a connected device. It is safe for concurrent use.
type Client struct {
	cl       paho.Client
	base     string // t/{org}/d/{device}
	module   string // from Topics.Publish, or ""
	commands string // t/{org}/d/{device}/cmd/#

	mu      sync.Mutex
	handler func(Command) error
}

// Reading is a typed payload that knows its stream ("module/stream").
type Reading interface {
	Stream() string
}

// ErrRefused is returned by Connect when the broker refuses the device's
// credentials (wrong secret, disabled or deleted device): retrying does not
// help.
var ErrRefused = errors.New("device: the broker refused the credentials")

// Connect connects the device, retrying with back-off (1 s doubling up to
// MaxBackoff) while the broker cannot be reached, until ctx ends. Refused
// credentials return ErrRefused at once. Once connected, a lost connection
// is re-established in the background with the same back-off, and the
// readings published meanwhile wait in the store. A clean session is never
// asked for: the broker keeps the device's command subscription and the
// commands sent while it was away; the store's unacknowledged readings are
// sent again on every connection.
func Connect(ctx context.Context, cfg Config) (*Client, error) {
	c, opts, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	c.cl = paho.NewClient(opts)
	wait := time.Second
	for {
		tk := c.cl.Connect()
		select {
		case <-tk.Done():
		case <-ctx.Done():
			c.cl.Disconnect(0)
			return nil, fmt.Errorf("device: connecting to %s: %w", cfg.Broker, ctx.Err())
		}
		err := tk.Error()
		if err == nil {
			return c, nil
		}
		if errors.Is(err, packets.ErrorRefusedBadUsernameOrPassword) || errors.Is(err, packets.ErrorRefusedNotAuthorised) {
			return nil, fmt.Errorf("%w (%s as %s): %v", ErrRefused, cfg.Broker, cfg.Username, err)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, fmt.Errorf("device: connecting to %s: %v (%w)", cfg.Broker, err, ctx.Err())
		}
		wait = min(2*wait, opts.MaxReconnectInterval)
	}
}

func newClient(cfg Config) (*Client, *paho.ClientOptions, error) {
	if cfg.Broker == "" {
		return nil, nil, errors.New("device: Broker is required (tcp://host:1883)")
	}
	if cfg.Username == "" {
		cfg.Username = cfg.ID
	}
	if cfg.Username == "" || cfg.Secret == "" {
		return nil, nil, errors.New("device: Username and Secret are required (as printed when the device was registered)")
	}
	c := &Client{handler: cfg.OnCommand}
	switch {
	case cfg.Topics.Publish != "":
		p := strings.TrimSuffix(cfg.Topics.Publish, "/")
		c.base, c.module = path.Dir(p), path.Base(p)
	case cfg.Org != "":
		id := cfg.ID
		if id == "" {
			id = cfg.Username
		}
		c.base = "t/" + cfg.Org + "/d/" + id
	default:
		return nil, nil, errors.New("device: give Org (and ID) or the Topics printed when the device was registered")
	}
	if strings.Count(c.base, "/") != 3 || !strings.HasPrefix(c.base, "t/") || strings.ContainsAny(c.base, "+#") {
		return nil, nil, fmt.Errorf("device: %q is not a device topic (t/{org}/d/{device}/{module})", cfg.Topics.Publish)
	}
	c.commands = c.base + "/cmd/#"
	if cfg.Topics.Commands != "" && cfg.Topics.Commands != c.commands {
		return nil, nil, fmt.Errorf("device: the command topic %q does not belong to %s", cfg.Topics.Commands, c.base)
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Minute
	}
	opts := paho.NewClientOptions().AddBroker(cfg.Broker).
		SetClientID(cfg.Username).SetUsername(cfg.Username).SetPassword(cfg.Secret).
		SetCleanSession(false).
		SetAutoReconnect(true).SetMaxReconnectInterval(cfg.MaxBackoff).
		SetConnectTimeout(15 * time.Second).SetWriteTimeout(30 * time.Second).
		SetResumeSubs(true).
		// A command is acknowledged once its handler returned nil (see
		// OnCommand).
		SetAutoAckDisabled(true).
		SetOnConnectHandler(c.subscribe).
		// Commands the broker kept for the session arrive before any
		// subscription of this client is registered: route them too.
		SetDefaultPublishHandler(c.deliver)
	if cfg.StoreDir != "" {
		opts.SetStore(paho.NewFileStore(cfg.StoreDir))
	}
	if cfg.Options != nil {
		cfg.Options(opts)
	}
	return c, opts, nil
}

// subscribe (re)subscribes to the command topic on every connection once a
// handler is set: the broker normally kept the subscription, and
// subscribing again is harmless.
func (c *Client) subscribe(cl paho.Client) {
	c.mu.Lock()
	h := c.handler
	c.mu.Unlock()
	if h == nil {
		return
	}
	cl.Subscribe(c.commands, 1, c.deliver)
}

func (c *Client) deliver(_ paho.Client, m paho.Message) {
	c.mu.Lock()
	h := c.handler
	c.mu.Unlock()
	cmd := Command{Name: path.Base(m.Topic()), Payload: json.RawMessage(m.Payload()), Topic: m.Topic()}
	if h == nil || h(cmd) != nil {
		// Not acknowledged: the broker delivers it again when the device
		// reconnects.
		return
	}
	m.Ack()
}

// OnCommand handles the portal's commands (t/{org}/d/{device}/cmd/{name},
// QoS 1) with h, one at a time in the order they arrive. The portal's
// gateway has no reply topic for commands: a command is acknowledged by
// its MQTT PUBACK, which the SDK sends only after h returned nil; when h
// fails the command stays unacknowledged and the broker delivers it again
// when the device next connects. A command answered with a reading (the
// automotive refresh_diagnostics) is answered by publishing it. Commands
// kept by the broker while the device was offline arrive as it connects:
// set Config.OnCommand to handle them then (without a handler they stay
// unacknowledged and come again on the next connection). Delivery is at
// least once: a PUBACK still queued when the connection ends is lost and
// the command comes again, so handlers must be idempotent.
func (c *Client) OnCommand(ctx context.Context, h func(Command) error) error {
	c.mu.Lock()
	c.handler = h
	c.mu.Unlock()
	return wait(ctx, c.cl.Subscribe(c.commands, 1, c.deliver))
}

// Topic is the topic a stream is published on: "automotive/diagnostics"
// → t/{org}/d/{device}/automotive/diagnostics; a stream without a module
// ("diagnostics") takes the module of Config.Topics.
func (c *Client) Topic(stream string) (string, error) {
	stream = strings.Trim(stream, "/")
	if stream == "" || strings.ContainsAny(stream, "+#") {
		return "", fmt.Errorf("device: %q is not a stream name", stream)
	}
	if !strings.Contains(stream, "/") {
		if c.module == "" {
			return "", fmt.Errorf("device: stream %q needs its module (module/stream) when Config.Topics is not given", stream)
		}
		stream = c.module + "/" + stream
	}
	return c.base + "/" + stream, nil
}

// Publish sends v as a reading of stream (QoS 1) and waits for its
// acknowledgement — with the portal's embedded broker, the reading is in
// the database then. v is encoded as JSON; a []byte or json.RawMessage is
// sent as it is. When ctx ends first the reading stays in the store and
// is still delivered (after a reboot too, with StoreDir).
func (c *Client) Publish(ctx context.Context, stream string, v any) error {
	p, err := c.PublishAsync(stream, v)
	if err != nil {
		return err
	}
	return p.Wait(ctx)
}

// Send publishes a typed reading on its own stream (Publish).
func (c *Client) Send(ctx context.Context, r Reading) error {
	return c.Publish(ctx, r.Stream(), r)
}

// Pending is a reading on its way: Done is closed once the portal
// acknowledged it (or it failed), then Err says which.
type Pending struct{ tk paho.Token }

// Done is closed when the reading was acknowledged or failed.
func (p *Pending) Done() <-chan struct{} { return p.tk.Done() }

// Err is nil once the reading was acknowledged.
func (p *Pending) Err() error { return p.tk.Error() }

// Wait waits until the reading is acknowledged or ctx ends.
func (p *Pending) Wait(ctx context.Context) error { return wait(ctx, p.tk) }

// PublishAsync is Publish without waiting: many readings in flight at
// once, each acknowledged in its Pending. While the connection is down the
// reading is stored and sent on reconnection.
func (c *Client) PublishAsync(stream string, v any) (*Pending, error) {
	topic, err := c.Topic(stream)
	if err != nil {
		return nil, err
	}
	var body []byte
	switch b := v.(type) {
	case []byte:
		body = b
	case json.RawMessage:
		body = b
	default:
		if body, err = json.Marshal(v); err != nil {
			return nil, fmt.Errorf("device: encoding a %s reading: %w", stream, err)
		}
	}
	return &Pending{c.cl.Publish(topic, 1, false, body)}, nil
}

// Connected reports whether the connection is up now.
func (c *Client) Connected() bool { return c.cl.IsConnectionOpen() }

// Close disconnects, waiting up to a quarter of a second for what is in
// flight. Readings not yet acknowledged stay in the store for the next
// Connect with the same StoreDir.
func (c *Client) Close() { c.cl.Disconnect(250) }

func wait(ctx context.Context, tk paho.Token) error {
	select {
	case <-tk.Done():
		return tk.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}
