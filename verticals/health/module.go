package health

import (
	"embed"
	"io/fs"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/experience/feedback"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// ID is the module's ID.
const ID = "health"

// Notification kinds.
const (
	// KindBreakGlass tells admins that someone opened break-glass access.
	KindBreakGlass = "health.break_glass"
	// KindAccessAlert tells a patient that someone outside their teams
	// opened their data.
	KindAccessAlert = "health.access_alert"
)

// StepVisit is the journey step after a visit: the patient is asked, once
// per visit, how satisfied they are with it (CSAT).
const StepVisit = "health.visit"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed i18n/*.json
var translationFS embed.FS

//go:embed mail/*
var mailFS embed.FS

//go:embed help/*.md
var helpFS embed.FS

// Module is the health vertical.
type Module struct {
	svc *Service
	// Now overrides the clock (tests).
	Now func() time.Time
}

var _ module.Module = (*Module)(nil)

func init() { module.Register(&Module{}) }

// Info implements module.Module.
func (*Module) Info() module.Info {
	return module.Info{ID: ID, Name: "Health", Version: "0.1.0",
		Description: "Care between visits: care teams, vital signs by hand and from wearables, and an access log the patient reads."}
}

// Service returns the module's service (after Init).
func (m *Module) Service() *Service { return m.svc }

// Init implements module.Module.
func (m *Module) Init(h module.Host) error {
	now := m.Now
	if now == nil {
		now = func() time.Time { return time.Now().UTC() }
	}
	m.svc = &Service{st: h.Store(), acc: h.Accounts(), bus: h.Events(), notify: h.Notify(), live: h.Live(), now: now, log: h.Logger()}
	// Wearables publish batches on t/{org}/d/{device}/health/{watch,cuff,scale};
	// each stored message becomes observations of the device's owner.
	m.declareStreams(h.Topic, now)
	h.Models(models...)
	h.JourneyStep(feedback.Step{ID: StepVisit, Kind: feedback.CSAT, Question: "How satisfied are you with your visit?"})
	h.On(accounts.EventUserDeleted, eraseUser)
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
	}}, store.Migration{ID: "0002_obs_patient_at", Up: func(tx *gorm.DB) error {
		return tx.Exec(obsPatientAt).Error
	}}, store.Migration{ID: "0003_diary", Up: store.CreateTables(&Meal{}, &ExerciseSession{})})
	mail, _ := fs.Sub(mailFS, "mail")
	both := []string{notify.ChannelInApp, notify.ChannelEmail}
	h.Notification(notify.Kind{ID: KindBreakGlass, Title: "Break-glass access to a patient", DefaultChannels: both, Templates: mail, Urgent: true})
	h.Notification(notify.Kind{ID: KindVitalAlert, Title: "A patient's vital sign is out of range", DefaultChannels: both, Templates: mail, Mutable: true})
	h.Notification(notify.Kind{ID: KindGoalAchieved, Title: "A goal of yours is achieved", DefaultChannels: both, Templates: mail, Mutable: true})
	h.Notification(notify.Kind{ID: KindGoalWorsening, Title: "A patient's goal is worsening", DefaultChannels: both, Templates: mail, Mutable: true})
	h.Notification(notify.Kind{ID: KindDoseReminder, Title: "Dose reminders", DefaultChannels: []string{notify.ChannelInApp}, Templates: mail, Mutable: true})
	for _, j := range m.svc.jobs() {
		h.Job(j)
	}
	h.Notification(notify.Kind{ID: KindAccessAlert, Title: "Someone outside your care team opened your health data", DefaultChannels: both, Templates: mail})
	for _, w := range m.svc.widgets() {
		h.Widget(w)
	}
	tpl, _ := fs.Sub(templateFS, "templates")
	h.Templates(tpl)
	tr, _ := fs.Sub(translationFS, "i18n")
	h.Translations(tr)
	help, _ := fs.Sub(helpFS, "help")
	h.HelpArticles(help)
	h.Nav(web.NavItem{Label: "My health", Path: "/m/health/", Roles: []string{"customer"}, Order: 120},
		web.NavItem{Label: "Patients", Path: "/m/health/patients", Roles: []string{"staff", "admin"}, Order: 120},
		web.NavItem{Label: "Care teams", Path: "/m/health/admin", Roles: []string{"admin"}, Order: 121})
	h.API(m.svc.registerAPI)
	h.Pages(m.svc.mountPages)
	h.Demo(m.svc.demo)
	return nil
}
