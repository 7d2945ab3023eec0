// Package store opens PortalKit's database through GORM — an embedded SQLite
// file by default, PostgreSQL in production — applies versioned per-module
// migrations under a lock, and enforces organisation scoping: a query on a
// table with an org_id column that was not scoped with Org (or deliberately
// widened with AllOrgs) fails instead of reading every tenant's rows.
//
// store imports nothing from PortalKit but config and errs.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/libtnb/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	"gorm.io/plugin/dbresolver"

	"github.com/portalkit/portalkit/core/config"
)

// Dialect names the database behind a Store.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is an open database.
type Store struct {
	// DB is the GORM handle. On SQLite, writes and transactions go to one
	// writer connection and plain reads to a small read-only pool.
	DB      *gorm.DB
	Dialect Dialect
	// Path is the SQLite file, empty on PostgreSQL.
	Path string

	pools []*sql.DB
	// direct is database.direct_url: PostgreSQL without the pooler.
	direct string
	// where names the PostgreSQL server in messages (its URL, password
	// removed).
	where string
	// replica is database.replica_url's pool, nil without one; it is also
	// the last of pools (for metrics and Close).
	replica *sql.DB
}

// replicaResolver names the dbresolver resolver of database.replica_url:
// only statements that ask for it (Replica) use it.
const replicaResolver = "portal_replica"

// Open connects to the database that cfg names: PostgreSQL when
// cfg.Database.URL is set, else the SQLite file under cfg.DataDir (created
// with its directory when missing).
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.Default()
	}
	gcfg := &gorm.Config{
		Logger:                                   newLogger(log),
		DisableForeignKeyConstraintWhenMigrating: false,
		TranslateError:                           true,
		NowFunc:                                  func() time.Time { return time.Now().UTC() },
	}
	if cfg.UsesSQLite() || cfg.Database.StartWait <= 0 {
		return open(ctx, cfg, gcfg)
	}
	// A PostgreSQL that does not answer yet (started after the portal by
	// an orchestrator) is retried with backoff for database.start_wait:
	// one warning line per wait, one line how the waiting ended.
	until := time.Now().Add(cfg.Database.StartWait)
	pause := startRetryFirst
	for attempt := 1; ; attempt++ {
		s, err := open(ctx, cfg, gcfg)
		if err == nil {
			if attempt > 1 {
				log.Info("database reachable", "attempts", attempt)
			}
			return s, nil
		}
		left := time.Until(until)
		if !IsUnavailable(err) || left <= 0 || ctx.Err() != nil {
			if attempt > 1 {
				log.Error("database still unreachable; giving up", "attempts", attempt, "waited", cfg.Database.StartWait)
			}
			return nil, err
		}
		wait := min(pause, left)
		log.Warn("database unreachable; retrying", "attempt", attempt, "in", wait, "left", left.Round(time.Millisecond), "err", err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		pause = min(2*pause, startRetryMost)
	}
}

// The pauses between start-up connection attempts: doubling from
// startRetryFirst up to startRetryMost.
const (
	startRetryFirst = 250 * time.Millisecond
	startRetryMost  = 5 * time.Second
)

