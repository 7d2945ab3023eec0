package config

import (
	"strings"
	"testing"
	"time"
)

func TestPerfSettings(t *testing.T) {
	cfg, err := Load("", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Accounts.PrincipalCacheTTL != 3*time.Second || cfg.Log.Requests != LogRequestsAll {
		t.Fatalf("defaults: ttl %v, requests %q", cfg.Accounts.PrincipalCacheTTL, cfg.Log.Requests)
	}
	cfg, err = Load("", true, []string{"PORTAL_ACCOUNTS_PRINCIPAL_CACHE_TTL=0s", "PORTAL_LOG_REQUESTS=errors"})
	if err != nil || cfg.Accounts.PrincipalCacheTTL != 0 || cfg.Log.Requests != LogRequestsErrors {
		t.Fatalf("overrides: %v, %+v", err, cfg)
	}
	for env, want := range map[string]string{
		"PORTAL_ACCOUNTS_PRINCIPAL_CACHE_TTL=2m":  "accounts.principal_cache_ttl",
		"PORTAL_ACCOUNTS_PRINCIPAL_CACHE_TTL=-1s": "accounts.principal_cache_ttl",
		"PORTAL_LOG_REQUESTS=some":                "log.requests",
	} {
		if _, err := Load("", true, []string{env}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want it to name %s", env, err, want)
		}
	}
}
