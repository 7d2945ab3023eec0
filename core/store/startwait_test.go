package store_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
)

// lockedBuffer collects log lines written from any goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freeAddr answers a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// proxyAfter starts, after delay, a TCP proxy on addr to target; it stops
// when t ends.
func proxyAfter(t *testing.T, delay time.Duration, addr, target string) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-time.After(delay):
		case <-done:
			return
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("proxy: %v", err)
			return
		}
		go func() { <-done; _ = ln.Close() }()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer s.Close()
				go func() { _, _ = io.Copy(s, c); _ = s.Close() }()
				_, _ = io.Copy(c, s)
			}()
		}
	}()
	t.Cleanup(func() { close(done); wg.Wait() })
}

// Started while PostgreSQL does not answer, Open retries with backoff for
// database.start_wait, one warning line per wait, and connects once the server
// answers; past start_wait it gives up with the message it always gave
// (issue 19, item 4).
func TestOpenWaitsForPostgres(t *testing.T) {
	if portaltest.Dialect() != "postgres" {
		t.Skip("PostgreSQL only: SQLite opens a local file")
	}
	cfg := portaltest.Config(t)
	u, err := url.Parse(cfg.Database.URL)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	ctx := context.Background()

	t.Run("the server comes up within start_wait", func(t *testing.T) {
		addr := freeAddr(t)
		proxyAfter(t, time.Second, addr, target)
		u.Host = addr
		cfg.Database.URL, cfg.Database.StartWait = u.String(), 20*time.Second
		var logs lockedBuffer
		start := time.Now()
		st, err := store.Open(ctx, cfg, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatalf("open: %v\n%s", err, logs.String())
		}
		defer st.Close()
		if d := time.Since(start); d < time.Second {
			t.Errorf("connected after %v, before the server was up", d)
		}
		if err := st.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(logs.String(), "database unreachable; retrying"); n < 2 || n > 6 {
			t.Errorf("%d retry warnings, want one per wait (0.25 s doubling over 1 s):\n%s", n, logs.String())
		}
		if !strings.Contains(logs.String(), "database reachable") {
			t.Errorf("no line saying the database became reachable:\n%s", logs.String())
		}
	})
	t.Run("it does not within start_wait", func(t *testing.T) {
		u.Host = freeAddr(t)
		cfg.Database.URL, cfg.Database.StartWait = u.String(), 700*time.Millisecond
		var logs lockedBuffer
		start := time.Now()
		st, err := store.Open(ctx, cfg, slog.New(slog.NewTextHandler(&logs, nil)))
		if err == nil {
			_ = st.Close()
			t.Fatal("opened a database nothing listens for")
		}
		if d := time.Since(start); d < 700*time.Millisecond || d > 15*time.Second {
			t.Errorf("gave up after %v, want start_wait (700ms)", d)
		}
		if !strings.Contains(err.Error(), "database: cannot connect to PostgreSQL at") {
			t.Errorf("error %q does not say it cannot connect", err)
		}
		if n := strings.Count(logs.String(), "database unreachable; retrying"); n < 2 || n > 4 {
			t.Errorf("%d retry warnings, want one per wait (0.25 s doubling over 0.7 s):\n%s", n, logs.String())
		}
		if n := strings.Count(logs.String(), "giving up"); n != 1 {
			t.Errorf("%d give-up lines, want one:\n%s", n, logs.String())
		}
		if strings.Contains(logs.String(), "failed to initialize") {
			t.Errorf("the failed connection is logged twice per wait:\n%s", logs.String())
		}
	})
}
