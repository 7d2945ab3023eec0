package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/app"
	"github.com/portalkit/portalkit/core/dashboard"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/schedule"
)

type out struct{ Body string }

// sloppy declares one mistake of each kind the contract refuses at start.
type sloppy struct{ mistake string }

func (sloppy) Info() module.Info { return module.Info{ID: "sloppy", Name: "Sloppy", Version: "0"} }
func (m sloppy) Init(h module.Host) error {
	handler := func(context.Context, *struct{}) (*out, error) { return &out{Body: "x"}, nil }
	h.API(func(api huma.API) {
		switch m.mistake {
		case "duplicate route":
			accounts.Register(api, huma.Operation{OperationID: "sloppy-first", Method: http.MethodGet, Path: "/things/{id}"},
				func(context.Context, *struct {
					ID string `path:"id"`
				}) (*out, error) {
					return &out{}, nil
				}, accounts.MatrixSkip("test"))
			accounts.Register(api, huma.Operation{OperationID: "sloppy-second", Method: http.MethodGet, Path: "/things/{key}"},
				func(context.Context, *struct {
					Key string `path:"key"`
				}) (*out, error) {
					return &out{}, nil
				}, accounts.MatrixSkip("test"))
		case "duplicate operation ID":
			accounts.Register(api, huma.Operation{OperationID: "sloppy-list", Method: http.MethodGet, Path: "/a"}, handler)
			accounts.Register(api, huma.Operation{OperationID: "sloppy-list", Method: http.MethodGet, Path: "/b"}, handler)
		case "operation prefix":
			accounts.Register(api, huma.Operation{OperationID: "notes-list", Method: http.MethodGet, Path: "/a"}, handler)
		}
	})
	switch m.mistake {
	case "job name":
		h.Job(schedule.Job{Name: "Nightly", Cron: "@daily", Run: func(context.Context, *schedule.Run) error { return nil }})
	case "widget ID":
		h.Widget(dashboard.Widget{ID: "Open-Works"})
	}
	return nil
}

// TestStartRefusesContractMistakes: a second operation on a method and path
// (even with another parameter name), an operation ID used twice, a module
// operation outside its prefix, and names breaking the one rule stop
// start-up with an error naming them.
func TestStartRefusesContractMistakes(t *testing.T) {
	for mistake, wants := range map[string][]string{
		"duplicate route":        {`API route GET /api/v1/sloppy/things/{key} is declared twice: by operation "sloppy-first" and by operation "sloppy-second"`},
		"duplicate operation ID": {`module sloppy: declaring the API: duplicate operation ID: sloppy-list`},
		"operation prefix":       {`module sloppy: operation ID "notes-list": must start with "sloppy-"`},
		"job name":               {`job "sloppy.Nightly"`, `<module id>.<name>`},
		"widget ID":              {`widget "Open-Works"`, "1-64 lowercase letters"},
	} {
		_, err := app.New(context.Background(), app.Options{Config: portaltest.Config(t), Modules: []module.Module{sloppy{mistake}}})
		if err == nil {
			t.Errorf("%s: start-up accepted it", mistake)
			continue
		}
		for _, want := range wants {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not say %q", mistake, err, want)
			}
		}
	}
}
