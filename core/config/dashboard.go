package config

import (
	"errors"
	"fmt"
	"time"
)

// Dashboard configures the dashboard service (core/dashboard).
type Dashboard struct {
	// WidgetTimeout bounds one widget's data function; a slower widget
	// shows an error card instead of holding up the page.
	WidgetTimeout time.Duration `yaml:"widget_timeout"`
	// CacheTTL keeps each widget's data (and each person's layout) in
	// memory this long per person; 0 turns the cache off. A person's own
	// changes and events about them drop their entries at once on this
	// instance; another instance's changes show within the TTL.
	CacheTTL time.Duration `yaml:"cache_ttl"`
	// CachePeople bounds how many people's dashboards the cache holds
	// (least recently used leave first).
	CachePeople int `yaml:"cache_people"`
}

// Bounds of the dashboard cache: maxDashboardCacheTTL bounds how late a
// change made on another instance can show; maxDashboardCachePeople bounds
// its memory (the demo customer's dashboard: 5.4 KB of JSON plus the data it
// encodes).
const (
	defaultDashboardCacheTTL    = 5 * time.Second
	maxDashboardCacheTTL        = time.Minute
	defaultDashboardCachePeople = 2000
	maxDashboardCachePeople     = 100_000
)

func defaultDashboard() Dashboard {
	return Dashboard{WidgetTimeout: 3 * time.Second, CacheTTL: defaultDashboardCacheTTL, CachePeople: defaultDashboardCachePeople}
}

func (d Dashboard) validate() error {
	if d.WidgetTimeout <= 0 || d.WidgetTimeout > time.Minute {
		return errors.New("config: dashboard.widget_timeout: must be positive and at most 1m")
	}
	if d.CacheTTL < 0 || d.CacheTTL > maxDashboardCacheTTL {
		return fmt.Errorf("config: dashboard.cache_ttl: %v is not between 0 (off) and %v", d.CacheTTL, maxDashboardCacheTTL)
	}
	if d.CachePeople < 1 || d.CachePeople > maxDashboardCachePeople {
		return fmt.Errorf("config: dashboard.cache_people: %d is not between 1 and %d", d.CachePeople, maxDashboardCachePeople)
	}
	return nil
}
