// Package api holds PortalKit's committed OpenAPI document, openapi.json:
// the contract of the JSON API under /api/v1 that integrators and the SDKs
// (sdk/go, sdk/typescript) are generated from. Every change to the API
// shows as a reviewed diff of this file; TestCommittedDocumentIsCurrent
// fails when the served document differs, and `make api` (go generate
// ./api) refreshes it. docs/api.md says what the document promises.
package api

//go:generate go run ./gen openapi.json

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"

	"github.com/portalkit/portalkit/core/app"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/module"
)

// Document builds a portal with the given modules on the default
// configuration (an empty SQLite database in a temporary directory) and
// returns the OpenAPI document it serves at /api/openapi.json, indented.
// The servers entry is the default http.base_url.
func Document(ctx context.Context, mods []module.Module) ([]byte, error) {
	dir, err := os.MkdirTemp("", "portalkit-openapi-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Log.Level = "error"
	a, err := app.New(ctx, app.Options{Config: cfg, Modules: mods, LogOutput: io.Discard})
	if err != nil {
		return nil, err
	}
	defer a.Close()
	res, err := a.Web.App.Test(httptest.NewRequest("GET", "/api/openapi.json", nil), 30_000)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("GET /api/openapi.json: %d %s", res.StatusCode, raw)
	}
	return Canonical(raw)
}

// Canonical re-encodes a JSON document with sorted keys and two-space
// indentation, so that documents compare byte for byte.
func Canonical(raw []byte) ([]byte, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
