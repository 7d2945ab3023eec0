package banking_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/notify/notifytest"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/verticals/banking"
)

// TestReportEmailArrivesWithItsPDF sends May's report through a real SMTP
// server (in process): an Italian customer's e-mail arrives once, in
// Italian, with the report's PDF attached.
func TestReportEmailArrivesWithItsPDF(t *testing.T) {
	sink, err := notifytest.NewSMTPSink()
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	m := &banking.Module{Now: func() time.Time { return fixedNow }}
	ta := portaltest.New(t, []module.Module{m}, portaltest.WithConfig(func(c *config.Config) {
		c.Notify.SMTP = config.SMTP{Host: sink.Host, Port: sink.Port, TLS: "none", From: "Banca <no-reply@bank.test>", Timeout: 5 * time.Second}
	}))
	b := newBank(t, ta)
	_, uid, acct := b.customer(t, "lucia@acme.example")
	store.AllOrgs(ta.Store.DB).Model(&accounts.User{}).Where("id = ?", uid).Update("locale", "it")
	b.book(t, item(acct, "1", "2026-05-04", "POS ESSELUNGA", -8450), item(acct, "2", "2026-05-27", "STIPENDIO ACME", 180000))
	ctx := context.Background()
	if n, err := m.Service().MonthlyReports(ctx, time.Date(2026, 6, 1, 0, 5, 0, 0, time.UTC), nil); err != nil || n != 1 {
		t.Fatalf("%d reports: %v", n, err)
	}
	for i := 0; i < 20 && sink.Count() == 0; i++ {
		if _, err := ta.Notify.DispatchOnce(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	msgs := sink.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d e-mails arrived, want 1", len(msgs))
	}
	msg, err := mail.ReadMessage(bytes.NewReader(msgs[0].Raw))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if msgs[0].To[0] != "lucia@acme.example" || subject != "Il tuo resoconto mensile di maggio 2026" {
		t.Fatalf("to %v, subject %q", msgs[0].To, subject)
	}
	pdf := findPart(t, msg, "report-2026-05.pdf")
	for _, want := range []string{"%PDF", "Resoconto mensile - maggio 2026", "ESSELUNGA", "84,50", "Entrate", "Spesa"} {
		if !bytes.Contains(pdf, []byte(want)) {
			t.Errorf("the e-mailed PDF lacks %q", want)
		}
	}
}

// findPart returns the decoded body of the attachment named name.
func findPart(t *testing.T, msg *mail.Message, name string) []byte {
	t.Helper()
	var walk func(ct string, body io.Reader) []byte
	walk = func(ct string, body io.Reader) []byte {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || !strings.HasPrefix(mt, "multipart/") {
			return nil
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				return nil
			}
			if p.FileName() == name {
				raw, _ := io.ReadAll(p)
				if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
					dec, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(raw)), ""))
					if err != nil {
						t.Fatal(err)
					}
					return dec
				}
				return raw
			}
			if got := walk(p.Header.Get("Content-Type"), p); got != nil {
				return got
			}
		}
	}
	out := walk(msg.Header.Get("Content-Type"), msg.Body)
	if out == nil {
		t.Fatalf("no attachment %s", name)
	}
	return out
}
