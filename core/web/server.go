// Package web is PortalKit's HTTP layer: the Fiber server with its
// middleware (request IDs, structured logs, panic recovery, metrics, security
// headers), the JSON API declared through huma (validation, the OpenAPI
// document and RFC 9457 problem details from one place), the embedded
// templates and static assets of the portal, and health, readiness and
// metrics endpoints.
//
// web imports config, errs, i18n and chart (pages render charts with
// {{.Chart ...}}); it knows nothing of modules or accounts.
// Those plug in through Decorate, AddReadyCheck and the router.
package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humafiber"
	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/chart"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/i18n"
)

// BuildInfo describes the running binary.
type BuildInfo struct {
	Version string
	Commit  string
}

// Server is the portal's HTTP server.
type Server struct {
	// App is the Fiber application. Core services and modules add routes to it.
	App *fiber.App
	// API is the huma API on App; operations registered on it appear in
	// /api/openapi.json and /api/docs.
	API huma.API

	log     *slog.Logger
	cfg     config.Config
	views   *Views
	metrics *Metrics
	catalog *i18n.Catalog
	labels  labelRegistry

	// operations records every API operation as it is declared, so that a
	// route or operation ID declared twice stops start-up (routes.go).
	operations operationLog

	mu         sync.RWMutex
	ready      []readyCheck
	decorators []func(*fiber.Ctx, *Page)
	nav        []NavItem

	problemRules  []ProblemRule
	problemSchema *huma.Schema
}

type readyCheck struct {
	name string
	fn   func(context.Context) error
	// detail checks report without deciding readiness.
	detail bool
}

// New builds a server with its middleware in place and no routes but the
// built-in ones (health, readiness, metrics, static assets, API docs).
func New(cfg config.Config, log *slog.Logger, build BuildInfo) (*Server, error) {
	s := &Server{log: log, cfg: cfg, views: newViews(), catalog: i18n.NewCatalog()}
	if err := s.AddTranslations(coreTranslations()); err != nil {
		return nil, err
	}
	if err := s.AddTranslations(chart.Translations()); err != nil {
		return nil, err
	}
	if err := s.views.Add("", coreTemplates()); err != nil {
		return nil, err
	}
	s.App = fiber.New(fiber.Config{
		AppName:                 "PortalKit",
		DisableStartupMessage:   true,
		Immutable:               true, // values read from a request stay valid after it
		BodyLimit:               cfg.HTTP.BodyLimit,
		ReadTimeout:             cfg.HTTP.ReadTimeout,
		WriteTimeout:            cfg.HTTP.WriteTimeout,
		IdleTimeout:             2 * time.Minute,
		ErrorHandler:            s.handleError,
		ProxyHeader:             proxyHeader(cfg.HTTP),
		EnableTrustedProxyCheck: true,
		TrustedProxies:          cfg.HTTP.TrustedProxies,
		ReadBufferSize:          16 << 10,
		// A connection gives its read and write buffers back between
		// requests: an idle keep-alive connection, and a live stream (which
		// takes its connection over), then holds none of them
		// (docs/PERFORMANCE.md, "Live streams").
		ReduceMemoryUsage: true,
	})
	s.metrics = newMetrics()

	s.App.Use(s.requestContext, s.metrics.middleware, s.logRequests, s.recoverPanics, securityHeaders)

	hcfg := huma.Config{
		OpenAPI: &huma.OpenAPI{
			OpenAPI: "3.1.0",
			Info: &huma.Info{
				Title:       "PortalKit API",
				Version:     build.Version,
				Description: "JSON API of a PortalKit customer portal. Errors are RFC 9457 problem details (application/problem+json).",
			},
			Components: &huma.Components{Schemas: huma.NewMapRegistry("#/components/schemas/", SchemaName)},
		},
		OpenAPIPath:   "/api/openapi",
		SchemasPath:   "/api/schemas",
		Formats:       huma.DefaultFormats,
		DefaultFormat: "application/json",
	}
	hcfg.OpenAPI.OnAddOperation = append(hcfg.OpenAPI.OnAddOperation, s.operations.add)
	if u := PublicURL(cfg.HTTP); u != "" {
		hcfg.Servers = []*huma.Server{{URL: u, Description: "This portal (http.base_url)"}}
	}
	s.API = humafiber.New(s.App, hcfg)
	s.problemSchema = problemSchemaRef(hcfg.Components.Schemas)
	s.API.OpenAPI().OnAddOperation = append(s.API.OpenAPI().OnAddOperation, s.documentOperation, boundIntegers)
	s.API.UseMiddleware(deprecationHeaders)

	s.routes()
	return s, nil
}

