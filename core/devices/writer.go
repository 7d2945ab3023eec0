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

// counterEvery is how often, at most, a busy writer updates the devices'
// counters (accepted, last seen): under load a batch touches hundreds of
// device rows, as costly as inserting its readings, so the counts of
// several batches are summed and written with one of them. An idle writer
// (nothing queued behind the batch) writes them at once.
const counterEvery = time.Second

// writer commits batches of readings: on PostgreSQL a COPY straight into
// device_readings (in a savepoint), and for a batch holding a redelivered
// reading COPY into a per-transaction staging table and one INSERT ...
// SELECT ... ON CONFLICT DO NOTHING; multi-row INSERT ... ON CONFLICT DO
// NOTHING on SQLite. The unique (device_id, key) absorbs QoS 1
// redeliveries. The devices' counters go in the same transaction as
// a batch's readings; under load they are held back (see counterEvery),
// so a crash can lose up to that long of counts, never readings.
type writer struct {
	s *Service
	// pending sums the counts of committed batches not yet written.
	pending      map[string]deviceSeen
	lastCounters time.Time
}

// write commits rows; counters asks to write the devices' counters too.
func (w *writer) write(ctx context.Context, rows []Reading, counters bool) error {
	sum := w.sum(rows)
	var upd []deviceSeen
	if counters || time.Since(w.lastCounters) >= counterEvery {
		upd = sorted(sum)
	}
	var err error
	if w.s.st.DB.Dialector.Name() == "postgres" {
		err = w.writePostgres(ctx, rows, upd)
	} else {
		err = w.writeSQLite(ctx, rows, upd)
	}
	if err != nil {
		return err
	}
	if upd != nil {
		w.pending, w.lastCounters = nil, time.Now()
	} else {
		w.pending = sum
	}
	return nil
}

func (w *writer) writeSQLite(ctx context.Context, rows []Reading, upd []deviceSeen) error {
	return w.s.st.Tx(ctx, func(tx *gorm.DB) error {
		if err := store.AllOrgs(tx).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 100).Error; err != nil {
			return err
		}
		for _, c := range upd {
			if err := store.AllOrgs(tx).Model(&Device{}).Where("id = ?", c.id).
				UpdateColumns(map[string]any{"accepted": gorm.Expr("accepted + ?", c.n), "last_seen_at": c.at}).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

var readingColumns = []string{"org_id", "device_id", "key", "module", "stream", "ts", "received_at", "value", "payload"}

type deviceSeen struct {
	id string
	n  int64
	at time.Time
}

// sum adds rows to the pending counts, without changing them (the batch
// may fail).
func (w *writer) sum(rows []Reading) map[string]deviceSeen {
	m := make(map[string]deviceSeen, len(w.pending)+len(rows)/4)
	for k, v := range w.pending {
		m[k] = v
	}
	for i := range rows {
		r := &rows[i]
		c := m[r.DeviceID]
		c.id = r.DeviceID
		c.n++
		if r.ReceivedAt.After(c.at) {
			c.at = r.ReceivedAt
		}
		m[r.DeviceID] = c
	}
	return m
}

// sorted orders counts by device ID, so concurrent writers (instances)
// lock device rows in the same order.
func sorted(m map[string]deviceSeen) []deviceSeen {
	out := make([]deviceSeen, 0, len(m))
	for _, c := range m {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

func (w *writer) writePostgres(ctx context.Context, rows []Reading, upd []deviceSeen) error {
	return w.s.st.WithPgxConn(ctx, func(pc *pgx.Conn) error {
		return pgx.BeginFunc(ctx, pc, func(tx pgx.Tx) error {
			src := func() pgx.CopyFromSource {
				return pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
					r := &rows[i]
					return []any{int64(r.OrgID), r.DeviceID, r.Key, r.Module, r.Stream, r.TS, r.ReceivedAt, r.Value, r.Payload}, nil
				})
			}
			// Fast path: COPY straight into the table, in a savepoint. A
			// batch holding a redelivered reading fails on the unique
			// (device_id, key); it is rolled back to the savepoint and
			// goes through the staging table and ON CONFLICT DO NOTHING.
			sp, err := tx.Begin(ctx)
			if err != nil {
				return err
			}
			if _, err := sp.CopyFrom(ctx, pgx.Identifier{"device_readings"}, readingColumns, src()); err == nil {
				if err := sp.Commit(ctx); err != nil {
					return err
				}
			} else {
				if !store.IsUniqueViolation(err) {
					return err
				}
				if err := sp.Rollback(ctx); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS device_readings_stage
					(org_id bigint, device_id text, key text, module text, stream text, ts timestamptz,
					 received_at timestamptz, value double precision, payload text) ON COMMIT DELETE ROWS`); err != nil {
					return err
				}
				if _, err := tx.CopyFrom(ctx, pgx.Identifier{"device_readings_stage"}, readingColumns, src()); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `INSERT INTO device_readings (org_id, device_id, key, module, stream, ts, received_at, value, payload)
					SELECT org_id, device_id, key, module, stream, ts, received_at, value, payload FROM device_readings_stage
					ON CONFLICT (device_id, key) DO NOTHING`); err != nil {
					return err
				}
			}
			if len(upd) == 0 {
				return nil
			}
			ids := make([]string, len(upd))
			ns := make([]int64, len(upd))
			ats := make([]time.Time, len(upd))
			for i := range upd {
				ids[i], ns[i], ats[i] = upd[i].id, upd[i].n, upd[i].at
			}
			_, err = tx.Exec(ctx, `UPDATE devices d SET accepted = d.accepted + u.n,
				last_seen_at = GREATEST(COALESCE(d.last_seen_at, u.at), u.at)
				FROM unnest($1::text[], $2::bigint[], $3::timestamptz[]) AS u(id, n, at) WHERE d.id = u.id`, ids, ns, ats)
			return err
		})
	})
}
