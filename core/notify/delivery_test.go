package notify_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/live"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/notify/notifytest"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
)

// smtpOutage starts an env whose workers send e-mail to an in-process SMTP
// server that is down (sink.Up starts it), with room for many attempts.
func smtpOutage(t *testing.T) (*env, *notifytest.SMTPSink) {
	t.Helper()
	sink, err := notifytest.NewSMTPSink()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sink.Close)
	sink.Down()
	e := newEnv(t, envOpt{workers: true, cfg: func(n *config.Notify) {
		n.SMTP.Host, n.SMTP.Port, n.SMTP.TLS, n.SMTP.From = sink.Host, sink.Port, "none", "Portal <no-reply@portal.test>"
		n.SMTP.Timeout = 2 * time.Second
		n.MaxAttempts = 100
	}})
	return e, sink
}

// The SMTP server is down for a while, then up: every email arrives, each
// Message-ID is the outbox row's idempotency key, and none arrives twice.
func TestEmailSurvivesAnSMTPOutage(t *testing.T) {
	e, sink := smtpOutage(t)
	if e.svc.DevMailbox() {
		t.Fatal("SMTP is configured but the dev mailbox is in use")
	}
	const n = 20
	for i := 0; i < n; i++ {
		who := e.ada
		if i%2 == 1 {
			who = e.bruno
		}
		msg := note(who, "shop.shipped", map[string]any{"order": i})
		if i == 0 {
			msg.Attachments = []notify.Attachment{{Name: "report.pdf", ContentType: "application/pdf", Content: []byte("%PDF-1.4 test report")}}
		}
		e.send(msg)
	}
	// Let the workers fail against the closed port for a while.
	eventually(t, 10*time.Second, "failed attempts while SMTP is down", func() bool {
		for _, r := range e.outbox(e.org1) {
			if r.Channel == "email" && r.Attempts >= 2 && strings.Contains(r.LastError, "smtp") {
				return true
			}
		}
		return false
	})
	if sink.Count() != 0 {
		t.Fatal("mail arrived while the server was down")
	}
	if err := sink.Up(); err != nil {
		t.Fatal(err)
	}
	if err := sink.WaitUnique(n, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "every outbox row done", func() bool {
		for _, r := range e.outbox(e.org1) {
			if r.Status != notify.StatusDone {
				return false
			}
		}
		return true
	})
	keys := map[string]bool{}
	for _, r := range e.outbox(e.org1) {
		if r.Channel == "email" {
			keys["<"+r.Key+"@portal.test>"] = true
		}
	}
	for id, count := range sink.MessageIDs() {
		if !keys[id] {
			t.Errorf("unexpected Message-ID %s", id)
		}
		if count != 1 {
			t.Errorf("Message-ID %s arrived %d times", id, count)
		}
	}
	if len(keys) != n || sink.Count() != n {
		t.Errorf("%d keys, %d messages arrived; want %d", len(keys), sink.Count(), n)
	}
	var withPDF, italian int
	for _, m := range sink.Messages() {
		if notifytest.Contains(m.Raw, `filename="report.pdf"`) && notifytest.Contains(m.Raw, "application/pdf") {
			withPDF++
		}
		if strings.HasPrefix(m.Subject, "Ordine") {
			italian++
			if m.To[0] != "bruno@example.com" || !notifytest.Contains(m.Raw, "text/html") || !notifytest.Contains(m.Raw, "text/plain") {
				t.Errorf("Bruno's email: to %v, html+text missing", m.To)
			}
		}
	}
	if withPDF != 1 || italian != n/2 {
		t.Errorf("emails with the PDF: %d (want 1); in Italian: %d (want %d)", withPDF, italian, n/2)
	}
}

