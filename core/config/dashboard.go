package config

import (
	"errors"
	"time"
)

// Dashboard configures the dashboard service (core/dashboard).
type Dashboard struct {
	// WidgetTimeout bounds one widget's data function; a slower widget
	// shows an error card instead of holding up the page.
	WidgetTimeout time.Duration `yaml:"widget_timeout"`
}

func defaultDashboard() Dashboard { return Dashboard{WidgetTimeout: 3 * time.Second} }

func (d Dashboard) validate() error {
	if d.WidgetTimeout <= 0 || d.WidgetTimeout > time.Minute {
		return errors.New("config: dashboard.widget_timeout: must be positive and at most 1m")
	}
	return nil
}
