package automotive

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/chart"
	"github.com/portalkit/portalkit/core/dashboard"
	"github.com/portalkit/portalkit/core/i18n"
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
			LiveOn: []string{"automotive.reading"},
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

// staffWidgets are the work cards of staff and admins: the bookings of
// today and tomorrow, and the customers whose cars have open warnings,
// of the customers the viewer looks after.
func (s *Service) staffWidgets() []dashboard.Widget {
	staff := []accounts.Role{accounts.Staff, accounts.Admin}
	return []dashboard.Widget{
		{ID: "bookings_soon", Title: "Service bookings today and tomorrow", Roles: staff, Size: dashboard.Medium, Order: -60,
			Template: dashboard.WorkTemplate, Data: s.bookingsSoonWork},
		{ID: "open_alerts", Title: "Customers with open warnings", Roles: staff, Size: dashboard.Medium, Order: -50,
			Template: dashboard.WorkTemplate, Data: s.openAlertsWork},
	}
}

// bookingsSoonWork lists the active bookings of today and tomorrow (in the
// viewer's time zone), the earliest first.
func (s *Service) bookingsSoonWork(ctx context.Context, p *accounts.Principal) (any, error) {
	loc := viewerLocation(p)
	now := s.now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	q := s.db(ctx, p.OrgID).Model(&Booking{}).
		Joins("JOIN automotive_slots sl ON sl.id = automotive_bookings.slot_id AND sl.org_id = automotive_bookings.org_id").
		Where("automotive_bookings.status = ? AND sl.starts_at >= ? AND sl.starts_at < ?", BookingBooked, today.UTC(), today.AddDate(0, 0, 2).UTC())
	q, err := s.acc.WhereVisible(ctx, p, q, "automotive_bookings.owner_id")
	if err != nil {
		return nil, err
	}
	q = q.Session(&gorm.Session{})
	w := dashboard.WorkList{Items: []dashboard.WorkItem{}, Link: "/m/automotive/staff", LinkLabel: "Open the workshop",
		Empty: "No service is booked for today or tomorrow."}
	if err := q.Count(&w.Count).Error; err != nil {
		return nil, err
	}
	var rows []struct {
		VehicleID   uint
		Vehicle     string
		Owner       string
		OwnerEmail  string
		Centre      string
		StartsAt    time.Time
		RecallBound bool
	}
	if err := q.Select(`automotive_bookings.vehicle_id, v.make || ' ' || v.model AS vehicle, u.name AS owner, u.email AS owner_email,
  c.name AS centre, sl.starts_at, automotive_bookings.recall_id IS NOT NULL AS recall_bound`).
		Joins("JOIN automotive_vehicles v ON v.id = automotive_bookings.vehicle_id AND v.org_id = automotive_bookings.org_id").
		Joins("JOIN automotive_centres c ON c.id = sl.centre_id AND c.org_id = sl.org_id").
		Joins("JOIN accounts_users u ON u.id = automotive_bookings.owner_id AND u.org_id = automotive_bookings.org_id").
		Order("sl.starts_at, automotive_bookings.id").Limit(dashboard.WorkItems).Scan(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		owner := r.Owner
		if owner == "" {
			owner = r.OwnerEmail
		}
		item := dashboard.WorkItem{Title: i18n.FormatDateTime(p.Locale, r.StartsAt, loc) + " · " + r.Vehicle,
			Detail: owner + " · " + r.Centre, Link: fmt.Sprintf("/m/automotive/vehicles/%d", r.VehicleID)}
		if r.RecallBound {
			item.Note = "Recall"
		}
		w.Items = append(w.Items, item)
	}
	return w, nil
}

// openAlertsWork lists the customers with warnings not yet cleared on one
// of their cars, the longest open first.
func (s *Service) openAlertsWork(ctx context.Context, p *accounts.Principal) (any, error) {
	q := s.db(ctx, p.OrgID).Model(&Alert{}).Where("automotive_alerts.cleared_at IS NULL")
	q, err := s.acc.WhereVisible(ctx, p, q, "automotive_alerts.owner_id")
	if err != nil {
		return nil, err
	}
	q = q.Session(&gorm.Session{})
	w := dashboard.WorkList{Items: []dashboard.WorkItem{}, Link: "/m/automotive/staff", LinkLabel: "Open the workshop",
		Empty: "No customer's car has an open warning."}
	if err := q.Distinct("automotive_alerts.owner_id").Count(&w.Count).Error; err != nil {
		return nil, err
	}
	// The oldest open alert of each customer, oldest customers first.
	var rows []struct {
		ID         uint
		VehicleID  uint
		OwnerID    uint
		Title      string
		RaisedAt   time.Time
		Owner      string
		OwnerEmail string
	}
	if err := q.Select(`automotive_alerts.id, automotive_alerts.vehicle_id, automotive_alerts.owner_id, automotive_alerts.title,
  automotive_alerts.raised_at, u.name AS owner, u.email AS owner_email`).
		Joins("JOIN accounts_users u ON u.id = automotive_alerts.owner_id AND u.org_id = automotive_alerts.org_id").
		Order("automotive_alerts.raised_at, automotive_alerts.id").Limit(100).Scan(&rows).Error; err != nil {
		return nil, err
	}
	seen := map[uint]bool{}
	loc := viewerLocation(p)
	for _, r := range rows {
		if seen[r.OwnerID] || len(w.Items) == dashboard.WorkItems {
			continue
		}
		seen[r.OwnerID] = true
		owner := r.Owner
		if owner == "" {
			owner = r.OwnerEmail
		}
		raised := r.RaisedAt
		w.Items = append(w.Items, dashboard.WorkItem{Title: owner, Note: r.Title, Since: &raised,
			Detail: i18n.FormatDateTime(p.Locale, raised, loc), Link: fmt.Sprintf("/m/automotive/vehicles/%d", r.VehicleID)})
	}
	return w, nil
}

// viewerLocation is p's time zone (UTC when unset or unknown).
func viewerLocation(p *accounts.Principal) *time.Location {
	if p.TimeZone != "" {
		if l, err := time.LoadLocation(p.TimeZone); err == nil {
			return l
		}
	}
	return time.UTC
}
