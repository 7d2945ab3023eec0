// Package config is PortalKit's typed configuration. Values come from, in
// rising precedence: the defaults in Default, a YAML file (configs/portal.yaml
// or --config FILE), and PORTAL_* environment variables. An unknown key, a
// malformed value or a missing required value is an error that names the key,
// so a typo stops start-up instead of being ignored.
//
// config imports nothing from PortalKit.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole effective configuration.
type Config struct {
	// Mode is "development" (the embedded defaults) or "production" (which
	// requires PostgreSQL and a secret key).
	Mode string `yaml:"mode"`
	// DataDir holds the SQLite file and other local state.
	DataDir string `yaml:"data_dir"`
	// SecretKey signs tokens and cookies. Generated into the data dir when
	// empty in development; required in production.
	SecretKey string `yaml:"secret_key" secret:"true"`

	HTTP      HTTP      `yaml:"http"`
	Database  Database  `yaml:"database"`
	Log       Log       `yaml:"log"`
	Modules   Modules   `yaml:"modules"`
	Accounts  Accounts  `yaml:"accounts"`
	Schedule  Schedule  `yaml:"schedule"`
	Notify    Notify    `yaml:"notify"`
	Live      Live      `yaml:"live"`
	Dashboard Dashboard `yaml:"dashboard"`
	Messages  Messages  `yaml:"messages"`
	MQTT      MQTT      `yaml:"mqtt"`
	Devices   Devices   `yaml:"devices"`
	Drafts    Drafts    `yaml:"drafts"`
	Feedback  Feedback  `yaml:"feedback"`
	API       API       `yaml:"api"`
}

// Accounts configures sign-in, sessions and login throttling.
type Accounts struct {
	// SessionIdle ends a session not used for this long.
	SessionIdle time.Duration `yaml:"session_idle"`
	// SessionMax ends every session this long after sign-in.
	SessionMax time.Duration `yaml:"session_max"`
	// LoginMaxFailures per account and client IP lock that pair for
	// LoginLockout, doubling with each further failure; LoginIPMaxFailures
	// per client IP within LoginWindow lock the IP for LoginLockout; 10 ×
	// LoginMaxFailures per account from every IP lock it for IPs that never
	// signed in to it (docs/security.md).
	LoginMaxFailures   int           `yaml:"login_max_failures"`
	LoginIPMaxFailures int           `yaml:"login_ip_max_failures"`
	LoginWindow        time.Duration `yaml:"login_window"`
	LoginLockout       time.Duration `yaml:"login_lockout"`
	// ResetTTL, VerifyTTL and InviteTTL bound one-time links.
	ResetTTL  time.Duration `yaml:"reset_ttl"`
	VerifyTTL time.Duration `yaml:"verify_ttl"`
	InviteTTL time.Duration `yaml:"invite_ttl"`
	// ResetMaxPerHour caps the password-reset e-mails one account gets in
	// an hour; requests past it are answered as usual and send nothing.
	ResetMaxPerHour int `yaml:"reset_max_per_hour"`
	// PrincipalCacheTTL keeps an authenticated session in memory this long
	// (0 turns the cache off; see perf.go).
	PrincipalCacheTTL time.Duration `yaml:"principal_cache_ttl"`
}

// HTTP configures the web server.
type HTTP struct {
	// Addr is host:port to listen on.
	Addr string `yaml:"addr"`
	// BaseURL is the public URL of the portal, used in emails and links.
	// Empty: it follows Addr (see PublicURL).
	BaseURL string `yaml:"base_url"`
	// ShutdownTimeout bounds how long in-flight requests may take at shutdown.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// ReadTimeout and WriteTimeout bound one request.
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// BodyLimit is the largest request body in bytes.
	BodyLimit int `yaml:"body_limit"`
	// TrustedProxies lists the proxy addresses or CIDRs whose
	// X-Forwarded-For is believed for the client IP.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// ProxyHeader is the header holding the client IP behind a trusted proxy.
	ProxyHeader string `yaml:"proxy_header"`
	// TLSCert and TLSKey are PEM files: both set, the portal serves HTTPS
	// itself on Addr.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// InsecureCookies lets production mode set its cookies without the
	// Secure attribute (a portal reached over plain HTTP on a trusted
	// network); otherwise production cookies are always Secure.
	InsecureCookies bool `yaml:"insecure_cookies"`
}

// SecureCookies reports whether every cookie must carry Secure whatever
// the request's protocol: in production mode unless http.insecure_cookies.
func (c Config) SecureCookies() bool {
	return c.Mode == "production" && !c.HTTP.InsecureCookies
}

