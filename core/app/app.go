// Package app is PortalKit's kernel. It builds every core service from the
// configuration, runs each module's Init in dependency order through a Host,
// applies migrations, wires the declared API operations, pages, templates,
// navigation and event handlers, and serves until it is told to stop.
//
// app may import every core package and core/module; it never imports a
// vertical (cmd/portal does, through verticals/all).
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/dashboard"
	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/experience/drafts"
	"github.com/portalkit/portalkit/core/experience/feedback"
	"github.com/portalkit/portalkit/core/experience/help"
	"github.com/portalkit/portalkit/core/experience/messages"
	"github.com/portalkit/portalkit/core/experience/quiz"
	"github.com/portalkit/portalkit/core/experience/timeline"
	"github.com/portalkit/portalkit/core/idempotency"
	"github.com/portalkit/portalkit/core/live"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// Version is the PortalKit version, set at build time with
// -ldflags "-X github.com/portalkit/portalkit/core/app.Version=...".
var Version = "0.1.0-dev"

// Options builds an App.
type Options struct {
	// Config is the effective configuration (config.Load).
	Config config.Config
	// Modules are the modules to host, in any order. cmd/portal passes
	// module.Registered(); tests pass an explicit list.
	Modules []module.Module
	// Logger defaults to a text or JSON logger on stderr per Config.Log.
	Logger *slog.Logger
	// LogOutput is where the default logger writes (stderr when nil).
	LogOutput io.Writer
	// Argon2 overrides the password hashing cost (tests lower it; never in
	// production).
	Argon2 *accounts.Argon2Params
}

// App is a running PortalKit instance.
type App struct {
	Config   config.Config
	Log      *slog.Logger
	Store    *store.Store
	Web      *web.Server
	Events   *events.Bus
	Accounts *accounts.Service
	Notify   *notify.Service
	// Live is the one live stream per person (service_live.go).
	Live *live.Service
	// Schedule is the job scheduler (service_schedule.go).
	Schedule *schedule.Service
	// Idempotency keeps Idempotency-Keys of retried API calls
	// (service_api.go).
	Idempotency *idempotency.Service

	// coreMigrations are the core services' migration sets, applied before
	// the modules'.
	coreMigrations []store.MigrationSet
	// Dashboard is the widget registry and the landing page after sign-in.
	Dashboard *dashboard.Service
	Help      *help.Service
	Messages  *messages.Service
	// Devices is the device registry and MQTT gateway (service_devices.go).
	Devices *devices.Service
	// Drafts keeps half-filled forms (service_experience.go).
	Drafts *drafts.Service
	// Timeline records every event about a customer (service_experience.go).
	Timeline *timeline.Service
	// Feedback asks for and measures feedback (service_experience.go).
	Feedback *feedback.Service
	// Quiz is the quiz engine (service_quiz.go).
	Quiz *quiz.Service

	modules  []*host
	opErrs   []error // host.go: module operations named outside their prefix
	helpErrs []error
	closers  []func() error
	runners  []Runner
	running  []Runner
}

// Runner is a core service that works in the background while the app
// serves: the scheduler, the MQTT broker and ingest, the notification
// dispatcher. Start returns once the service is running; Stop returns once
// it has finished its in-flight work or ctx ends.
type Runner interface {
	Name() string
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// Quiescer is a Runner that takes new work on its own (the scheduler
// claims slots): Serve calls StopClaiming on each as soon as shutdown
// begins, before HTTP drains and before any service stops, so no new work
// starts after "shutting down".
type Quiescer interface {
	StopClaiming()
}

// StopClaiming tells every started Quiescer, in reverse order, to take no
// new work.
func (a *App) StopClaiming() {
	for i := len(a.running) - 1; i >= 0; i-- {
		if q, ok := a.running[i].(Quiescer); ok {
			q.StopClaiming()
		}
	}
}

// AddRunner registers a background service, started by Start in the order
// added and stopped in reverse.
func (a *App) AddRunner(r Runner) { a.runners = append(a.runners, r) }

// Start starts every background service. Serve calls it; tests that need
// the services without HTTP call it directly and defer Stop.
func (a *App) Start(ctx context.Context) error {
	for _, r := range a.runners {
		if err := r.Start(ctx); err != nil {
			a.Stop(context.Background())
			return fmt.Errorf("%s: %w", r.Name(), err)
		}
		a.running = append(a.running, r)
	}
	return nil
}

// Stop stops the started background services in reverse order, giving
// them http.shutdown_timeout in all.
func (a *App) Stop(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, a.Config.HTTP.ShutdownTimeout)
	defer cancel()
	for i := len(a.running) - 1; i >= 0; i-- {
		if err := a.running[i].Stop(ctx); err != nil {
			a.Log.Warn("stopping background service", "service", a.running[i].Name(), "err", err)
		}
	}
	a.running = nil
}

