// Command nextversion is the "next release" of the portal in the cluster
// test's rolling restart (e2e/cluster, docs/operations.md "Rolling
// upgrades"): the same binary as cmd/portal plus one module whose single
// migration is pending on a database the current release migrated. The
// harness builds it with a version of its own (-ldflags -X
// .../core/app.Version=...). It is never shipped.
package main

import (
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/cli"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/store"
	_ "github.com/portalkit/portalkit/verticals/all"
)

// Mark is the table the pending migration adds: expand-only, so the
// current release, which does not know it, keeps working beside it.
type Mark struct {
	ID   uint   `gorm:"primaryKey"`
	Note string `gorm:"size:100;not null"`
}

// TableName keeps the table in the module's namespace.
func (Mark) TableName() string { return "nextversion_marks" }

type nextVersion struct{}

func (nextVersion) Info() module.Info {
	return module.Info{ID: "nextversion", Name: "Next version", Version: "2.0.0",
		Description: "A pending migration for the cluster test's rolling restart."}
}

// Init declares the table and its migration. The migration also writes
// one row: a second run would write a second one, so the test counts rows
// to prove it ran exactly once.
func (nextVersion) Init(h module.Host) error {
	h.Models(&Mark{})
	h.Migrations(store.Migration{ID: "0001_marks", Up: func(tx *gorm.DB) error {
		if err := store.CreateTables(&Mark{})(tx); err != nil {
			return err
		}
		return tx.Create(&Mark{Note: "migrated"}).Error
	}})
	return nil
}

func main() {
	module.Register(nextVersion{})
	cli.Main()
}
