package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
)

// users counts the users of the SQLite database in dataDir.
func users(t *testing.T, dataDir string) int64 {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = dataDir
	st, err := store.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var n int64
	if err := st.DB.Raw("SELECT count(*) FROM accounts_users").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBackupAndRestore backs up a running deployment's SQLite file, changes
// the deployment, and restores the backup into another data dir and over
// the original: what the backup held comes back, and nothing is replaced
// without --force.
func TestBackupAndRestore(t *testing.T) {
	data := t.TempDir()
	env, _, errb := testEnv(t, "PORTAL_DATA_DIR="+data)
	if code := runWith(env, []string{"demo", "--demo-password", "backup-test-password-1"}); code != exitOK {
		t.Fatalf("demo: exit %d: %s", code, errb)
	}
	before := users(t, data)
	backup := filepath.Join(t.TempDir(), "nightly", "portal-backup.db")
	env, out, errb := testEnv(t, "PORTAL_DATA_DIR="+data)
	if code := runWith(env, []string{"backup", "--out", backup}); code != exitOK {
		t.Fatalf("backup: exit %d: %s", code, errb)
	}
	if !strings.Contains(out.String(), "integrity check ok") {
		t.Fatalf("backup said %q", out)
	}
	// The same file again is refused: a backup never overwrites.
	env, _, errb = testEnv(t, "PORTAL_DATA_DIR="+data)
	if code := runWith(env, []string{"backup", "--out", backup}); code != exitError || !strings.Contains(errb.String(), "already exists") {
		t.Fatalf("a second backup to the same file: exit %d: %s", code, errb)
	}
	env, _, errb = testEnv(t, "PORTAL_DATA_DIR="+data)
	if code := runWith(env, []string{"users", "add", "--org", "demo", "--email", "after-backup@demo.example", "--role", "customer"}); code != exitOK {
		t.Fatalf("users add: exit %d: %s", code, errb)
	}
	if users(t, data) != before+1 {
		t.Fatal("the user added after the backup is missing")
	}

	// Into a new data dir.
	fresh := t.TempDir()
	env, _, errb = testEnv(t, "PORTAL_DATA_DIR="+fresh)
	if code := runWith(env, []string{"restore", "--from", backup}); code != exitOK {
		t.Fatalf("restore: exit %d: %s", code, errb)
	}
	if got := users(t, fresh); got != before {
		t.Fatalf("restored %d users, the backup held %d", got, before)
	}
	// Over the original: refused without --force, then done with it.
	env, _, errb = testEnv(t, "PORTAL_DATA_DIR="+data)
	if code := runWith(env, []string{"restore", "--from", backup}); code != exitError || !strings.Contains(errb.String(), "--force") {
		t.Fatalf("restore over a database without --force: exit %d: %s", code, errb)
	}
	if users(t, data) != before+1 {
		t.Fatal("a refused restore changed the database")
	}
	env, _, errb = testEnv(t, "PORTAL_DATA_DIR="+data)
	if code := runWith(env, []string{"restore", "--from", backup, "--force"}); code != exitOK {
		t.Fatalf("restore --force: exit %d: %s", code, errb)
	}
	if got := users(t, data); got != before {
		t.Fatalf("after restore --force: %d users, want the backup's %d", got, before)
	}
	if _, err := os.Stat(filepath.Join(data, "portal.db.before-restore")); err != nil {
		t.Fatalf("the replaced database should be kept: %v", err)
	}

	// A file that is not a portal database is refused before anything moves.
	junk := filepath.Join(t.TempDir(), "junk.db")
	_ = os.WriteFile(junk, []byte("not a database"), 0o600)
	env, _, errb = testEnv(t, "PORTAL_DATA_DIR="+t.TempDir())
	if code := runWith(env, []string{"restore", "--from", junk}); code != exitError {
		t.Fatalf("restoring junk: exit %d: %s", code, errb)
	}
}

// TestDBCopyCommand copies a demo deployment's SQLite file into PostgreSQL
// through the CLI (the store's copy is tested in depth in e2e).
func TestDBCopyCommand(t *testing.T) {
	for _, args := range [][]string{{"db"}, {"db", "move"}, {"db", "copy"}, {"db", "copy", "--to", "mysql://x"}} {
		env, _, errb := testEnv(t, "PORTAL_DATA_DIR="+t.TempDir())
		if code := runWith(env, args); code != exitUsage || strings.Count(errb.String(), "\n") != 1 {
			t.Fatalf("%v: exit %d, %q", args, code, errb)
		}
	}
	if portaltest.Dialect() != "postgres" {
		t.Skip("the copy itself runs in the PostgreSQL pass")
	}
	data := t.TempDir()
	env, _, errb := testEnv(t, "PORTAL_DATA_DIR="+data)
	if code := runWith(env, []string{"demo", "--demo-password", "copy-test-password-1"}); code != exitOK {
		t.Fatalf("demo: exit %d: %s", code, errb)
	}
	target := portaltest.NewPostgresSchema(t)
	env, out, errb := testEnv(t, "PORTAL_DATA_DIR="+data)
	if code := runWith(env, []string{"db", "copy", "--to", target}); code != exitOK {
		t.Fatalf("db copy: exit %d: %s", code, errb)
	}
	if !strings.Contains(out.String(), "row counts and checksums match") {
		t.Fatalf("db copy said %q", out)
	}
	// The PostgreSQL deployment now answers for the demo users.
	env, out, errb = testEnv(t, "PORTAL_DATA_DIR="+t.TempDir(), "PORTAL_DATABASE_URL="+target)
	if code := runWith(env, []string{"orgs", "list"}); code != exitOK || !strings.Contains(out.String(), "demo") {
		t.Fatalf("orgs list on the copy: exit %d: %s %s", code, out, errb)
	}
	// Copying again into the filled database is refused.
	env, _, errb = testEnv(t, "PORTAL_DATA_DIR="+data)
	if code := runWith(env, []string{"db", "copy", "--to", target}); code != exitError || !strings.Contains(errb.String(), "not empty") {
		t.Fatalf("a second copy: exit %d: %s", code, errb)
	}
}

// TestHealthCommand is the container's HEALTHCHECK: exit 0 only when the
// instance's /healthz answers 200.
func TestHealthCommand(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	env, out, errb := testEnv(t, "PORTAL_HTTP_ADDR="+addr, "PORTAL_DATA_DIR="+t.TempDir())
	if code := runWith(env, []string{"health"}); code != exitOK || !strings.Contains(out.String(), "healthy") {
		t.Fatalf("healthy instance: exit %d: %s %s", code, out, errb)
	}
	status = http.StatusServiceUnavailable
	env, _, errb = testEnv(t, "PORTAL_HTTP_ADDR="+addr, "PORTAL_DATA_DIR="+t.TempDir())
	if code := runWith(env, []string{"health"}); code != exitError || !strings.Contains(errb.String(), "503") {
		t.Fatalf("failing instance: exit %d: %s", code, errb)
	}
	srv.Close()
	env, _, errb = testEnv(t)
	if code := runWith(env, []string{"health", "--url", srv.URL + "/healthz"}); code != exitError || !strings.Contains(errb.String(), "unhealthy") {
		t.Fatalf("nothing listening: exit %d: %s", code, errb)
	}
}