// PublicURL is the portal's public URL: http.base_url, else http://addr;
// it is the OpenAPI document's server.
func PublicURL(h config.HTTP) string {
	if h.BaseURL != "" {
		return strings.TrimRight(h.BaseURL, "/")
	}
	if h.Addr != "" {
		return "http://" + h.Addr
	}
	return ""
}

func proxyHeader(h config.HTTP) string {
	if len(h.TrustedProxies) == 0 {
		return "" // no proxy trusted: the client IP is the socket peer
	}
	return h.ProxyHeader
}

// Logger returns the server's logger.
func (s *Server) Logger() *slog.Logger { return s.log }

// Config returns the configuration the server was built with.
func (s *Server) Config() config.Config { return s.cfg }

// Metrics returns the Prometheus metrics of the server.
func (s *Server) Metrics() *Metrics { return s.metrics }

// AddTemplates adds the page templates in fsys under prefix ("" for core,
// a module ID for a module). Each page is addressed as "<prefix>/<file>"
// without the .html extension.
func (s *Server) AddTemplates(prefix string, fsys ...any) error {
	for _, f := range fsys {
		if err := s.views.Add(prefix, f); err != nil {
			return err
		}
	}
	return nil
}

// AddTranslations loads "<locale>.json" translation files from fsys.
func (s *Server) AddTranslations(fsys fs.FS) error { return s.catalog.Load(fsys) }

// AddTranslationsFor loads owner's translations (a module or core service:
// the prefix of its templates); see i18n.Catalog.LoadFor.
func (s *Server) AddTranslationsFor(owner string, fsys fs.FS) error {
	return s.catalog.LoadFor(owner, fsys)
}

// Catalog returns the server's translations (for text built in Go code).
func (s *Server) Catalog() *i18n.Catalog { return s.catalog }

// BuildTemplates parses every added template with the layout. It fails,
// naming the file, on a syntax error.
func (s *Server) BuildTemplates() error { return s.views.Build() }

// HasTemplate reports whether page template name exists (after
// BuildTemplates).
func (s *Server) HasTemplate(name string) bool { return s.views.Has(name) }

// AddReadyCheck adds a dependency to /readyz.
func (s *Server) AddReadyCheck(name string, fn func(context.Context) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ready = append(s.ready, readyCheck{name: name, fn: fn})
}

// AddReadyDetail adds to /readyz a check that reports without failing
// readiness ("failing: ..." instead of "ok"): a part of the portal that is
// degraded while the portal still serves, such as a notification channel
// whose server is down while the outbox keeps what it cannot deliver.
func (s *Server) AddReadyDetail(name string, fn func(context.Context) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ready = append(s.ready, readyCheck{name: name, fn: fn, detail: true})
}

// Decorate adds fn to the functions that fill in every page's layout data
// (the signed-in user, the organisation's branding, the navigation).
func (s *Server) Decorate(fn func(*fiber.Ctx, *Page)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.decorators = append(s.decorators, fn)
}

// AddNav adds navigation entries.
func (s *Server) AddNav(items ...NavItem) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nav = append(s.nav, items...)
}

// Nav returns every navigation entry.
func (s *Server) Nav() []NavItem {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]NavItem(nil), s.nav...)
}

// Listen opens the server's listening socket. It is separate from Serve so
// that a port in use is found before anything is written.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Err != nil {
			return nil, fmt.Errorf("cannot listen on %s: %v", addr, unwrapSyscall(op.Err))
		}
		return nil, fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	return ln, nil
}

// ListenTLS serves HTTPS on ln with the PEM certificate chain and private
// key in certFile and keyFile (http.tls_cert, http.tls_key).
func ListenTLS(ln net.Listener, certFile, keyFile string) (net.Listener, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("http.tls_cert, http.tls_key: cannot load %s and %s: %v", certFile, keyFile, err)
	}
	return tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}), nil
}

func unwrapSyscall(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// Serve serves HTTP on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.App.Listener(ln) }

// Shutdown stops accepting connections and waits up to timeout for
// in-flight requests to finish.
func (s *Server) Shutdown(timeout time.Duration) error {
	return s.App.ShutdownWithTimeout(timeout)
}