// Database configures the store.
type Database struct {
	// URL is a PostgreSQL URL (postgres://...). Empty means the embedded
	// SQLite file under DataDir.
	URL string `yaml:"url" secret:"true"`
	// MaxOpenConns and MaxIdleConns size the PostgreSQL pool. MaxIdleConns
	// 0 (the default) keeps as many idle as may be open: a pool that closes
	// idle connections under load opens them again at once (issue 22's soak:
	// 31 a second closed by a limit of 10, and 143 151 waits).
	MaxOpenConns int `yaml:"max_open_conns"`
	MaxIdleConns int `yaml:"max_idle_conns"`
	// ConnMaxLifetime recycles pooled connections.
	ConnMaxLifetime time.Duration `yaml:"conn_max_lifetime"`
	// StatementTimeout bounds one statement on PostgreSQL.
	StatementTimeout time.Duration `yaml:"statement_timeout"`
	// BusyTimeout is how long SQLite waits for the writer lock.
	BusyTimeout time.Duration `yaml:"busy_timeout"`
	// StartWait is how long start-up keeps retrying, with backoff, a
	// PostgreSQL that does not answer (an orchestrator starting the portal
	// before its database); 0 gives up at the first failure.
	StartWait time.Duration `yaml:"start_wait"`
	// PoolMode is how URL's connections are pooled: "session" (PostgreSQL
	// itself, or PgBouncer in session mode) or "transaction" (PgBouncer in
	// transaction mode: no named prepared statements and no session
	// settings; what needs a session goes to DirectURL). docs/scaling.md.
	PoolMode string `yaml:"pool_mode"`
	// DirectURL reaches PostgreSQL without the pooler, for the one
	// connection per instance that needs a session (LISTEN for live
	// updates). Required with pool_mode transaction.
	DirectURL string `yaml:"direct_url" secret:"true"`
	// ReplicaURL is a PostgreSQL streaming replica of URL (hot standby).
	// Reads that may lag behind the primary (staff analytics and their
	// CSV export) go there through Store.Replica; everything else,
	// including every read that follows a person's own write, stays on
	// URL. Empty: every read goes to URL. docs/scaling.md.
	ReplicaURL string `yaml:"replica_url" secret:"true"`
}

// Pool modes of database.pool_mode.
const (
	PoolSession     = "session"
	PoolTransaction = "transaction"
)

// Log configures structured logging.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is text or json.
	Format string `yaml:"format"`
	// Requests says which requests get a log line: all, errors or off.
	Requests string `yaml:"requests"`
}

// Modules configures which registered modules run in this deployment.
type Modules struct {
	// Disabled lists module IDs that are not loaded at all.
	Disabled []string `yaml:"disabled"`
}

// Schedule configures the job scheduler (core/schedule).
type Schedule struct {
	// Enabled makes this instance tick: claim due slots, catch up missed
	// ones at start and take over runs whose runner died. Jobs can still be
	// run by hand (admin page, `portal jobs run`) when it is false.
	Enabled bool `yaml:"enabled"`
	// Grace is how far back a slot missed while every instance was down is
	// still caught up at start (only the latest missed slot of each job).
	// 0 turns catch-up off.
	Grace time.Duration `yaml:"grace"`
	// Lease is how long a run may go without a heartbeat before another
	// instance takes it over and resumes it from its saved cursor.
	Lease time.Duration `yaml:"lease"`
	// Retention is how long finished runs and their idempotency keys are
	// kept; the daily schedule.prune job deletes older ones. 0 keeps them
	// forever. A slot older than this cannot be run again by hand.
	Retention time.Duration `yaml:"retention"`
	// Overrides replaces the schedule of a job ("<module>.<name>") with
	// another cron spec, or turns it off with "off". In the environment:
	// PORTAL_SCHEDULE_OVERRIDES="job=spec;job=off" (semicolons, because cron
	// specs contain commas).
	Overrides map[string]string `yaml:"overrides"`
}

