package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	gomail "github.com/wneessen/go-mail"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// Email is one message handed to a Mailer.
type Email struct {
	OrgID uint
	// MessageID is the idempotency key as a Message-ID, without brackets.
	MessageID   string
	From        string
	ToName      string
	ToAddress   string
	Subject     string
	Text        string
	HTML        string
	Attachments []Attachment
}

// Mailer sends emails. It returns one error (or nil) per email; wrap
// failures no retry can fix (a rejected address) with Permanent.
type Mailer interface {
	Send(ctx context.Context, emails []*Email) []error
}

type emailChannel struct{ s *Service }

var _ BatchChannel = (*emailChannel)(nil)

func (c *emailChannel) Name() string { return ChannelEmail }

func (c *emailChannel) Deliver(ctx context.Context, d *Delivery) error {
	return c.DeliverBatch(ctx, []*Delivery{d})[0]
}

// DeliverBatch sends the batch's emails through the mailer in one SMTP
// session.
func (c *emailChannel) DeliverBatch(ctx context.Context, ds []*Delivery) []error {
	errs := make([]error, len(ds))
	var emails []*Email
	var idx []int
	from := c.s.cfg.SMTP.From
	domain := "portalkit"
	if a, err := mail.ParseAddress(from); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok {
			domain = d
		}
	}
	for i, d := range ds {
		if _, err := mail.ParseAddress(d.Recipient.Email); err != nil {
			errs[i] = Permanent(fmt.Errorf("user %d has no valid email address", d.Notification.UserID))
			continue
		}
		emails = append(emails, &Email{
			OrgID: d.Notification.OrgID, MessageID: d.Key + "@" + domain, From: from,
			ToName: d.Recipient.Name, ToAddress: d.Recipient.Email,
			Subject: d.Message.Subject, Text: d.Message.Text, HTML: d.Message.HTML, Attachments: d.Attachments,
		})
		idx = append(idx, i)
	}
	if len(emails) == 0 {
		return errs
	}
	res := c.s.mailer.Send(ctx, emails)
	for j, i := range idx {
		if j < len(res) {
			errs[i] = res[j]
		} else {
			errs[i] = errors.New("mailer returned too few results")
		}
	}
	return errs
}

// SMTPMailer sends through an SMTP server with wneessen/go-mail, one
// connection per batch.
type SMTPMailer struct {
	cfg  config.SMTP
	opts []gomail.Option
}

// NewSMTPMailer returns a mailer for the configured server.
func NewSMTPMailer(cfg config.SMTP) (*SMTPMailer, error) {
	opts := []gomail.Option{gomail.WithPort(cfg.Port), gomail.WithTimeout(cfg.Timeout)}
	switch cfg.TLS {
	case "tls":
		opts = append(opts, gomail.WithSSL())
	case "starttls":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case "opportunistic":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	if _, err := gomail.NewClient(cfg.Host, opts...); err != nil {
		return nil, fmt.Errorf("notify: smtp: %w", err)
	}
	return &SMTPMailer{cfg: cfg, opts: opts}, nil
}

// Send implements Mailer.
func (m *SMTPMailer) Send(ctx context.Context, emails []*Email) []error {
	errs := make([]error, len(emails))
	msgs := make([]*gomail.Msg, 0, len(emails))
	idx := make([]int, 0, len(emails))
	for i, e := range emails {
		msg, err := buildMsg(e)
		if err != nil {
			errs[i] = Permanent(err)
			continue
		}
		msgs = append(msgs, msg)
		idx = append(idx, i)
	}
	if len(msgs) == 0 {
		return errs
	}
	client, err := gomail.NewClient(m.cfg.Host, m.opts...)
	if err == nil {
		err = client.DialWithContext(ctx)
	}
	if err != nil {
		for _, i := range idx {
			errs[i] = fmt.Errorf("smtp %s:%d: %w", m.cfg.Host, m.cfg.Port, err)
		}
		return errs
	}
	_ = client.Send(msgs...) // per-message errors are read below
	_ = client.Close()
	for j, msg := range msgs {
		if !msg.HasSendError() {
			continue
		}
		err := msg.SendError()
		var se *gomail.SendError
		if errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
			err = Permanent(err) // the server refused this message for good
		}
		errs[idx[j]] = err
	}
	return errs
}

func buildMsg(e *Email) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(e.From); err != nil {
		return nil, fmt.Errorf("from address: %w", err)
	}
	if err := msg.AddToFormat(e.ToName, e.ToAddress); err != nil {
		return nil, fmt.Errorf("to address: %w", err)
	}
	msg.SetMessageIDWithValue(e.MessageID)
	msg.SetDate()
	msg.Subject(e.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, e.Text)
	if e.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, e.HTML)
	}
	for _, a := range e.Attachments {
		if err := msg.AttachReader(a.Name, bytes.NewReader(a.Content),
			gomail.WithFileContentType(gomail.ContentType(a.ContentType))); err != nil {
			return nil, fmt.Errorf("attachment %s: %w", a.Name, err)
		}
	}
	return msg, nil
}

// devMailbox keeps emails in notify_mailbox instead of sending them, for
// development and demos (no SMTP configured). The Message-ID is unique, so
// a repeated delivery is stored once.
type devMailbox struct{ s *Service }

func (m *devMailbox) Send(ctx context.Context, emails []*Email) []error {
	errs := make([]error, len(emails))
	rows := make([]MailboxMessage, 0, len(emails))
	for _, e := range emails {
		var names []string
		for _, a := range e.Attachments {
			names = append(names, fmt.Sprintf("%s (%s, %d bytes)", a.Name, a.ContentType, len(a.Content)))
		}
		to := (&mail.Address{Name: e.ToName, Address: e.ToAddress}).String()
		r := MailboxMessage{MessageID: e.MessageID, To: truncate(to, 300), Subject: truncate(e.Subject, 300),
			HTML: e.HTML, Text: e.Text, Attachments: truncate(strings.Join(names, "; "), 1000), CreatedAt: m.s.now().UTC()}
		r.OrgID = e.OrgID
		rows = append(rows, r)
	}
	err := store.AllOrgs(m.s.st.DB.WithContext(ctx)).
		Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "message_id"}}, DoNothing: true}).
		CreateInBatches(&rows, 200).Error
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
	}
	return errs
}

// Mailbox returns one page of the organisation's development mailbox,
// newest first.
func (s *Service) Mailbox(ctx context.Context, orgID uint, p Page) ([]MailboxMessage, uint, error) {
	if p.Limit <= 0 || p.Limit > 100 {
		p.Limit = 50
	}
	q := store.Org(s.st.DB.WithContext(ctx), orgID).Select("id", "org_id", "message_id", "to", "subject", "attachments", "created_at")
	if p.Before > 0 {
		q = q.Where("id < ?", p.Before)
	}
	var out []MailboxMessage
	if err := q.Order("id DESC").Limit(p.Limit + 1).Find(&out).Error; err != nil {
		return nil, 0, err
	}
	var next uint
	if len(out) > p.Limit {
		out = out[:p.Limit]
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

// MailboxMessage returns one email of the organisation's development mailbox.
func (s *Service) MailboxMessage(ctx context.Context, orgID, id uint) (*MailboxMessage, error) {
	var m MailboxMessage
	err := store.Org(s.st.DB.WithContext(ctx), orgID).Where("id = ?", id).Take(&m).Error
	if err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, errs.NotFoundf("email %d not found", id)
		}
		return nil, err
	}
	return &m, nil
}
