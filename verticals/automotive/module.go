package automotive

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/experience/feedback"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// ID is the module's ID.
const ID = "automotive"

// StepService is the journey step after a service is done (CSAT).
const StepService = "automotive.service_done"

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

// Module is the automotive vertical.
type Module struct {
	svc *Service
	// Now overrides the clock (tests).
	Now func() time.Time
}

var _ module.Module = (*Module)(nil)

func init() { module.Register(&Module{}) }

// Info implements module.Module.
func (*Module) Info() module.Info {
	return module.Info{ID: ID, Name: "Automotive", Version: "1.0.0",
		Description: "Your car's health, service bookings, recalls and financing, looked after by the brand."}
}

// Service returns the module's service (after Init).
func (m *Module) Service() *Service { return m.svc }

// Init implements module.Module.
func (m *Module) Init(h module.Host) error {
	now := m.Now
	if now == nil {
		now = func() time.Time { return time.Now().UTC() }
	}
	m.svc = &Service{st: h.Store(), acc: h.Accounts(), bus: h.Events(), notify: h.Notify(), devices: h.Devices(), live: h.Live(), now: now}
	// After a service is marked done the owner is asked, once, how it went.
	h.JourneyStep(feedback.Step{ID: StepService, Kind: feedback.CSAT, Question: "How satisfied are you with your car's service?"})
	// Cars publish diagnostics on t/{org}/d/{device}/automotive/diagnostics;
	// each stored reading reaches the linked vehicle (ApplyDeviceReading).
	h.Topic("diagnostics", devices.Stream[Diagnostics]{
		Validate: CheckDiagnostics(now),
		Time:     func(d Diagnostics) time.Time { return d.Time },
		Value:    func(d Diagnostics) float64 { return d.BatteryV },
		Simulate: SimulateDiagnostics,
		OnStored: func(ctx context.Context, r devices.Reading, d Diagnostics) error {
			err := m.svc.ApplyDeviceReading(ctx, r.OrgID, r.DeviceID, d)
			if errors.Is(err, ErrNoVehicle) {
				return nil // a unit not linked yet: its readings stay in the device's history
			}
			return err
		},
	})
	h.Models(models...)
	h.Migrations(
		store.Migration{ID: "0001_tables", Up: func(tx *gorm.DB) error {
			if err := store.CreateTables(models...)(tx); err != nil {
				return err
			}
			for _, ddl := range []string{
				"CREATE UNIQUE INDEX automotive_vehicles_org_vin ON automotive_vehicles (org_id, vin)",
				"CREATE UNIQUE INDEX automotive_payments_org_ref ON automotive_payments (org_id, reference)",
				"CREATE UNIQUE INDEX automotive_readings_dedupe ON automotive_readings (vehicle_id, at, seq)",
				"CREATE UNIQUE INDEX automotive_recalls_org_code ON automotive_recalls (org_id, code)",
				"CREATE UNIQUE INDEX automotive_plans_model ON automotive_plans (org_id, make, model)",
			} {
				if err := tx.Exec(ddl).Error; err != nil {
					return err
				}
			}
			return nil
		}},
	)
	for _, k := range m.svc.kinds() {
		h.Notification(k)
	}
	for _, j := range m.svc.jobs() {
		h.Job(j)
	}
	for _, w := range append(m.svc.widgets(), m.svc.staffWidgets()...) {
		h.Widget(w)
	}
	tpl, _ := fs.Sub(templateFS, "templates")
	h.Templates(tpl)
	tr, _ := fs.Sub(translationFS, "i18n")
	h.Translations(tr)
	h.Nav(web.NavItem{Label: "My car", Path: "/m/automotive/", Roles: []string{"customer"}, Order: 100},
		web.NavItem{Label: "Workshop", Path: "/m/automotive/staff", Roles: []string{"staff", "admin"}, Order: 100})
	h.API(m.svc.registerAPI)
	h.Pages(m.svc.mountPages)
	help, _ := fs.Sub(helpFS, "help")
	h.HelpArticles(help)
	// The words drivers use for what the articles call otherwise.
	h.HelpSynonyms("en",
		"service booking, service appointment, garage appointment, workshop appointment, workshop visit, maintenance, oil change, reschedule",
		"financing, loan, lease, car payment, instalment, installment, bill",
		"warning, warning light, check engine, dashboard light, fault",
		"recall, safety notice, safety campaign",
		"tyre, tire")
	h.HelpSynonyms("it",
		"tagliando, manutenzione, cambio olio, intervento, appuntamento in officina, officina",
		"finanziamento, prestito, leasing, rata, rate",
		"avviso, spia, spia motore, guasto",
		"richiamo, campagna di richiamo, avviso di sicurezza",
		"pneumatico, pneumatici, gomma, gomme")
	h.Demo(m.svc.demo)
	return nil
}
