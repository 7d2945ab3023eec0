package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// MQTT configures the device gateway (core/devices): the embedded broker
// and the ingest client that reads device messages from a broker.
type MQTT struct {
	// Listen is where the embedded broker accepts devices (host:port). It
	// is not started when URL is set.
	Listen string `yaml:"listen"`
	// URL is an external broker (tcp://host:1883, ssl://host:8883).
	// Setting it switches the embedded broker off: the portal connects to
	// Mosquitto or EMQX, which do device auth and ACL from `portal devices
	// export`.
	URL string `yaml:"url"`
	// Username and Password are the portal's own credentials at an
	// external broker.
	Username string `yaml:"username"`
	Password string `yaml:"password" secret:"true"`
	// ClientID is this instance's stable MQTT client ID (its persistent
	// session); it defaults to Username, or "portal" with the embedded
	// broker. Give each instance its own.
	ClientID string `yaml:"client_id"`
	// Group, when set, is the shared-subscription group several instances
	// split the load in ($share/<group>/t/+/d/+/#). Empty (the default)
	// subscribes to t/+/d/+/# itself: Mosquitto 2.0 persists that
	// subscription with the portal's session but forgets shared ones
	// across its own restart, and what devices publish before the portal
	// subscribes again is acknowledged to them and dropped (docs/devices.md).
	Group string `yaml:"group"`
	// ExportDir, with URL, is the directory of Mosquitto's password file
	// and ACL (passwd, acl), which the portal then keeps in step with the
	// registry: at start, after every change it makes, and every
	// ExportInterval (changes by the CLI or other instances).
	ExportDir string `yaml:"export_dir"`
	// ExportAccounts is a file of the portal instances' own broker
	// accounts, "user:hash" lines as mosquitto_passwd writes them; they
	// head the password file, with read access to every device topic.
	ExportAccounts string `yaml:"export_accounts"`
	// ExportPIDFile is Mosquitto's pid_file: after the files change the
	// portal sends that process SIGHUP, so it reloads them (and drops
	// devices whose credentials are gone).
	ExportPIDFile  string        `yaml:"export_pid_file"`
	ExportInterval time.Duration `yaml:"export_interval"`
	// TLSCert and TLSKey, both set, make the embedded broker speak TLS.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// MaxMessageBytes is the largest MQTT packet the embedded broker
	// accepts; the router rejects larger payloads too.
	MaxMessageBytes int `yaml:"max_message_bytes"`
	// MaxInflight bounds a device's messages awaiting their PUBACK at the
	// embedded broker (then its next publish waits); MaxQueued bounds the
	// pending writes (commands) to each device connection: mochi allocates
	// that queue per connection, and a device only receives commands.
	MaxInflight int `yaml:"max_inflight"`
	MaxQueued   int `yaml:"max_queued"`
	// RatePerDevice is the most messages a second one device may publish
	// (embedded broker); a faster device is slowed down (its publishes are
	// read later), nothing is dropped. 0 means no limit.
	RatePerDevice int `yaml:"rate_per_device"`
	// BatchSize and BatchWait shape the batched writer: a batch commits at
	// BatchSize readings or BatchWait after its first.
	BatchSize int           `yaml:"batch_size"`
	BatchWait time.Duration `yaml:"batch_wait"`
	// QueueSize bounds the messages waiting for the writer; when full the
	// ingest stops taking messages (back-pressure) instead of growing: with
	// the embedded broker devices' publishes wait, with an external broker
	// it keeps them.
	QueueSize int `yaml:"queue_size"`
	// Writers is how many batches commit at once on PostgreSQL, each for
	// its own share of the devices (SQLite: one). A batch's time is mostly
	// waiting (the COPY's round trips, the commit's WAL flush), so several
	// overlap well; each holds a pool connection while it commits.
	Writers int `yaml:"writers"`
}

// Devices configures the device registry.
type Devices struct {
	// Retention is how long raw readings are kept before they are rolled
	// up into hourly aggregates and deleted.
	Retention time.Duration `yaml:"retention"`
	// RejectLogSize is how many rejected messages are kept per device.
	RejectLogSize int `yaml:"reject_log_size"`
	// MaxClockSkew is how far a reading's timestamp may be from the
	// portal's clock before it is rejected.
	MaxClockSkew time.Duration `yaml:"max_clock_skew"`
}

