package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
)

// While the database does not answer (here: the users table locked by
// another connection until statements time out), a request that needs it
// answers 503 with Retry-After as docs/api.md lists — it used to answer 500
// — and the failure is one log line, not one per layer.
func TestDatabaseOutageAnswers503(t *testing.T) {
	ta := portaltest.New(t, nil, portaltest.WithConfig(func(c *config.Config) {
		c.Database.StatementTimeout = 300 * time.Millisecond
		c.Database.BusyTimeout = 300 * time.Millisecond
	}))
	h := ta.As(t, "acme", "carla@acme.example", accounts.Customer)
	obs, err := store.Open(context.Background(), ta.Config, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close()

	release := portaltest.LockTable(t, obs.DB, "accounts_users")
	before := ta.Logs.Len()
	r := ta.Do(t, http.MethodPatch, "/api/v1/me", map[string]any{"name": "Carla"}, h)
	page := ta.Do(t, http.MethodGet, "/account", nil, map[string]string{"Cookie": h["Cookie"], "Accept": "text/html"})
	release()
	logs := ta.Logs.String()[before:]

	if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") != "5" ||
		!strings.Contains(r.Body, `"type":"https://portalkit.dev/problems/unavailable"`) {
		t.Fatalf("API during the outage: %d Retry-After %q %s; want a 503 unavailable problem with Retry-After 5",
			r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	var lines []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "status=503") {
		t.Errorf("the failed request logged %d warning/error lines, want one:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if page.Status == http.StatusInternalServerError {
		t.Errorf("a page during the outage answered 500: %s", page.Body)
	}

	// Back: the same request succeeds.
	if r := ta.Do(t, http.MethodPatch, "/api/v1/me", map[string]any{"name": "Carla"}, h); r.Status != http.StatusOK {
		t.Fatalf("after the outage: %d %s", r.Status, r.Body)
	}
}
