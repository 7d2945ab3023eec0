package banking

import (
	"embed"
	"io/fs"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// ID is the module's ID.
const ID = "banking"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed i18n/*.json
var translationFS embed.FS

//go:embed mail/*
var mailFS embed.FS

//go:embed help/*.md
var helpFS embed.FS

func mailTemplates() fs.FS {
	sub, _ := fs.Sub(mailFS, "mail")
	return sub
}

// Module is the banking vertical.
type Module struct {
	svc *Service
	// Now overrides the clock (tests).
	Now func() time.Time
}

var _ module.Module = (*Module)(nil)

func init() { module.Register(&Module{}) }

// Info implements module.Module.
func (*Module) Info() module.Info {
	return module.Info{ID: ID, Name: "Banking", Version: "1.0.0",
		Description: "Accounts, spending, budgets, savings goals with an automatic plan, and a monthly report: the bank as an always-on advisor."}
}

// Service returns the module's service (after Init).
func (m *Module) Service() *Service { return m.svc }

// Init implements module.Module.
func (m *Module) Init(h module.Host) error {
	now := m.Now
	if now == nil {
		now = func() time.Time { return time.Now().UTC() }
	}
	m.svc = &Service{st: h.Store(), acc: h.Accounts(), bus: h.Events(), notify: h.Notify(), msgs: h.Messages(), live: h.Live(), now: now, log: h.Logger()}
	h.Models(models...)
	h.Migrations(store.Migration{ID: "0001_tables", Up: func(tx *gorm.DB) error {
		if err := store.CreateTables(models...)(tx); err != nil {
			return err
		}
		for _, ddl := range uniqueIndexes {
			if err := tx.Exec(ddl).Error; err != nil {
				return err
			}
		}
		return nil
	}}, store.Migration{ID: "0002_entries_covering_index", Up: coveringEntriesIndex},
		store.Migration{ID: "0003_goal_account", Up: goalAccount})
	for _, k := range m.svc.kinds() {
		h.Notification(k)
	}
	for _, j := range m.svc.jobs() {
		h.Job(j)
	}
	for _, w := range m.svc.widgets() {
		h.Widget(w)
	}
	tpl, _ := fs.Sub(templateFS, "templates")
	h.Templates(tpl)
	tr, _ := fs.Sub(translationFS, "i18n")
	h.Translations(tr)
	help, _ := fs.Sub(helpFS, "help")
	h.HelpArticles(help)
	// The words bank customers use for what the articles call otherwise.
	h.HelpSynonyms("en",
		"transactions, spending, spent, expenses, purchases, payments",
		"savings, save, saving, savings account, put money aside",
		"import a statement, upload, csv file, other bank")
	h.HelpSynonyms("it",
		"movimenti, spese, speso, spendere, acquisti, uscite",
		"risparmio, risparmiare, conto deposito, mettere da parte",
		"importare un estratto conto, caricare, file csv, altra banca")
	h.Nav(web.NavItem{Label: "My money", Path: "/m/banking/", Roles: []string{"customer"}, Order: 110},
		web.NavItem{Label: "Banking customers", Path: "/m/banking/advisor", Roles: []string{"staff", "admin"}, Order: 110})
	h.API(m.svc.registerAPI)
	h.Pages(m.svc.mountPages)
	h.Demo(m.svc.demo)
	return nil
}
