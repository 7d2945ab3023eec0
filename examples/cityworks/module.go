// Package cityworks is a city council's portal module, written as an
// outside integrator would, on PortalKit's public API only: traffic counts
// from street sensors over MQTT, congestion against the usual level for
// the hour, data shared between departments, a works planner with a crew
// phone page, and finished works published at once (a public feed and the
// organisation's webhooks).
package cityworks

import (
	"context"
	"embed"
	"fmt"
	"log/slog"
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
const ID = "cityworks"

// KindDepartment is the policy group of a department's staff (and the
// citizens who reported to it).
const KindDepartment = ID + ".department"

// Notification kinds.
const (
	// KindCongestion tells a department's staff that a segment is
	// congested.
	KindCongestion = ID + ".congestion"
	// KindReportDone tells a citizen the problem they reported is fixed.
	KindReportDone = ID + ".report_done"
	// KindWorkDone is the organisation-level event sent to the
	// organisation's webhook endpoints when a work is finished (no person
	// receives it; notify.SendOrgWebhook).
	KindWorkDone = ID + ".work_done"
)

// assets are the module's pages, Italian, notification texts and help
// articles, declared at once with h.Assets (file patterns, so the
// templates' _partials.html is included).
//
//go:embed templates/*.html i18n/*.json mail/* help/*.md
var assets embed.FS

// Module is the city works module.
type Module struct {
	// Now overrides the clock (tests).
	Now func() time.Time

	st     *store.Store
	acc    *accounts.Service
	bus    *events.Bus
	notify *notify.Service
	live   live.Publisher
	log    *slog.Logger
}

var _ module.Module = (*Module)(nil)

// New returns the module, for cli.Main and portaltest.New.
func New() *Module { return &Module{} }

// Info implements module.Module.
func (*Module) Info() module.Info {
	return module.Info{ID: ID, Name: "City works", Version: "0.1.0",
		Description: "Traffic counts and congestion per street, problems reported by citizens, and the works that fix them."}
}

func (m *Module) now() time.Time {
	if m.Now != nil {
		return m.Now().UTC()
	}
	return time.Now().UTC()
}

// Init implements module.Module.
func (m *Module) Init(h module.Host) error {
	m.st, m.acc, m.bus, m.notify, m.live, m.log = h.Store(), h.Accounts(), h.Events(), h.Notify(), h.Live(), h.Logger()
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
	// Staff of a department reach the citizens who reported to it, for this
	// module's data only.
	h.GroupKind(accounts.GroupKind{ID: KindDepartment, Label: "Department"})
	h.Topic("counts", m.countStream())

	h.Assets(assets) // templates/, i18n/, mail/ (the kinds' texts), help/
	both := []string{notify.ChannelInApp, notify.ChannelEmail}
	h.Notification(notify.Kind{ID: KindCongestion, Title: "A street of your department is congested", DefaultChannels: both, Mutable: true})
	h.Notification(notify.Kind{ID: KindReportDone, Title: "A problem you reported is fixed", DefaultChannels: both, Mutable: true})
	h.Notification(notify.Kind{ID: KindWorkDone, Title: "Finished public works (webhook)"})

	h.Labels(ID+".problem", web.Labels{
		"street_light":  {Text: "Broken street light"},
		"pothole":       {Text: "Pothole"},
		"traffic_light": {Text: "Traffic light out of order"},
		"sign":          {Text: "Damaged sign"},
		"other":         {Text: "Other problem"},
	})
	h.Labels(ID+".report_status", web.Labels{
		ReportOpen:      {Text: "Received", Tone: "info"},
		ReportScheduled: {Text: "Work planned", Tone: "warn"},
		ReportDone:      {Text: "Fixed", Tone: "ok"},
	})
	h.Labels(ID+".job_status", web.Labels{
		JobScheduled:  {Text: "Scheduled", Tone: "info"},
		JobOnTheWay:   {Text: "On the way", Tone: "warn"},
		JobInProgress: {Text: "In progress", Tone: "warn"},
		JobDone:       {Text: "Done", Tone: "ok"},
	})
	h.Labels("event", web.Texts(map[string]string{
		"cityworks.reported":       "Reported a problem",
		"cityworks.report_updated": "A reported problem moved on",
	}))

	h.Nav(web.NavItem{Label: "Report a problem", Path: "/m/cityworks/", Roles: []string{"customer"}, Order: 130},
		web.NavItem{Label: "Traffic", Path: "/m/cityworks/", Roles: []string{"staff", "admin"}, Order: 130},
		web.NavItem{Label: "Works planner", Path: "/m/cityworks/planner", Roles: []string{"staff", "admin"}, Order: 131},
		web.NavItem{Label: "My jobs", Path: "/m/cityworks/crew", Roles: []string{"staff"}, Order: 132})
	for _, w := range m.widgets() {
		h.Widget(w)
	}
	h.API(m.registerAPI)
	h.Pages(m.mountPages)
	h.Demo(m.demo)
	h.On(accounts.EventUserDeleted, m.eraseUser)
	return nil
}

// eraseUser handles accounts.user_deleted in the purge's transaction. A
// citizen's reports are anonymised, not deleted: a fixed street light is a
// public record of the council (the public feed lists it, and never named
// the reporter), so the report keeps its problem and place and loses its
// reporter and free-text description (which may hold personal details).
// A crew member's jobs keep the work and lose the crew and positions.
func (m *Module) eraseUser(ctx context.Context, e events.Event) error {
	if e.Tx == nil || e.OrgID == 0 || e.SubjectID == 0 {
		return fmt.Errorf("cityworks: %s without transaction, organisation or person", e.Name)
	}
	db := store.Org(e.Tx.WithContext(ctx), e.OrgID)
	if err := db.Model(&Report{}).Where("reporter_id = ?", e.SubjectID).
		Updates(map[string]any{"reporter_id": 0, "description": ""}).Error; err != nil {
		return err
	}
	if err := db.Model(&Job{}).Where("crew_id = ?", e.SubjectID).
		Updates(map[string]any{"crew_id": 0, "lat": nil, "lon": nil, "seen_at": nil}).Error; err != nil {
		return err
	}
	return db.Model(&Job{}).Where("planner_id = ?", e.SubjectID).Update("planner_id", 0).Error
}
