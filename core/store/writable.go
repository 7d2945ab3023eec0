package store

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// SQLite result codes (the low byte of an extended code) and PostgreSQL
// SQLSTATEs that mean the database cannot take writes at all.
const (
	sqliteReadOnly = 8  // SQLITE_READONLY
	sqliteCantOpen = 14 // SQLITE_CANTOPEN
	sqliteFull     = 13 // SQLITE_FULL
	pgReadOnlyTx   = "25006"
	pgDiskFull     = "53100"
)

// cannotWrite explains err when it says the database takes no writes — a
// read-only SQLite file or directory, a full disk, a read-only PostgreSQL
// session — naming the file or server and what to change; nil otherwise.
func (s *Store) cannotWrite(err error) error {
	if s.Dialect == SQLite {
		return sqliteCannotWrite(err, s.Path)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case pgReadOnlyTx:
			return fmt.Errorf("database: PostgreSQL at %s accepts no writes (%s, SQLSTATE %s): default_transaction_read_only is on for the role or database, or the server is a standby; point database.url at the primary with a role that may write", s.where, pe.Message, pe.Code)
		case pgDiskFull:
			return fmt.Errorf("database: PostgreSQL at %s cannot write: its disk is full (%s, SQLSTATE %s); free space on the database server", s.where, pe.Message, pe.Code)
		}
	}
	return nil
}

// sqliteCannotWrite is cannotWrite for the SQLite file at path.
func sqliteCannotWrite(err error, path string) error {
	var le *sqlite.Error
	if !errors.As(err, &le) {
		return nil
	}
	dir, base := filepath.Dir(path), filepath.Base(path)
	switch le.Code() & 0xff {
	case sqliteReadOnly:
		return fmt.Errorf("database: %s is read-only (%s): the portal writes the file and creates %s-wal and %s-shm beside it; check the owner and permissions of the file and of %s, and that the disk is not mounted read-only",
			path, le.Error(), base, base, dir)
	case sqliteCantOpen:
		return fmt.Errorf("database: %s cannot be opened for writing (%s): the portal writes the file and creates %s-wal and %s-shm beside it; check the owner and permissions of the file and of %s, and that the disk is not mounted read-only",
			path, le.Error(), base, base, dir)
	case sqliteFull:
		return fmt.Errorf("database: %s cannot grow: the disk is full (%s); free space on the disk holding %s", path, le.Error(), dir)
	}
	return nil
}
