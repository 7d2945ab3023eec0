package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/config"
)

// Locals keys set by the server's middleware.
const (
	localRequestID = "portal.request_id"
	localServer    = "portal.server"
	// localCause holds a server error's cause for the request's log line;
	// localLogged says logRequests will write that line.
	localCause  = "portal.cause"
	localLogged = "portal.logged"
	// HeaderRequestID carries the request ID in both directions.
	HeaderRequestID = "X-Request-ID"
)

// RequestID returns the ID of the request c.
func RequestID(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}

// RequestIDFrom returns the request ID inside an API handler, whose context
// carries the request's locals.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(localRequestID).(string)
	return id
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// validIncomingID accepts a caller's request ID only if it is short and
// plain, so that logs cannot be forged through it.
func validIncomingID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func (s *Server) requestContext(c *fiber.Ctx) error {
	id := c.Get(HeaderRequestID)
	if !validIncomingID(id) {
		id = newRequestID()
	}
	c.Locals(localRequestID, id)
	c.Locals(localServer, s)
	c.Set(HeaderRequestID, id)
	return c.Next()
}

// recoverPanics turns a panic in a handler into a 500 with the request ID,
// logging the stack.
func (s *Server) recoverPanics(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic in handler", "request_id", RequestID(c), "method", c.Method(), "path", c.Path(),
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return c.Next()
}

// logRequests writes one line per request: every request (log.requests
// all), or only those that failed on our side. A server error's line
// carries its cause (noteCause), so a failure is one line, not one per
// layer; a 503 because the database does not answer is a warning, and the
// probes' own paths (/readyz) stay at debug whatever they answer.
func (s *Server) logRequests(c *fiber.Ctx) error {
	start := time.Now()
	c.Locals(localLogged, true)
	err := c.Next()
	if err != nil {
		// Let the error handler write the response now, so the status we log
		// is the one the client gets.
		if herr := s.handleError(c, err); herr != nil {
			s.log.Error("error handler failed", "request_id", RequestID(c), "err", herr)
		}
		err = nil
	}
	status := c.Response().StatusCode()
	level := slog.LevelInfo
	switch {
	case quietPath(c.Path()):
		level = slog.LevelDebug
	case status == fiber.StatusServiceUnavailable:
		level = slog.LevelWarn
	case status >= 500:
		level = slog.LevelError
	case s.cfg.Log.Requests != config.LogRequestsAll:
		return err
	}
	if s.cfg.Log.Requests == config.LogRequestsOff && level < slog.LevelWarn {
		return err
	}
	ctx := c.UserContext()
	if !s.log.Enabled(ctx, level) {
		return err
	}
	// LogAttrs with typed attributes: no boxing of each value into an any.
	attrs := []slog.Attr{
		slog.String("request_id", RequestID(c)), slog.String("method", c.Method()), slog.String("path", c.Path()),
		slog.String("route", routeOf(c)), slog.Int("status", status),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000), slog.String("ip", c.IP()),
	}
	if cause, ok := c.Locals(localCause).(error); ok && cause != nil {
		attrs = append(attrs, slog.String("err", cause.Error()))
	}
	s.log.LogAttrs(ctx, level, "request", attrs...)
	return err
}

// quietPath reports whether requests to path are logged at debug level only.
func quietPath(path string) bool {
	return strings.HasPrefix(path, "/static/") || path == "/healthz" || path == "/readyz" || path == "/metrics"
}

// securityHeaderValues are the headers every response carries, as bytes
// prepared once. The CSP allows no inline script and no third-party
// origin: the portal works offline.
var securityHeaderValues = [][2][]byte{
	{[]byte("X-Content-Type-Options"), []byte("nosniff")},
	{[]byte("X-Frame-Options"), []byte("DENY")},
	{[]byte("Referrer-Policy"), []byte("same-origin")},
	{[]byte("Cross-Origin-Opener-Policy"), []byte("same-origin")},
	{[]byte("Permissions-Policy"), []byte("camera=(), microphone=(), geolocation=()")},
	{[]byte("Content-Security-Policy"), []byte("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")},
}

var (
	hstsKey         = []byte("Strict-Transport-Security")
	hstsValue       = []byte("max-age=31536000; includeSubDomains")
	cacheControlKey = []byte(fiber.HeaderCacheControl)
	noStore         = []byte("no-store")
)

// securityHeaders sets the headers every response carries.
func securityHeaders(c *fiber.Ctx) error {
	h := &c.Response().Header
	for _, kv := range securityHeaderValues {
		h.SetCanonical(kv[0], kv[1])
	}
	if c.Protocol() == "https" {
		h.SetCanonical(hstsKey, hstsValue)
	}
	// No API answer is kept by a browser or proxy: they are a person's or
	// an organisation's data (a handler may still choose otherwise).
	if strings.HasPrefix(c.Path(), "/api/") {
		h.SetCanonical(cacheControlKey, noStore)
	}
	return c.Next()
}

// routeOf returns the route pattern that matched c, for metrics and logs;
// "unmatched" when no route did, so random paths cannot blow up label sets.
func routeOf(c *fiber.Ctx) string {
	r := c.Route()
	if r == nil || r.Path == "" || (r.Path == "/" && c.Path() != "/") {
		return "unmatched"
	}
	return r.Path
}
