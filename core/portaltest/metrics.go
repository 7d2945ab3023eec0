package portaltest

import (
	"net/http"
	"regexp"
	"strconv"
	"testing"
)

// Metric reads one series from the app's /metrics, named as Prometheus
// prints it (`portal_devices_connected`,
// `portal_notify_waiting{channel="email"}`); the test fails when it is
// missing.
func (ta *TestApp) Metric(t testing.TB, series string) float64 {
	t.Helper()
	res := ta.Do(t, http.MethodGet, "/metrics", nil, nil)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(res.Body)
	if res.Status != 200 || m == nil {
		t.Fatalf("/metrics lacks %s: %d", series, res.Status)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("/metrics: %s: %v", series, err)
	}
	return v
}
