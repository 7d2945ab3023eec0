// Package notify delivers notifications on every channel without losing or
// repeating them. A module declares notification kinds (ID, default
// channels, templates per locale); Send writes the in-app notification and
// one outbox row per enabled channel inside the caller's transaction; the
// Dispatcher claims due outbox rows, delivers them (in-app live push, email,
// webhooks, or any Channel a module adds), and retries failures with
// exponential backoff until they succeed or become dead letters an admin can
// retry. Users choose channels per kind, quiet hours and a daily digest.
//
// Delivery is at least once; every send carries an idempotency key (the
// email Message-ID, a webhook header) so receivers can drop repeats.
//
// notify imports accounts (the caller of a request and the policy layer),
// config, errs, events, i18n, store and web; never module or app. accounts
// never imports notify: the kernel connects the two (core/app).
package notify

import (
	"context"
	"errors"
	"fmt"
	"golang.org/x/time/rate"
	"io/fs"
	"log/slog"
	"regexp"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/i18n"
	"github.com/portalkit/portalkit/core/live"
	"github.com/portalkit/portalkit/core/store"
)

// EventDelivered is published once per notification delivered to a person
// on one channel, in the transaction that marks the delivery done, with
// SubjectID the recipient and the channel in the timeline summary.
const EventDelivered = "notify.delivered"

// Built-in channel names.
const (
	ChannelInApp   = "inapp"
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
)

// Core kinds declared by the service itself.
const (
	// KindTest is a notification a user sends themselves from the
	// preferences page to see how each channel looks.
	KindTest = "notify.test"
	// KindDigest is the daily digest email.
	KindDigest = "notify.digest"
)

// Kind is a type of notification a module sends.
type Kind struct {
	// ID is "<module id>.<name>", e.g. "banking.monthly_report".
	ID string
	// Title names the kind on the preferences page ("Monthly report").
	Title string
	// DefaultChannels are the channels used until the user changes them,
	// e.g. {"inapp", "email"}.
	DefaultChannels []string
	// Mutable says whether a user may switch channels of this kind off.
	// Security notices are not mutable.
	Mutable bool
	// Urgent notifications ignore quiet hours and the digest.
	Urgent bool
	// Templates holds "<kind id>.<locale>.subject", ".txt" and ".html" for
	// every locale; "en" and "it" are required. The subject and text body
	// are text/template, the HTML body html/template. Templates see
	// .Data (the notification's data), .Recipient, .BaseURL and .Notification,
	// and format dates with .Date and .DateTime (the recipient's language and
	// time zone).
	Templates fs.FS
}

// Attachment is a file sent with the email of a notification.
type Attachment struct {
	Name        string
	ContentType string
	Content     []byte
}

// Notification is one message to one user.
type Notification struct {
	OrgID  uint
	UserID uint
	// Kind is a declared kind ID.
	Kind string
	// Data is what the templates render; it must marshal to JSON.
	Data map[string]any
	// DedupeKey makes Send idempotent: a second notification with the same
	// key for the same user is dropped. Use something derived from what
	// causes it ("monthly_report:2025-05"). Empty means no deduplication.
	DedupeKey string
	// Attachments go with the email (e.g. a PDF report).
	Attachments []Attachment
}

// Recipient is what notify needs to know about a user.
type Recipient struct {
	Email string
	Name  string
	// Locale is a BCP 47 tag ("it", "en-GB"); templates fall back to the
	// language, then to English.
	Locale string
	// TimeZone is an IANA name ("Europe/Rome"); quiet hours use it.
	TimeZone string
}

// Directory resolves users to recipients. The accounts service implements it.
type Directory interface {
	// Recipient returns the user's address, name, locale and time zone.
	// db is the caller's transaction when called from Send (so a user created
	// in the same transaction is found) and the plain store otherwise. An
	// unknown user is an error wrapping ErrNoRecipient.
	Recipient(ctx context.Context, db *gorm.DB, orgID, userID uint) (Recipient, error)
}

// BulkDirectory is a Directory that also resolves many users of one
// organisation in one go; Send uses it when the directory has it, so a
// batch of N notifications costs a few queries instead of N.
type BulkDirectory interface {
	Directory
	// Recipients returns the users found among userIDs; a user missing
	// from the map is unknown.
	Recipients(ctx context.Context, db *gorm.DB, orgID uint, userIDs []uint) (map[uint]Recipient, error)
}

// ErrNoRecipient is wrapped by Directory errors for unknown users.
var ErrNoRecipient = errors.New("notify: no such recipient")

// Options builds a Service.
type Options struct {
	Config    config.Config
	Store     *store.Store
	Log       *slog.Logger
	Directory Directory
	// Now is the clock; time.Now when nil. Tests move it.
	Now func() time.Time
	// Mailer sends email. When nil: SMTP if notify.smtp.host is set, else the
	// development mailbox.
	Mailer Mailer
	// HTTPClient sends webhooks; a client with notify.webhook_timeout when nil.
	HTTPClient HTTPDoer
	// Instance names this process in claims and logs; the hostname and PID
	// when empty.
	Instance string
	// Events receives EventDelivered for every delivery to a person, in the
	// transaction that marks it done (the customer timeline listens).
	Events *events.Bus
}