// open opens the database once and checks that it answers.
func open(ctx context.Context, cfg config.Config, gcfg *gorm.Config) (*Store, error) {
	var s *Store
	var err error
	if cfg.UsesSQLite() {
		s, err = openSQLite(cfg, gcfg)
	} else {
		s, err = openPostgres(cfg.Database.URL, cfg.Database, gcfg)
	}
	if err != nil {
		return nil, err
	}
	if err := registerOrgScope(s.DB); err != nil {
		_ = s.Close()
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.Ping(pctx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("database: %w", err)
	}
	return s, nil
}

// sqliteDSN builds a DSN that sets every connection up the same way: WAL,
// a busy timeout, foreign keys, and BEGIN IMMEDIATE for transactions so that
// a transaction takes the write lock up front instead of failing on upgrade.
func sqliteDSN(path string, busy time.Duration, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_txlock", "immediate")
	// Times are written as "2006-01-02 15:04:05.999999999-07:00" (the format
	// files written by earlier versions use) and read back as time.Time only
	// from columns declared DATE/DATETIME/TIMESTAMP: text from expressions
	// (strftime, MAX) stays text.
	q.Add("_time_format", "sqlite")
	q.Add("_texttotime", "0")
	q.Add("_inttotime", "0")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + path + "?" + q.Encode()
}

func openSQLite(cfg config.Config, gcfg *gorm.Config) (*Store, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("database: cannot create data dir %s: %w", cfg.DataDir, unwrapPath(err))
	}
	path := filepath.Join(cfg.DataDir, "portal.db")
	// modernc.org/sqlite keeps a prepared statement compiled, so GORM's
	// statement cache saves SQLite parsing and planning the same SQL on every
	// query (it was a quarter of the CPU of an API request). It is bounded:
	// queries with IN lists of varying length each make their own statement.
	gcfg.PrepareStmt = true
	gcfg.PrepareStmtMaxSize = sqliteStmtCacheSize
	gcfg.PrepareStmtTTL = time.Hour
	db, err := openSQLiteRetrying(path, cfg.Database.BusyTimeout, gcfg)
	if err != nil {
		if w := sqliteCannotWrite(err, path); w != nil {
			return nil, w
		}
		return nil, fmt.Errorf("database: cannot open %s: %w", path, err)
	}
	writer, err := db.DB()
	if err != nil {
		return nil, err
	}
	// SQLite allows one writer at a time; one connection makes that explicit
	// and keeps transactions from waiting on each other's busy timeouts.
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)

	readers, err := sql.Open("sqlite", sqliteDSN(path, cfg.Database.BusyTimeout, true))
	if err != nil {
		return nil, err
	}
	readers.SetMaxOpenConns(4)
	readers.SetMaxIdleConns(4)
	if err := db.Use(dbresolver.Register(dbresolver.Config{
		// The read pool gets its own statement cache of the same size.
		Replicas: []gorm.Dialector{&sqlite.Dialector{Conn: readers}},
	})); err != nil {
		return nil, fmt.Errorf("database: read pool: %w", err)
	}
	return &Store{DB: db, Dialect: SQLite, Path: path, pools: []*sql.DB{writer, readers}}, nil
}

// openSQLiteRetrying opens the writer connection, retrying while another
// process holds the file's lock for up to busy (at least a second). Two
// instances starting on a new file race to switch it to WAL: that switch
// needs an exclusive lock and SQLite answers SQLITE_BUSY at once instead
// of waiting the busy timeout (TestTwoInstancesMigrateOnce failed about
// one run in twenty).
func openSQLiteRetrying(path string, busy time.Duration, gcfg *gorm.Config) (*gorm.DB, error) {
	deadline := time.Now().Add(max(busy, time.Second))
	for wait := 10 * time.Millisecond; ; wait = min(wait*2, 200*time.Millisecond) {
		db, err := gorm.Open(sqlite.Open(sqliteDSN(path, busy, false)), gcfg)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return db, err
		}
		if db != nil {
			if conn, cerr := db.DB(); cerr == nil {
				_ = conn.Close()
			}
		}
		time.Sleep(wait)
	}
}

// isBusy reports whether err is SQLite's "database is locked".
func isBusy(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked")
}

// sqliteStmtCacheSize bounds each pool's cache of prepared statements.
const sqliteStmtCacheSize = 512

