package api_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portalkit/portalkit/api"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	_ "github.com/portalkit/portalkit/verticals/all"
)

// OapiCodegen is the oapi-codegen release the document is checked against.
const OapiCodegen = "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2"

// The document is the same on both databases; it is checked once, in the
// SQLite pass.
func onePass(t *testing.T) {
	t.Helper()
	if portaltest.Dialect() != "sqlite" {
		t.Skip("the OpenAPI document does not depend on the database; checked in the SQLite pass")
	}
}

// TestCommittedDocumentIsCurrent fails when the document a portal with the
// bundled modules serves differs from api/openapi.json: every API change is
// a reviewed diff of that file.
func TestCommittedDocumentIsCurrent(t *testing.T) {
	onePass(t)
	served, err := api.Document(context.Background(), module.Registered())
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(served, committed) {
		out := filepath.Join(t.TempDir(), "served.json")
		_ = os.WriteFile(out, served, 0o644)
		t.Fatalf("api/openapi.json is not the served document: run `make api` and review the diff (served copy: %s)", out)
	}
}

// TestGeneratedGoClientCompiles generates a Go client from the document
// with oapi-codegen's default settings (types and client; no options for
// name collisions) and compiles it, so a document whose names collide
// after code generation fails CI.
func TestGeneratedGoClientCompiles(t *testing.T) {
	onePass(t)
	gobin, err := exec.LookPath("go")
	portaltest.RequireService(t, "the go command", err == nil, "oapi-codegen runs through `go run`")
	dir := t.TempDir()
	doc, err := filepath.Abs("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("oapi.yaml", "package: client\noutput: client.gen.go\ngenerate:\n  models: true\n  client: true\n")
	write("go.mod", "module clientcheck\n\ngo 1.26.8\n")
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(gobin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
		out, err := cmd.CombinedOutput()
		if err != nil {
			msg := string(out)
			if strings.Contains(msg, "dial tcp") || strings.Contains(msg, "no such host") {
				portaltest.RequireService(t, "the Go module proxy", false, msg)
			}
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, msg)
		}
	}
	run("run", OapiCodegen, "-config", "oapi.yaml", doc)
	run("mod", "tidy")
	run("build", "./...")
	run("vet", "./...")
}

// TestGoSDKIsCurrent fails when sdk/go/api/api.gen.go is not what
// oapi-codegen makes of api/openapi.json with sdk/go/api/oapi.yaml: run
// `go generate ./...` in sdk/go (make sdk).
func TestGoSDKIsCurrent(t *testing.T) {
	onePass(t)
	gobin, err := exec.LookPath("go")
	portaltest.RequireService(t, "the go command", err == nil, "oapi-codegen runs through `go run`")
	dir := t.TempDir()
	cfg, err := os.ReadFile(filepath.Join("..", "sdk", "go", "api", "oapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "oapi.yaml"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	doc, _ := filepath.Abs("openapi.json")
	cmd := exec.Command(gobin, "run", OapiCodegen, "-config", "oapi.yaml", doc)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oapi-codegen: %v\n%s", err, out)
	}
	fresh, err := os.ReadFile(filepath.Join(dir, "api.gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join("..", "sdk", "go", "api", "api.gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, committed) {
		t.Fatal("sdk/go/api/api.gen.go is stale: run `make sdk` (go generate ./... in sdk/go) and commit it")
	}
}
