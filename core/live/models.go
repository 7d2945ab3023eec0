package live

import (
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/store"
)

// cursor is one person's position: the number of the last live event
// appended for them. Appending takes the row's lock until the transaction
// ends, so a person's positions are handed out in commit order.
type cursor struct {
	OrgID  uint   `gorm:"primaryKey;autoIncrement:false"`
	UserID uint   `gorm:"primaryKey;autoIncrement:false"`
	Seq    uint64 `gorm:"not null"`
}

func (cursor) TableName() string { return "live_cursors" }

// entry is one live event for one person, kept for History so that a
// stream that reconnects replays what it missed.
type entry struct {
	ID        uint64    `gorm:"primaryKey"`
	OrgID     uint      `gorm:"not null"`
	UserID    uint      `gorm:"not null"`
	Seq       uint64    `gorm:"not null"`
	Type      string    `gorm:"size:20;not null"`
	Data      string    `gorm:"type:text;not null"`
	CreatedAt time.Time `gorm:"not null"`
}

func (entry) TableName() string { return "live_events" }

// Migrations returns the live tables' migrations. live_events is created by
// hand so that SQLite never reuses an ID (AUTOINCREMENT): the SQLite
// instance follows the table by ID.
func Migrations() store.MigrationSet {
	return store.MigrationSet{Owner: "live", Migrations: []store.Migration{
		{ID: "0001_live", Up: func(tx *gorm.DB) error {
			if err := store.CreateTables(&cursor{})(tx); err != nil {
				return err
			}
			id, ts := "BIGSERIAL PRIMARY KEY", "TIMESTAMPTZ"
			if tx.Dialector.Name() != "postgres" {
				id, ts = "INTEGER PRIMARY KEY AUTOINCREMENT", "DATETIME"
			}
			for _, q := range []string{
				`CREATE TABLE live_events (id ` + id + `, org_id BIGINT NOT NULL, user_id BIGINT NOT NULL,
					seq BIGINT NOT NULL, type VARCHAR(20) NOT NULL, data TEXT NOT NULL, created_at ` + ts + ` NOT NULL)`,
				`CREATE UNIQUE INDEX live_events_position ON live_events (org_id, user_id, seq)`,
				`CREATE INDEX live_events_created ON live_events (created_at)`,
			} {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return nil
		}},
	}}
}
