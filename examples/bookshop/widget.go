package bookshop

import (
	"context"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/dashboard"
)

// Widget is the customer's bookshop card: reservations waiting at the till
// and the next event they have a place at.
type Widget struct {
	Ready     []Reservation `json:"ready"`
	NextEvent *Event        `json:"next_event"`
}

func (m *Module) widget() dashboard.Widget {
	return dashboard.Widget{ID: "bookshop", Title: "Your bookshop", Roles: []accounts.Role{accounts.Customer}, Size: dashboard.Small,
		Order: 40, Template: "widget_bookshop", MaxAge: dashboard.NoCache, LiveOn: []string{ID + ".reservation"},
		Data: func(ctx context.Context, p *accounts.Principal) (any, error) {
			rs, err := m.Reservations(ctx, p.OrgID, p.UserID)
			if err != nil {
				return nil, err
			}
			w := Widget{Ready: []Reservation{}}
			for _, r := range rs {
				if r.Status == StatusReady {
					w.Ready = append(w.Ready, r)
				}
			}
			es, err := m.Events(ctx, p)
			if err != nil {
				return nil, err
			}
			for i := range es {
				if es[i].SignedUp && !es[i].StartsAt.Before(m.now()) {
					w.NextEvent = &es[i]
					break
				}
			}
			return w, nil
		}}
}
