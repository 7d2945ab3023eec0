package cli

import (
	"bytes"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portalkit/portalkit/core/portaltest"
)

// makeReadOnly makes path, a file or a directory, read-only to the
// portal until t ends: by its mode for an ordinary user and, since root
// ignores modes, with the immutable attribute (chattr +i) for root.
func makeReadOnly(t *testing.T, path string) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		mode := os.FileMode(0o444)
		if info.IsDir() {
			mode = 0o555
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(path, info.Mode().Perm()) })
		return
	}
	out, err := exec.Command("chattr", "+i", path).CombinedOutput()
	if err != nil {
		// Not a service the portal needs: a filesystem without file
		// attributes (tmpfs) cannot stage this case for root.
		t.Skipf("*** SKIPPED: run as root, the test makes files read-only with the immutable attribute, which %s does not take: %v %s ***",
			path, err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", path).Run() })
}

// lastLine is the last line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// serveRefused runs `portal serve` and checks that it exits 1 with a last
// line containing every want, without printing the "serving on" banner.
func serveRefused(t *testing.T, environ []string, want ...string) {
	t.Helper()
	for _, args := range [][]string{{"serve", "--addr", "127.0.0.1:0"}, {"migrate"}} {
		env, out, errb := testEnv(t, environ...)
		if code := runWith(env, args); code != exitError {
			t.Fatalf("%v: exit %d, want %d; stdout:\n%s\nstderr:\n%s", args, code, exitError, out, errb)
		}
		if strings.Contains(out.String(), "serving on") {
			t.Errorf("%v: the banner was printed although the portal does not serve:\n%s", args, out)
		}
		line := lastLine(errb.String())
		for _, w := range want {
			if !strings.Contains(line, w) {
				t.Errorf("%v: last line %q does not say %q", args, line, w)
			}
		}
	}
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// A read-only SQLite file or directory stops serve and migrate with one
// line naming the file and the cause, before the banner and without
// changing the file (issue 19, item 16).
func TestServeStopsOnReadOnlySQLite(t *testing.T) {
	if portaltest.Dialect() == "postgres" {
		t.Skip("SQLite only: TestServeStopsOnReadOnlyPostgres is its PostgreSQL twin")
	}
	for _, what := range []string{"file", "directory"} {
		t.Run(what, func(t *testing.T) {
			data := t.TempDir()
			environ := []string{"PORTAL_DATA_DIR=" + data, "PORTAL_MQTT_LISTEN=127.0.0.1:0", "PORTAL_LOG_LEVEL=info"}
			env, _, errb := testEnv(t, environ...)
			if code := runWith(env, []string{"migrate"}); code != 0 {
				t.Fatalf("migrate: exit %d: %s", code, errb)
			}
			db := filepath.Join(data, "portal.db")
			before := fileSum(t, db)
			if what == "file" {
				makeReadOnly(t, db)
			} else {
				makeReadOnly(t, data)
			}
			serveRefused(t, environ, "database: "+db+" ", "read-only", "permissions")
			if fileSum(t, db) != before {
				t.Error("the read-only database file changed")
			}
		})
	}
}

// A PostgreSQL session that takes no writes (default_transaction_read_only,
// a standby) stops serve and migrate with one line naming the server and
// the cause, before the banner (issue 19, item 16).
func TestServeStopsOnReadOnlyPostgres(t *testing.T) {
	if portaltest.Dialect() != "postgres" {
		t.Skip("PostgreSQL only: TestServeStopsOnReadOnlySQLite is its SQLite twin")
	}
	environ := portalEnv(t)
	env, _, errb := testEnv(t, environ...)
	if code := runWith(env, []string{"migrate"}); code != 0 {
		t.Fatalf("migrate: exit %d: %s", code, errb)
	}
	var url string
	for i, kv := range environ {
		if u, ok := strings.CutPrefix(kv, "PORTAL_DATABASE_URL="); ok {
			url = u + "&default_transaction_read_only=on"
			environ[i] = "PORTAL_DATABASE_URL=" + url
		}
	}
	if url == "" {
		t.Fatal("no PORTAL_DATABASE_URL in the portal's environment")
	}
	serveRefused(t, environ, "database: PostgreSQL at ", "accepts no writes", "default_transaction_read_only")
	if bytes.Contains(errb.Bytes(), []byte("password")) {
		t.Errorf("the message shows a password:\n%s", errb)
	}
}
