package automotive

import (
	"context"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/chart"
	"github.com/portalkit/portalkit/core/dashboard"
)

// StatusWidget is a customer's vehicles at a glance.
type StatusWidget struct {
	Vehicles []*VehicleStatus `json:"vehicles"`
}

// RecallsWidget lists open recalls of the customer's vehicles.
type RecallsWidget struct {
	Recalls []VehicleRecallLine `json:"recalls"`
}

// VehicleRecallLine is one open recall of one vehicle.
type VehicleRecallLine struct {
	VehicleID uint   `json:"vehicle_id"`
	Vehicle   string `json:"vehicle"`
	Code      string `json:"code"`
	Title     string `json:"title"`
	Status    string `json:"status"`
}

// PaymentWidget is the next payment due and the loan's progress.
type PaymentWidget struct {
	Next     *Bill       `json:"next,omitempty"`
	Progress chart.Chart `json:"progress"`
}

func (s *Service) widgets() []dashboard.Widget {
	cust := []accounts.Role{accounts.Customer}
	return []dashboard.Widget{
		{ID: "status", Title: "My car", Roles: cust, Size: dashboard.Medium, Order: 10, Template: "widget_status",
			Data: func(ctx context.Context, p *accounts.Principal) (any, error) {
				vs, err := s.Vehicles(ctx, p, p.UserID)
				if err != nil {
					return nil, err
				}
				w := StatusWidget{Vehicles: []*VehicleStatus{}}
				for _, v := range vs {
					st, err := s.Status(ctx, p, v.ID)
					if err != nil {
						return nil, err
					}
					w.Vehicles = append(w.Vehicles, st)
				}
				return w, nil
			}},
		{ID: "recalls", Title: "Open recalls", Roles: cust, Size: dashboard.Small, Order: 11, Template: "widget_recalls",
			Data: func(ctx context.Context, p *accounts.Principal) (any, error) {
				var rows []VehicleRecallLine
				err := s.db(ctx, p.OrgID).Model(&RecallVehicle{}).
					Select("automotive_recall_vehicles.vehicle_id, v.make || ' ' || v.model AS vehicle, r.code, r.title, automotive_recall_vehicles.status").
					Joins("JOIN automotive_recalls r ON r.id = automotive_recall_vehicles.recall_id AND r.org_id = automotive_recall_vehicles.org_id").
					Joins("JOIN automotive_vehicles v ON v.id = automotive_recall_vehicles.vehicle_id AND v.org_id = automotive_recall_vehicles.org_id").
					Where("automotive_recall_vehicles.owner_id = ? AND automotive_recall_vehicles.status <> ?", p.UserID, RecallRemedied).
					Scan(&rows).Error
				return RecallsWidget{Recalls: nonNil(rows)}, err
			}},
		{ID: "payment", Title: "Next payment", Roles: cust, Size: dashboard.Small, Order: 12, Template: "widget_payment",
			Data: func(ctx context.Context, p *accounts.Principal) (any, error) {
				var w PaymentWidget
				var next Bill
				if err := s.db(ctx, p.OrgID).Where("owner_id = ? AND status <> ?", p.UserID, BillPaid).Order("due_on").Limit(1).Find(&next).Error; err != nil {
					return nil, err
				}
				if next.ID != 0 {
					w.Next = &next
				}
				var paid, total int64
				row := s.db(ctx, p.OrgID).Model(&Bill{}).Where("owner_id = ? AND loan_id IS NOT NULL", p.UserID).
					Select("COALESCE(SUM(paid), 0), COALESCE(SUM(amount), 0)").Row()
				if err := row.Scan(&paid, &total); err != nil {
					return nil, err
				}
				w.Progress = chart.Chart{Kind: chart.Progress, Title: "Financing paid back", Value: float64(paid) / 100, Max: float64(total) / 100, Unit: "€"}
				return w, nil
			}},
	}
}
