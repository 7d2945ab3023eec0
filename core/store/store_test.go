package store_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
)

type widget struct {
	ID uint
	store.OrgOwned
	Name  string
	Parts []part `gorm:"foreignKey:WidgetID"`
}

type part struct {
	ID       uint
	WidgetID uint
	store.OrgOwned
	Label string
}

type platformThing struct {
	ID   uint
	Name string
}

func open(t *testing.T) *store.Store {
	t.Helper()
	cfg := portaltest.Config(t)
	s, err := store.Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background(), nil, []store.MigrationSet{{Owner: "test", Migrations: []store.Migration{
		{ID: "0001", Up: store.CreateTables(&widget{}, &part{}, &platformThing{})},
	}}}); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOrgScoping(t *testing.T) {
	s := open(t)
	db := s.DB
	org1, org2 := store.Org(db, 1), store.Org(db, 2)
	for i := 0; i < 3; i++ {
		if err := org1.Create(&widget{Name: fmt.Sprintf("one-%d", i), Parts: []part{{Label: "p"}}}).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := org2.Create(&widget{Name: "two"}).Error; err != nil {
		t.Fatal(err)
	}

	t.Run("unscoped reads, updates and deletes fail", func(t *testing.T) {
		var ws []widget
		var n int64
		checks := map[string]error{
			"find":   db.Find(&ws).Error,
			"first":  db.First(&widget{}, 1).Error,
			"count":  db.Model(&widget{}).Count(&n).Error,
			"update": db.Model(&widget{ID: 1}).Update("name", "x").Error,
			"delete": db.Delete(&widget{}, 1).Error,
			"create": db.Create(&widget{Name: "orphan"}).Error,
		}
		for op, err := range checks {
			if !errors.Is(err, store.ErrUnscoped) {
				t.Errorf("%s: err = %v, want ErrUnscoped", op, err)
			}
		}
		var still int64
		store.AllOrgs(db).Model(&widget{}).Count(&still)
		if still != 4 {
			t.Errorf("an unscoped write changed data: %d widgets", still)
		}
	})

	t.Run("scoped handles see only their org, and are reusable", func(t *testing.T) {
		var a, b []widget
		if err := org1.Find(&a).Error; err != nil {
			t.Fatal(err)
		}
		if err := org1.Where("name LIKE ?", "one-%").Find(&b).Error; err != nil {
			t.Fatal(err)
		}
		if len(a) != 3 || len(b) != 3 {
			t.Fatalf("org1 sees %d then %d widgets, want 3 and 3", len(a), len(b))
		}
		var w widget
		err := org2.First(&w, a[0].ID).Error
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			t.Fatalf("org2 read org1's widget: %v %+v", err, w)
		}
		res := org2.Model(&widget{}).Where("id = ?", a[0].ID).Update("name", "stolen")
		if res.Error != nil || res.RowsAffected != 0 {
			t.Fatalf("org2 updated org1's widget: %v rows=%d", res.Error, res.RowsAffected)
		}
	})

	t.Run("preload stays scoped", func(t *testing.T) {
		var ws []widget
		if err := org1.Preload("Parts").Find(&ws).Error; err != nil {
			t.Fatal(err)
		}
		if len(ws) != 3 || len(ws[0].Parts) != 1 {
			t.Fatalf("preload: %d widgets, %d parts", len(ws), len(ws[0].Parts))
		}
	})

	t.Run("create fills and checks the org", func(t *testing.T) {
		w := widget{Name: "filled"}
		if err := org2.Create(&w).Error; err != nil || w.OrgID != 2 {
			t.Fatalf("OrgID = %d, err %v", w.OrgID, err)
		}
		bad := widget{Name: "mismatch", OrgOwned: store.OrgOwned{OrgID: 1}}
		if err := org2.Create(&bad).Error; err == nil {
			t.Fatal("created a row for org 1 through an org 2 handle")
		}
		batch := []widget{{Name: "b1"}, {Name: "b2"}}
		if err := org2.Create(&batch).Error; err != nil || batch[1].OrgID != 2 {
			t.Fatalf("batch create: %v %+v", err, batch)
		}
	})

	t.Run("organisation zero is refused", func(t *testing.T) {
		var ws []widget
		if err := store.Org(db, 0).Find(&ws).Error; !errors.Is(err, store.ErrNoOrg) {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("platform tables need no org", func(t *testing.T) {
		if err := db.Create(&platformThing{Name: "x"}).Error; err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := db.Model(&platformThing{}).Count(&n).Error; err != nil || n != 1 {
			t.Fatalf("n=%d err=%v", n, err)
		}
	})
}

func TestFailedMigrationLeavesNoTrace(t *testing.T) {
	s := open(t)
	type half struct{ ID uint }
	_, err := s.Migrate(context.Background(), nil, []store.MigrationSet{{Owner: "broken", Migrations: []store.Migration{
		{ID: "0001_table", Up: store.CreateTables(&half{})},
		{ID: "0002_fails", Up: func(tx *gorm.DB) error { return errors.New("bad data") }},
	}}})
	if err == nil || !strings.Contains(err.Error(), "bad data") {
		t.Fatalf("err = %v", err)
	}
	if s.DB.Migrator().HasTable(&half{}) {
		t.Fatal("the first migration's table survived the failed run")
	}
	ids, _ := s.Applied(context.Background())
	for _, id := range ids {
		if strings.HasPrefix(id, "broken:") {
			t.Fatalf("failed migration recorded: %v", ids)
		}
	}
}

func TestDuplicateMigrationID(t *testing.T) {
	s := open(t)
	up := func(*gorm.DB) error { return nil }
	_, err := s.Migrate(context.Background(), nil, []store.MigrationSet{{Owner: "dup", Migrations: []store.Migration{{ID: "1", Up: up}, {ID: "1", Up: up}}}})
	if err == nil || !strings.Contains(err.Error(), "dup:1 is declared twice") {
		t.Fatalf("err = %v", err)
	}
}

// Many goroutines writing at once must all succeed: on SQLite through the
// single writer connection, on PostgreSQL through the pool.
func TestConcurrentWriters(t *testing.T) {
	s := open(t)
	var wg sync.WaitGroup
	errc := make(chan error, 400)
	for g := 0; g < 20; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				err := s.Tx(context.Background(), func(tx *gorm.DB) error {
					var n int64
					if err := store.Org(tx, 1).Model(&widget{}).Count(&n).Error; err != nil {
						return err
					}
					return store.Org(tx, 1).Create(&widget{Name: fmt.Sprintf("g%d-%d", g, i)}).Error
				})
				if err != nil {
					errc <- err
				}
				var w []widget
				if err := store.Org(s.DB, 1).Limit(5).Find(&w).Error; err != nil {
					errc <- err
				}
			}
		}(g)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	var n int64
	store.Org(s.DB, 1).Model(&widget{}).Count(&n)
	if n != 400 {
		t.Fatalf("%d rows, want 400", n)
	}
}

func TestUniqueViolation(t *testing.T) {
	s := open(t)
	type uniq struct {
		ID   uint
		Code string `gorm:"uniqueIndex"`
	}
	if err := s.DB.AutoMigrate(&uniq{}); err != nil {
		t.Fatal(err)
	}
	if err := s.DB.Create(&uniq{Code: "a"}).Error; err != nil {
		t.Fatal(err)
	}
	err := s.DB.Create(&uniq{Code: "a"}).Error
	if !store.IsUniqueViolation(err) {
		t.Fatalf("err = %v, want a unique violation", err)
	}
}
