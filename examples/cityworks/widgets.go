package cityworks

import (
	"context"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/dashboard"
	"github.com/portalkit/portalkit/core/store"
)

// StaffWidget counts open congestion on the viewer's segments and the
// jobs planned for today.
type StaffWidget struct {
	OpenCongestions int `json:"open_congestions"`
	JobsToday       int `json:"jobs_today"`
}

// CitizenWidget is a citizen's latest reports.
type CitizenWidget struct {
	Reports []ReportView `json:"reports"`
}

func (m *Module) widgets() []dashboard.Widget {
	return []dashboard.Widget{
		{ID: "works", Title: "City works today", Roles: []accounts.Role{accounts.Staff, accounts.Admin}, Size: dashboard.Small, Order: 40,
			Template: "widget_staff", LiveOn: []string{"cityworks.congestion", "cityworks.report"},
			Data: func(ctx context.Context, p *accounts.Principal) (any, error) {
				open, err := m.Congestions(ctx, p, true, 1000)
				if err != nil {
					return nil, err
				}
				jobs, err := m.Jobs(ctx, p, false)
				if err != nil {
					return nil, err
				}
				today := m.now().Format("2006-01-02")
				w := StaffWidget{OpenCongestions: len(open)}
				for _, j := range jobs {
					if j.On.UTC().Format("2006-01-02") == today && j.Status != JobDone {
						w.JobsToday++
					}
				}
				return w, nil
			}},
		{ID: "reports", Title: "My reports", Roles: []accounts.Role{accounts.Customer}, Size: dashboard.Small, Order: 40,
			Template: "widget_citizen", LiveOn: []string{"cityworks.report"},
			Data: func(ctx context.Context, p *accounts.Principal) (any, error) {
				var rs []Report
				if err := store.Org(m.st.DB.WithContext(ctx), p.OrgID).Where("reporter_id = ?", p.UserID).Order("id DESC").Limit(5).Find(&rs).Error; err != nil {
					return nil, err
				}
				vs, err := m.views(ctx, p.OrgID, rs)
				return CitizenWidget{Reports: vs}, err
			}},
	}
}
