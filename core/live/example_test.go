package live_test

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/live"
	"github.com/portalkit/portalkit/core/module"
)

// parcels is the module of docs/writing-a-module.md ("Live events"): it
// keeps its publisher from Init and publishes, in the transaction that
// records a delivery, an event about the parcel that everyone who may see
// the parcel receives. The tests below use it, so the guide's example is
// compiled and run.
type parcels struct {
	live live.Publisher
}

func (*parcels) Info() module.Info {
	return module.Info{ID: "parcels", Name: "Parcels", Version: "1.0.0", Description: "The live-events example module."}
}

func (m *parcels) Init(h module.Host) error {
	m.live = h.Live()
	return nil
}

// Delivered records that parcel id of customer owner was delivered: the
// module's own writes, then the live event, in one transaction.
func (m *parcels) Delivered(ctx context.Context, tx *gorm.DB, org, owner, id uint) error {
	// ... the module's own writes in tx ...
	return m.live.Publish(ctx, tx, live.Event{
		OrgID:   org,
		Name:    "delivered",                  // on the wire: "parcels.delivered"
		Owner:   owner,                        // everyone who may see the owner's parcels
		Subject: fmt.Sprintf("parcel:%d", id), // pages showing this parcel refresh
		Data:    map[string]any{"parcel": id, "status": "delivered"},
	})
}
