package health

import (
	"context"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/dashboard"
)

// GoalsWidget is the patient's goals with their status.
type GoalsWidget struct {
	Goals []GoalRow `json:"goals"`
}

// DosesWidget is the patient's doses of today.
type DosesWidget struct {
	Doses []Dose `json:"doses"`
}

// VitalsWidget is the patient's latest readings.
type VitalsWidget struct {
	Readings []VitalRow `json:"readings"`
}

func (s *Service) widgets() []dashboard.Widget {
	cust := []accounts.Role{accounts.Customer}
	return []dashboard.Widget{
		{ID: "goals", Title: "My health goals", Roles: cust, Size: dashboard.Small, Order: 30, Template: "widget_goals",
			Data: func(ctx context.Context, p *accounts.Principal) (any, error) {
				gs, err := s.goals(ctx, p.OrgID, p.UserID)
				return GoalsWidget{Goals: goalRows(numberer(p.Locale), gs, s.now())}, err
			}},
		{ID: "doses", Title: "Today's doses", Roles: cust, Size: dashboard.Small, Order: 31, Template: "widget_doses", MaxAge: dashboard.NoCache,
			Data: func(ctx context.Context, p *accounts.Principal) (any, error) {
				ds, err := s.TodaysDoses(ctx, p, p.UserID)
				return DosesWidget{Doses: nonNil(ds)}, err
			}},
		{ID: "vitals", Title: "My latest readings", Roles: cust, Size: dashboard.Small, Order: 32, Template: "widget_vitals", LiveOn: []string{"health.vitals"},
			Data: func(ctx context.Context, p *accounts.Principal) (any, error) {
				obs, err := s.observations(ctx, p.OrgID, p.UserID, ObservationFilter{Limit: 8})
				return VitalsWidget{Readings: s.rows(numberer(p.Locale), obs)}, err
			}},
		{ID: "panel", Title: "Patients needing attention", Roles: []accounts.Role{accounts.Staff, accounts.Admin}, Size: dashboard.Small, Order: 30, Template: "widget_panel", LiveOn: []string{"health.vitals"},
			Data: func(ctx context.Context, p *accounts.Principal) (any, error) {
				return s.PanelOf(ctx, p)
			}},
	}
}
