// Package devices is PortalKit's device gateway: device identities and
// their MQTT credentials, the embedded broker (mochi-mqtt) whose hook
// authenticates devices against the registry, enforces their topics and
// ingests their messages, the Paho ingest client that reads device
// messages from Mosquitto/EMQX instead, the topic router that hands them
// to the module streams, the batched writer, commands to devices, and the
// retention roll-up.
//
// devices may import core/accounts, core/config, core/errs, core/events,
// core/i18n, core/store and core/web; never core/app, core/module or a
// vertical.
package devices

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/store"
)

// Device statuses.
const (
	StatusActive   = "active"
	StatusDisabled = "disabled"
)

// Events published by the registry, in the change's transaction. Each
// names the device's owner as its subject and carries a summary, so it
// appears on the owner's activity timeline.
const (
	EventDeviceCreated  = "devices.created"
	EventDeviceDisabled = "devices.disabled"
	EventDeviceEnabled  = "devices.enabled"
	EventDeviceRotated  = "devices.secret_rotated"
	EventDeviceDeleted  = "devices.deleted"
)

// summaries are the timeline sentences of the registry's events (English,
// the translation keys; %s is the device's name).
var summaries = map[string]string{
	EventDeviceCreated:  "Device “%s” registered",
	EventDeviceDisabled: "Device “%s” disabled",
	EventDeviceEnabled:  "Device “%s” enabled again",
	EventDeviceRotated:  "New secret for device “%s”",
	EventDeviceDeleted:  "Device “%s” deleted",
}

// Device is a registered device. Its ID is also its MQTT username and the
// {device} segment of its topics.
type Device struct {
	ID string `gorm:"primaryKey;size:32" json:"id"`
	store.OrgOwned
	// OrgSlug is the {org} segment of the device's topics.
	OrgSlug string `gorm:"size:40;not null" json:"org"`
	// OwnerID is the customer who owns the device.
	OwnerID uint   `gorm:"not null;index" json:"owner_id"`
	Module  string `gorm:"size:40;not null" json:"module"`
	Name    string `gorm:"size:120;not null" json:"name"`
	Kind    string `gorm:"size:40" json:"kind,omitempty"`
	Status  string `gorm:"size:20;not null;default:active" json:"status"`
	// SecretHash is the secret in Mosquitto's $7$ (PBKDF2-SHA512) format,
	// so the same value serves the embedded broker and the exported
	// Mosquitto password file.
	SecretHash string     `gorm:"size:200;not null" json:"-"`
	LastSeenAt *time.Time `json:"last_seen_at,omitempty"`
	Accepted   int64      `gorm:"not null;default:0" json:"accepted"`
	Rejected   int64      `gorm:"not null;default:0" json:"rejected"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// TableName places devices in the devices namespace.
func (Device) TableName() string { return "devices" }

// Topics are the device's own topics: it publishes under Publish and
// receives commands on Commands.
type Topics struct {
	Publish  string `json:"publish" doc:"Prefix the device publishes under: <prefix>/<stream>"`
	Commands string `json:"commands" doc:"Filter of the device's command topics"`
}

// Topics returns d's topics.
func (d *Device) Topics() Topics {
	base := "t/" + d.OrgSlug + "/d/" + d.ID
	return Topics{Publish: base + "/" + d.Module, Commands: base + "/cmd/#"}
}

// Reject is one entry of a device's bounded reject log.
type Reject struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	DeviceID string    `gorm:"size:32;not null;index" json:"device_id"`
	Topic    string    `gorm:"size:300" json:"topic"`
	Reason   string    `gorm:"size:300;not null" json:"reason"`
	Payload  string    `gorm:"size:600" json:"payload"`
	At       time.Time `gorm:"not null" json:"at"`
}

// TableName places rejects in the devices namespace.
func (Reject) TableName() string { return "device_rejects" }

// Reading is one accepted device message. Key absorbs QoS 1
// redeliveries: a message delivered twice is stored once.
type Reading struct {
	ID int64 `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	DeviceID   string    `gorm:"size:32;not null;uniqueIndex:idx_device_readings_key,priority:1;index:idx_device_readings_time,priority:1" json:"device_id"`
	Key        string    `gorm:"size:64;not null;uniqueIndex:idx_device_readings_key,priority:2" json:"-"`
	Module     string    `gorm:"size:40;not null" json:"module"`
	Stream     string    `gorm:"size:80;not null" json:"stream"`
	TS         time.Time `gorm:"not null;index:idx_device_readings_time,priority:2" json:"ts"`
	ReceivedAt time.Time `gorm:"not null" json:"received_at"`
	Value      *float64  `json:"value,omitempty"`
	Payload    string    `gorm:"type:text;not null" json:"payload"`
}

// TableName places readings in the devices namespace.
func (Reading) TableName() string { return "device_readings" }

// Rollup is the hourly aggregate of a device stream's readings, kept after
// the raw readings pass devices.retention.
type Rollup struct {
	store.OrgOwned
	DeviceID string    `gorm:"primaryKey;size:32" json:"device_id"`
	Stream   string    `gorm:"primaryKey;size:80" json:"stream"`
	Hour     time.Time `gorm:"primaryKey" json:"hour"`
	Module   string    `gorm:"size:40;not null" json:"module"`
	Count    int64     `gorm:"not null" json:"count"`
	Sum      float64   `json:"sum"`
	Min      *float64  `json:"min,omitempty"`
	Max      *float64  `json:"max,omitempty"`
}

