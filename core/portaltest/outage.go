package portaltest

import (
	"context"
	"testing"

	"gorm.io/gorm"
)

// LockTable makes table unavailable to everyone else, as an outage of the
// database looks to the portal: from another connection of db (open it on
// the same database, not the app's own pool) it takes an exclusive lock —
// SQLite: BEGIN EXCLUSIVE, so writers fail after database.busy_timeout;
// PostgreSQL: LOCK TABLE ... ACCESS EXCLUSIVE, so every statement on table
// fails after database.statement_timeout. release ends it (also when the
// test ends).
func LockTable(t testing.TB, db *gorm.DB, table string) (release func()) {
	t.Helper()
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if db.Dialector.Name() == "postgres" {
		_, err = conn.ExecContext(ctx, "BEGIN")
		if err == nil {
			_, err = conn.ExecContext(ctx, "LOCK TABLE "+table+" IN ACCESS EXCLUSIVE MODE")
		}
	} else {
		_, err = conn.ExecContext(ctx, "BEGIN EXCLUSIVE")
	}
	if err != nil {
		_ = conn.Close()
		t.Fatalf("portaltest: locking %s: %v", table, err)
	}
	done := false
	release = func() {
		if done {
			return
		}
		done = true
		_, _ = conn.ExecContext(ctx, "ROLLBACK")
		_ = conn.Close()
	}
	t.Cleanup(release)
	return release
}
