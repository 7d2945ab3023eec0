// Package sample is a minimal module used by the kernel's tests to prove
// the module contract end to end: a table that migrates, an API operation in
// the OpenAPI document, a page inside the layout, an event handler that
// fires, and demo data. It is not a vertical and is never compiled into the
// portal binary.
package sample

import (
	"context"
	"embed"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/chart"
	"github.com/portalkit/portalkit/core/dashboard"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

//go:embed templates
var templates embed.FS

//go:embed i18n
var translations embed.FS

// Note is the sample's one table: an org-owned object with an owner.
type Note struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	OwnerID   uint      `gorm:"not null;index" json:"owner_id"`
	Title     string    `gorm:"size:100;not null" json:"title"`
	CreatedAt time.Time `json:"created_at"`
}

// TableName keeps the table in the module's namespace.
func (Note) TableName() string { return "sample_notes" }

// EventNoteCreated is published when a note is created.
const EventNoteCreated = "sample.note_created"

// Module is the sample module. Seen counts the note events its handler saw.
type Module struct {
	Seen    atomic.Int64
	Started atomic.Int64
	st      *store.Store
	bus     *events.Bus
	acc     *accounts.Service
}

var _ module.Module = (*Module)(nil)

// Info implements module.Module.
func (*Module) Info() module.Info {
	return module.Info{ID: "sample", Name: "Sample", Version: "1.0.0", Description: "Notes, to prove the module contract."}
}

// Init implements module.Module.
func (m *Module) Init(h module.Host) error {
	m.st, m.bus, m.acc = h.Store(), h.Events(), h.Accounts()
	h.Models(&Note{})
	h.Migrations(store.Migration{ID: "0001_notes", Up: store.CreateTables(&Note{})})
	sub, _ := fs.Sub(templates, "templates")
	h.Templates(sub)
	tr, _ := fs.Sub(translations, "i18n")
	h.Translations(tr)
	h.Nav(web.NavItem{Label: "Notes", Path: "/m/sample/"})
	h.Widget(dashboard.Widget{ID: "notes", Title: "Notes", Size: dashboard.Small, Order: 10,
		Template: "widget_notes", Data: m.widgetData})
	h.API(m.api)
	h.Pages(func(r fiber.Router) { r.Get("/", h.Accounts().RequirePage(), m.page) })
	h.On(EventNoteCreated, func(ctx context.Context, e events.Event) error {
		m.Seen.Add(1)
		return nil
	})
	h.On("app.started", func(ctx context.Context, e events.Event) error {
		m.Started.Add(1)
		return nil
	})
	h.Demo(func(ctx context.Context, d *module.DemoContext) error {
		org, owner := d.Orgs["demo"], d.Users["customer@demo.example"]
		n := Note{OwnerID: owner, Title: "Welcome"}
		return store.Org(d.Tx, org).Where(Note{OwnerID: owner, Title: "Welcome"}).FirstOrCreate(&n).Error
	})
	return nil
}

type createNoteInput struct {
	Body struct {
		Title string `json:"title" minLength:"1" maxLength:"100" doc:"What the note is about"`
	}
}

type noteOutput struct {
	Body Note
}

type getNoteInput struct {
	ID uint `path:"id" doc:"Note ID"`
}

type slowInput struct {
	Millis int `query:"ms" minimum:"0" maximum:"60000" doc:"How long to take"`
}

type slowOutput struct {
	Body struct {
		Slept int `json:"slept_ms"`
	}
}

