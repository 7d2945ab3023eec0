package config

import (
	"errors"
	"time"
)

// API configures the JSON API (docs/api.md).
type API struct {
	// IdempotencyTTL is how long an Idempotency-Key and the first response
	// sent for it are kept; a retry within it gets that response again, and
	// the idempotency.purge job deletes older keys.
	IdempotencyTTL time.Duration `yaml:"idempotency_ttl"`
	// IdempotencyWait is how long a request whose key is still being
	// answered by another request waits for that answer before it gets 409.
	IdempotencyWait time.Duration `yaml:"idempotency_wait"`
}

// DefaultAPI returns the API defaults: keys kept 24 h, a concurrent retry
// waits up to 5 s.
func DefaultAPI() API { return API{IdempotencyTTL: 24 * time.Hour, IdempotencyWait: 5 * time.Second} }

// Validate checks the api section, naming the key.
func (a API) Validate() error {
	if a.IdempotencyTTL < time.Minute || a.IdempotencyTTL > 30*24*time.Hour {
		return errors.New("config: api.idempotency_ttl: must be between 1m and 720h")
	}
	if a.IdempotencyWait < 0 || a.IdempotencyWait > time.Minute {
		return errors.New("config: api.idempotency_wait: must be between 0s and 1m")
	}
	return nil
}