// Service is the notification service of one app instance.
type Service struct {
	// dispatchErrs limits "dispatch failed" to a line every
	// dispatchErrEvery whatever the number of workers and polls, and
	// dispatchFails counts the failures each line stands for.
	dispatchErrs  rate.Sometimes
	dispatchFails atomic.Int64
	// health counts deliveries per channel and tracks failing channels.
	health channelHealth

	cfg    config.Notify
	base   string
	st     *store.Store
	log    *slog.Logger
	dir    Directory
	now    func() time.Time
	mailer Mailer
	http   HTTPDoer
	inst   string
	live   *live.Service
	bus    *events.Bus

	mu       sync.RWMutex
	kinds    map[string]*kindEntry
	channels map[string]Channel
	declErrs []error
	devMail  bool
	run      *runState
	wake     chan struct{}
	catalog  *i18n.Catalog
}

// SetCatalog gives e-mail templates the portal's translations ({{.T ...}}).
func (s *Service) SetCatalog(c *i18n.Catalog) { s.catalog = c }

// New builds the service and declares the core kinds and channels.
func New(opts Options) (*Service, error) {
	if opts.Store == nil {
		return nil, errors.New("notify: no store")
	}
	s := &Service{
		dispatchErrs: rate.Sometimes{First: 1, Interval: dispatchErrEvery},
		cfg:          opts.Config.Notify,
		base:         opts.Config.HTTP.BaseURL,
		st:           opts.Store,
		log:          opts.Log,
		dir:          opts.Directory,
		now:          opts.Now,
		mailer:       opts.Mailer,
		http:         opts.HTTPClient,
		inst:         opts.Instance,
		bus:          opts.Events,
		kinds:        map[string]*kindEntry{},
		channels:     map[string]Channel{},
		wake:         make(chan struct{}, 1),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("service", "notify")
	if s.now == nil {
		s.now = time.Now
	}
	if s.inst == "" {
		s.inst = defaultInstance()
	}
	if s.http == nil {
		s.http = newHTTPClient(s.cfg.WebhookTimeout)
	}
	if s.mailer == nil {
		if s.cfg.SMTP.Host != "" {
			m, err := NewSMTPMailer(s.cfg.SMTP)
			if err != nil {
				return nil, err
			}
			s.mailer = m
		} else {
			s.mailer = &devMailbox{s: s}
			s.devMail = true
		}
	}
	for _, ch := range []Channel{&inAppChannel{s: s}, &emailChannel{s: s}, &webhookChannel{s: s}} {
		s.channels[ch.Name()] = ch
	}
	for _, k := range coreKinds() {
		s.Declare("notify", k)
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// SetDirectory sets the recipient directory (the accounts service), for
// wiring that builds notify before accounts.
func (s *Service) SetDirectory(d Directory) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dir = d
}

// SetClock replaces the service's clock, as accounts.Service.SetClock does:
// tests move it to check quiet hours and the digest. Call it before Start.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) directory() (Directory, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.dir == nil {
		return nil, errors.New("notify: no recipient directory configured")
	}
	return s.dir, nil
}

// SetLive connects the live stream (core/live): in-app notifications and
// unread counts are appended to it in the sending transaction. Without it
// nothing is pushed live.
func (s *Service) SetLive(l *live.Service) { s.live = l }

// DevMailbox reports whether emails are kept in the development mailbox
// instead of being sent.
func (s *Service) DevMailbox() bool { return s.devMail }

// Declare registers a kind for module owner. Problems are collected and
// reported by Err, so a module's Init needs no error handling for it.
func (s *Service) Declare(owner string, k Kind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := compileKind(owner, k)
	if err == nil {
		if _, dup := s.kinds[k.ID]; dup {
			err = fmt.Errorf("notify: kind %q is declared twice", k.ID)
		}
	}
	if err != nil {
		s.declErrs = append(s.declErrs, err)
		return
	}
	s.kinds[k.ID] = e
}

// AddChannel registers a delivery channel (SMS, push, ...). Its name must be
// unique; users then switch it on per kind on the preferences page.
func (s *Service) AddChannel(ch Channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := ch.Name()
	if !channelPattern.MatchString(name) {
		s.declErrs = append(s.declErrs, fmt.Errorf("notify: channel name %q: want 2-32 lowercase letters, digits or _", name))
		return
	}
	if _, dup := s.channels[name]; dup {
		s.declErrs = append(s.declErrs, fmt.Errorf("notify: channel %q is added twice", name))
		return
	}
	s.channels[name] = ch
}

var channelPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{1,31}$`)

// Err returns the problems found in declarations so far (kinds whose
// templates are missing or broken, unknown default channels, duplicates).
func (s *Service) Err() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	errs := append([]error(nil), s.declErrs...)
	for _, k := range s.kinds {
		for _, ch := range k.DefaultChannels {
			if _, ok := s.channels[ch]; !ok || ch == ChannelWebhook {
				errs = append(errs, fmt.Errorf("notify: kind %q: default channel %q is not a user channel", k.ID, ch))
			}
		}
	}
	return errors.Join(errs...)
}

// Kinds returns the declared kinds, sorted by ID.
func (s *Service) Kinds() []Kind {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Kind, 0, len(s.kinds))
	for _, k := range s.kinds {
		out = append(out, k.Kind)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Service) kind(id string) (*kindEntry, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.kinds[id]
	return k, ok
}

func (s *Service) channel(name string) (Channel, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.channels[name]
	return c, ok
}

// userChannels are the channels a user can switch per kind: every channel
// but webhooks, which belong to the organisation.
func (s *Service) userChannels() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for name := range s.channels {
		if name != ChannelWebhook {
			out = append(out, name)
		}
	}
	sort.Slice(out, func(i, j int) bool { return channelOrder(out[i]) < channelOrder(out[j]) })
	return out
}

func channelOrder(name string) string {
	switch name {
	case ChannelInApp:
		return "0"
	case ChannelEmail:
		return "1"
	}
	return "2" + name
}