// New builds the app: opens the database, initialises modules, migrates and
// wires routes. It does not listen; call Serve.
func New(ctx context.Context, opts Options) (*App, error) {
	cfg := opts.Config
	// Every service builds links from BaseURL: without one, the address
	// the portal listens on (config.HTTP.PublicURL).
	cfg.HTTP.BaseURL = cfg.HTTP.PublicURL()
	log := opts.Logger
	if log == nil {
		log = NewLogger(cfg.Log, opts.LogOutput)
	}
	a := &App{Config: cfg, Log: log, Events: events.New()}

	mods, err := a.selectModules(opts.Modules)
	if err != nil {
		return nil, err
	}
	if err := a.ensureSecret(); err != nil {
		return nil, err
	}
	cfg = a.Config // with the secret key
	st, err := store.Open(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	a.Store = st
	a.closers = append(a.closers, st.Close)

	srv, err := web.New(cfg, log, web.BuildInfo{Version: Version})
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Web = srv
	srv.App.Use(a.forgetDashboardAfterWrites)
	for i, p := range st.Pools() {
		name := "main"
		if i > 0 {
			name = fmt.Sprintf("read%d", i)
		}
		srv.Metrics().WatchDB(name, p)
	}
	srv.AddReadyCheck("database", st.Ping)
	if st.HasReplica() {
		// A replica that is down degrades staff analytics only.
		srv.AddReadyDetail("database replica", st.PingReplica)
	}
	if err := a.initAccounts(opts); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.initSchedule(); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.newLive(); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.newNotify(); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.initDashboard(); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.initExperience(); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.initDevices(); err != nil {
		a.Close()
		return nil, err
	}
	a.addWorkWidgets()

	for _, m := range mods {
		h := newHost(a, m)
		if err := m.Init(h); err != nil {
			if errors.Is(err, module.ErrSkip) {
				log.Warn("module skipped", "module", m.Info().ID, "reason", err)
				continue
			}
			a.Close()
			return nil, fmt.Errorf("module %s: init: %w", m.Info().ID, err)
		}
		a.modules = append(a.modules, h)
	}
	if err := errors.Join(a.checkModels(), a.checkExperience(), a.checkFeedback(), a.checkGroups()); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.Notify.Err(); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.wireSchedule(); err != nil {
		a.Close()
		return nil, err
	}
	if _, err := st.Migrate(ctx, log, append(a.coreMigrations, a.migrationSets()...)); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.wire(); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.sealDashboard(); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// NewLogger returns the slog logger that cfg describes, writing to w
// (stderr when nil).
func NewLogger(cfg config.Log, w io.Writer) *slog.Logger {
	if w == nil {
		w = os.Stderr
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level))
	hopts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, hopts))
	}
	return slog.New(slog.NewTextHandler(w, hopts))
}

// selectModules drops the modules that the deployment disables and orders
// the rest by their requirements.
func (a *App) selectModules(mods []module.Module) ([]module.Module, error) {
	disabled := map[string]bool{}
	for _, id := range a.Config.Modules.Disabled {
		disabled[id] = true
	}
	known := map[string]bool{}
	var keep []module.Module
	for _, m := range mods {
		id := m.Info().ID
		known[id] = true
		if !disabled[id] {
			keep = append(keep, m)
		}
	}
	for id := range disabled {
		if !known[id] {
			return nil, fmt.Errorf("config: modules.disabled: no module %q is registered", id)
		}
	}
	return module.Order(keep)
}