func openPostgres(rawURL string, dc config.Database, gcfg *gorm.Config) (*Store, error) {
	dsn, err := withRuntimeParams(rawURL, dc.StatementTimeout, dc.PoolMode)
	if err != nil {
		return nil, err
	}
	// pgx caches prepared statements per connection (its default
	// QueryExecModeCacheStatement), so GORM's own statement cache stays off
	// here; store_test checks that the URL does not turn pgx's cache off.
	// GORM logs a failed connection besides returning it; the caller says
	// it once (start-up retries log one line per wait), so GORM's logger
	// is quiet until the connection is made.
	quiet := *gcfg
	quiet.Logger = logger.Discard
	db, err := gorm.Open(postgres.New(postgres.Config{DSN: dsn}), &quiet)
	if err != nil {
		return nil, fmt.Errorf("database: cannot connect to PostgreSQL at %s: %w", redact(rawURL), err)
	}
	db.Logger = gcfg.Logger
	pool, err := db.DB()
	if err != nil {
		return nil, err
	}
	pool.SetMaxOpenConns(dc.MaxOpenConns)
	idle := dc.MaxIdleConns
	if idle <= 0 {
		idle = dc.MaxOpenConns // idle = open: no churn under load
	}
	pool.SetMaxIdleConns(idle)
	pool.SetConnMaxLifetime(dc.ConnMaxLifetime)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	st := &Store{DB: db, Dialect: Postgres, pools: []*sql.DB{pool}, direct: dc.DirectURL, where: redact(rawURL)}
	if dc.ReplicaURL != "" {
		if err := st.openReplica(dc); err != nil {
			_ = pool.Close()
			return nil, err
		}
	}
	return st, nil
}

// openReplica opens database.replica_url as a pool of its own, sized like
// the primary's, and registers it with dbresolver under a name: a query
// reaches it only through Replica, so no read is moved off the primary
// unless its caller accepts the replica's lag.
func (s *Store) openReplica(dc config.Database) error {
	dsn, err := withRuntimeParams(dc.ReplicaURL, dc.StatementTimeout, config.PoolSession)
	if err != nil {
		return errors.New("database.replica_url: not a valid URL")
	}
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return fmt.Errorf("database.replica_url: %w", err)
	}
	pool.SetMaxOpenConns(dc.MaxOpenConns)
	pool.SetMaxIdleConns(max(dc.MaxIdleConns, 1))
	pool.SetConnMaxLifetime(dc.ConnMaxLifetime)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	if err := s.DB.Use(dbresolver.Register(dbresolver.Config{
		Replicas: []gorm.Dialector{postgres.New(postgres.Config{Conn: pool})},
	}, replicaResolver)); err != nil {
		_ = pool.Close()
		return fmt.Errorf("database.replica_url: %w", err)
	}
	s.replica = pool
	s.pools = append(s.pools, pool)
	return nil
}

// Replica returns a handle whose plain reads go to database.replica_url
// when one is configured (writes and transactions still go to the
// primary), else the usual handle. Use it only for reads that may lag
// behind the primary by the replica's replay delay: never for a read that
// must see what the same person has just written.
func (s *Store) Replica(ctx context.Context) *gorm.DB {
	if s.replica == nil {
		return s.DB.WithContext(ctx)
	}
	return s.DB.WithContext(ctx).Clauses(dbresolver.Use(replicaResolver))
}

// HasReplica reports whether database.replica_url is in use.
func (s *Store) HasReplica() bool { return s.replica != nil }

// PingReplica checks that the replica answers and is replaying: a
// replica promoted to primary (or pointed at the primary by mistake) is
// an error, since writes would then fork.
func (s *Store) PingReplica(ctx context.Context) error {
	if s.replica == nil {
		return nil
	}
	var standby bool
	if err := s.replica.QueryRowContext(ctx, "SELECT pg_is_in_recovery()").Scan(&standby); err != nil {
		return fmt.Errorf("database.replica_url: %w", err)
	}
	if !standby {
		return errors.New("database.replica_url: the server is not a standby (pg_is_in_recovery() is false)")
	}
	return nil
}

