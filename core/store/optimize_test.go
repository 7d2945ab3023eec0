package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/portalkit/portalkit/core/store"
)

// TestOptimizeGathersStatistics: after Optimize the planner has statistics
// of a table that was loaded in bulk (SQLite's sqlite_stat1, PostgreSQL's
// pg_stats); before it, SQLite has none.
func TestOptimizeGathersStatistics(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	for org := uint(1); org <= 2; org++ {
		rows := make([]widget, 300)
		for i := range rows {
			rows[i] = widget{Name: fmt.Sprintf("w%d", i)}
		}
		if err := store.Org(s.DB, org).CreateInBatches(rows, 100).Error; err != nil {
			t.Fatal(err)
		}
	}
	stats := func() int64 {
		t.Helper()
		var n int64
		q := "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'widgets'"
		if s.Dialect == store.Postgres {
			q = "SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'widgets'"
		} else {
			var tables int64
			if err := s.DB.Raw("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").Scan(&tables).Error; err != nil {
				t.Fatal(err)
			}
			if tables == 0 {
				return 0
			}
		}
		if err := s.DB.Raw(q).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	if s.Dialect == store.SQLite && stats() != 0 {
		t.Fatalf("statistics before Optimize: %d", stats())
	}
	if err := s.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	if n := stats(); n == 0 {
		t.Fatal("no statistics of widgets after Optimize")
	}
	if err := s.Optimize(ctx); err != nil { // again: nothing changed, still fine
		t.Fatal(err)
	}
}