// TableName places roll-ups in the devices namespace.
func (Rollup) TableName() string { return "device_rollups" }

// Command is a command sent to a device.
type Command struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	DeviceID string    `gorm:"size:32;not null;index" json:"device_id"`
	Name     string    `gorm:"size:80;not null" json:"name"`
	Payload  string    `gorm:"type:text" json:"payload"`
	SentBy   uint      `json:"sent_by,omitempty"`
	At       time.Time `gorm:"not null" json:"at"`
}

// TableName places commands in the devices namespace.
func (Command) TableName() string { return "device_commands" }

// Migrations are the device tables.
func Migrations() store.MigrationSet {
	return store.MigrationSet{Owner: "devices", Migrations: []store.Migration{
		{ID: "0001_devices", Up: store.CreateTables(&Device{}, &Reject{}, &Reading{}, &Rollup{}, &Command{})},
		// Readings are always read by device (whose organisation is checked
		// first) or, by retention, by time across organisations: the
		// org_id index was never used and cost every insert a fourth
		// index entry.
		{ID: "0002_readings_without_org_index", Up: func(tx *gorm.DB) error {
			return tx.Exec("DROP INDEX IF EXISTS idx_device_readings_org_id").Error
		}},
	}}
}

// Options builds a Service.
type Options struct {
	Config   config.Config
	Store    *store.Store
	Accounts *accounts.Service
	Events   *events.Bus
	Log      *slog.Logger
	// Now is the clock (tests); time.Now when nil.
	Now func() time.Time
}

// Service is the device registry and gateway.
type Service struct {
	cfg      config.Config
	st       *store.Store
	accounts *accounts.Service
	bus      *events.Bus
	log      *slog.Logger
	now      func() time.Time

	mu      sync.RWMutex
	streams map[string]map[string]Handler // module -> stream -> handler

	auth     *authCache
	devCache sync.Map // device ID -> cachedDevice (router)
	modCache sync.Map // "org/module" -> cachedFlag (router)
	// heldLogged is when routeHeld last logged (Unix ns): one warning per
	// 10 s of an outage, not one per held message.
	heldLogged atomic.Int64
	// routeFlights makes concurrent misses of one device share a lookup;
	// routeGen counts changes to devices, so a lookup that overlapped one
	// does not cache what it read.
	routeFlights singleflight.Group
	routeGen     atomic.Uint64
	// refresher reads expired route cache entries in the background
	// while a pipeline runs (routecache.go).
	refresher atomic.Pointer[routeRefresher]
	// broker is the embedded broker while it runs (read by /readyz and
	// /metrics from other goroutines).
	broker atomic.Pointer[Broker]
	ingest *Ingest
	// exportKick wakes the Mosquitto exporter (set while it runs);
	// exportStop stops it (autoexport.go).
	exportKick atomic.Pointer[chan struct{}]
	exportStop func()
	// exportReload is set while the broker has yet to reload changed
	// files (only the exporter touches it).
	exportReload bool

	stats Stats
	// rejects counts turned-away messages per reason (/metrics).
	rejects rejectCounts
	// refusals feeds the one goroutine that writes refused publishes to
	// the reject log (set while the embedded broker runs).
	refusals atomic.Pointer[refusalLog]
	// commits, when set, is told of every committed batch (benchmarks).
	commits atomic.Pointer[func(rows []Reading, at time.Time)]
}

// ObserveCommits makes fn see every batch of readings right after it
// commits (benchmarks and diagnostics; fn must be quick).
func (s *Service) ObserveCommits(fn func(rows []Reading, at time.Time)) { s.commits.Store(&fn) }

// Stats counts what the gateway did since start.
type Stats struct {
	Stored   atomic.Int64 // readings committed (including redeliveries absorbed)
	Rejected atomic.Int64 // invalid messages, logged and acknowledged
	Refused  atomic.Int64 // topics no registered active device may use
	// RefusedUnlogged counts refusals counted but not written to the
	// reject log because the log's queue was full (a device flooding
	// topics it may not use).
	RefusedUnlogged atomic.Int64
	Batches         atomic.Int64
	// ApplyFailed counts stored readings a module could not act on.
	ApplyFailed atomic.Int64
	// Held counts attempts to route a message that the database could not
	// answer: the message waited and was routed again (routeHeld).
	Held atomic.Int64
}

// New builds the service.
func New(o Options) *Service {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	s := &Service{cfg: o.Config, st: o.Store, accounts: o.Accounts, bus: o.Events, log: o.Log, now: now,
		streams: map[string]map[string]Handler{}}
	s.auth = newAuthCache(s)
	return s
}

// Stats returns the gateway's counters.
func (s *Service) Stats() *Stats { return &s.stats }

// Topic registers a module's stream handler: messages on
// t/{org}/d/{device}/{module}/{stream} from the module's devices go to h.
func (s *Service) Topic(module, stream string, h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.streams[module] == nil {
		s.streams[module] = map[string]Handler{}
	}
	s.streams[module][stream] = h
}

func (s *Service) handler(module, stream string) Handler {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.streams[module][stream]
}

// Streams lists the streams declared by module.
func (s *Service) Streams(module string) map[string]Handler {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]Handler{}
	for k, v := range s.streams[module] {
		out[k] = v
	}
	return out
}
