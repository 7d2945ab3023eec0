// Package bookshop is the example retail module of PortalKit, written as an
// outside integrator would write one: only the kit's public packages. A
// bookshop chain's customers browse the catalogue, review their favourite
// books, talk in reading groups, sign up to events, get recommendations
// from their orders and reserve titles to collect at a shop, whose till
// staff prepare them.
package bookshop

import (
	"context"
	"embed"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/live"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// ID is the module's ID.
const ID = "bookshop"

// KindShop is the policy group of a shop: its till staff (staff side) reach
// the customers who reserve there (customer side), in this module's area
// only.
const KindShop = ID + ".shop"

// KindReady tells a customer that a reserved title waits at the shop.
const KindReady = ID + ".ready"

// assets are the module's pages, Italian, notification texts and help
// articles, declared at once with h.Assets (file patterns, so the
// templates' _partials.html is included).
//
//go:embed templates/*.html i18n/*.json mail/* help/*.md
var assets embed.FS

// Module is the bookshop module.
type Module struct {
	st     *store.Store
	acc    *accounts.Service
	notify *notify.Service
	live   live.Publisher
	// Now overrides the clock (tests).
	Now func() time.Time
}

var _ module.Module = (*Module)(nil)

// New returns the module, ready for cli.Main or portaltest.New.
func New() *Module { return &Module{} }

// Info implements module.Module.
func (*Module) Info() module.Info {
	return module.Info{ID: ID, Name: "Bookshop", Version: "0.1.0",
		Description: "A bookshop chain's customers: catalogue and orders, reviews, reading groups, events, recommendations and click and collect."}
}

func (m *Module) now() time.Time {
	if m.Now != nil {
		return m.Now().UTC()
	}
	return time.Now().UTC()
}

// Init implements module.Module.
func (m *Module) Init(h module.Host) error {
	m.st, m.acc, m.notify, m.live = h.Store(), h.Accounts(), h.Notify(), h.Live()
	h.Models(models...)
	h.Migrations(store.Migration{ID: "0001_tables", Up: store.CreateTables(models...)},
		// One open reservation per customer, shop and title, whatever the
		// concurrency (Reserve inserts with ON CONFLICT DO NOTHING on it).
		store.Migration{ID: "0002_reservation_open_once", Up: func(tx *gorm.DB) error {
			return tx.Exec(`CREATE UNIQUE INDEX IF NOT EXISTS bookshop_reservation_open ON bookshop_reservations (org_id, customer_id, shop_id, book_id) WHERE status IN ('reserved', 'ready')`).Error
		}})
	h.GroupKind(accounts.GroupKind{ID: KindShop, Label: "Shop"})
	h.Assets(assets) // templates/, i18n/, mail/ (the kinds' texts), help/
	h.Notification(notify.Kind{ID: KindReady, Title: "A book you reserved is ready to collect",
		DefaultChannels: []string{notify.ChannelInApp, notify.ChannelEmail}, Mutable: true})
	h.On(accounts.EventUserDeleted, m.erase)
	h.Labels(ID+".reservation_status", web.Labels{
		StatusReserved:  {Text: "Being prepared", Tone: "info"},
		StatusReady:     {Text: "Ready to collect", Tone: "ok"},
		StatusCollected: {Text: "Collected"},
		StatusCancelled: {Text: "Cancelled"},
	})
	h.Labels(ID+".event_kind", web.Labels{EventVirtual: {Text: "Online"}, EventInStore: {Text: "In the shop"}})
	h.Labels(ID+".genre", web.Texts(genres))
	h.Labels(ID+".reason", web.Texts(map[string]string{
		ReasonAuthor: "More by an author you bought", ReasonGenre: "A genre you read", ReasonTogether: "Bought by readers of your books",
	}))
	cust := []string{"customer"}
	h.Nav(web.NavItem{Label: "Books", Path: "/m/bookshop/", Roles: cust, Order: 140},
		web.NavItem{Label: "My orders", Path: "/m/bookshop/orders", Roles: cust, Order: 141},
		web.NavItem{Label: "Reading groups", Path: "/m/bookshop/groups", Roles: cust, Order: 142},
		web.NavItem{Label: "Book events", Path: "/m/bookshop/events", Roles: cust, Order: 143},
		web.NavItem{Label: "My reservations", Path: "/m/bookshop/reservations", Roles: cust, Order: 144},
		web.NavItem{Label: "Shop reservations", Path: "/m/bookshop/shop", Roles: []string{"staff", "admin"}, Order: 140})
	h.Widget(m.widget())
	h.API(m.registerAPI)
	h.Pages(m.mountPages)
	h.Demo(m.demo)
	return nil
}

// erase deletes a purged customer's bookshop rows in the purge's
// transaction (accounts.user_deleted): orders, favourites, reviews, group
// memberships and posts, event places and reservations. Their shop-group
// memberships are the core's and go with the account.
func (m *Module) erase(ctx context.Context, e events.Event) error {
	if e.Tx == nil || e.OrgID == 0 || e.SubjectID == 0 {
		return fmt.Errorf("bookshop: %s without transaction, organisation or person", e.Name)
	}
	for _, t := range erasable {
		if err := store.Org(e.Tx.WithContext(ctx), e.OrgID).Where(t.column+" = ?", e.SubjectID).Delete(t.model).Error; err != nil {
			return fmt.Errorf("bookshop: erasing %T: %w", t.model, err)
		}
	}
	return nil
}
