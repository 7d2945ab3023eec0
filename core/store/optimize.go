package store

import (
	"context"
	"strconv"

	"gorm.io/gorm"
)

// sqliteAnalysisLimit bounds the rows ANALYZE reads per index on SQLite
// (SQLite's recommended range is 100–1000): statistics close enough for
// the planner at a bounded cost on any table size.
const sqliteAnalysisLimit = 400

// Optimize refreshes the query planner's statistics. Without them SQLite
// treats every index as equally selective and, for a query that filters on
// org_id and a person (every organisation-scoped read), often picks the
// org_id index and scans the whole organisation; with them it picks the
// person's index. SQLite: PRAGMA optimize over every table (cheap when
// nothing changed much since the last run), bounded by analysis_limit.
// PostgreSQL: ANALYZE (autovacuum keeps statistics current in the long run;
// this is for right after a bulk load such as the demo data).
func (s *Store) Optimize(ctx context.Context) error {
	if s.Dialect == Postgres {
		return s.DB.WithContext(ctx).Exec("ANALYZE").Error
	}
	// One transaction: both pragmas on the writer connection; readers load
	// the new statistics with the schema change ANALYZE makes.
	return s.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec("PRAGMA analysis_limit = " + strconv.Itoa(sqliteAnalysisLimit)).Error; err != nil {
			return err
		}
		return tx.Exec("PRAGMA optimize = 0x10002").Error
	})
}
