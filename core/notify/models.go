package notify

import (
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/store"
)

// Record is a notification as stored: the in-app inbox entry and the record
// every channel delivers from.
type Record struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	UserID uint   `gorm:"not null" json:"-"`
	Kind   string `gorm:"size:100;not null" json:"kind"`
	// Data is the template data as JSON.
	Data string `gorm:"type:text;not null" json:"-"`
	// Title and Body are the subject and text body rendered in the
	// recipient's locale when sent; the inbox shows them.
	Title string `gorm:"size:300;not null" json:"title"`
	Body  string `gorm:"type:text;not null" json:"body"`
	// Locale is the language Title and Body are written in, so a page in
	// another language (the recipient changed theirs since) marks them as
	// such ("" on notifications sent before it was recorded).
	Locale    string `gorm:"size:20;not null;default:''" json:"-"`
	DedupeKey string `gorm:"size:200;not null" json:"-"`
	Urgent    bool   `gorm:"not null" json:"urgent"`
	// InApp is false when the user switched the in-app channel off for the
	// kind; such notifications do not appear in the inbox.
	InApp bool `gorm:"not null" json:"-"`
	// Digest is "pending" while the notification waits for the daily digest
	// email, "sent" once folded into one.
	Digest    string     `gorm:"size:10;not null;default:''" json:"-"`
	CreatedAt time.Time  `gorm:"not null" json:"created_at"`
	ReadAt    *time.Time `json:"read_at"`
}

// TableName implements gorm's Tabler.
func (Record) TableName() string { return "notify_notifications" }

// attachmentRow is an email attachment of a notification.
type attachmentRow struct {
	ID uint `gorm:"primaryKey"`
	store.OrgOwned
	NotificationID uint   `gorm:"not null;index"`
	Name           string `gorm:"size:200;not null"`
	ContentType    string `gorm:"size:100;not null"`
	Content        []byte `gorm:"not null"`
}

func (attachmentRow) TableName() string { return "notify_attachments" }

// Outbox statuses.
const (
	StatusPending = "pending"
	StatusDone    = "done"
	StatusDead    = "dead"
)

// OutboxRow is one delivery of one notification on one channel (for
// webhooks, to one endpoint).
type OutboxRow struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	NotificationID uint   `gorm:"not null;index" json:"notification_id"`
	UserID         uint   `gorm:"not null" json:"user_id"`
	Channel        string `gorm:"size:32;not null" json:"channel"`
	EndpointID     uint   `gorm:"not null;default:0" json:"endpoint_id,omitempty"`
	// Key is the idempotency key sent with every attempt (Message-ID,
	// Idempotency-Key header).
	Key           string     `gorm:"size:64;not null;uniqueIndex" json:"key"`
	Status        string     `gorm:"size:10;not null" json:"status"`
	Attempts      int        `gorm:"not null" json:"attempts"`
	NextAttemptAt time.Time  `gorm:"not null" json:"next_attempt_at"`
	LastError     string     `gorm:"size:1000;not null;default:''" json:"last_error"`
	ClaimedBy     string     `gorm:"size:100;not null;default:''" json:"-"`
	CreatedAt     time.Time  `gorm:"not null" json:"created_at"`
	DoneAt        *time.Time `json:"done_at"`
}

// TableName implements gorm's Tabler.
func (OutboxRow) TableName() string { return "notify_outbox" }

// preference is one user's choice for one kind on one channel.
type preference struct {
	ID uint `gorm:"primaryKey"`
	store.OrgOwned
	UserID  uint   `gorm:"not null"`
	Kind    string `gorm:"size:100;not null"`
	Channel string `gorm:"size:32;not null"`
	Enabled bool   `gorm:"not null"`
}

func (preference) TableName() string { return "notify_preferences" }

