package app_test

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/store"
)

type fakeModule struct {
	id       string
	requires []string
}

func fake(id string, requires ...string) module.Module { return &fakeModule{id, requires} }

func (f *fakeModule) Info() module.Info {
	return module.Info{ID: f.id, Name: f.id, Version: "0", Requires: f.requires}
}
func (f *fakeModule) Init(module.Host) error { return nil }

var _ module.Module = (*fakeModule)(nil)

type badTable struct{ ID uint }

func (badTable) TableName() string { return "notes" }

type badTables struct{}

var _ module.Module = (*badTables)(nil)

func (*badTables) Info() module.Info { return module.Info{ID: "badtables", Name: "Bad", Version: "0"} }
func (*badTables) Init(h module.Host) error {
	h.Models(&badTable{})
	h.Migrations(store.Migration{ID: "0001", Up: store.CreateTables(&badTable{})})
	return nil
}

type netListener struct{}

func (netListener) listen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never answered", url)
}

// moduleMigrations drops the core services' migrations (schedule:...) from
// applied, leaving the modules' own.
func moduleMigrations(applied []string) []string {
	var out []string
	for _, id := range applied {
		if strings.HasPrefix(id, "sample:") {
			out = append(out, id)
		}
	}
	return out
}