// Default returns the embedded defaults: SQLite under ./data, loopback HTTP.
func Default() Config {
	return Config{
		Mode:    "development",
		DataDir: "./data",
		HTTP: HTTP{
			Addr:            "127.0.0.1:8080",
			ShutdownTimeout: 15 * time.Second,
			ReadTimeout:     30 * time.Second,
			WriteTimeout:    60 * time.Second,
			BodyLimit:       8 << 20,
			ProxyHeader:     "X-Forwarded-For",
		},
		Database: Database{
			MaxOpenConns:     20,
			MaxIdleConns:     0,
			ConnMaxLifetime:  30 * time.Minute,
			StatementTimeout: 30 * time.Second,
			BusyTimeout:      10 * time.Second,
			StartWait:        time.Minute,
			PoolMode:         PoolSession,
		},
		Log:      Log{Level: "info", Format: "text", Requests: LogRequestsAll},
		Schedule: Schedule{Enabled: true, Grace: 24 * time.Hour, Lease: 2 * time.Minute, Retention: 90 * 24 * time.Hour},
		Notify:   DefaultNotify(),
		Live:     DefaultLive(),
		Accounts: Accounts{
			SessionIdle:        12 * time.Hour,
			SessionMax:         14 * 24 * time.Hour,
			LoginMaxFailures:   5,
			LoginIPMaxFailures: 30,
			LoginWindow:        15 * time.Minute,
			LoginLockout:       15 * time.Minute,
			ResetTTL:           time.Hour,
			VerifyTTL:          48 * time.Hour,
			InviteTTL:          7 * 24 * time.Hour,
			ResetMaxPerHour:    3,
			PrincipalCacheTTL:  defaultPrincipalCacheTTL,
		},
		Dashboard: defaultDashboard(),
		Messages:  DefaultMessages(),
		MQTT:      DefaultMQTT(),
		Devices:   DefaultDevices(),
		Drafts:    DefaultDrafts(),
		Feedback:  DefaultFeedback(),
		API:       DefaultAPI(),
	}
}

// EnvPrefix starts every environment variable that configures the portal.
const EnvPrefix = "PORTAL_"

// notConfig lists PORTAL_* variables that are read by tests and tools, not by
// the configuration; they are not "unknown keys".
var notConfig = map[string]bool{
	"PORTAL_TEST_DATABASE_URL": true, "PORTAL_TEST_DB": true, "PORTAL_REQUIRE_SERVICES": true,
	"PORTAL_TEST_MQTT_URL": true, "PORTAL_TEST_SMTP": true, "PORTAL_E2E_SCREENSHOTS": true,
	"PORTAL_TEST_MOSQUITTO": true, "PORTAL_TEST_CLUSTER": true, "PORTAL_TEST_REPLICA_URL": true,
}

// Load builds the effective configuration from the defaults, the YAML file at
// path (skipped when path is "" or, if optional, missing) and env, which is a
// list of KEY=VALUE strings such as os.Environ().
func Load(path string, optional bool, env []string) (Config, error) {
	cfg := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		switch {
		case err == nil:
			if err := decodeYAML(data, &cfg); err != nil {
				return cfg, fmt.Errorf("config %s: %w", path, err)
			}
		case optional && errors.Is(err, os.ErrNotExist):
		default:
			return cfg, fmt.Errorf("config: cannot read %s: %w", path, unwrapPathErr(err))
		}
	}
	if err := applyEnv(&cfg, env); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func decodeYAML(data []byte, cfg *Config) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return errors.New(cleanYAMLError(err))
	}
	return nil
}

// cleanYAMLError turns yaml.v3's multi-line type errors into one line that
// names the key: "line 3: field foo not found in type config.HTTP" becomes
// "line 3: unknown key \"foo\"".
func cleanYAMLError(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	var parts []string
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if i := strings.Index(line, "field "); i >= 0 && strings.Contains(line, " not found in type") {
			name := strings.SplitN(line[i+6:], " ", 2)[0]
			line = line[:i] + fmt.Sprintf("unknown key %q", name)
		}
		line = strings.Replace(line, "cannot unmarshal", "malformed value: cannot read", 1)
		parts = append(parts, line)
	}
	return strings.Join(parts, "; ")
}

// field is one leaf of the config tree.
type field struct {
	key    string // dotted YAML key, e.g. "http.addr"
	env    string // PORTAL_HTTP_ADDR
	value  reflect.Value
	secret bool
}

func fields(cfg *Config) []field {
	var out []field
	var walk func(v reflect.Value, prefix string, secret bool)
	walk = func(v reflect.Value, prefix string, secret bool) {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			name := strings.Split(sf.Tag.Get("yaml"), ",")[0]
			if name == "" || name == "-" {
				continue
			}
			key := name
			if prefix != "" {
				key = prefix + "." + name
			}
			fv := v.Field(i)
			sec := secret || sf.Tag.Get("secret") == "true"
			if fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeOf(time.Time{}) {
				walk(fv, key, sec)
				continue
			}
			env := EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
			out = append(out, field{key: key, env: env, value: fv, secret: sec})
		}
	}
	walk(reflect.ValueOf(cfg).Elem(), "", false)
	return out
}