// DefaultMQTT returns the MQTT defaults: the embedded broker on loopback.
func DefaultMQTT() MQTT {
	return MQTT{
		Listen:          "127.0.0.1:1883",
		MaxMessageBytes: 64 << 10,
		MaxInflight:     256,
		MaxQueued:       64,
		RatePerDevice:   100,
		BatchSize:       500,
		BatchWait:       5 * time.Millisecond,
		QueueSize:       5000,
		Writers:         4,
		ExportInterval:  30 * time.Second,
	}
}

// DefaultDevices returns the device registry defaults.
func DefaultDevices() Devices {
	return Devices{Retention: 30 * 24 * time.Hour, RejectLogSize: 50, MaxClockSkew: 24 * time.Hour}
}

// validateMQTT checks the mqtt and devices sections, naming the key.
func (c Config) validateMQTT() error {
	m := c.MQTT
	if m.URL == "" {
		if _, _, err := net.SplitHostPort(m.Listen); err != nil {
			return fmt.Errorf("config: mqtt.listen: %q is not host:port", m.Listen)
		}
	} else if u, err := url.Parse(m.URL); err != nil || u.Host == "" ||
		(u.Scheme != "tcp" && u.Scheme != "mqtt" && u.Scheme != "ssl" && u.Scheme != "tls" && u.Scheme != "mqtts") {
		return fmt.Errorf("config: mqtt.url: %q is not a broker URL such as tcp://host:1883", m.URL)
	}
	if (m.TLSCert == "") != (m.TLSKey == "") {
		return errors.New("config: mqtt.tls_cert, mqtt.tls_key: set both or neither")
	}
	switch {
	case strings.ContainsAny(m.Group, "/+#"):
		return fmt.Errorf("config: mqtt.group: %q may not contain /, + or #", m.Group)
	case m.MaxMessageBytes < 256:
		return errors.New("config: mqtt.max_message_bytes: must be at least 256")
	case m.MaxInflight < 1 || m.MaxInflight > 65535:
		return errors.New("config: mqtt.max_inflight: must be between 1 and 65535")
	case m.MaxQueued < 1:
		return errors.New("config: mqtt.max_queued: must be at least 1")
	case m.RatePerDevice < 0:
		return errors.New("config: mqtt.rate_per_device: must not be negative")
	case m.BatchSize < 1 || m.BatchSize > 10000:
		return errors.New("config: mqtt.batch_size: must be between 1 and 10000")
	case m.BatchWait <= 0:
		return errors.New("config: mqtt.batch_wait: must be positive")
	case m.Writers < 1 || m.Writers > 64:
		return errors.New("config: mqtt.writers: must be between 1 and 64")
	case m.QueueSize < m.BatchSize:
		return errors.New("config: mqtt.queue_size: must be at least mqtt.batch_size")
	case m.ExportDir != "" && m.URL == "":
		return errors.New("config: mqtt.export_dir: only with mqtt.url (the embedded broker reads the registry itself)")
	case m.ExportDir == "" && (m.ExportAccounts != "" || m.ExportPIDFile != ""):
		return errors.New("config: mqtt.export_accounts, mqtt.export_pid_file: only with mqtt.export_dir")
	case m.ExportDir != "" && (m.ExportAccounts == "" || m.Username == ""):
		// the password file is the broker's whole list: without the
		// portal's own accounts a reload would shut every instance out
		return errors.New("config: mqtt.export_accounts, mqtt.username: mqtt.export_dir needs both (the portal instances' accounts file, and this instance's account in it)")
	case m.ExportInterval < time.Second:
		return errors.New("config: mqtt.export_interval: must be at least 1s")
	case !c.UsesSQLite() && c.Database.MaxOpenConns >= 1 && m.Writers >= c.Database.MaxOpenConns:
		// each writer holds a connection while it commits; the portal's
		// pages and API need the rest
		return fmt.Errorf("config: mqtt.writers: %d writers need more than database.max_open_conns (%d) connections; lower the writers or raise the pool", m.Writers, c.Database.MaxOpenConns)
	}
	d := c.Devices
	switch {
	case d.Retention < time.Hour:
		return errors.New("config: devices.retention: must be at least 1h")
	case d.RejectLogSize < 1 || d.RejectLogSize > 10000:
		return errors.New("config: devices.reject_log_size: must be between 1 and 10000")
	case d.MaxClockSkew <= 0:
		return errors.New("config: devices.max_clock_skew: must be positive")
	}
	return nil
}