// A webhook receiver fails, then succeeds: every delivery arrives once per
// idempotency key, and every request carries a valid signature.
func TestWebhookRetriesUntilTheReceiverAnswers(t *testing.T) {
	var (
		mu       sync.Mutex
		accepted = map[string]int{}
		failures atomic.Int64
		secret   atomic.Value
		badSig   atomic.Int64
	)
	secret.Store("")
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := notify.VerifySignature(secret.Load().(string), r.Header.Get(notify.HeaderSignature), body, notify.DefaultTolerance, time.Now()); err != nil {
			badSig.Add(1)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if failures.Add(1) <= 6 {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
			return
		}
		var p notify.WebhookPayload
		if err := json.Unmarshal(body, &p); err != nil || p.ID != r.Header.Get(notify.HeaderIdempotency) || p.Type != "shop.shipped" {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		mu.Lock()
		accepted[p.ID]++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()

	e := newEnv(t, envOpt{workers: true, cfg: func(n *config.Notify) { n.MaxAttempts = 100 }})
	// Only admins manage endpoints.
	if res := e.ta.Do(t, "POST", "/api/v1/notifications/admin/webhooks", map[string]any{"url": recv.URL}, e.bruno.headers); res.Status != 403 {
		t.Fatalf("customer created a webhook: %d", res.Status)
	}
	if res := e.ta.Do(t, "POST", "/api/v1/notifications/admin/webhooks", map[string]any{"url": "ftp://x"}, e.ada.headers); res.Status != 422 || !strings.Contains(res.Body, "body.url") {
		t.Fatalf("bad URL: %d %s", res.Status, res.Body)
	}
	res := e.ta.Do(t, "POST", "/api/v1/notifications/admin/webhooks", map[string]any{"url": recv.URL, "kinds": []string{"shop.shipped"}}, e.ada.headers)
	if res.Status != 201 {
		t.Fatalf("create webhook: %d %s", res.Status, res.Body)
	}
	var created struct {
		ID     uint   `json:"id"`
		Secret string `json:"secret"`
	}
	res.JSON(t, &created)
	secret.Store(created.Secret)
	if list := e.ta.Do(t, "GET", "/api/v1/notifications/admin/webhooks", nil, e.ada.headers); list.Status != 200 || !strings.Contains(list.Body, recv.URL) || strings.Contains(list.Body, created.Secret) {
		t.Fatalf("the endpoint list (without the secret): %d %s", list.Status, list.Body)
	}
	// Another organisation's admin neither sees nor deletes it.
	if list := e.ta.Do(t, "GET", "/api/v1/notifications/admin/webhooks", nil, e.carla.headers); strings.Contains(list.Body, recv.URL) {
		t.Fatalf("globex's admin lists acme's endpoint: %s", list.Body)
	}
	if res := e.ta.Do(t, "DELETE", "/api/v1/notifications/admin/webhooks/"+itoa(created.ID), nil, e.carla.headers); res.Status != 404 {
		t.Fatalf("globex's admin deleted acme's endpoint: %d", res.Status)
	}

	const n = 5
	for i := 0; i < n; i++ {
		e.send(note(e.bruno, "shop.shipped", map[string]any{"order": i}))
	}
	e.send(note(e.bruno, "shop.security", map[string]any{"what": "not subscribed"}))
	e.send(note(e.carla, "shop.shipped", map[string]any{"order": "other org"}))
	eventually(t, 20*time.Second, "every webhook accepted", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(accepted) == n
	})
	eventually(t, 5*time.Second, "webhook rows done", func() bool {
		for _, r := range e.outbox(e.org1) {
			if r.Channel == "webhook" && r.Status != notify.StatusDone {
				return false
			}
		}
		return true
	})
	mu.Lock()
	for k, c := range accepted {
		if c != 1 {
			t.Errorf("key %s accepted %d times", k, c)
		}
	}
	mu.Unlock()
	if got := channels(e.outbox(e.org1))["webhook"]; got != n {
		t.Errorf("%d webhook rows for acme, want %d (kind filter)", got, n)
	}
	if got := channels(e.outbox(e.org2))["webhook"]; got != 0 {
		t.Errorf("globex got %d webhook rows from acme's endpoint", got)
	}
	if badSig.Load() != 0 {
		t.Errorf("%d requests had a bad signature", badSig.Load())
	}
}

func TestWebhookSignatureVerification(t *testing.T) {
	body := []byte(`{"id":"k1"}`)
	now := time.Unix(1_700_000_000, 0)
	h := notify.Sign("s3cret", now, body)
	if !strings.HasPrefix(h, "t=1700000000,v1=") {
		t.Fatalf("header = %s", h)
	}
	cases := []struct {
		name, secret, header string
		body                 []byte
		at                   time.Time
		want                 error
	}{
		{"valid", "s3cret", h, body, now.Add(time.Minute), nil},
		{"wrong secret", "other", h, body, now, notify.ErrSignatureMismatch},
		{"tampered body", "s3cret", h, []byte(`{"id":"k2"}`), now, notify.ErrSignatureMismatch},
		{"replayed later", "s3cret", h, body, now.Add(6 * time.Minute), notify.ErrSignatureExpired},
		{"from the future", "s3cret", h, body, now.Add(-6 * time.Minute), notify.ErrSignatureExpired},
		{"malformed", "s3cret", "v1=abc", body, now, notify.ErrSignatureFormat},
		{"rotated secrets", "s3cret", notify.Sign("old", now, body) + ",v1=" + strings.Split(h, "v1=")[1], body, now, nil},
	}
	for _, c := range cases {
		if err := notify.VerifySignature(c.secret, c.header, c.body, notify.DefaultTolerance, c.at); err != c.want {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}

// A delivery that keeps failing becomes a dead letter; an admin sees it
// and retries it once the receiver works again.
func TestDeadLetterAndAdminRetry(t *testing.T) {
	var up atomic.Bool
	var hits atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if !up.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer recv.Close()
	e := newEnv(t, envOpt{cfg: func(n *config.Notify) {
		n.MaxAttempts = 3
		n.RetryBase = time.Millisecond
		n.RetryMax = 2 * time.Millisecond
	}})
	ctx := context.Background()
	if _, _, err := e.svc.CreateWebhook(ctx, e.org1, notify.WebhookInput{URL: recv.URL, Kinds: []string{"shop.shipped"}}); err != nil {
		t.Fatal(err)
	}
	e.send(note(e.ada, "shop.shipped", map[string]any{"order": "X"}))
	// Dora closed her account: the directory gives no address for it, so an
	// e-mail to her is a dead letter at once.
	dora := e.person(acme, "dora@example.com", accounts.Customer, "it", "")
	if err := e.ta.Accounts.RequestDeletion(ctx, e.ta.Principal(t, e.ta.Login(t, acme, dora.Email)), portaltest.Password, "192.0.2.9"); err != nil {
		t.Fatal(err)
	}
	e.send(note(dora, "shop.security", map[string]any{"what": "Y"}))
	eventually(t, 5*time.Second, "two dead letters", func() bool {
		e.dispatchAll()
		dead, _, err := e.svc.DeadLetters(ctx, e.org1, notify.Page{})
		if err != nil {
			t.Fatal(err)
		}
		return len(dead) == 2
	})
	if hits.Load() != 3 {
		t.Errorf("webhook tried %d times, want max_attempts=3", hits.Load())
	}
	dead, _, _ := e.svc.DeadLetters(ctx, e.org1, notify.Page{})
	var hook notify.DeadLetter
	for _, d := range dead {
		if d.Channel == "webhook" {
			hook = d
		} else if d.Channel != "email" || d.Attempts != 1 || d.UserID != dora.ID || !strings.Contains(d.LastError, "no valid email") {
			t.Errorf("email dead letter = %+v", d)
		}
	}
	if hook.ID == 0 || hook.Attempts != 3 || !strings.Contains(hook.LastError, "500") || hook.Title != "Order X shipped" {
		t.Fatalf("webhook dead letter = %+v", hook)
	}

	// Customers see no dead letters; admins see their organisation's, in the
	// API and on the page.
	if res := e.ta.Do(t, "GET", "/api/v1/notifications/admin/dead-letters", nil, e.bruno.headers); res.Status != 403 {
		t.Fatalf("customer listed dead letters: %d", res.Status)
	}
	if res := e.ta.Do(t, "GET", "/api/v1/notifications/admin/dead-letters", nil, e.carla.headers); res.Status != 200 || strings.Contains(res.Body, "Order X") {
		t.Fatalf("another org's admin sees acme's dead letters: %s", res.Body)
	}
	res := e.ta.Do(t, "GET", "/api/v1/notifications/admin/dead-letters", nil, e.ada.headers)
	if res.Status != 200 || !strings.Contains(res.Body, `"title":"Order X shipped"`) {
		t.Fatalf("admin dead letters: %d %s", res.Status, res.Body)
	}
	b := e.browser(e.ada)
	page := b.Get(t, "/admin/notifications")
	if page.Status != 200 || !strings.Contains(page.Body, "/admin/notifications/dead-letters/"+itoa(hook.ID)+"/retry") {
		t.Fatalf("admin page: %d %s", page.Status, page.Body)
	}
	if res := e.browser(e.bruno).Get(t, "/admin/notifications"); res.Status != 403 {
		t.Fatalf("a customer opened the outbox page: %d", res.Status)
	}

	up.Store(true)
	if res := e.ta.Do(t, "POST", "/api/v1/notifications/admin/dead-letters/"+itoa(hook.ID)+"/retry", nil, e.carla.headers); res.Status != 404 {
		t.Fatalf("another org's admin retried it: %d", res.Status)
	}
	if res := b.Post(t, "/admin/notifications/dead-letters/"+itoa(hook.ID)+"/retry", nil); res.Status != 303 {
		t.Fatalf("retry from the page: %d %s", res.Status, res.Body)
	}
	if page := b.Get(t, "/admin/notifications?retried="+itoa(hook.ID)); !strings.Contains(page.Body, "Delivery "+itoa(hook.ID)+" is queued again.") {
		t.Fatalf("retried page: %s", page.Body)
	}
	e.dispatchAll()
	for _, r := range e.outbox(e.org1) {
		if r.ID == hook.ID && (r.Status != notify.StatusDone || r.Key != hook.Key) {
			t.Fatalf("retried row = %+v", r)
		}
	}
	if hits.Load() != 4 {
		t.Errorf("webhook hits = %d, want 4", hits.Load())
	}
	if res := e.ta.Do(t, "POST", "/api/v1/notifications/admin/dead-letters/"+itoa(hook.ID)+"/retry", nil, e.ada.headers); res.Status != 404 {
		t.Fatalf("retrying a delivered row: %d", res.Status)
	}
	stats := e.ta.Do(t, "GET", "/api/v1/notifications/admin/outbox", nil, e.ada.headers)
	if !strings.Contains(stats.Body, `{"channel":"webhook","status":"done","count":1}`) {
		t.Errorf("outbox stats: %s", stats.Body)
	}
}

// With no SMTP server configured, emails land in the dev mailbox, which
// admins read on a page; the HTML is shown sandboxed.
func TestDevMailbox(t *testing.T) {
	e := newEnv(t, envOpt{})
	if !e.svc.DevMailbox() {
		t.Fatal("no SMTP configured, yet no dev mailbox")
	}
	n := note(e.ada, "shop.shipped", map[string]any{"order": "<script>alert(1)</script>"})
	n.Attachments = []notify.Attachment{{Name: "invoice.pdf", ContentType: "application/pdf", Content: []byte("%PDF")}}
	e.send(n)
	e.send(note(e.carla, "shop.shipped", map[string]any{"order": "other-org"}))
	e.dispatchAll()
	b := e.browser(e.ada)
	list := b.Get(t, "/admin/notifications/mailbox")
	if list.Status != 200 || !strings.Contains(list.Body, "ada@example.com") || !strings.Contains(list.Body, "invoice.pdf") || strings.Contains(list.Body, "other-org") {
		t.Fatalf("mailbox page: %d %s", list.Status, list.Body)
	}
	if res := e.browser(e.bruno).Get(t, "/admin/notifications/mailbox"); res.Status != 403 {
		t.Fatalf("a customer opened the mailbox: %d", res.Status)
	}
	m := e.mailbox(e.org1)[0]
	view := b.Get(t, "/admin/notifications/mailbox/"+itoa(m.ID))
	if view.Status != 200 || !strings.Contains(view.Body, `<iframe class="notify-email" title="E-mail as HTML" sandbox src="/admin/notifications/mailbox/`+itoa(m.ID)+`/html"`) ||
		strings.Contains(view.Body, "<script>alert") {
		t.Fatalf("message page: %s", view.Body)
	}
	html := b.Get(t, "/admin/notifications/mailbox/"+itoa(m.ID)+"/html")
	if csp := html.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox;") || !strings.Contains(csp, "default-src 'none'") {
		t.Fatalf("email HTML CSP = %q", csp)
	}
	if !strings.Contains(html.Body, "&lt;script&gt;") || strings.Contains(html.Body, "<script>alert") {
		t.Fatalf("template data was not escaped in the HTML body: %s", html.Body)
	}
	if res := b.Get(t, "/admin/notifications/mailbox/"+itoa(e.mailbox(e.org2)[0].ID)); res.Status != 404 {
		t.Fatalf("acme's admin read globex's email: %d", res.Status)
	}
}

type sseEvent struct {
	id, name, data string
}

// readEvents parses an SSE stream into ch until it ends.
func readEvents(body io.Reader, ch chan<- sseEvent) {
	defer close(ch)
	sc := bufio.NewScanner(body)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.name != "" {
				ch <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.name = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		}
	}
}

func connect(t *testing.T, base string, p *person, lastID string) (<-chan sseEvent, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", base+live.StreamPath, nil)
	for k, v := range p.headers {
		req.Header.Set(k, v)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	ch := make(chan sseEvent, 16)
	go readEvents(res.Body, ch)
	return ch, func() { cancel(); res.Body.Close() }
}

func next(t *testing.T, ch <-chan sseEvent, name string) sseEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("stream ended waiting for %q", name)
			}
			if ev.name == name {
				return ev
			}
			t.Fatalf("got event %q (%s), want %q", ev.name, ev.data, name)
		case <-timeout:
			t.Fatalf("no %q event in time", name)
		}
	}
}