// EnvNames lists every environment variable the configuration reads.
func EnvNames() []string {
	var c Config
	var names []string
	for _, f := range fields(&c) {
		names = append(names, f.env)
	}
	return names
}

func applyEnv(cfg *Config, env []string) error {
	byEnv := map[string]field{}
	for _, f := range fields(cfg) {
		byEnv[f.env] = f
	}
	var unknown []string
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, EnvPrefix) || notConfig[k] {
			continue
		}
		f, known := byEnv[k]
		if !known {
			unknown = append(unknown, k)
			continue
		}
		if err := setFromString(f.value, v); err != nil {
			return fmt.Errorf("config: %s (%s): malformed value %q: %v", f.key, k, mask(v, f.secret), err)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("config: unknown environment variable %s (known: see `portal config print`)", unknown[0])
	}
	return nil
}

func mask(v string, secret bool) string {
	if secret {
		return "****"
	}
	return v
}

func setFromString(v reflect.Value, s string) error {
	switch {
	case v.Type() == reflect.TypeOf(time.Duration(0)):
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return errors.New("want a duration such as 30s or 5m")
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return errors.New("want a whole number")
		}
		v.SetInt(int64(n))
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return errors.New("want true or false")
		}
		v.SetBool(b)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		var items []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				items = append(items, p)
			}
		}
		v.Set(reflect.ValueOf(items))
	case v.Kind() == reflect.Map && v.Type().Key().Kind() == reflect.String && v.Type().Elem().Kind() == reflect.String:
		// key=value pairs separated by semicolons: values such as cron
		// specs contain commas and spaces.
		m := map[string]string{}
		for _, p := range strings.Split(s, ";") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			k, val, ok := strings.Cut(p, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return fmt.Errorf("want key=value pairs separated by ';', got %q", p)
			}
			m[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
		v.Set(reflect.ValueOf(m))
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}
	return nil
}

// Validate checks values that parse but make no sense, naming the key.
func (c Config) Validate() error {
	switch c.Mode {
	case "development", "production":
	default:
		return fmt.Errorf("config: mode: %q is not development or production", c.Mode)
	}
	if strings.TrimSpace(c.DataDir) == "" {
		return errors.New("config: data_dir: must not be empty")
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		return fmt.Errorf("config: http.addr: %q is not host:port", c.HTTP.Addr)
	}
	if c.HTTP.BaseURL != "" {
		if u, err := url.Parse(c.HTTP.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("config: http.base_url: %q is not an http(s) URL", c.HTTP.BaseURL)
		}
	}
	if (c.HTTP.TLSCert == "") != (c.HTTP.TLSKey == "") {
		return errors.New("config: http.tls_cert, http.tls_key: set both (PEM certificate chain and private key) or neither")
	}
	if c.HTTP.BodyLimit <= 0 {
		return errors.New("config: http.body_limit: must be positive")
	}
	for _, p := range c.HTTP.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				return fmt.Errorf("config: http.trusted_proxies: %q is not an IP address or CIDR", p)
			}
		}
	}
	if c.Database.URL != "" {
		u, err := url.Parse(c.Database.URL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			return errors.New("config: database.url: not a PostgreSQL URL (want postgres://user:password@host:port/dbname)")
		}
	}
	if err := c.validateMQTT(); err != nil {
		return err
	}
	switch c.Database.PoolMode {
	case PoolSession:
	case PoolTransaction:
		if c.Database.URL == "" || c.Database.DirectURL == "" {
			return errors.New("config: database.direct_url: required with database.pool_mode transaction (live updates LISTEN on a session of their own)")
		}
	default:
		return fmt.Errorf("config: database.pool_mode: want session or transaction, got %q", c.Database.PoolMode)
	}
	if c.Database.ReplicaURL != "" {
		u, err := url.Parse(c.Database.ReplicaURL)
		if c.Database.URL == "" {
			return errors.New("config: database.replica_url: needs database.url (a replica of PostgreSQL; SQLite has no replicas)")
		}
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			return errors.New("config: database.replica_url: not a PostgreSQL URL (want postgres://user:password@host:port/dbname)")
		}
	}
	if c.Database.MaxOpenConns < 1 {
		return errors.New("config: database.max_open_conns: must be at least 1")
	}
	if c.Database.StartWait < 0 {
		return errors.New("config: database.start_wait: must not be negative (0 does not retry)")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("config: log.level: %q is not debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("config: log.format: %q is not text or json", c.Log.Format)
	}
	a := c.Accounts
	if a.SessionIdle <= 0 || a.SessionMax < a.SessionIdle {
		return errors.New("config: accounts.session_max: must be at least accounts.session_idle, both positive")
	}
	if a.LoginMaxFailures < 1 || a.LoginIPMaxFailures < 1 || a.LoginWindow <= 0 || a.LoginLockout <= 0 {
		return errors.New("config: accounts.login_*: failures must be at least 1 and durations positive")
	}
	if a.ResetTTL <= 0 || a.VerifyTTL <= 0 || a.InviteTTL <= 0 {
		return errors.New("config: accounts.*_ttl: must be positive")
	}
	if a.ResetMaxPerHour < 1 {
		return errors.New("config: accounts.reset_max_per_hour: must be at least 1")
	}
	if c.Schedule.Grace < 0 {
		return errors.New("config: schedule.grace: must not be negative")
	}
	if c.Schedule.Retention < 0 {
		return errors.New("config: schedule.retention: must not be negative (0 keeps runs forever)")
	}
	if c.Schedule.Retention > 0 && c.Schedule.Retention < c.Schedule.Grace {
		return fmt.Errorf("config: schedule.retention: %v is shorter than schedule.grace (%v)", c.Schedule.Retention, c.Schedule.Grace)
	}
	if c.Schedule.Lease < time.Second {
		return fmt.Errorf("config: schedule.lease: %v is too short (at least 1s)", c.Schedule.Lease)
	}
	for job, spec := range c.Schedule.Overrides {
		if strings.TrimSpace(spec) == "" {
			return fmt.Errorf("config: schedule.overrides: job %q: empty value (want a cron spec or \"off\")", job)
		}
	}
	if err := c.Notify.Validate(); err != nil {
		return err
	}
	if err := c.Live.Validate(); err != nil {
		return err
	}
	if err := c.validatePerf(); err != nil {
		return err
	}
	if err := c.Dashboard.validate(); err != nil {
		return err
	}
	if err := c.ValidateMessages(); err != nil {
		return err
	}
	if err := errors.Join(c.Drafts.Validate(), c.Feedback.Validate(), c.API.Validate()); err != nil {
		return err
	}
	if c.Mode == "production" {
		if c.Database.URL == "" {
			return errors.New("config: database.url: required in production mode (set PORTAL_DATABASE_URL)")
		}
		if len(c.SecretKey) < 32 {
			return errors.New("config: secret_key: required in production mode, at least 32 characters (set PORTAL_SECRET_KEY)")
		}
	}
	return nil
}

