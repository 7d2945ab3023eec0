package config

import (
	"errors"
	"fmt"
	"time"
)

// Live configures core/live: the one live stream (Server-Sent Events) every
// page and app holds, and the recent history a reconnecting stream replays.
type Live struct {
	// Heartbeat is how often an idle stream sends a comment line, so that
	// proxies with an idle timeout keep it open and dead clients are noticed.
	Heartbeat time.Duration `yaml:"heartbeat"`
	// Retry is the reconnect delay the stream asks clients for (`retry:`).
	Retry time.Duration `yaml:"retry"`
	// MaxLifetime ends a stream after this long, give or take a fifth
	// (jitter), so that connections spread over the instances again after a
	// rolling deploy; the client reconnects with Last-Event-ID and misses
	// nothing. 0 keeps streams open for as long as the client stays.
	MaxLifetime time.Duration `yaml:"max_lifetime"`
	// History is how long live events are kept for replay to reconnecting
	// streams; a stream that was away longer gets a `reset` event.
	History time.Duration `yaml:"history"`
	// MaxReplay bounds the events a reconnecting stream replays; a stream
	// that missed more gets a `reset` event and the page refetches.
	MaxReplay int `yaml:"max_replay"`
	// MaxStreamsPerUser bounds the streams one person holds on one instance
	// (a browser holds one, shared by its tabs); more are refused with 429.
	MaxStreamsPerUser int `yaml:"max_streams_per_user"`
	// TailInterval is how often the SQLite instance looks for committed
	// live events (PostgreSQL is told on commit through LISTEN/NOTIFY).
	TailInterval time.Duration `yaml:"tail_interval"`
}

// DefaultLive returns the live-stream defaults.
func DefaultLive() Live {
	return Live{
		Heartbeat:         25 * time.Second,
		Retry:             3 * time.Second,
		MaxLifetime:       30 * time.Minute,
		History:           24 * time.Hour,
		MaxReplay:         500,
		MaxStreamsPerUser: 16,
		TailInterval:      20 * time.Millisecond,
	}
}

// Validate checks the live section, naming the key.
func (l Live) Validate() error {
	switch {
	case l.Heartbeat <= 0 || l.Heartbeat > 5*time.Minute:
		return fmt.Errorf("config: live.heartbeat: %v is not between 0 and 5m (proxies cut idle streams after about 60s)", l.Heartbeat)
	case l.Retry < 100*time.Millisecond || l.Retry > time.Minute:
		return fmt.Errorf("config: live.retry: %v is not between 100ms and 1m", l.Retry)
	case l.MaxLifetime != 0 && l.MaxLifetime < time.Minute:
		return fmt.Errorf("config: live.max_lifetime: %v is shorter than 1m (0 turns it off)", l.MaxLifetime)
	case l.History < time.Minute:
		return fmt.Errorf("config: live.history: %v is shorter than 1m", l.History)
	case l.MaxReplay < 1 || l.MaxReplay > 10000:
		return errors.New("config: live.max_replay: must be between 1 and 10000")
	case l.MaxStreamsPerUser < 1:
		return errors.New("config: live.max_streams_per_user: must be at least 1")
	case l.TailInterval <= 0 || l.TailInterval > 5*time.Second:
		return fmt.Errorf("config: live.tail_interval: %v is not between 0 and 5s", l.TailInterval)
	}
	return nil
}
