package config

import (
	"fmt"
	"time"
)

// defaultPrincipalCacheTTL is how long an authenticated session is reused
// from memory by default; maxPrincipalCacheTTL bounds how long a session
// revoked on another instance can keep working on this one.
const (
	defaultPrincipalCacheTTL = 3 * time.Second
	maxPrincipalCacheTTL     = time.Minute
)

// Values of log.requests.
const (
	LogRequestsAll    = "all"    // one line per request
	LogRequestsErrors = "errors" // only requests answered 5xx, or 4xx with a logged error
	LogRequestsOff    = "off"
)

// validatePerf checks the settings that trade freshness or detail for speed.
func (c Config) validatePerf() error {
	if ttl := c.Accounts.PrincipalCacheTTL; ttl < 0 || ttl > maxPrincipalCacheTTL {
		return fmt.Errorf("config: accounts.principal_cache_ttl: %v is not between 0 (off) and %v", ttl, maxPrincipalCacheTTL)
	}
	switch c.Log.Requests {
	case LogRequestsAll, LogRequestsErrors, LogRequestsOff:
	default:
		return fmt.Errorf("config: log.requests: %q is not all, errors or off", c.Log.Requests)
	}
	return nil
}
