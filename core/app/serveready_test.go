package app_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/portalkit/portalkit/core/app/testdata/sample"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
)

// failingRunner is a background service that cannot start.
type failingRunner struct{}

func (failingRunner) Name() string                { return "broken-service" }
func (failingRunner) Start(context.Context) error { return errors.New("cannot start") }
func (failingRunner) Stop(context.Context) error  { return nil }

// ServeReady calls ready only once the portal serves — a background
// service that fails to start ends Serve without it, so no "serving on"
// banner precedes a start-up error — and, when it calls it, a request
// sent from ready is answered (issue 19, item 16).
func TestServeReadyOnlyOnceServing(t *testing.T) {
	t.Run("a service fails to start", func(t *testing.T) {
		ta := portaltest.New(t, []module.Module{&sample.Module{}})
		ta.AddRunner(failingRunner{})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		called := false
		err = ta.ServeReady(context.Background(), ln, func() { called = true })
		if err == nil || !strings.Contains(err.Error(), "broken-service: cannot start") {
			t.Fatalf("ServeReady returned %v, want the service's start error", err)
		}
		if called {
			t.Error("ready was called although the portal never served")
		}
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			c.Close()
			t.Error("the listener still accepts connections after the failed start")
		}
	})
	t.Run("it serves", func(t *testing.T) {
		ta := portaltest.New(t, []module.Module{&sample.Module{}})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		status := make(chan int, 1)
		done := make(chan error, 1)
		go func() {
			done <- ta.ServeReady(ctx, ln, func() {
				res, err := http.Get("http://" + ln.Addr().String() + "/healthz")
				if err != nil {
					status <- 0
					return
				}
				res.Body.Close()
				status <- res.StatusCode
			})
		}()
		if s := <-status; s != http.StatusOK {
			t.Errorf("a request sent when ready was called got %d, want 200", s)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("ServeReady returned %v", err)
		}
	})
}
