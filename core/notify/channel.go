package notify

import (
	"context"
	"errors"
)

// Channel delivers notifications one way: in-app, email, webhook, or a
// channel a module adds (SMS, push). Deliver is called by the dispatcher,
// at least once per delivery: it must use d.Key as the idempotency key with
// its provider so a repeat after a lost acknowledgement is dropped there.
// Return a Permanent error for failures no retry can fix; any other error is
// retried with backoff.
type Channel interface {
	// Name is the channel's stable ID ("sms"), stored in outbox rows and
	// preferences.
	Name() string
	// Deliver delivers one notification to one recipient.
	Deliver(ctx context.Context, d *Delivery) error
}

// BatchChannel is an optional interface for channels that deliver many
// notifications more cheaply together (one SMTP session for a batch). The
// returned slice has one error (or nil) per delivery.
type BatchChannel interface {
	Channel
	DeliverBatch(ctx context.Context, ds []*Delivery) []error
}

// Delivery is one outbox row being delivered.
type Delivery struct {
	// OutboxID identifies the outbox row.
	OutboxID uint
	// Key is the idempotency key, the same on every attempt.
	Key string
	// Attempt counts from 1.
	Attempt int
	// Notification is the stored notification.
	Notification *Record
	// Data is the notification's data.
	Data map[string]any
	// Recipient is the user it goes to (empty for webhooks).
	Recipient Recipient
	// Message is the notification rendered for the recipient's locale
	// (HTML only for email).
	Message Message
	// Attachments are the notification's files (email only).
	Attachments []Attachment
	// EndpointID is the webhook endpoint (webhooks only).
	EndpointID uint
}

// permanent marks an error no retry can fix.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps err so the dispatcher makes the delivery a dead letter at
// once instead of retrying it.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err was wrapped by Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}
