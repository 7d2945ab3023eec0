// Package notes is the smallest complete PortalKit module, the worked
// example of docs/writing-a-module.md: one table, one API operation with
// its access rule and authorization-matrix fixture, one page with a form,
// one dashboard widget and one notification kind, built on the public API
// only (docs/writing-a-module.md, "How small a module is").
package notes

import (
	"context"
	"embed"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/chart"
	"github.com/portalkit/portalkit/core/dashboard"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// ID prefixes the module's tables, paths, kinds and operation IDs.
const ID = "notes"

// Module is the notes module.
type Module struct {
	st     *store.Store
	acc    *accounts.Service
	notify *notify.Service
}

// New returns the module, for cli.Main or portaltest.New.
func New() *Module { return &Module{} }

// Info implements module.Module.
func (*Module) Info() module.Info {
	return module.Info{ID: ID, Name: "Notes", Version: "1.0.0", Description: "Short notes a person keeps for themselves."}
}

// Note is a customer's note: org-owned, with an owner.
type Note struct {
	ID             uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned `json:"-"`
	OwnerID        uint      `gorm:"not null;index" json:"owner_id"`
	Title          string    `gorm:"size:100;not null" json:"title"`
	CreatedAt      time.Time `json:"created_at"`
}

// TableName keeps the table in the module's namespace.
func (Note) TableName() string { return "notes_notes" }

// assets are the module's page templates, Italian and notification texts.
//
//go:embed templates i18n mail
var assets embed.FS

// Init implements module.Module: every declaration of the module.
func (m *Module) Init(h module.Host) error {
	m.st, m.acc, m.notify = h.Store(), h.Accounts(), h.Notify()
	h.Models(&Note{})
	h.Migrations(store.Migration{ID: "0001_notes", Up: store.CreateTables(&Note{})})
	h.Assets(assets) // templates/, i18n/it.json, mail/
	h.Notification(notify.Kind{ID: "notes.saved", Title: "A note of yours was saved",
		DefaultChannels: []string{notify.ChannelInApp}, Mutable: true})
	h.Notification(weeklyKind) // digest.go
	h.Job(m.weeklyJob())       // digest.go
	h.Nav(web.NavItem{Label: "Notes", Path: "/m/notes/", Roles: []string{"customer"}})
	h.Pages(func(r fiber.Router) {
		r.Get("/", h.Accounts().RequirePage(), m.page)
		r.Post("/", h.Accounts().RequirePage(), m.create)
	})
	h.Widget(dashboard.Widget{ID: "notes", Title: "Notes", Size: dashboard.Small, Template: "widget", Data: m.widget})
	h.API(m.api)
	return nil
}

type getInput struct {
	ID uint `path:"id" doc:"The note's ID"`
}

type noteOutput struct{ Body Note }

func (m *Module) api(api huma.API) {
	accounts.Register(api, huma.Operation{OperationID: "notes-get", Method: "GET", Path: "/notes/{id}", Summary: "Get a note"},
		func(ctx context.Context, in *getInput) (*noteOutput, error) {
			p, _ := accounts.PrincipalFrom(ctx)
			var n Note
			err := store.Org(m.st.DB.WithContext(ctx), p.OrgID).First(&n, in.ID).Error
			if err == nil {
				err = m.acc.Reach(ID).CanRead(ctx, p, n.OrgID, n.OwnerID) // owner, staff who reach them, admins
			}
			if err != nil {
				return nil, errs.NotFoundf("note %d not found", in.ID) // never say whose it is
			}
			return &noteOutput{Body: n}, nil
		},
		accounts.Allow(accounts.Customer, accounts.Staff, accounts.Admin, accounts.Integrator),
		accounts.MatrixObject(func(o *accounts.Principal) *Note { return &Note{OwnerID: o.UserID, Title: "Matrix"} }))
}

func (m *Module) page(c *fiber.Ctx) error { return m.render(c, "", nil) }

func (m *Module) render(c *fiber.Ctx, title string, errors map[string]string) error {
	p, _ := accounts.PrincipalOf(c)
	var notes []Note
	if err := store.Org(m.st.DB.WithContext(c.UserContext()), p.OrgID).Where("owner_id = ?", p.UserID).Order("id DESC").Find(&notes).Error; err != nil {
		return err
	}
	return web.Render(c, "notes/list", "Notes", map[string]any{"Notes": notes, "Title": title, "Errors": errors})
}

func (m *Module) create(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	title := strings.TrimSpace(c.FormValue("title"))
	if title == "" || len([]rune(title)) > 100 {
		return m.render(c.Status(fiber.StatusUnprocessableEntity), title, map[string]string{"title": "Enter a note of 1 to 100 characters"})
	}
	err := m.st.Tx(c.UserContext(), func(tx *gorm.DB) error {
		n := Note{OwnerID: p.UserID, Title: title}
		if err := store.Org(tx, p.OrgID).Create(&n).Error; err != nil {
			return err
		}
		_, err := m.notify.Send(c.UserContext(), tx, notify.Notification{OrgID: p.OrgID, UserID: p.UserID,
			Kind: "notes.saved", Data: map[string]any{"title": title, "link": "/m/notes/"}})
		return err
	})
	if err != nil {
		return err
	}
	return c.Redirect("/m/notes/", fiber.StatusSeeOther)
}

func (m *Module) widget(ctx context.Context, p *accounts.Principal) (any, error) {
	var n int64
	err := store.Org(m.st.DB.WithContext(ctx), p.OrgID).Model(&Note{}).Where("owner_id = ?", p.UserID).Count(&n).Error
	return chart.Chart{Kind: chart.Progress, Title: "Notes towards your goal of 10", Value: float64(n), Max: 10}, err
}