// Print writes the effective configuration as "key = value" lines with
// secrets masked and the environment variable that sets each key.
func (c Config) Print(w io.Writer) {
	for _, f := range fields(&c) {
		val := formatValue(f.value)
		if f.secret && val != "" {
			val = maskSecret(f.key, val)
		}
		fmt.Fprintf(w, "%-28s = %-40s # %s\n", f.key, val, f.env)
	}
}

func maskSecret(key, val string) string {
	if u, err := url.Parse(val); err == nil && u.User != nil && strings.Contains(key, "url") {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "****")
		}
		return strings.Replace(u.String(), "%2A%2A%2A%2A", "****", 1)
	}
	return "****"
}

func formatValue(v reflect.Value) string {
	switch {
	case v.Type() == reflect.TypeOf(time.Duration(0)):
		return time.Duration(v.Int()).String()
	case v.Kind() == reflect.Slice:
		var parts []string
		for i := 0; i < v.Len(); i++ {
			parts = append(parts, fmt.Sprint(v.Index(i).Interface()))
		}
		return strings.Join(parts, ",")
	case v.Kind() == reflect.Map:
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, fmt.Sprint(k.Interface()))
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, k+"="+fmt.Sprint(v.MapIndex(reflect.ValueOf(k)).Interface()))
		}
		return strings.Join(parts, ";")
	default:
		return fmt.Sprint(v.Interface())
	}
}

// UsesSQLite reports whether the embedded SQLite store is configured.
func (c Config) UsesSQLite() bool { return c.Database.URL == "" }

// PublicURL is the portal's address for links in e-mails and
// notifications: BaseURL when set, else the URL of Addr, so a portal
// started with another --addr links to itself. A wildcard listen host
// (0.0.0.0, ::, empty) becomes localhost: set base_url when people reach
// the portal by another name.
func (h HTTP) PublicURL() string {
	if h.BaseURL != "" {
		return strings.TrimRight(h.BaseURL, "/")
	}
	return URLOf(h.Addr)
}

// URLOf is the http URL of a listen address host:port.
func URLOf(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
