// Package education is the university vertical: courses with ordered
// modules, Markdown lessons and topics; enrolment by staff and by an
// integrator's idempotent batch; progress and "continue where you left
// off"; end-of-module quizzes drawn by topic from a question bank and run
// by the core quiz engine (core/experience/quiz); a mastery estimate per
// student and topic (Bayesian Knowledge Tracing, mastery.go) that turns
// weak topics into at most three suggestions with their reasons; and
// teaching assistants' office hours that students book.
//
// Each course is a policy group (kind education.course): its professors
// and TAs reach its students' education data and messages through
// accounts.Reach; students reach their own data; admins and integrators
// their organisation's.
//
// education imports core/module and public types of core packages only.
package education

import (
	"embed"
	"io/fs"
	"net/url"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// ID is the module's ID.
const ID = "education"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed i18n/*.json
var translationFS embed.FS

//go:embed help/*.md
var helpFS embed.FS

//go:embed mail/*
var mailFS embed.FS

func mailTemplates() fs.FS {
	sub, _ := fs.Sub(mailFS, "mail")
	return sub
}

// Module is the education vertical.
type Module struct {
	svc *Service
	// Now overrides the clock (tests).
	Now func() time.Time
}

var _ module.Module = (*Module)(nil)

func init() { module.Register(&Module{}) }

// Info implements module.Module.
func (*Module) Info() module.Info {
	return module.Info{ID: ID, Name: "Education", Version: "1.0.0",
		Description: "Courses, lessons and end-of-module quizzes that notice which topics a student struggles with, suggest what to do, and book a teaching assistant."}
}

// Service returns the module's service (after Init).
func (m *Module) Service() *Service { return m.svc }

// Init implements module.Module.
func (m *Module) Init(h module.Host) error {
	now := m.Now
	if now == nil {
		now = func() time.Time { return time.Now().UTC() }
	}
	m.svc = &Service{st: h.Store(), acc: h.Accounts(), bus: h.Events(), notify: h.Notify(), live: h.Live(), msgs: h.Messages(), quiz: h.Quiz(), now: now, log: h.Logger(), host: "portalkit"}
	if u, err := url.Parse(h.Config().HTTP.BaseURL); err == nil && u.Host != "" {
		m.svc.host, m.svc.baseURL = u.Hostname(), h.Config().HTTP.BaseURL
	}
	h.Models(models...)
	h.Migrations(store.Migration{ID: "0001_tables", Up: func(tx *gorm.DB) error {
		if err := store.CreateTables(models...)(tx); err != nil {
			return err
		}
		for _, ddl := range indexes {
			if err := tx.Exec(ddl).Error; err != nil {
				return err
			}
		}
		return nil
	}})
	h.Models(&WaitlistEntry{})
	h.Migrations(waitlistMigration)
	h.Labels(ID+".waitlist_status", waitStatusLabels)
	h.GroupKind(groupKind())
	h.Quiz().Handle(ID+".", m.svc.onGraded)
	h.Quiz().Handle(ID+".", m.svc.sendStatement)
	h.Notification(xapiKind())
	for _, k := range m.svc.kinds() {
		h.Notification(k)
	}
	for _, w := range m.svc.widgets() {
		h.Widget(w)
	}
	for _, st := range steps() {
		h.JourneyStep(st)
	}
	for _, j := range m.svc.jobs() {
		h.Job(j)
	}
	tpl, _ := fs.Sub(templateFS, "templates")
	h.Templates(tpl)
	tr, _ := fs.Sub(translationFS, "i18n")
	h.Translations(tr)
	help, _ := fs.Sub(helpFS, "help")
	h.HelpArticles(help)
	h.Nav(web.NavItem{Label: "My courses", Path: "/m/education/", Roles: []string{"customer"}, Order: 120},
		web.NavItem{Label: "Teaching", Path: "/m/education/", Roles: []string{"staff", "admin"}, Order: 120})
	h.API(m.svc.registerAPI)
	h.Pages(m.svc.mountPages)
	h.Demo(m.svc.demo)
	return nil
}