// withRuntimeParams adds a statement timeout (unless the URL sets one) and
// an application name to a PostgreSQL URL. Behind a pooler in transaction
// mode (PgBouncer before 1.21 has no prepared statements across
// transactions, and refuses session parameters at start-up) pgx describes
// and runs statements unnamed instead, and the timeout is left to the
// database role (ALTER ROLE ... SET statement_timeout).
func withRuntimeParams(rawURL string, stmtTimeout time.Duration, poolMode string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", errors.New("database.url: not a valid URL")
	}
	q := u.Query()
	if poolMode == config.PoolTransaction {
		if q.Get("default_query_exec_mode") == "" {
			q.Set("default_query_exec_mode", "cache_describe")
		}
	} else if q.Get("statement_timeout") == "" && stmtTimeout > 0 {
		q.Set("statement_timeout", fmt.Sprint(stmtTimeout.Milliseconds()))
	}
	if q.Get("application_name") == "" {
		q.Set("application_name", "portalkit")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	return u.Redacted()
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Ping checks that the database answers (the replica, whose outage leaves
// the portal serving, is PingReplica's).
func (s *Store) Ping(ctx context.Context) error {
	for _, p := range s.pools {
		if p == s.replica {
			continue
		}
		if err := p.PingContext(ctx); err != nil {
			return err
		}
	}
	return nil
}

// WriterBusy reports whether every connection that could take a write is in
// use: on SQLite the single writer connection, on PostgreSQL the whole pool.
// Optional writes (bookkeeping such as a session's last-seen time) skip
// rather than queue behind real work.
func (s *Store) WriterBusy() bool {
	st := s.pools[0].Stats()
	return st.MaxOpenConnections > 0 && st.InUse >= st.MaxOpenConnections
}

// Pools returns the underlying connection pools (for metrics).
func (s *Store) Pools() []*sql.DB { return s.pools }

// Close closes every pool.
func (s *Store) Close() error {
	var errs []error
	for _, p := range s.pools {
		errs = append(errs, p.Close())
	}
	return errors.Join(errs...)
}

// Tx runs fn in a transaction on ctx.
func (s *Store) Tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.DB.WithContext(ctx).Transaction(fn)
}

// IsUniqueViolation reports whether err is a duplicate-key error on either
// dialect (GORM translates both to gorm.ErrDuplicatedKey); nil is not.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "SQLSTATE 23505")
}

// gorm's logger writes to stdout in its own format; route it to slog and
// keep it quiet except for slow queries and real errors.
type slogGorm struct {
	log  *slog.Logger
	slow time.Duration
}

func newLogger(log *slog.Logger) logger.Interface {
	return &slogGorm{log: log, slow: 500 * time.Millisecond}
}

func (l *slogGorm) LogMode(logger.LogLevel) logger.Interface { return l }
func (l *slogGorm) Info(ctx context.Context, msg string, args ...any) {
	l.log.DebugContext(ctx, fmt.Sprintf(msg, args...))
}
func (l *slogGorm) Warn(ctx context.Context, msg string, args ...any) {
	l.log.WarnContext(ctx, fmt.Sprintf(msg, args...))
}
func (l *slogGorm) Error(ctx context.Context, msg string, args ...any) {
	l.log.ErrorContext(ctx, fmt.Sprintf(msg, args...))
}

// ParamsFilter implements gorm.ParamsFilter: the statements this logger
// writes keep their placeholders and never the bound values, which may be
// password hashes, tokens or personal data (docs/security.md).
func (l *slogGorm) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}

func (l *slogGorm) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	switch {
	case err != nil && IsUnavailable(err):
		// The database does not answer: whoever got the error reports it
		// (a request's 503 line, a job's retry), once, not per statement.
		sqlText, _ := fc()
		l.log.DebugContext(ctx, "sql error", "err", err, "elapsed", elapsed, "sql", truncate(sqlText, 500))
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound) && !errors.Is(err, context.Canceled) && !errors.Is(err, ErrUnscoped) && !errors.Is(err, gorm.ErrDuplicatedKey):
		sqlText, rows := fc()
		l.log.WarnContext(ctx, "sql error", "err", err, "elapsed", elapsed, "rows", rows, "sql", truncate(sqlText, 500))
	case elapsed > l.slow:
		sqlText, rows := fc()
		l.log.WarnContext(ctx, "slow sql", "elapsed", elapsed, "rows", rows, "sql", truncate(sqlText, 500))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
