package live_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/live"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
)

// newApp builds a test app hosting the parcels module, with its live
// service started and its HTTP served on a real socket.
func newApp(t *testing.T, tune func(*config.Config)) (*portaltest.TestApp, *parcels, string) {
	t.Helper()
	m := &parcels{}
	ta := portaltest.New(t, []module.Module{m}, portaltest.WithConfig(func(c *config.Config) {
		c.Notify.Workers = 0
		c.Live.Heartbeat = 200 * time.Millisecond
		c.Live.Retry = 500 * time.Millisecond
		c.Live.TailInterval = 5 * time.Millisecond
		if tune != nil {
			tune(c)
		}
	}))
	if err := ta.Live.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := ta.Live.Stop(ctx); err != nil {
			t.Errorf("stop live: %v", err)
		}
	})
	return ta, m, serve(t, ta)
}

// serve serves ta's HTTP on a real socket and returns its base URL.
func serve(t *testing.T, ta *portaltest.TestApp) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = ta.Web.Serve(ln) }()
	t.Cleanup(func() {
		_ = ta.Web.Shutdown(5 * time.Second)
		<-done
	})
	return "http://" + ln.Addr().String()
}

// person is a signed-in test user.
type person struct {
	*accounts.User
	token string
}

func newPerson(t *testing.T, ta *portaltest.TestApp, slug, email string, role accounts.Role) *person {
	t.Helper()
	u := ta.User(t, slug, email, role)
	return &person{User: u, token: ta.Login(t, slug, email)}
}

type sseEvent struct {
	id, name, data string
}

// stream is one open live stream of a test client.
type stream struct {
	events <-chan sseEvent
	res    *http.Response
	cancel context.CancelFunc
}

func (s *stream) close() { s.cancel(); s.res.Body.Close() }

// open connects p's live stream, resuming after lastID when it is not "".
func open(t *testing.T, base string, p *person, lastID string) *stream {
	t.Helper()
	s, err := dial(base, p, lastID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func dial(base string, p *person, lastID string) (*stream, error) {
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", base+live.StreamPath, nil)
	req.Header.Set("Authorization", "Bearer "+p.token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		return nil, &statusError{res.StatusCode, string(b)}
	}
	ch := make(chan sseEvent, 1024)
	go readEvents(res.Body, ch)
	return &stream{events: ch, res: res, cancel: cancel}, nil
}

type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string { return http.StatusText(e.status) + ": " + e.body }

// readEvents parses an SSE stream into ch until it ends; comments (the
// heartbeat) and the retry hint arrive as events named ":" and "retry:".
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
		case strings.HasPrefix(line, ":"):
			ch <- sseEvent{name: ":", data: strings.TrimSpace(line[1:])}
		case strings.HasPrefix(line, "retry: "):
			ch <- sseEvent{name: "retry:", data: line[7:]}
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.name = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		}
	}
}

// next returns the next event named name, skipping heartbeats and the
// retry hint; any other event first is a failure.
func (s *stream) next(t *testing.T, name string) sseEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("stream ended waiting for %q", name)
			}
			if ev.name == ":" || ev.name == "retry:" {
				continue
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
