package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Backup writes a consistent copy of the SQLite database to path while the
// portal may keep running (SQLite's VACUUM INTO reads one snapshot), then
// checks the copy. path must not exist yet.
func (s *Store) Backup(ctx context.Context, path string) error {
	if s.Dialect != SQLite {
		return errors.New("backup: `portal backup` copies the SQLite file; back up PostgreSQL with pg_dump or base backups (docs/scaling.md)")
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup: %s already exists; choose a new file", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("backup: %w", unwrapPath(err))
	}
	if err := s.DB.WithContext(ctx).Exec("VACUUM INTO ?", path).Error; err != nil {
		return fmt.Errorf("backup: writing %s: %w", path, err)
	}
	if err := VerifySQLite(ctx, path); err != nil {
		_ = os.Remove(path)
		return err
	}
	return nil
}

// VerifySQLite opens the SQLite file at path read-only and runs SQLite's
// integrity check on it.
func VerifySQLite(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("backup %s: %w", path, unwrapPath(err))
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=query_only(1)")
	if err != nil {
		return err
	}
	defer db.Close()
	var verdict string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&verdict); err != nil {
		return fmt.Errorf("backup %s is not an SQLite database the portal can read: %w", path, err)
	}
	if verdict != "ok" {
		return fmt.Errorf("backup %s fails SQLite's integrity check: %s", path, verdict)
	}
	var tables int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'portal_migrations'").Scan(&tables); err != nil || tables != 1 {
		return fmt.Errorf("backup %s is not a PortalKit database (no portal_migrations table)", path)
	}
	return nil
}

// Restore checks the backup at from and puts it in place of the SQLite
// database in dataDir. The portal must be stopped. An existing database is
// replaced only with force (it is kept beside as portal.db.before-restore).
func Restore(ctx context.Context, from, dataDir string, force bool) error {
	if err := VerifySQLite(ctx, from); err != nil {
		return err
	}
	target := filepath.Join(dataDir, "portal.db")
	if _, err := os.Stat(target); err == nil && !force {
		return fmt.Errorf("restore: %s exists; stop the portal and pass --force to replace it", target)
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return fmt.Errorf("restore: %w", unwrapPath(err))
	}
	tmp := target + ".restoring"
	if err := copyFile(from, tmp); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if _, err := os.Stat(target); err == nil {
		if err := os.Rename(target, target+".before-restore"); err != nil {
			_ = os.Remove(tmp)
			return fmt.Errorf("restore: %w", unwrapPath(err))
		}
	}
	// The old database's write-ahead log belongs to the old file.
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(target + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("restore: %w", unwrapPath(err))
		}
	}
	if err := os.Rename(tmp, target); err != nil {
		return fmt.Errorf("restore: %w", unwrapPath(err))
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return unwrapPath(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return unwrapPath(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		_ = os.Remove(to)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// IsPostgresURL reports whether u names a PostgreSQL database.
func IsPostgresURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}
