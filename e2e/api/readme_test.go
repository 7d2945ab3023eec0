package api

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portalkit/portalkit/core/portaltest"
)

// readmeBlock returns the fenced code block after marker in README.md.
func readmeBlock(t *testing.T, marker string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- "+marker+" -->\n")
	if !ok {
		t.Fatalf("README.md has no %q block", marker)
	}
	_, rest, _ = strings.Cut(rest, "\n") // the opening fence
	code, _, ok := strings.Cut(rest, "\n```")
	if !ok {
		t.Fatalf("README.md's %q block is not closed", marker)
	}
	return code + "\n"
}

// TestReadmeGoProgramRuns runs the README's Go program against a demo
// portal: it must sign in and list the customer's accounts.
func TestReadmeGoProgramRuns(t *testing.T) {
	if portaltest.Dialect() != "sqlite" {
		t.Skip("the README program does not depend on the database; run in the SQLite pass")
	}
	gobin, err := exec.LookPath("go")
	portaltest.RequireService(t, "the go command", err == nil, "the README program is run with `go run`")
	_, base := start(t)
	// Inside this module, so the SDK resolves through go.mod's replace.
	dir, err := os.MkdirTemp(".", "readme-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(readmeBlock(t, "readme-go")), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gobin, "run", "./"+filepath.Base(dir))
	cmd.Env = append(os.Environ(), "PORTAL_URL="+base, "PORTAL_PASSWORD="+demoPassword)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("README program: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Conto corrente") || !strings.Contains(string(out), "IT") {
		t.Fatalf("README program printed %q, want the demo accounts", out)
	}
}
