package config

import (
	"strings"
	"testing"
	"time"
)

func TestDashboardCacheSettings(t *testing.T) {
	cfg, err := Load("", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Dashboard.CacheTTL != 5*time.Second || cfg.Dashboard.CachePeople != 2000 {
		t.Fatalf("defaults: ttl %v, people %d", cfg.Dashboard.CacheTTL, cfg.Dashboard.CachePeople)
	}
	cfg, err = Load("", true, []string{"PORTAL_DASHBOARD_CACHE_TTL=0s", "PORTAL_DASHBOARD_CACHE_PEOPLE=10"})
	if err != nil || cfg.Dashboard.CacheTTL != 0 || cfg.Dashboard.CachePeople != 10 {
		t.Fatalf("overrides: %v, %+v", err, cfg.Dashboard)
	}
	for env, want := range map[string]string{
		"PORTAL_DASHBOARD_CACHE_TTL=2m":        "dashboard.cache_ttl",
		"PORTAL_DASHBOARD_CACHE_TTL=-1s":       "dashboard.cache_ttl",
		"PORTAL_DASHBOARD_CACHE_PEOPLE=0":      "dashboard.cache_people",
		"PORTAL_DASHBOARD_CACHE_PEOPLE=200000": "dashboard.cache_people",
	} {
		if _, err := Load("", true, []string{env}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want it to name %s", env, err, want)
		}
	}
}
