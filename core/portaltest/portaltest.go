// Package portaltest builds PortalKit apps for tests and runs HTTP
// scenarios against them, in the manner of PocketBase's tests.ApiScenario.
//
// Every app gets a fresh temporary data dir and a fresh database: SQLite in
// that dir by default, or — when PORTAL_TEST_DB=postgres — a new schema in
// the PostgreSQL server at PORTAL_TEST_DATABASE_URL, dropped when the test
// ends. `make test` runs the whole suite once per database.
//
// Tests that need a real server (PostgreSQL, Mosquitto, Chromium, SMTP) call
// RequireService: with PORTAL_REQUIRE_SERVICES=1 (CI) a missing server fails
// the test; elsewhere it is skipped with a loud message.
package portaltest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/app"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/module"
)

// TestArgon2 is a cheap password hash cost for tests only: hashing at the
// OWASP cost for every test user would dominate the suite's time. The
// production cost is tested in core/accounts.
var TestArgon2 = accounts.Argon2Params{MemoryKiB: 1024, Time: 1, Threads: 1}

// Environment variables read by the test helpers.
const (
	EnvDB              = "PORTAL_TEST_DB"           // sqlite (default) or postgres
	EnvDatabaseURL     = "PORTAL_TEST_DATABASE_URL" // a PostgreSQL server URL
	EnvRequireServices = "PORTAL_REQUIRE_SERVICES"  // 1: missing services fail
	EnvReplicaURL      = "PORTAL_TEST_REPLICA_URL"  // a streaming replica of EnvDatabaseURL's server
)

// Dialect returns the database this test run uses: "sqlite" or "postgres".
func Dialect() string {
	if strings.EqualFold(os.Getenv(EnvDB), "postgres") {
		return "postgres"
	}
	return "sqlite"
}

// RequireService skips t (loudly) or, under PORTAL_REQUIRE_SERVICES=1,
// fails it when available is false.
func RequireService(t testing.TB, name string, available bool, how string) {
	t.Helper()
	if available {
		return
	}
	msg := fmt.Sprintf("SERVICE MISSING: %s is not available (%s)", name, how)
	if os.Getenv(EnvRequireServices) == "1" {
		t.Fatalf("%s; PORTAL_REQUIRE_SERVICES=1 makes this a failure", msg)
	}
	t.Skipf("%s — SKIPPED; set it up or run .ci/run", msg)
}

// TestApp is an App built for one test. It records every published event.
type TestApp struct {
	*app.App
	T testing.TB

	mu     sync.Mutex
	events []events.Event
	// Logs is the app's log output; read it with LogText while the app
	// runs (its writes take a lock that reading Logs directly skips).
	Logs *bytes.Buffer
	logs *syncBuffer
}

// Option changes how New builds the app.
type Option func(*config.Config)

// WithConfig edits the configuration before the app is built.
func WithConfig(fn func(*config.Config)) Option { return Option(fn) }

// Config returns a configuration for a test: a temp data dir and the test
// run's database (a fresh PostgreSQL schema when PORTAL_TEST_DB=postgres).
func Config(t testing.TB, opts ...Option) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.HTTP.BaseURL = "http://portal.test"
	cfg.MQTT.Listen = "127.0.0.1:0"
	cfg.Log.Level = "debug"
	if Dialect() == "postgres" {
		cfg.Database.URL = NewPostgresSchema(t)
	}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// New builds an app hosting mods on a fresh database and registers its
// cleanup with t.
func New(t testing.TB, mods []module.Module, opts ...Option) *TestApp {
	t.Helper()
	cfg := Config(t, opts...)
	return NewWithConfig(t, cfg, mods)
}

