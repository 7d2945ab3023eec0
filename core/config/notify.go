package config

import (
	"errors"
	"fmt"
	"net/mail"
	"time"
)

// Notify configures core/notify: the outbox dispatcher, retries, and the
// SMTP server emails go through. With no smtp.host, emails are kept in the
// development mailbox (an admin page) instead of being sent.
type Notify struct {
	// Workers is how many dispatcher workers claim outbox rows in this
	// instance (0 disables dispatch here: another instance delivers).
	Workers int `yaml:"workers"`
	// BatchSize is how many outbox rows a worker claims at once.
	BatchSize int `yaml:"batch_size"`
	// PollInterval is how often an idle worker looks for due rows.
	PollInterval time.Duration `yaml:"poll_interval"`
	// Lease is how long a claimed row is hidden from other workers; a row
	// whose worker died is retried after it.
	Lease time.Duration `yaml:"lease"`
	// MaxAttempts is how many deliveries are tried before the row becomes a
	// dead letter.
	MaxAttempts int `yaml:"max_attempts"`
	// RetryBase and RetryMax bound the exponential backoff between attempts.
	RetryBase time.Duration `yaml:"retry_base"`
	RetryMax  time.Duration `yaml:"retry_max"`
	// WebhookTimeout bounds one webhook request.
	WebhookTimeout time.Duration `yaml:"webhook_timeout"`
	// Retention is how long delivered outbox rows are kept.
	Retention time.Duration `yaml:"retention"`

	SMTP SMTP `yaml:"smtp"`
}

// SMTP is the outgoing mail server.
type SMTP struct {
	// Host is the SMTP server; empty keeps emails in the dev mailbox.
	Host string `yaml:"host"`
	Port int    `yaml:"port"`
	// Username and Password authenticate (PLAIN/LOGIN, chosen by the
	// server's offer); empty Username means no authentication.
	Username string `yaml:"username"`
	Password string `yaml:"password" secret:"true"`
	// From is the sender address, e.g. "Portal <no-reply@example.com>".
	From string `yaml:"from"`
	// TLS is "starttls" (required STARTTLS), "opportunistic" (STARTTLS when
	// offered), "tls" (implicit TLS, usually port 465) or "none".
	TLS string `yaml:"tls"`
	// Timeout bounds connecting and each SMTP command.
	Timeout time.Duration `yaml:"timeout"`
}

// DefaultNotify returns the notify defaults.
func DefaultNotify() Notify {
	return Notify{
		Workers:        2,
		BatchSize:      100,
		PollInterval:   500 * time.Millisecond,
		Lease:          2 * time.Minute,
		MaxAttempts:    8,
		RetryBase:      5 * time.Second,
		RetryMax:       1 * time.Hour,
		WebhookTimeout: 10 * time.Second,
		Retention:      7 * 24 * time.Hour,
		SMTP: SMTP{
			Port:    587,
			From:    "PortalKit <no-reply@localhost>",
			TLS:     "starttls",
			Timeout: 15 * time.Second,
		},
	}
}

// Validate checks the notify section, naming the key.
func (n Notify) Validate() error {
	switch {
	case n.Workers < 0:
		return errors.New("config: notify.workers: must not be negative")
	case n.BatchSize < 1 || n.BatchSize > 1000:
		return errors.New("config: notify.batch_size: must be between 1 and 1000")
	case n.PollInterval <= 0:
		return errors.New("config: notify.poll_interval: must be positive")
	case n.Lease < time.Second:
		return errors.New("config: notify.lease: must be at least 1s")
	case n.MaxAttempts < 1:
		return errors.New("config: notify.max_attempts: must be at least 1")
	case n.RetryBase <= 0 || n.RetryMax < n.RetryBase:
		return errors.New("config: notify.retry_base, notify.retry_max: want 0 < retry_base <= retry_max")
	case n.WebhookTimeout <= 0:
		return errors.New("config: notify.webhook_timeout: must be positive")
	case n.Retention <= 0:
		return errors.New("config: notify.retention: must be positive")
	}
	s := n.SMTP
	if s.Port < 1 || s.Port > 65535 {
		return fmt.Errorf("config: notify.smtp.port: %d is not a TCP port", s.Port)
	}
	switch s.TLS {
	case "starttls", "opportunistic", "tls", "none":
	default:
		return fmt.Errorf("config: notify.smtp.tls: %q is not starttls, opportunistic, tls or none", s.TLS)
	}
	if _, err := mail.ParseAddress(s.From); err != nil {
		return fmt.Errorf("config: notify.smtp.from: %q is not an email address", s.From)
	}
	if s.Timeout <= 0 {
		return errors.New("config: notify.smtp.timeout: must be positive")
	}
	return nil
}