// A connected client receives its own notifications live over SSE (the
// one live stream, core/live), over a real HTTP connection, and only its
// own, with the unread count; reading in another tab updates the count; a
// reconnecting client catches up.
func TestLiveStream(t *testing.T) {
	e := newEnv(t, envOpt{workers: true})
	base := serve(t, e.ta)
	e.send(note(e.ada, "shop.shipped", map[string]any{"order": "before"}))

	ada, closeAda := connect(t, base, e.ada, "")
	defer closeAda()
	bruno, closeBruno := connect(t, base, e.bruno, "")
	defer closeBruno()
	ready := next(t, ada, "ready")
	if ready.data != `{"unread":1}` {
		t.Fatalf("ready = %s", ready.data)
	}
	next(t, bruno, "ready")
	eventually(t, 5*time.Second, "two streams", func() bool { return e.ta.Live.Connected() == 2 })

	e.send(note(e.ada, "shop.shipped", map[string]any{"order": "live-1"}))
	e.send(note(e.bruno, "shop.shipped", map[string]any{"order": "for-bruno"}))
	ev := next(t, ada, "notification")
	var got notify.Event
	if err := json.Unmarshal([]byte(ev.data), &got); err != nil {
		t.Fatal(err)
	}
	if got.Title != "Order live-1 shipped" || got.Unread != 2 || got.ID == 0 {
		t.Fatalf("Ada's event = %+v (id %s)", got, ev.id)
	}
	// Event IDs are Ada's positions: the one after the ready event's.
	readyPos, _ := strconv.ParseUint(ready.id, 10, 64)
	if pos, err := strconv.ParseUint(ev.id, 10, 64); err != nil || pos != readyPos+1 {
		t.Fatalf("event id %q after ready id %q", ev.id, ready.id)
	}
	// Bruno's first event is his own, never Ada's.
	ev = next(t, bruno, "notification")
	if !strings.Contains(ev.data, "Ordine for-bruno spedito") {
		t.Fatalf("Bruno got %s", ev.data)
	}
	// Reading one in another tab (the API) updates every open page's count.
	if res := e.ta.Do(t, "POST", "/api/v1/notifications/"+itoa(got.ID)+"/read", nil, e.ada.headers); res.Status != 204 {
		t.Fatalf("mark read: %d %s", res.Status, res.Body)
	}
	if ev := next(t, ada, "unread"); ev.data != `{"unread":1}` {
		t.Fatalf("unread after reading = %s", ev.data)
	}
	e.send(note(e.ada, "shop.shipped", map[string]any{"order": "live-2"}))
	last := next(t, ada, "notification")
	if !strings.Contains(last.data, "live-2") {
		t.Fatalf("Ada's second event = %s", last.data)
	}

	// Reconnect with Last-Event-ID: the missed notifications come first.
	closeAda()
	eventually(t, 5*time.Second, "Ada's stream to close", func() bool { return e.ta.Live.Connected() == 1 })
	e.send(note(e.ada, "shop.shipped", map[string]any{"order": "missed"}))
	again, closeAgain := connect(t, base, e.ada, last.id)
	defer closeAgain()
	if ev := next(t, again, "notification"); !strings.Contains(ev.data, "missed") {
		t.Fatalf("catch-up = %s", ev.data)
	}
	if ev := next(t, again, "ready"); ev.data != `{"unread":3}` {
		t.Fatalf("ready after catch-up = %s", ev.data)
	}

	// Anonymous callers get 401, not a stream.
	res, err := http.Get(base + live.StreamPath)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Fatalf("anonymous stream: %d", res.StatusCode)
	}
}

