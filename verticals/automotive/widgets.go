package automotive

import (
	"context"
	"database/sql"

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

// nextBillRow is the next bill due with the sums of the owner's loan bills.
type nextBillRow struct {
	Bill      `gorm:"embedded"`
	LoanPaid  int64 `gorm:"column:loan_paid"`
	LoanTotal int64 `gorm:"column:loan_total"`
}

func (s *Service) widgets() []dashboard.Widget {
	cust := []accounts.Role{accounts.Customer}
	return []dashboard.Widget{
		{ID: "status", Title: "My car", Roles: cust, Size: dashboard.Medium, Order: 10, Template: "widget_status",
			Data: func(ctx context.Context, p *accounts.Principal) (any, error) {
				own, err := s.ownedBy(ctx, p, p.UserID)
				if err != nil {
					return nil, err
				}
				sts, err := s.statuses(ctx, p.OrgID, own)
				if err != nil {
					return nil, err
				}
				return StatusWidget{Vehicles: append([]*VehicleStatus{}, sts...)}, nil
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
				// One read: the next bill due, with the loan's totals alongside
				// (a second read only when nothing is due).
				var w PaymentWidget
				var next nextBillRow
				// Uncorrelated subqueries: computed once, not for every bill
				// the ORDER BY looks at.
				loanSum := func(col string) string {
					return "(SELECT COALESCE(SUM(l." + col + "), 0) FROM automotive_bills l WHERE l.org_id = @org AND l.owner_id = @owner AND l.loan_id IS NOT NULL)"
				}
				if err := s.db(ctx, p.OrgID).Model(&Bill{}).
					Select("automotive_bills.*, "+loanSum("paid")+" AS loan_paid, "+loanSum("amount")+" AS loan_total",
						sql.Named("org", p.OrgID), sql.Named("owner", p.UserID)).
					Where("owner_id = ? AND status <> ?", p.UserID, BillPaid).Order("due_on").Limit(1).Scan(&next).Error; err != nil {
					return nil, err
				}
				paid, total := next.LoanPaid, next.LoanTotal
				if next.ID != 0 {
					w.Next = &next.Bill
				} else {
					row := s.db(ctx, p.OrgID).Model(&Bill{}).Where("owner_id = ? AND loan_id IS NOT NULL", p.UserID).
						Select("COALESCE(SUM(paid), 0), COALESCE(SUM(amount), 0)").Row()
					if err := row.Scan(&paid, &total); err != nil {
						return nil, err
					}
				}
				w.Progress = chart.Chart{Kind: chart.Progress, Title: "Financing paid back", Value: float64(paid) / 100, Max: float64(total) / 100, Unit: "€"}
				return w, nil
			}},
	}
}
