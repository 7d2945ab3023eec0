package store_test

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/store"
)

// TestSQLiteTimeFormat pins the stored time format to the one files written
// by earlier versions of the portal use, and checks that such a value still
// reads back as a time while text from an expression stays text.
func TestSQLiteTimeFormat(t *testing.T) {
	s := open(t)
	if s.Dialect != store.SQLite {
		t.Skip("PostgreSQL stores timestamptz")
	}
	type stamped struct {
		ID uint
		At time.Time
	}
	if err := s.DB.AutoMigrate(&stamped{}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 4, 5, 6, 7, 890000000, time.UTC)
	if err := s.DB.Create(&stamped{At: at}).Error; err != nil {
		t.Fatal(err)
	}
	var raw string
	if err := s.DB.Raw("SELECT CAST(at AS TEXT) FROM stampeds").Scan(&raw).Error; err != nil {
		t.Fatal(err)
	}
	if raw != "2026-03-04 05:06:07.89+00:00" {
		t.Fatalf("stored %q, want the sqlite format", raw)
	}
	// A row as an older version wrote it.
	if err := s.DB.Exec("INSERT INTO stampeds (at) VALUES ('2025-12-31 23:59:59.5+01:00')").Error; err != nil {
		t.Fatal(err)
	}
	var rows []stamped
	if err := s.DB.Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || !rows[0].At.Equal(at) || !rows[1].At.Equal(time.Date(2025, 12, 31, 22, 59, 59, 500000000, time.UTC)) {
		t.Fatalf("read back %+v", rows)
	}
	var day string
	if err := s.DB.Raw("SELECT strftime('%Y-%m-%d', MAX(at)) FROM stampeds").Scan(&day).Error; err != nil {
		t.Fatal(err)
	}
	if day != "2026-03-04" {
		t.Fatalf("expression text = %q, want it unconverted", day)
	}
}

// TestStatementCache checks that repeated queries reuse compiled statements:
// GORM's cache on both SQLite pools, pgx's cache on PostgreSQL.
func TestStatementCache(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if err := store.Org(s.DB, 1).Create(&widget{Name: "w"}).Error; err != nil {
		t.Fatal(err)
	}
	if s.Dialect == store.SQLite {
		if _, ok := s.DB.ConnPool.(*gorm.PreparedStmtDB); !ok {
			t.Fatalf("writer pool %T has no statement cache", s.DB.ConnPool)
		}
		var w []widget
		tx := store.Org(s.DB.WithContext(ctx), 1).Find(&w)
		if tx.Error != nil || len(w) != 1 {
			t.Fatalf("read: %v, %d rows", tx.Error, len(w))
		}
		if _, ok := tx.Statement.ConnPool.(*gorm.PreparedStmtDB); !ok {
			t.Fatalf("read pool %T has no statement cache", tx.Statement.ConnPool)
		}
		return
	}
	err := s.DB.WithContext(ctx).Connection(func(c *gorm.DB) error {
		for i := 0; i < 3; i++ {
			var w []widget
			if err := store.Org(c, 1).Where("name = ?", "w").Find(&w).Error; err != nil {
				return err
			}
		}
		var n int64
		if err := c.Raw("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM \"widgets\"%'").Scan(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			t.Fatal("pgx prepared no statement: its statement cache is off")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
