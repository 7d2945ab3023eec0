// Package notifytest gives tests and benchmarks of notifications real
// counterparts: an in-process SMTP server (emersion/go-smtp) that records
// what arrives and can be taken down and brought back, and a recipient
// directory backed by a map.
package notifytest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/notify"
)

// Received is one email the sink accepted.
type Received struct {
	MessageID string // with angle brackets, as sent
	From      string
	To        []string
	Subject   string
	Raw       []byte
}

// SMTPSink is an SMTP server on 127.0.0.1 that accepts every message.
type SMTPSink struct {
	Addr string
	Host string
	Port int
	// Keep, when false, makes the sink count messages without keeping them
	// (benchmarks).
	Keep bool

	mu       sync.Mutex
	srv      *smtp.Server
	ln       net.Listener
	received []Received
	count    atomic.Int64
	ids      map[string]int
}

// NewSMTPSink reserves a port and starts the sink on it (up).
func NewSMTPSink() (*SMTPSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().(*net.TCPAddr)
	s := &SMTPSink{Addr: addr.String(), Host: "127.0.0.1", Port: addr.Port, Keep: true, ids: map[string]int{}}
	s.serve(ln)
	return s, nil
}

func (s *SMTPSink) serve(ln net.Listener) {
	srv := smtp.NewServer(&backend{s: s})
	srv.Domain = "sink.test"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 32 << 20
	srv.MaxRecipients = 10
	s.mu.Lock()
	s.srv, s.ln = srv, ln
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// Down stops accepting connections: clients get "connection refused".
func (s *SMTPSink) Down() {
	s.mu.Lock()
	srv, ln := s.srv, s.ln
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	// The listener is closed here too: Serve may not have registered it
	// with the server yet.
	if ln != nil {
		_ = ln.Close()
	}
	if srv != nil {
		_ = srv.Close()
	}
}

// Up listens again on the same port.
func (s *SMTPSink) Up() error {
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", s.Addr); err == nil {
			s.serve(ln)
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

// Close stops the sink.
func (s *SMTPSink) Close() { s.Down() }

// Count is how many messages were accepted (duplicates included).
func (s *SMTPSink) Count() int64 { return s.count.Load() }

// Messages returns the kept messages.
func (s *SMTPSink) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// MessageIDs returns how often each Message-ID arrived.
func (s *SMTPSink) MessageIDs() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.ids))
	for k, v := range s.ids {
		out[k] = v
	}
	return out
}

// WaitUnique waits until n distinct Message-IDs arrived or timeout passes.
func (s *SMTPSink) WaitUnique(n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		got := len(s.ids)
		s.mu.Unlock()
		if got >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("smtp sink: %d distinct messages after %s, want %d", got, timeout, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type backend struct{ s *SMTPSink }

func (b *backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s    *SMTPSink
	from string
	to   []string
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

var dec = new(mime.WordDecoder)

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: "malformed message"}
	}
	id := msg.Header.Get("Message-Id")
	subj, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		subj = msg.Header.Get("Subject")
	}
	x.s.count.Add(1)
	x.s.mu.Lock()
	x.s.ids[id]++
	if x.s.Keep {
		x.s.received = append(x.s.received, Received{MessageID: id, From: x.from, To: append([]string(nil), x.to...), Subject: subj, Raw: raw})
	}
	x.s.mu.Unlock()
	return nil
}

// Directory is a recipient directory backed by a map, for tests.
type Directory struct {
	mu    sync.RWMutex
	users map[[2]uint]notify.Recipient
}

var _ notify.Directory = (*Directory)(nil)

// NewDirectory returns an empty directory.
func NewDirectory() *Directory { return &Directory{users: map[[2]uint]notify.Recipient{}} }

// Add adds or replaces a user.
func (d *Directory) Add(orgID, userID uint, r notify.Recipient) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.users[[2]uint{orgID, userID}] = r
}

// Recipient implements notify.Directory.
func (d *Directory) Recipient(_ context.Context, _ *gorm.DB, orgID, userID uint) (notify.Recipient, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	r, ok := d.users[[2]uint{orgID, userID}]
	if !ok {
		return r, fmt.Errorf("user %d of org %d: %w", userID, orgID, notify.ErrNoRecipient)
	}
	return r, nil
}

// Header returns the value of header name in a raw message.
func Header(raw []byte, name string) string {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	return msg.Header.Get(name)
}

// Contains reports whether the raw message contains s (after undoing
// quoted-printable soft line breaks).
func Contains(raw []byte, s string) bool {
	flat := strings.ReplaceAll(string(raw), "=\r\n", "")
	return strings.Contains(flat, s)
}