// NewWithConfig builds an app from cfg; use it to start a second instance
// on the same database.
func NewWithConfig(t testing.TB, cfg config.Config, mods []module.Module) *TestApp {
	t.Helper()
	logs := &syncBuffer{}
	ta := &TestApp{T: t, Logs: &logs.Buffer, logs: logs}
	a, err := app.New(context.Background(), app.Options{Config: cfg, Modules: mods, LogOutput: logs, Argon2: &TestArgon2})
	if err != nil {
		t.Fatalf("portaltest: building app: %v", err)
	}
	ta.App = a
	a.Events.Observe(func(e events.Event) {
		ta.mu.Lock()
		ta.events = append(ta.events, e)
		ta.mu.Unlock()
	})
	t.Cleanup(a.Close)
	return ta
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

// LogText returns what the app has logged so far, safe to call while the
// app is still writing.
func (ta *TestApp) LogText() string {
	ta.logs.mu.Lock()
	defer ta.logs.mu.Unlock()
	return ta.logs.String()
}

// Events returns the names of the events published so far.
func (ta *TestApp) Events() []string {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	out := make([]string, len(ta.events))
	for i, e := range ta.events {
		out[i] = e.Name
	}
	return out
}

// ResetEvents forgets the recorded events.
func (ta *TestApp) ResetEvents() {
	ta.mu.Lock()
	ta.events = nil
	ta.mu.Unlock()
}

// NewPostgresSchema creates a fresh schema in the PostgreSQL server at
// PORTAL_TEST_DATABASE_URL and returns a URL whose search_path is that
// schema. The schema is dropped when t ends.
func NewPostgresSchema(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvDatabaseURL)
	RequireService(t, "PostgreSQL", base != "", EnvDatabaseURL+" is not set")
	var raw [6]byte
	_, _ = rand.Read(raw[:])
	schema := "t_" + hex.EncodeToString(raw[:])
	admin, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("portaltest: PostgreSQL at %s: %v", EnvDatabaseURL, err)
	}
	sqlDB, _ := admin.DB()
	defer sqlDB.Close()
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("portaltest: create schema: %v", err)
	}
	t.Cleanup(func() {
		drop, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard})
		if err != nil {
			return
		}
		d, _ := drop.DB()
		defer d.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		drop.WithContext(ctx).Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("portaltest: %s: %v", EnvDatabaseURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

var _ io.Writer = (*syncBuffer)(nil)

// ReplicaOf returns primary (a URL from NewPostgresSchema) pointed at the
// streaming replica of PORTAL_TEST_REPLICA_URL: the replica's host, port and
// database, primary's search_path. It waits until the replica has replayed
// the schema's creation. Without a replica it skips loudly (fails under
// PORTAL_REQUIRE_SERVICES=1); .ci/services.sh start_postgres_replica makes one.
func ReplicaOf(t testing.TB, primary string) string {
	t.Helper()
	raw := os.Getenv(EnvReplicaURL)
	RequireService(t, "PostgreSQL replica", raw != "", EnvReplicaURL+" is not set (.ci/services.sh start_postgres_replica)")
	rep, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("portaltest: %s: %v", EnvReplicaURL, err)
	}
	u, err := url.Parse(primary)
	if err != nil {
		t.Fatalf("portaltest: %v", err)
	}
	u.Host, u.Path, u.User = rep.Host, rep.Path, rep.User
	schema := u.Query().Get("search_path")
	db, err := gorm.Open(postgres.Open(raw), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("portaltest: PostgreSQL replica at %s: %v", EnvReplicaURL, err)
	}
	sqlDB, _ := db.DB()
	defer sqlDB.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int64
		if err := db.Raw("SELECT count(*) FROM pg_namespace WHERE nspname = ?", schema).Scan(&n).Error; err != nil {
			t.Fatalf("portaltest: PostgreSQL replica: %v", err)
		}
		if n == 1 {
			return u.String()
		}
		if time.Now().After(deadline) {
			t.Fatalf("portaltest: the replica at %s has not replayed schema %s after 30 s: is it a replica of %s?", EnvReplicaURL, schema, EnvDatabaseURL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ServeLoopback serves the app on a free loopback port until t ends and
// returns its base URL (http://127.0.0.1:port), for tests that talk to it
// over the network: a browser, an SDK, a program run with `go run`.
func (ta *TestApp) ServeLoopback(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ta.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return "http://" + ln.Addr().String()
}
