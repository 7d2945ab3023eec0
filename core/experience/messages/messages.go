// Package messages is secure messaging between a customer and the staff who
// look after them (accounts assignments: advisor, banker, professor,
// clinician): conversations per module topic, optionally about one object
// of a module; text and attachments (size-limited, type-checked by
// sniffing the bytes, stored behind BlobStore); read receipts; a
// notification on every new message (Notifier); a staff inbox that puts
// unanswered conversations first, with median first-response times.
//
// Who sees what: a customer sees only their own conversations; staff see
// the conversations of the customers assigned to them; organisation
// admins see every conversation of their organisation. Anyone else gets a
// not-found answer. Attachments are served only to those who may read
// their conversation, as downloads.
//
// messages imports accounts, config, errs, events, i18n, store and web;
// never core/module or core/app.
package messages

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/store"
)

// Events published by messages, with SubjectID the customer and ActorID the
// sender. Data is a map with "summary" (a sentence for the customer's
// timeline), "link", "conversation_id", "module", "subject_type",
// "subject_id" and, for messages, "message_id" and "sender_role".
const (
	EventConversationStarted = "messages.conversation_started"
	EventMessageSent         = "messages.message_sent"
)

// Notifier tells a person about a new message. It runs inside the
// transaction that stores the message, so a notification exists if and
// only if the message does. The kernel wires it to the notification
// service; the default does nothing.
type Notifier interface {
	MessageReceived(ctx context.Context, tx *gorm.DB, orgID, recipientID uint, conversationID uint, preview string) error
}

// NopNotifier is the Notifier used until one is wired.
type NopNotifier struct{}

// MessageReceived does nothing.
func (NopNotifier) MessageReceived(context.Context, *gorm.DB, uint, uint, uint, string) error {
	return nil
}

// Options builds a Service.
type Options struct {
	Store    *store.Store
	Accounts *accounts.Service
	Events   *events.Bus
	Log      *slog.Logger
	// Config is the deployment configuration (messages section, data dir).
	Config config.Config
	// Blobs stores attachments; nil means an FSStore in
	// messages.blob_dir (default <data_dir>/blobs).
	Blobs BlobStore
	// Notifier is told about new messages; nil means NopNotifier.
	Notifier Notifier
	// ModuleName returns the display name of a module ID (topics); nil
	// shows the ID.
	ModuleName func(id string) string
	// Now overrides the clock (tests).
	Now func() time.Time
}

// Service is secure messaging.
type Service struct {
	st         *store.Store
	acc        *accounts.Service
	bus        *events.Bus
	log        *slog.Logger
	cfg        config.Messages
	blobs      BlobStore
	notifier   Notifier
	moduleName func(string) string
	now        func() time.Time
}

// New returns the messages service.
func New(o Options) (*Service, error) {
	if err := o.Config.ValidateMessages(); err != nil {
		return nil, err
	}
	s := &Service{st: o.Store, acc: o.Accounts, bus: o.Events, log: o.Log, cfg: o.Config.Messages, blobs: o.Blobs,
		notifier: o.Notifier, moduleName: o.ModuleName, now: o.Now}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = func() time.Time { return time.Now().UTC() }
	}
	if s.notifier == nil {
		s.notifier = NopNotifier{}
	}
	if s.moduleName == nil {
		s.moduleName = func(id string) string { return id }
	}
	if s.blobs == nil {
		dir := s.cfg.BlobDir
		if dir == "" {
			dir = filepath.Join(o.Config.DataDir, "blobs")
		}
		fsStore, err := NewFSStore(dir)
		if err != nil {
			return nil, err
		}
		s.blobs = fsStore
	}
	return s, nil
}

// SetNotifier replaces the notifier (the kernel wires notifications).
func (s *Service) SetNotifier(n Notifier) {
	if n == nil {
		n = NopNotifier{}
	}
	s.notifier = n
}

// SetClock replaces the service's clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Blobs returns the blob store.
func (s *Service) Blobs() BlobStore { return s.blobs }

// Limits returns the attachment limits in force.
func (s *Service) Limits() config.Messages { return s.cfg }

// Migrations are the messages tables.
func (s *Service) Migrations() []store.Migration {
	return []store.Migration{{ID: "0001_tables", Up: func(tx *gorm.DB) error {
		if err := tx.Migrator().AutoMigrate(&Conversation{}, &Message{}, &Attachment{}, &Read{}, &ResponseTime{}); err != nil {
			return err
		}
		for _, q := range []string{
			"CREATE UNIQUE INDEX messages_reads_conversation_user ON messages_reads (conversation_id, user_id)",
			"CREATE INDEX messages_conversations_subject ON messages_conversations (org_id, customer_id, module, subject_type, subject_id)",
		} {
			if err := tx.Exec(q).Error; err != nil {
				return err
			}
		}
		return nil
	}}, {ID: "0002_conversation_group", Up: func(tx *gorm.DB) error {
		// 0001 creates the column on a new database (the model has it).
		if tx.Migrator().HasColumn(&Conversation{}, "GroupID") {
			return nil
		}
		return tx.Migrator().AddColumn(&Conversation{}, "GroupID")
	}}}
}

func (s *Service) publish(ctx context.Context, tx *gorm.DB, e events.Event) error {
	if s.bus == nil {
		return nil
	}
	e.Tx = tx
	return s.bus.Publish(ctx, e)
}

// preview is the start of a message for notifications.
func preview(body string, files int) string {
	body = strings.Join(strings.Fields(body), " ")
	if r := []rune(body); len(r) > 140 {
		body = string(r[:139]) + "…"
	}
	if body == "" && files > 0 {
		return fmt.Sprintf("%d attachment(s)", files)
	}
	return body
}

//go:embed mail/*
var mailFS embed.FS

// MailTemplates returns the "new message" notification's templates, named
// "messages.received.<locale>.subject|txt|html" (the notification
// service's format); the kernel declares the kind.
func MailTemplates() fs.FS {
	sub, _ := fs.Sub(mailFS, "mail")
	return sub
}
