package api

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portalkit/portalkit/core/portaltest"
)

// tsDir is the TypeScript SDK's package.
var tsDir = filepath.Join("..", "..", "sdk", "typescript")

// TestTypeScriptSDK checks the TypeScript SDK against a real portal: its
// generated types match api/openapi.json, it compiles, its node tests pass
// against a demo portal (sign-in, problems, a retried transfer moving money
// once, the notification stream resuming), and the README's TypeScript
// program runs and lists the accounts.
func TestTypeScriptSDK(t *testing.T) {
	if portaltest.Dialect() != "sqlite" {
		t.Skip("the SDK does not depend on the database; run in the SQLite pass")
	}
	npm, err := exec.LookPath("npm")
	portaltest.RequireService(t, "npm", err == nil, "the TypeScript SDK is built and tested with node and npm")
	_, err = os.Stat(filepath.Join(tsDir, "node_modules", ".bin", "tsc"))
	portaltest.RequireService(t, "the TypeScript SDK's packages", err == nil, "run `npm ci` in sdk/typescript (.ci/run does)")
	run := func(env []string, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = tsDir
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run(nil, npm, "run", "--silent", "check-generated")
	run(nil, npm, "run", "--silent", "build")

	_, base := start(t)
	env := []string{"PORTAL_URL=" + base, "PORTAL_DEMO_PASSWORD=" + demoPassword, "PORTAL_PASSWORD=" + demoPassword}
	out := run(env, "node", "--test", "test/")
	t.Logf("node --test:\n%s", tail(out, 12))

	// The README's program, inside the package so "@portalkit/sdk" resolves
	// to it (a package may import itself by name).
	dir, err := os.MkdirTemp(tsDir, ".readme-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "main.ts"), []byte(readmeBlock(t, "readme-ts")), 0o644); err != nil {
		t.Fatal(err)
	}
	got := run(env, filepath.Join("node_modules", ".bin", "tsx"), filepath.Join(filepath.Base(dir), "main.ts"))
	if !strings.Contains(got, "Conto corrente") || !strings.Contains(got, "IT") {
		t.Fatalf("README TypeScript program printed %q, want the demo accounts", got)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
