package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
)

// TestCopySQLiteDeploymentToPostgres moves the demo deployment from its
// embedded SQLite file into an empty PostgreSQL (`portal db copy`), then
// uses the PostgreSQL one: every row arrived (counts and checksums), the
// demo customer signs in and sees their data, and new rows get new IDs
// (the sequences were set).
func TestCopySQLiteDeploymentToPostgres(t *testing.T) {
	if portaltest.Dialect() != "postgres" {
		t.Skip("runs in the PostgreSQL pass: it copies an SQLite deployment into PostgreSQL")
	}
	ctx := context.Background()
	src := portaltest.New(t, module.Registered(), portaltest.WithConfig(func(c *config.Config) { c.Database.URL = "" }))
	src.Demo(t)
	dst := portaltest.New(t, module.Registered())

	var calls int
	var last, total int64
	report, err := src.Store.CopyTo(ctx, dst.Store, func(_ string, done, all int64) { calls, last, total = calls+1, done, all })
	if err != nil {
		t.Fatalf("copy: %v", err)
	}
	if calls == 0 || last != total || total != report.Rows || total < 100 {
		t.Fatalf("progress ended at %d of %d after %d calls; the report says %d rows", last, total, calls, report.Rows)
	}

	// Every table the demo filled has the same rows on both sides.
	srcDB, dstDB := src.Store.DB, dst.Store.DB
	var filled int
	for _, tc := range report.Tables {
		var a, b int64
		if err := srcDB.Raw(`SELECT count(*) FROM "` + tc.Name + `"`).Scan(&a).Error; err != nil {
			t.Fatal(err)
		}
		if err := dstDB.Raw(`SELECT count(*) FROM "` + tc.Name + `"`).Scan(&b).Error; err != nil {
			t.Fatal(err)
		}
		if a != b || a != tc.Rows {
			t.Errorf("%s: SQLite %d rows, PostgreSQL %d, report %d", tc.Name, a, b, tc.Rows)
		}
		if a > 0 {
			filled++
		}
	}
	if filled < 20 {
		t.Fatalf("only %d tables held data: the demo should fill many more", filled)
	}

	// The PostgreSQL deployment works as the SQLite one did.
	for _, email := range []string{"customer@demo.example", "staff@demo.example", "admin@demo.example"} {
		token := dst.Login(t, "demo", email)
		for _, path := range []string{"/api/v1/me", "/api/v1/dashboard", "/api/v1/notifications"} {
			resp := dst.Do(t, http.MethodGet, path, nil, portaltest.Bearer(token))
			if resp.Status != http.StatusOK {
				t.Errorf("%s GET %s on the copy: %d %s", email, path, resp.Status, resp.Body)
			}
		}
	}
	// A new row takes the next ID after the copied ones.
	org := dst.Org(t, "demo")
	u, err := dst.Accounts.CreateUser(ctx, dst.Store.DB, org.ID, accounts.NewUser{Email: "after-copy@demo.example", Name: "After Copy", Role: accounts.Customer})
	if err != nil {
		t.Fatalf("creating a user after the copy (sequence not set?): %v", err)
	}
	var maxID uint
	srcDB.Raw(`SELECT max(id) FROM accounts_users`).Scan(&maxID)
	if u.ID <= maxID {
		t.Fatalf("the new user got ID %d, not after the copied %d", u.ID, maxID)
	}

	// A second copy into the now-filled database is refused, naming a table.
	if _, err := src.Store.CopyTo(ctx, dst.Store, nil); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("a copy into a database with data should be refused, got %v", err)
	}
}