// settings are one user's quiet hours and digest choice.
type settings struct {
	ID uint `gorm:"primaryKey"`
	store.OrgOwned
	UserID uint `gorm:"not null"`
	// QuietStart and QuietEnd are minutes after local midnight; equal values
	// mean no quiet hours.
	QuietStart int  `gorm:"not null"`
	QuietEnd   int  `gorm:"not null"`
	Digest     bool `gorm:"not null"`
	UpdatedAt  time.Time
}

func (settings) TableName() string { return "notify_settings" }

// Webhook is an organisation's endpoint for outbound webhooks.
type Webhook struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	URL string `gorm:"size:500;not null" json:"url"`
	// Secret signs every request (HMAC-SHA256); shown once, at creation.
	Secret string `gorm:"size:100;not null" json:"-"`
	// Kinds lists the kind IDs sent, comma-separated; empty means all.
	Kinds       string    `gorm:"size:1000;not null;default:''" json:"kinds"`
	Description string    `gorm:"size:200;not null;default:''" json:"description"`
	Active      bool      `gorm:"not null" json:"active"`
	CreatedAt   time.Time `json:"created_at"`
}

// TableName implements gorm's Tabler.
func (Webhook) TableName() string { return "notify_webhooks" }

// MailboxMessage is an email kept by the development mailbox.
type MailboxMessage struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	MessageID   string    `gorm:"size:200;not null;uniqueIndex" json:"message_id"`
	To          string    `gorm:"size:300;not null" json:"to"`
	Subject     string    `gorm:"size:300;not null" json:"subject"`
	HTML        string    `gorm:"type:text;not null" json:"-"`
	Text        string    `gorm:"type:text;not null" json:"text"`
	Attachments string    `gorm:"size:1000;not null;default:''" json:"attachments"`
	CreatedAt   time.Time `json:"created_at"`
}

// TableName implements gorm's Tabler.
func (MailboxMessage) TableName() string { return "notify_mailbox" }

// Migrations returns the service's versioned migrations.
func Migrations() store.MigrationSet {
	return store.MigrationSet{Owner: "notify", Migrations: []store.Migration{
		{ID: "0001_notify", Up: func(tx *gorm.DB) error {
			if err := store.CreateTables(&Record{}, &attachmentRow{}, &OutboxRow{}, &preference{},
				&settings{}, &Webhook{}, &MailboxMessage{})(tx); err != nil {
				return err
			}
			// Partial indexes (both dialects): workers scan only due rows, the
			// inbox counts only unread ones, the digest finds only waiting ones.
			for _, q := range []string{
				`CREATE UNIQUE INDEX notify_notifications_dedupe ON notify_notifications (org_id, user_id, dedupe_key)`,
				`CREATE UNIQUE INDEX notify_preferences_key ON notify_preferences (org_id, user_id, kind, channel)`,
				`CREATE UNIQUE INDEX notify_settings_user ON notify_settings (org_id, user_id)`,
				`CREATE INDEX notify_outbox_due ON notify_outbox (next_attempt_at, id) WHERE status = 'pending'`,
				`CREATE INDEX notify_outbox_dead ON notify_outbox (org_id, id) WHERE status = 'dead'`,
				`CREATE INDEX notify_notifications_inbox_id ON notify_notifications (org_id, user_id, id) WHERE in_app`,
				`CREATE INDEX notify_notifications_unread ON notify_notifications (org_id, user_id) WHERE in_app AND read_at IS NULL`,
				`CREATE INDEX notify_notifications_digest ON notify_notifications (org_id, user_id, id) WHERE digest = 'pending'`,
			} {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return nil
		}},
		{ID: "0002_notify_locale", Up: func(tx *gorm.DB) error {
			// 0001 creates the table from the current Record, which has the
			// column already; a database made before it gets it here.
			if tx.Migrator().HasColumn(&Record{}, "locale") {
				return nil
			}
			return tx.Exec(`ALTER TABLE notify_notifications ADD COLUMN locale VARCHAR(20) NOT NULL DEFAULT ''`).Error
		}},
	}}
}