func (m *Module) api(api huma.API) {
	accounts.Register(api, huma.Operation{
		OperationID: "sample-create-note", Method: http.MethodPost, Path: "/notes",
		Summary: "Create a note", DefaultStatus: http.StatusCreated,
	}, func(ctx context.Context, in *createNoteInput) (*noteOutput, error) {
		p, _ := accounts.PrincipalFrom(ctx)
		title := strings.TrimSpace(in.Body.Title)
		if title == "" {
			return nil, errs.InvalidField("body.title", "must not be blank")
		}
		if title == "boom" {
			return nil, errs.Wrap(errs.Internal, errTest, "boom")
		}
		n := Note{OwnerID: p.UserID, Title: title}
		err := m.st.Tx(ctx, func(tx *gormDB) error {
			if err := store.Org(tx, p.OrgID).Create(&n).Error; err != nil {
				return err
			}
			return m.bus.Publish(ctx, events.Event{Name: EventNoteCreated, OrgID: p.OrgID, ActorID: p.UserID, SubjectID: p.UserID, Data: n, Tx: tx})
		})
		if err != nil {
			return nil, err
		}
		return &noteOutput{Body: n}, nil
	}, accounts.Allow(accounts.Customer, accounts.Staff, accounts.Admin))
	accounts.Register(api, huma.Operation{OperationID: "sample-get-note", Method: http.MethodGet, Path: "/notes/{id}", Summary: "Get a note"},
		func(ctx context.Context, in *getNoteInput) (*noteOutput, error) {
			p, _ := accounts.PrincipalFrom(ctx)
			var n Note
			if err := store.Org(m.st.DB.WithContext(ctx), p.OrgID).First(&n, in.ID).Error; err != nil {
				return nil, errs.NotFoundf("note %d not found", in.ID)
			}
			if err := m.acc.CanRead(ctx, p, n.OrgID, n.OwnerID); err != nil {
				return nil, errs.NotFoundf("note %d not found", in.ID)
			}
			return &noteOutput{Body: n}, nil
		}, accounts.Allow(accounts.Customer, accounts.Staff, accounts.Admin, accounts.Integrator),
		accounts.Matrix(func(ctx context.Context, tx *gormDB, owner *accounts.Principal) (map[string]string, any, error) {
			n := Note{OwnerID: owner.UserID, Title: "matrix"}
			if err := store.Org(tx, owner.OrgID).Create(&n).Error; err != nil {
				return nil, nil, err
			}
			return map[string]string{"id": strconv.FormatUint(uint64(n.ID), 10)}, nil, nil
		}))
	accounts.Register(api, huma.Operation{OperationID: "sample-slow", Method: http.MethodGet, Path: "/slow", Summary: "Answer after a delay (shutdown tests)"},
		func(ctx context.Context, in *slowInput) (*slowOutput, error) {
			time.Sleep(time.Duration(in.Millis) * time.Millisecond)
			out := &slowOutput{}
			out.Body.Slept = in.Millis
			return out, nil
		}, accounts.Public())
	accounts.Register(api, huma.Operation{OperationID: "sample-panic", Method: http.MethodGet, Path: "/panic", Summary: "Panic (recovery tests)", Hidden: true},
		func(ctx context.Context, in *struct{}) (*slowOutput, error) {
			panic("sample panic with secret detail")
		}, accounts.Public())
}

// NotesWidget is the data of the sample's dashboard widget.
type NotesWidget struct {
	Count  int64       `json:"count"`
	Latest []string    `json:"latest"`
	Goal   chart.Chart `json:"goal"`
}

// widgetData reads the viewer's own notes, scoped to their organisation.
func (m *Module) widgetData(ctx context.Context, p *accounts.Principal) (any, error) {
	db := store.Org(m.st.DB.WithContext(ctx), p.OrgID).Model(&Note{}).Where("owner_id = ?", p.UserID).Session(&gormSession{})
	d := NotesWidget{Latest: []string{}}
	if err := db.Count(&d.Count).Error; err != nil {
		return nil, err
	}
	if err := db.Order("id DESC").Limit(3).Pluck("title", &d.Latest).Error; err != nil {
		return nil, err
	}
	d.Goal = chart.Chart{Kind: chart.Progress, Title: "Notes towards your goal", Value: float64(d.Count), Max: 10}
	return d, nil
}

func (m *Module) page(c *fiber.Ctx) error {
	p, _ := accounts.PrincipalOf(c)
	var notes []Note
	if err := store.Org(m.st.DB.WithContext(c.UserContext()), p.OrgID).Where("owner_id = ?", p.UserID).Order("id").Find(&notes).Error; err != nil {
		return err
	}
	return web.Render(c, "sample/notes", "Notes", map[string]any{"Notes": notes, "Count": strconv.Itoa(len(notes))})
}