// ensureSecret gives development deployments a stable generated secret key
// in the data dir; production must configure one (config.Validate).
func (a *App) ensureSecret() error {
	if a.Config.SecretKey != "" {
		return nil
	}
	if err := os.MkdirAll(a.Config.DataDir, 0o750); err != nil {
		return fmt.Errorf("data dir %s: %w", a.Config.DataDir, err)
	}
	p := filepath.Join(a.Config.DataDir, "secret.key")
	if b, err := os.ReadFile(p); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		a.Config.SecretKey = strings.TrimSpace(string(b))
		return nil
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return err
	}
	key := hex.EncodeToString(raw[:])
	if err := os.WriteFile(p, []byte(key+"\n"), 0o600); err != nil {
		return fmt.Errorf("cannot write %s: %w", p, err)
	}
	a.Config.SecretKey = key
	return nil
}

// Modules returns the Info of every loaded module, in initialisation order.
func (a *App) Modules() []module.Info {
	out := make([]module.Info, 0, len(a.modules))
	for _, h := range a.modules {
		out = append(out, h.info)
	}
	return out
}

// Serve serves HTTP on ln until ctx is cancelled, then shuts down
// gracefully: it stops accepting, lets in-flight requests finish within
// http.shutdown_timeout, and returns nil.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	return a.ServeReady(ctx, ln, nil)
}

// ServeReady is Serve that calls ready, when not nil, once the portal
// really serves: the background services started and requests on ln are
// answered. A failure before that returns without calling it, so a
// "serving on" line printed by ready is never followed by a start-up error.
func (a *App) ServeReady(ctx context.Context, ln net.Listener, ready func()) error {
	// Background services get a context that is not cancelled by the
	// signal: they stop (Stop) after HTTP has drained.
	if err := a.Start(context.WithoutCancel(ctx)); err != nil {
		_ = ln.Close()
		return err
	}
	// Background services stop after HTTP has drained, so requests in
	// flight can still use them.
	defer a.Stop(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- a.Web.Serve(ln) }()
	if ready != nil {
		ready()
	}
	_ = a.Events.Publish(ctx, events.Event{Name: EventStarted})
	select {
	case err := <-errc:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	a.StopClaiming()
	a.Log.Info("shutting down", "timeout", a.Config.HTTP.ShutdownTimeout)
	if err := a.Web.Shutdown(a.Config.HTTP.ShutdownTimeout); err != nil {
		a.Log.Warn("shutdown did not finish cleanly", "err", err)
	}
	if err := <-errc; err != nil {
		a.Log.Warn("server stopped with error", "err", err)
	}
	return nil
}

// EventStarted is published when the app starts serving.
const EventStarted = "app.started"

// Close releases everything the app holds. It is safe to call twice.
func (a *App) Close() {
	if len(a.running) > 0 {
		a.Stop(context.Background())
	}
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			a.Log.Warn("close", "err", err)
		}
	}
	a.closers = nil
}

// RunDemo creates the demo organisations and accounts (all with password)
// and then the demo data of every module, in one transaction.
func (a *App) RunDemo(ctx context.Context, password string) error {
	dc := &module.DemoContext{Password: password}
	err := a.Store.Tx(ctx, func(tx *gorm.DB) error {
		dc.Tx = tx
		var err error
		if dc.Orgs, dc.Users, err = a.Accounts.Demo(ctx, tx, password); err != nil {
			return err
		}
		if err := a.demoExperience(ctx, tx, dc); err != nil {
			return err
		}
		for _, h := range a.modules {
			for _, fn := range h.demos {
				if err := fn(ctx, dc); err != nil {
					return fmt.Errorf("demo data of module %s: %w", h.info.ID, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Statistics of the bulk load, so the first queries plan well.
	if err := a.Store.Optimize(ctx); err != nil {
		return fmt.Errorf("demo data: planner statistics: %w", err)
	}
	return nil
}

// home is the start page: the enabled modules, each with its entry page.
func (a *App) home(c *fiber.Ctx) error {
	type card struct{ ID, Description, Path string }
	var cards []card
	p, signedIn := accounts.PrincipalOf(c)
	for _, h := range a.modules {
		if signedIn && !p.ModuleEnabled(h.info.ID) {
			continue
		}
		c := card{ID: h.info.ID, Description: h.info.Description}
		if len(h.pages) > 0 {
			c.Path = "/m/" + h.info.ID + "/"
		}
		cards = append(cards, c)
	}
	return web.Render(c, "home", "Home", map[string]any{"Modules": cards})
}
