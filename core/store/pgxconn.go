package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// WithPgxConn runs fn on one pooled PostgreSQL connection as a pgx.Conn,
// for what database/sql cannot do: COPY, LISTEN. fn's error is returned as
// it is, so a driver.ErrBadConn from fn makes the pool discard the
// connection. On SQLite it is an error.
func (s *Store) WithPgxConn(ctx context.Context, fn func(*pgx.Conn) error) error {
	sqlDB, err := s.DB.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: a pgx connection is needed, the driver gave %T", dc)
		}
		return fn(sc.Conn())
	})
}

// WithSessionConn runs fn on a connection that is PostgreSQL's own session
// for as long as fn runs, as LISTEN needs: a direct connection to
// database.direct_url when the pool goes through a transaction-mode
// pooler, else one pooled connection (WithPgxConn).
func (s *Store) WithSessionConn(ctx context.Context, fn func(*pgx.Conn) error) error {
	if s.direct == "" {
		return s.WithPgxConn(ctx, fn)
	}
	conn, err := pgx.Connect(ctx, s.direct)
	if err != nil {
		return fmt.Errorf("database.direct_url: cannot connect to PostgreSQL at %s: %w", redact(s.direct), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return fn(conn)
}
