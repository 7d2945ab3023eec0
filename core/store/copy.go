package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// This file moves an embedded deployment to PostgreSQL (`portal db copy`):
// every row of every table of the SQLite file into a PostgreSQL database
// that the same build has just migrated, in one transaction, verified by
// row counts and checksums on both sides.

// CopyProgress is told how far the copy is: rows copied of the whole.
type CopyProgress func(table string, done, total int64)

// CopyReport says what a copy moved, table by table.
type CopyReport struct {
	Tables []TableCopy
	Rows   int64
}

// TableCopy is one table's outcome.
type TableCopy struct {
	Name     string
	Rows     int64
	Checksum string
}

// copyChunk is how many rows are read and sent per round trip.
const copyChunk = 2000

// sqliteOnly are tables the SQLite build has and PostgreSQL does not need:
// the help centre's FTS5 index and its shadow tables (PostgreSQL searches a
// generated tsvector column instead), and SQLite's own tables.
func sqliteOnly(name string) bool {
	return strings.HasPrefix(name, "sqlite_") || strings.Contains(name, "_fts")
}

// CopyTo copies the whole of s (SQLite) into dst (PostgreSQL). dst must be
// migrated by this build and hold no data yet (start-up work such as the
// help centre's default articles is allowed only in tables the source also
// fills: they are replaced). Nothing is written unless every table copies
// and verifies: the copy runs in one transaction.
func (s *Store) CopyTo(ctx context.Context, dst *Store, progress CopyProgress) (*CopyReport, error) {
	if s.Dialect != SQLite || dst.Dialect != Postgres {
		return nil, errors.New("db copy: copies an SQLite database into PostgreSQL")
	}
	src, err := s.DB.DB()
	if err != nil {
		return nil, err
	}
	tables, err := sqliteTables(ctx, src)
	if err != nil {
		return nil, err
	}
	var report *CopyReport
	err = dst.WithPgxConn(ctx, func(conn *pgx.Conn) error {
		schema, err := pgSchema(ctx, conn)
		if err != nil {
			return err
		}
		var missing []string
		for _, t := range tables {
			if _, ok := schema.tables[t]; !ok {
				missing = append(missing, t)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("db copy: the target lacks tables %s: run `portal migrate` with the same build against it first", strings.Join(missing, ", "))
		}
		if err := schema.checkEmpty(ctx, conn, tables); err != nil {
			return err
		}
		counts := map[string]int64{}
		var total int64
		for _, t := range tables {
			var n int64
			if err := src.QueryRowContext(ctx, `SELECT count(*) FROM "`+t+`"`).Scan(&n); err != nil {
				return fmt.Errorf("db copy: counting %s: %w", t, err)
			}
			counts[t] = n
			total += n
		}
		order := schema.dependencyOrder(tables)

		tx, err := conn.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
		// Rows that start-up wrote into the fresh database make way for the
		// source's (children first).
		for i := len(order) - 1; i >= 0; i-- {
			if _, err := tx.Exec(ctx, `DELETE FROM "`+order[i]+`"`); err != nil {
				return fmt.Errorf("db copy: clearing %s: %w", order[i], err)
			}
		}
		var done int64
		report = &CopyReport{Rows: total}
		for _, t := range order {
			cols, err := copyColumns(ctx, src, t, schema.tables[t])
			if err != nil {
				return err
			}
			n, err := copyTable(ctx, src, tx, t, cols, func(k int64) {
				done += k
				if progress != nil {
					progress(t, done, total)
				}
			})
			if err != nil {
				return err
			}
			if n != counts[t] {
				return fmt.Errorf("db copy: %s: read %d rows, counted %d: was the portal still running?", t, n, counts[t])
			}
			if err := schema.resetSequence(ctx, tx, t); err != nil {
				return err
			}
		}
		// Verify inside the transaction: counts and checksums of both sides.
		for _, t := range order {
			cols, _ := copyColumns(ctx, src, t, schema.tables[t])
			want, wn, err := checksum(ctx, sqliteRows(src), t, cols)
			if err != nil {
				return err
			}
			got, gn, err := checksum(ctx, pgxRows(tx), t, cols)
			if err != nil {
				return err
			}
			if wn != gn || want != got {
				return fmt.Errorf("db copy: %s differs after copying (%d rows, checksum %s; target %d rows, %s): nothing was written", t, wn, want, gn, got)
			}
			report.Tables = append(report.Tables, TableCopy{Name: t, Rows: wn, Checksum: want})
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(report.Tables, func(i, j int) bool { return report.Tables[i].Name < report.Tables[j].Name })
	return report, nil
}

func sqliteTables(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		if !sqliteOnly(n) {
			out = append(out, n)
		}
	}
	return out, rows.Err()
}

// pgColumn is a target column: its name and PostgreSQL type.
type pgColumn struct {
	name, typ string
	generated bool
}

type pgSchemaInfo struct {
	tables map[string][]pgColumn
	deps   map[string][]string // table → tables it refers to
	serial map[string]string   // table → its serial/identity column
}

func pgSchema(ctx context.Context, conn *pgx.Conn) (*pgSchemaInfo, error) {
	si := &pgSchemaInfo{tables: map[string][]pgColumn{}, deps: map[string][]string{}, serial: map[string]string{}}
	rows, err := conn.Query(ctx, `
		SELECT table_name, column_name, data_type, is_generated = 'ALWAYS',
		       column_default LIKE 'nextval(%' OR is_identity = 'YES'
		FROM information_schema.columns
		WHERE table_schema = current_schema()
		ORDER BY table_name, ordinal_position`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var t string
		var c pgColumn
		var serial *bool
		if err := rows.Scan(&t, &c.name, &c.typ, &c.generated, &serial); err != nil {
			rows.Close()
			return nil, err
		}
		si.tables[t] = append(si.tables[t], c)
		if serial != nil && *serial {
			si.serial[t] = c.name
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = conn.Query(ctx, `
		SELECT c.conrelid::regclass::text, c.confrelid::regclass::text
		FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
		WHERE c.contype = 'f' AND n.nspname = current_schema()`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var from, to string
		if err := rows.Scan(&from, &to); err != nil {
			return nil, err
		}
		from, to = strings.Trim(from, `"`), strings.Trim(to, `"`)
		if from != to {
			si.deps[from] = append(si.deps[from], to)
		}
	}
	return si, rows.Err()
}

// checkEmpty refuses a target that already holds data of its own: only
// portal_migrations and rows start-up writes by itself may be there.
func (si *pgSchemaInfo) checkEmpty(ctx context.Context, conn *pgx.Conn, tables []string) error {
	startup := map[string]bool{"portal_migrations": true, "help_articles": true, "schedule_runs": true, "schedule_keys": true}
	var busy []string
	for _, t := range tables {
		if startup[t] {
			continue
		}
		var n int64
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM "`+t+`"`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			busy = append(busy, fmt.Sprintf("%s (%d rows)", t, n))
		}
	}
	if len(busy) > 0 {
		return fmt.Errorf("db copy: the target database is not empty: %s; copy into a new database", strings.Join(busy, ", "))
	}
	return nil
}

// dependencyOrder puts every table after the tables its foreign keys refer
// to (ties by name, so the order is stable).
func (si *pgSchemaInfo) dependencyOrder(tables []string) []string {
	in := map[string]bool{}
	for _, t := range tables {
		in[t] = true
	}
	seen := map[string]bool{}
	var out []string
	var visit func(t string)
	visit = func(t string) {
		if seen[t] {
			return
		}
		seen[t] = true
		deps := append([]string(nil), si.deps[t]...)
		sort.Strings(deps)
		for _, d := range deps {
			if in[d] {
				visit(d)
			}
		}
		out = append(out, t)
	}
	for _, t := range tables {
		visit(t)
	}
	return out
}

func (si *pgSchemaInfo) resetSequence(ctx context.Context, tx pgx.Tx, table string) error {
	col, ok := si.serial[table]
	if !ok {
		return nil
	}
	_, err := tx.Exec(ctx, fmt.Sprintf(
		`SELECT setval(pg_get_serial_sequence('%s', '%s'), COALESCE((SELECT MAX("%s") FROM "%s"), 0) + 1, false)`,
		table, col, col, table))
	if err != nil {
		return fmt.Errorf("db copy: setting %s's sequence: %w", table, err)
	}
	return nil
}

// copyColumns is the columns of table both sides have, with the target's
// types; a source column the target lacks is an error (the builds differ).
func copyColumns(ctx context.Context, src *sql.DB, table string, target []pgColumn) ([]pgColumn, error) {
	rows, err := src.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byName := map[string]pgColumn{}
	for _, c := range target {
		byName[c.name] = c
	}
	var out []pgColumn
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		c, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("db copy: %s.%s exists in the SQLite file but not in the target: migrate both with the same build", table, n)
		}
		if !c.generated {
			out = append(out, c)
		}
	}
	return out, rows.Err()
}

func quoted(cols []pgColumn) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = `"` + c.name + `"`
	}
	return strings.Join(parts, ", ")
}

func copyTable(ctx context.Context, src *sql.DB, tx pgx.Tx, table string, cols []pgColumn, advance func(int64)) (int64, error) {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	var copied int64
	var last int64 = math.MinInt64
	for {
		rows, err := src.QueryContext(ctx, `SELECT rowid, `+quoted(cols)+` FROM "`+table+`" WHERE rowid > ? ORDER BY rowid LIMIT ?`, last, copyChunk)
		if err != nil {
			return copied, fmt.Errorf("db copy: reading %s: %w", table, err)
		}
		var batch [][]any
		for rows.Next() {
			vals := make([]any, len(cols)+1)
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return copied, err
			}
			last = vals[0].(int64)
			row := vals[1:]
			for i, c := range cols {
				v, err := toPostgres(row[i], c.typ)
				if err != nil {
					rows.Close()
					return copied, fmt.Errorf("db copy: %s.%s (row %d): %w", table, c.name, last, err)
				}
				row[i] = v
			}
			batch = append(batch, row)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return copied, err
		}
		if len(batch) == 0 {
			return copied, nil
		}
		n, err := tx.CopyFrom(ctx, pgx.Identifier{table}, names, pgx.CopyFromRows(batch))
		if err != nil {
			return copied, fmt.Errorf("db copy: writing %s: %w", table, err)
		}
		copied += n
		advance(n)
	}
}

// sqliteTimeLayouts are the ways a time may be stored in the SQLite file.
var sqliteTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02",
}

// toPostgres converts a value read from SQLite to what the PostgreSQL
// column of type typ takes: SQLite keeps booleans as integers and times as
// text or numbers.
func toPostgres(v any, typ string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case "boolean":
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case bool:
			return x, nil
		case string:
			return strconv.ParseBool(x)
		}
	case "timestamp with time zone", "timestamp without time zone", "date":
		switch x := v.(type) {
		case time.Time:
			return x, nil
		case string:
			for _, l := range sqliteTimeLayouts {
				if t, err := time.Parse(l, x); err == nil {
					return t, nil
				}
			}
			return nil, fmt.Errorf("cannot read %q as a time", x)
		case int64:
			return time.Unix(x, 0).UTC(), nil
		}
	case "bytea":
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	case "smallint", "integer", "bigint":
		switch x := v.(type) {
		case int64:
			return x, nil
		case float64:
			if x == math.Trunc(x) {
				return int64(x), nil
			}
		case string:
			return strconv.ParseInt(x, 10, 64)
		}
	case "double precision", "real":
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		}
	case "numeric":
		switch x := v.(type) {
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		case string:
			return x, nil
		}
	default: // text, character varying, json, jsonb, uuid...
		switch x := v.(type) {
		case []byte:
			return string(x), nil
		case string:
			return x, nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		case time.Time:
			return x.UTC().Format(time.RFC3339Nano), nil
		}
	}
	return nil, fmt.Errorf("cannot store %T %v in a %s column", v, v, typ)
}

// numericFloat reads a numeric value from either side as the float64 the
// portal wrote (floats are stored as SQLite REAL and PostgreSQL numeric).
func numericFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	case pgtype.Numeric:
		f, err := x.Float64Value()
		return f.Float64, err == nil && f.Valid
	}
	return 0, false
}

// rowSource runs a query and yields each row's values.
type rowSource func(ctx context.Context, query string, each func(vals []any) error) error

func sqliteRows(db *sql.DB) rowSource {
	return func(ctx context.Context, query string, each func([]any) error) error {
		rows, err := db.QueryContext(ctx, query)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			if err := each(vals); err != nil {
				return err
			}
		}
		return rows.Err()
	}
}

func pgxRows(tx pgx.Tx) rowSource {
	return func(ctx context.Context, query string, each func([]any) error) error {
		rows, err := tx.Query(ctx, query)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				return err
			}
			if err := each(vals); err != nil {
				return err
			}
		}
		return rows.Err()
	}
}

// checksum is an order-independent digest of a table's rows (the sum of a
// hash of each row's canonical form), so both databases may return rows in
// any order.
func checksum(ctx context.Context, q rowSource, table string, cols []pgColumn) (string, int64, error) {
	var sum uint64
	var n int64
	var buf bytes.Buffer
	err := q(ctx, `SELECT `+quoted(cols)+` FROM "`+table+`"`, func(vals []any) error {
		buf.Reset()
		for i, v := range vals {
			canonical(&buf, v, cols[i].typ)
			buf.WriteByte(0)
		}
		h := sha256.Sum256(buf.Bytes())
		sum += binary.BigEndian.Uint64(h[:8])
		n++
		return nil
	})
	if err != nil {
		return "", 0, fmt.Errorf("db copy: verifying %s: %w", table, err)
	}
	return fmt.Sprintf("%016x", sum), n, nil
}

// canonical writes v in one form for both databases: times in UTC at
// PostgreSQL's microsecond precision, booleans as 0/1, JSON re-encoded.
func canonical(buf *bytes.Buffer, v any, typ string) {
	if v == nil {
		buf.WriteString("\x01null")
		return
	}
	if typ == "numeric" { // GORM's PostgreSQL type for float64 fields
		if f, ok := numericFloat(v); ok {
			buf.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
			return
		}
	}
	pv, err := toPostgres(v, typ)
	if err == nil {
		v = pv
	}
	switch x := v.(type) {
	case time.Time:
		buf.WriteString(x.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano))
	case bool:
		if x {
			buf.WriteString("1")
		} else {
			buf.WriteString("0")
		}
	case []byte:
		buf.Write(x)
	case string:
		if typ == "json" || typ == "jsonb" {
			var j any
			if json.Unmarshal([]byte(x), &j) == nil {
				b, _ := json.Marshal(j)
				buf.Write(b)
				return
			}
		}
		buf.WriteString(x)
	case map[string]any, []any:
		b, _ := json.Marshal(x)
		buf.Write(b)
	default:
		fmt.Fprint(buf, x)
	}
}
