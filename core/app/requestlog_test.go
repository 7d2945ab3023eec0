package app_test

import (
	"strings"
	"testing"

	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/portaltest"
)

// log.requests decides which requests get a line in the log.
func TestRequestLogModes(t *testing.T) {
	for mode, want := range map[string]bool{config.LogRequestsAll: true, config.LogRequestsErrors: false, config.LogRequestsOff: false} {
		t.Run(mode, func(t *testing.T) {
			ta := portaltest.New(t, nil, func(c *config.Config) { c.Log.Requests = mode; c.Log.Level = "info" })
			r := ta.Do(t, "GET", "/api/v1/me", nil, nil)
			if r.Status != 401 {
				t.Fatalf("status %d", r.Status)
			}
			logs := ta.Logs.String()
			got := strings.Contains(logs, "msg=request") && strings.Contains(logs, "path=/api/v1/me") && strings.Contains(logs, "status=401")
			if got != want {
				t.Fatalf("mode %s: request line logged = %v, want %v\n%s", mode, got, want, logs)
			}
			if r := ta.Do(t, "GET", "/healthz", nil, nil); r.Header.Get("X-Frame-Options") != "DENY" ||
				!strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
				t.Fatalf("security headers: %v", r.Header)
			}
		})
	}
}
