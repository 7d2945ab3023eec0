package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// IsUnavailable reports whether err says the database cannot serve right
// now — unreachable, restarting, refusing connections, a statement
// cancelled by database.statement_timeout, SQLite busy past its timeout —
// rather than that the request was wrong. Callers answer 503 with
// Retry-After instead of 500 (docs/api.md), and background loops retry.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			strings.HasPrefix(pgErr.Code, "57P"), // admin shutdown, crash shutdown, cannot connect now
			pgErr.Code == "57014",                // statement cancelled (statement_timeout)
			pgErr.Code == "53300",                // too many connections
			pgErr.Code == "40P01":                // deadlock detected: retrying succeeds
			return true
		}
		return false
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connErr), errors.As(err, &netErr),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, context.DeadlineExceeded), pgconn.Timeout(err):
		return true
	}
	msg := err.Error()
	for _, s := range unavailableMessages {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// unavailableMessages are driver errors without a type to test: SQLite's
// busy and locked results, and pgx's closed-connection errors.
var unavailableMessages = []string{
	"database is locked", "SQLITE_BUSY", "SQLITE_LOCKED", "database table is locked",
	"conn closed", "connection refused", "the database system is starting up", "the database system is shutting down",
	"failed to connect", "broken pipe", "connection reset",
}
