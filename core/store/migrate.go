package store

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// Migration is one versioned schema or data change owned by a module.
// Applied migrations are recorded by "<owner>:<ID>" in portal_migrations and
// never run twice; IDs must not change once released.
type Migration struct {
	// ID orders the owner's migrations, e.g. "0001_vehicles".
	ID string
	// Up applies the change inside the migration transaction.
	Up func(tx *gorm.DB) error
}

// MigrationSet is the ordered migrations of one owner (a core service or a
// module).
type MigrationSet struct {
	Owner      string
	Migrations []Migration
}

// CreateTables returns an Up function that creates the tables of models as
// they are declared now. Use it for a module's first migration; later changes
// get migrations of their own.
func CreateTables(models ...any) func(tx *gorm.DB) error {
	return func(tx *gorm.DB) error { return tx.Migrator().AutoMigrate(models...) }
}

// migrationLockKey is the PostgreSQL advisory lock held while migrating.
const migrationLockKey int64 = 0x706f7274616c // "portal"

// Migrate applies every pending migration of sets, in order, in one
// transaction under a database-wide lock, so two instances starting together
// never both migrate and a failed migration leaves no partial schema.
// It returns the IDs it applied.
func (s *Store) Migrate(ctx context.Context, log *slog.Logger, sets []MigrationSet) ([]string, error) {
	var all []*gormigrate.Migration
	seen := map[string]bool{}
	for _, set := range sets {
		for _, m := range set.Migrations {
			id := set.Owner + ":" + m.ID
			if seen[id] {
				return nil, fmt.Errorf("migrations: %s is declared twice", id)
			}
			if strings.TrimSpace(m.ID) == "" || m.Up == nil {
				return nil, fmt.Errorf("migrations: %s has an empty ID or no Up function", set.Owner)
			}
			seen[id] = true
			up := m.Up
			all = append(all, &gormigrate.Migration{ID: id, Migrate: func(tx *gorm.DB) error { return up(tx) }})
		}
	}
	var applied []string
	start := time.Now()
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.Dialect == Postgres {
			// Held until the transaction ends; a second instance waits here
			// and then finds nothing left to do.
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", migrationLockKey).Error; err != nil {
				return fmt.Errorf("migrations: lock: %w", err)
			}
		}
		// On SQLite the transaction is BEGIN IMMEDIATE: it holds the write
		// lock of the file for its whole length, which serialises instances.
		done := map[string]bool{}
		if tx.Migrator().HasTable(migrationsTable) {
			// A write that changes nothing: a database that takes no
			// writes (a read-only file, a read-only PostgreSQL session)
			// stops start-up here even when no migration is pending,
			// instead of failing later in whatever writes first.
			if err := tx.Exec("UPDATE " + migrationsTable + " SET id = id WHERE 1 = 0").Error; err != nil {
				return err
			}
			var ids []string
			if err := tx.Table(migrationsTable).Pluck("id", &ids).Error; err != nil {
				return err
			}
			for _, id := range ids {
				done[id] = true
			}
		}
		for _, m := range all {
			if !done[m.ID] {
				applied = append(applied, m.ID)
			}
		}
		if len(all) == 0 {
			return nil
		}
		g := gormigrate.New(tx, &gormigrate.Options{
			TableName:      migrationsTable,
			IDColumnName:   "id",
			IDColumnSize:   255,
			UseTransaction: false,
		}, all)
		return g.Migrate()
	})
	if err != nil {
		if w := s.cannotWrite(err); w != nil {
			return nil, w
		}
		return nil, fmt.Errorf("migrations: %w", err)
	}
	if log != nil && len(applied) > 0 {
		log.Info("migrations applied", "count", len(applied), "elapsed", time.Since(start).Round(time.Millisecond))
	}
	return applied, nil
}

const migrationsTable = "portal_migrations"

// Applied lists the recorded migration IDs.
func (s *Store) Applied(ctx context.Context) ([]string, error) {
	if !s.DB.Migrator().HasTable(migrationsTable) {
		return nil, nil
	}
	var ids []string
	err := s.DB.WithContext(ctx).Table(migrationsTable).Order("id").Pluck("id", &ids).Error
	return ids, err
}
