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
// redeliveries. A device's accepted counter adds only the readings the
// batch really stored (a skipped redelivery is not counted; it still
// moves last seen). The devices' counters go in the same transaction as
// a batch's readings; under load they are held back (see counterEvery),
// so a crash can lose up to that long of counts, never readings.
type writer struct {
	s *Service
	// pending sums the counts of committed batches not yet written.
	pending      map[string]deviceSeen
	lastCounters time.Time
}

// counts is called inside a batch's transaction once its readings are
// in, with the readings stored per device (nil: every row was stored); it
// answers the counters to write in that transaction (nil: none yet).
type counts func(stored map[string]int64) []deviceSeen

// write commits rows; counters asks to write the devices' counters too.
func (w *writer) write(ctx context.Context, rows []Reading, counters bool) error {
	flush := counters || time.Since(w.lastCounters) >= counterEvery
	var sum map[string]deviceSeen
	count := func(stored map[string]int64) []deviceSeen {
		sum = w.sum(rows, stored)
		if flush {
			return sorted(sum)
		}
		return nil
	}
	var err error
	if w.s.st.DB.Dialector.Name() == "postgres" {
		err = w.writePostgres(ctx, rows, count)
	} else {
		err = w.writeSQLite(ctx, rows, count)
	}
	if err != nil {
		return err
	}
	if flush {
		w.pending, w.lastCounters = nil, time.Now()
	} else {
		w.pending = sum
	}
	return nil
}

// writeSQLite inserts the batch in a savepoint; when fewer rows went in
// than were sent (a redelivery), it rolls back to the savepoint and
// inserts row by row to learn which devices' readings were stored.
func (w *writer) writeSQLite(ctx context.Context, rows []Reading, count counts) error {
	return w.s.st.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.SavePoint("batch").Error; err != nil {
			return err
		}
		res := store.AllOrgs(tx).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 100)
		if res.Error != nil {
			return res.Error
		}
		var stored map[string]int64
		if res.RowsAffected < int64(len(rows)) {
			if err := tx.RollbackTo("batch").Error; err != nil {
				return err
			}
			stored = make(map[string]int64)
			for i := range rows {
				rows[i].ID = 0 // set by the rolled-back insert, misaligned by the skipped rows
				res := store.AllOrgs(tx).Clauses(clause.OnConflict{DoNothing: true}).Create(&rows[i])
				if res.Error != nil {
					return res.Error
				}
				stored[rows[i].DeviceID] += res.RowsAffected
			}
		}
		for _, c := range count(stored) {
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
// may fail): every row moves its device's last seen; stored, when not
// nil, holds the rows per device really stored (nil: all of them).
func (w *writer) sum(rows []Reading, stored map[string]int64) map[string]deviceSeen {
	m := make(map[string]deviceSeen, len(w.pending)+len(rows)/4)
	for k, v := range w.pending {
		m[k] = v
	}
	for i := range rows {
		r := &rows[i]
		c := m[r.DeviceID]
		c.id = r.DeviceID
		if stored == nil {
			c.n++
		}
		if r.ReceivedAt.After(c.at) {
			c.at = r.ReceivedAt
		}
		m[r.DeviceID] = c
	}
	for id, n := range stored {
		c := m[id]
		c.n += n
		m[id] = c
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

func (w *writer) writePostgres(ctx context.Context, rows []Reading, count counts) error {
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
			var stored map[string]int64
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
				if stored, err = insertStaged(ctx, tx); err != nil {
					return err
				}
			}
			upd := count(stored)
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

// insertStaged moves the staged batch into device_readings, skipping
// readings already stored, and answers how many went in per device.
func insertStaged(ctx context.Context, tx pgx.Tx) (map[string]int64, error) {
	rs, err := tx.Query(ctx, `WITH ins AS (
		INSERT INTO device_readings (org_id, device_id, key, module, stream, ts, received_at, value, payload)
		SELECT org_id, device_id, key, module, stream, ts, received_at, value, payload FROM device_readings_stage
		ON CONFLICT (device_id, key) DO NOTHING RETURNING device_id)
		SELECT device_id, count(*) FROM ins GROUP BY device_id`)
	if err != nil {
		return nil, err
	}
	stored := make(map[string]int64)
	var id string
	var n int64
	_, err = pgx.ForEachRow(rs, []any{&id, &n}, func() error {
		stored[id] = n
		return nil
	})
	return stored, err
}
