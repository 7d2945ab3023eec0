package config

import (
	"errors"
	"time"
)

// Drafts configures form drafts (core/experience/drafts): how long an
// untouched draft is kept and how large one may be.
type Drafts struct {
	// TTL is how long a draft lives after its last save; expired drafts are
	// no longer offered and the drafts.purge job deletes them.
	TTL time.Duration `yaml:"ttl"`
	// MaxBytes is the largest draft (its fields as JSON) accepted; a larger
	// one is refused with 413.
	MaxBytes int `yaml:"max_bytes"`
}

// DefaultDrafts returns the drafts defaults: 30 days, 64 KiB.
func DefaultDrafts() Drafts { return Drafts{TTL: 720 * time.Hour, MaxBytes: 64 << 10} }

// Validate checks the drafts section, naming the key.
func (d Drafts) Validate() error {
	if d.TTL < time.Minute {
		return errors.New("config: drafts.ttl: must be at least 1m")
	}
	if d.MaxBytes < 256 || d.MaxBytes > 1<<20 {
		return errors.New("config: drafts.max_bytes: must be between 256 and 1048576")
	}
	return nil
}

// Feedback configures in-journey surveys (core/experience/feedback).
type Feedback struct {
	// Throttle is the least time between two prompts shown to one customer;
	// asks in between wait, and the newest is shown next.
	Throttle time.Duration `yaml:"throttle"`
	// AskTTL is how long an unanswered ask stays pending before it expires.
	AskTTL time.Duration `yaml:"ask_ttl"`
}

// DefaultFeedback returns the feedback defaults: one prompt a week, asks
// kept two weeks.
func DefaultFeedback() Feedback { return Feedback{Throttle: 168 * time.Hour, AskTTL: 336 * time.Hour} }

// Validate checks the feedback section, naming the key.
func (f Feedback) Validate() error {
	if f.Throttle < 0 {
		return errors.New("config: feedback.throttle: must not be negative")
	}
	if f.AskTTL < time.Minute {
		return errors.New("config: feedback.ask_ttl: must be at least 1m")
	}
	return nil
}
