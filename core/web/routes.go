package web

import (
	"context"
	"io/fs"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
)

func (s *Server) routes() {
	s.App.Get("/healthz", func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"status": "ok"})
	})
	s.App.Get("/readyz", s.readyz)
	s.App.Get("/metrics", s.metrics.handler())
	static, _ := fs.Sub(staticFS, "static")
	s.App.Use("/static", filesystem.New(filesystem.Config{
		Root:   httpFS(static),
		MaxAge: 3600,
	}))
	s.App.Get("/api/docs", s.apiDocs)
	// Browsers ask for /favicon.ico on pages that name no icon (JSON, text).
	s.App.Get("/favicon.ico", func(c *fiber.Ctx) error {
		b, err := fs.ReadFile(static, "favicon.svg")
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
		c.Type("svg")
		return c.Send(b)
	})
}

// readyz answers 200 when every dependency answers, 503 naming the ones that
// do not; detail checks (AddReadyDetail) only add what is failing.
func (s *Server) readyz(c *fiber.Ctx) error {
	s.mu.RLock()
	checks := append([]readyCheck(nil), s.ready...)
	s.mu.RUnlock()
	ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
	defer cancel()
	result := fiber.Map{}
	ok := true
	for _, ch := range checks {
		if err := ch.fn(ctx); err != nil && ch.detail {
			result[ch.name] = "failing: " + err.Error()
		} else if err != nil {
			ok = false
			result[ch.name] = "down: " + err.Error()
			s.log.Warn("readiness check failed", "check", ch.name, "err", err)
		} else {
			result[ch.name] = "ok"
		}
	}
	status := "ready"
	if !ok {
		status = "not ready"
		c.Status(fiber.StatusServiceUnavailable)
	}
	return c.JSON(fiber.Map{"status": status, "checks": result})
}
