package devices

import (
	"context"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portalkit/portalkit/core/store"
)

// writer commits batches of readings: COPY into a per-transaction staging
// table and one INSERT ... SELECT ... ON CONFLICT DO NOTHING on
// PostgreSQL, multi-row INSERT ... ON CONFLICT DO NOTHING on SQLite. The
// unique (device_id, key) absorbs QoS 1 redeliveries.
type writer struct {
	s *Service
}

var readingColumns = []string{"org_id", "device_id", "key", "module", "stream", "ts", "received_at", "value", "payload"}

func (w *writer) write(ctx context.Context, rows []Reading) error {
	if w.s.st.DB.Dialector.Name() == "postgres" {
		return w.copyPostgres(ctx, rows)
	}
	return w.s.st.Tx(ctx, func(tx *gorm.DB) error {
		if err := store.AllOrgs(tx).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 100).Error; err != nil {
			return err
		}
		for _, c := range seen(rows) {
			if err := store.AllOrgs(tx).Model(&Device{}).Where("id = ?", c.id).
				UpdateColumns(map[string]any{"accepted": gorm.Expr("accepted + ?", c.n), "last_seen_at": c.at}).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

type deviceSeen struct {
	id string
	n  int64
	at time.Time
}

// seen sums a batch per device, ordered by ID so concurrent writers lock
// device rows in the same order.
func seen(rows []Reading) []deviceSeen {
	m := map[string]*deviceSeen{}
	for _, r := range rows {
		c := m[r.DeviceID]
		if c == nil {
			c = &deviceSeen{id: r.DeviceID}
			m[r.DeviceID] = c
		}
		c.n++
		if r.ReceivedAt.After(c.at) {
			c.at = r.ReceivedAt
		}
	}
	out := make([]deviceSeen, 0, len(m))
	for _, c := range m {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

func (w *writer) copyPostgres(ctx context.Context, rows []Reading) error {
	return w.s.st.WithPgxConn(ctx, func(pc *pgx.Conn) error {
		return pgx.BeginFunc(ctx, pc, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS device_readings_stage
				(org_id bigint, device_id text, key text, module text, stream text, ts timestamptz,
				 received_at timestamptz, value double precision, payload text) ON COMMIT DELETE ROWS`); err != nil {
				return err
			}
			src := pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
				r := &rows[i]
				return []any{int64(r.OrgID), r.DeviceID, r.Key, r.Module, r.Stream, r.TS, r.ReceivedAt, r.Value, r.Payload}, nil
			})
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"device_readings_stage"}, readingColumns, src); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO device_readings (org_id, device_id, key, module, stream, ts, received_at, value, payload)
				SELECT org_id, device_id, key, module, stream, ts, received_at, value, payload FROM device_readings_stage
				ON CONFLICT (device_id, key) DO NOTHING`); err != nil {
				return err
			}
			c := seen(rows)
			ids := make([]string, len(c))
			ns := make([]int64, len(c))
			ats := make([]time.Time, len(c))
			for i := range c {
				ids[i], ns[i], ats[i] = c[i].id, c[i].n, c[i].at
			}
			_, err := tx.Exec(ctx, `UPDATE devices d SET accepted = d.accepted + u.n,
				last_seen_at = GREATEST(COALESCE(d.last_seen_at, u.at), u.at)
				FROM unnest($1::text[], $2::bigint[], $3::timestamptz[]) AS u(id, n, at) WHERE d.id = u.id`, ids, ns, ats)
			return err
		})
	})
}
