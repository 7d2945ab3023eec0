package store_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
)

// A failing statement is logged with its placeholders, never its values: a
// read-only database once logged an administrator's password hash in the
// "sql error" warning.
func TestSQLErrorsAreLoggedWithoutValues(t *testing.T) {
	var buf bytes.Buffer
	cfg := portaltest.Config(t)
	s, err := store.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const secret = "$argon2id$v=19$m=19456,t=2,p=1$c2VjcmV0LXNhbHQ$secret-hash-value"
	err = s.DB.Exec("UPDATE no_such_table SET password_hash = ? WHERE email = ?", secret, "admin@acme.example").Error
	if err == nil {
		t.Fatal("the statement on a missing table succeeded")
	}
	logs := buf.String()
	if !strings.Contains(logs, "sql error") || !strings.Contains(logs, "UPDATE no_such_table SET password_hash =") {
		t.Fatalf("the failing statement was not logged:\n%s", logs)
	}
	if strings.Contains(logs, "secret-hash-value") || strings.Contains(logs, "admin@acme.example") {
		t.Fatalf("the log shows the statement's values:\n%s", logs)
	}
}