// Stop ends every worker.
func TestStopEndsEveryGoroutine(t *testing.T) {
	e := newEnv(t, envOpt{cfg: func(n *config.Notify) { n.Workers = 3 }})
	_ = serve(t, e.ta)
	if err := e.svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Start(context.Background()); err == nil {
		t.Fatal("started twice")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.svc.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "notify goroutines to end", func() bool {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		return !strings.Contains(stacks, "notify.(*Service).work")
	})
}

// One batch to several people (a job's chunk) gives each live
// notification event that person's own unread count — read ones not
// counted, another organisation's not counted — on both databases (on
// PostgreSQL the counts are one index probe per person).
func TestBatchLiveEventsCarryEachPersonsUnread(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.send(note(e.ada, "shop.shipped", map[string]any{"order": "a1"}))
	e.send(note(e.ada, "shop.shipped", map[string]any{"order": "a2"}))
	read := e.sendID(note(e.bruno, "shop.shipped", map[string]any{"order": "b1"}))
	if err := e.svc.MarkRead(context.Background(), e.bruno.OrgID, e.bruno.ID, read); err != nil {
		t.Fatal(err)
	}
	e.send(note(e.carla, "shop.shipped", map[string]any{"order": "c1"}))
	batch := []notify.Notification{
		note(e.ada, "shop.shipped", map[string]any{"order": "a3"}),
		note(e.bruno, "shop.shipped", map[string]any{"order": "b2"}),
		note(e.carla, "shop.shipped", map[string]any{"order": "c2"}),
	}
	if err := e.ta.Store.Tx(context.Background(), func(tx *gorm.DB) error {
		_, err := e.svc.SendMany(context.Background(), tx, batch)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want := map[uint]int64{e.ada.ID: 3, e.bruno.ID: 1, e.carla.ID: 2}
	for user, n := range want {
		var data []string
		if err := store.AllOrgs(e.ta.Store.DB).Table("live_events").Where("user_id = ? AND type = ?", user, "notification").
			Order("seq DESC").Limit(1).Pluck("data", &data).Error; err != nil || len(data) != 1 {
			t.Fatalf("user %d's last live event: %v %v", user, data, err)
		}
		var ev notify.Event
		if err := json.Unmarshal([]byte(data[0]), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Unread != n {
			t.Errorf("user %d's event after the batch: unread %d, want %d (%s)", user, ev.Unread, n, data[0])
		}
	}
}
