package notify_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
)

// TestSMTPOutageIsVisible (issue 19, item 14): while the SMTP server is
// down, /metrics shows e-mail waiting, ageing and retried, /readyz says the
// channel is failing but stays ready, the log has one warning naming the
// channel and the error, and the admin page shows the last error (in
// English and Italian). When the server is back everything is delivered
// once, and metrics, readiness, log and page say so.
func TestSMTPOutageIsVisible(t *testing.T) {
	e, sink := smtpOutage(t)
	metric := func(name, channel string) float64 {
		t.Helper()
		return e.ta.Metric(t, name+`{channel="`+channel+`"}`)
	}
	readyz := func() (int, string) {
		t.Helper()
		res := e.ta.Do(t, http.MethodGet, "/readyz", nil, nil)
		var body struct {
			Status string            `json:"status"`
			Checks map[string]string `json:"checks"`
		}
		if err := json.Unmarshal([]byte(res.Body), &body); err != nil {
			t.Fatalf("/readyz: %v: %s", err, res.Body)
		}
		if body.Status != "ready" {
			t.Errorf("/readyz status %q (%d), want ready: %s", body.Status, res.Status, res.Body)
		}
		return res.Status, body.Checks["notifications"]
	}
	logLines := func(msg string) int {
		n := 0
		for _, l := range strings.Split(e.ta.LogText(), "\n") {
			if strings.Contains(l, msg) && strings.Contains(l, "channel=email") {
				n++
			}
		}
		return n
	}

	const n = 10
	for i := 0; i < n; i++ {
		e.send(note(e.ada, "shop.shipped", map[string]any{"order": i}))
	}
	eventually(t, 15*time.Second, "retries while SMTP is down", func() bool { return metric("portal_notify_retried_total", "email") >= 2*n })
	if v := metric("portal_notify_waiting", "email"); v != n {
		t.Errorf("waiting e-mails: %v, want %d", v, n)
	}
	if v := metric("portal_notify_oldest_waiting_seconds", "email"); v <= 0 {
		t.Errorf("age of the oldest waiting e-mail: %v", v)
	}
	if v := metric("portal_notify_channel_failing", "email"); v != 1 {
		t.Errorf("email channel failing: %v, want 1", v)
	}
	if v := metric("portal_notify_channel_failing", "inapp"); v != 0 {
		t.Errorf("in-app channel failing: %v, want 0", v)
	}
	if v := metric("portal_notify_delivered_total", "email"); v != 0 {
		t.Errorf("delivered e-mails while SMTP is down: %v", v)
	}
	// In-app delivery runs on its own workers: the last may still be
	// committing when the e-mail retries have been counted.
	eventually(t, 15*time.Second, "every in-app delivery while SMTP is down", func() bool { return metric("portal_notify_delivered_total", "inapp") == n })
	if status, detail := readyz(); status != 200 || !strings.Contains(detail, "email") || !strings.Contains(detail, "failing") {
		t.Errorf("/readyz during the outage: %d, notifications %q", status, detail)
	}
	if got := logLines("notification channel failing"); got != 1 {
		t.Errorf("%d warnings for the failing channel, want 1", got)
	}
	b := e.ta.Browser()
	b.SignIn(t, acme, "ada@example.com")
	page := b.Get(t, "/admin/notifications")
	if page.Status != 200 || !strings.Contains(page.Body, "Delivery problems") || !strings.Contains(page.Body, "connection refused") {
		t.Errorf("admin page during the outage (%d) lacks the last error", page.Status)
	}
	e.person(acme, "ida@example.com", accounts.Admin, "it", "")
	bi := e.ta.Browser()
	bi.SignIn(t, acme, "ida@example.com")
	if page := bi.Get(t, "/admin/notifications"); !strings.Contains(page.Body, "Problemi di consegna") {
		t.Errorf("Italian admin page lacks the translated heading")
	}

	if err := sink.Up(); err != nil {
		t.Fatal(err)
	}
	if err := sink.WaitUnique(n, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "metrics show the recovery", func() bool {
		return metric("portal_notify_waiting", "email") == 0 && metric("portal_notify_delivered_total", "email") == n &&
			metric("portal_notify_channel_failing", "email") == 0
	})
	if v := metric("portal_notify_oldest_waiting_seconds", "email"); v != 0 {
		t.Errorf("age of the oldest waiting e-mail after recovery: %v", v)
	}
	if v := metric("portal_notify_dead_total", "email"); v != 0 {
		t.Errorf("dead letters: %v", v)
	}
	if status, detail := readyz(); status != 200 || detail != "ok" {
		t.Errorf("/readyz after recovery: %d, notifications %q", status, detail)
	}
	if got := logLines("notification channel recovered"); got != 1 {
		t.Errorf("%d recovery lines, want 1", got)
	}
	if page := b.Get(t, "/admin/notifications"); strings.Contains(page.Body, "connection refused") {
		t.Errorf("admin page still shows the error after recovery")
	}
	// 0 lost, 0 duplicated.
	for id, count := range sink.MessageIDs() {
		if count != 1 {
			t.Errorf("Message-ID %s arrived %d times", id, count)
		}
	}
	if sink.Count() != n {
		t.Errorf("%d e-mails arrived, want %d", sink.Count(), n)
	}
}
