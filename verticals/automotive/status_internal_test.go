package automotive

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/chart"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
)

// referenceStatus is the straightforward reading of a vehicle's status, one
// query per part (how Status worked before statuses batched it); the
// batched reads must give the same answer.
func referenceStatus(ctx context.Context, s *Service, org uint, v *Vehicle) (*VehicleStatus, error) {
	st := &VehicleStatus{Vehicle: v, Alerts: []Alert{}, Recalls: []VehicleRecall{}}
	st.Service = NextService(s.planFor(ctx, org, v), v.LastServiceKm, v.LastServiceAt, v.OdometerKm, s.now())
	if err := s.db(ctx, org).Where("vehicle_id = ? AND cleared_at IS NULL", v.ID).Order("raised_at DESC").Find(&st.Alerts).Error; err != nil {
		return nil, err
	}
	var rvs []RecallVehicle
	if err := s.db(ctx, org).Where("vehicle_id = ? AND status <> ?", v.ID, RecallRemedied).Order("id").Find(&rvs).Error; err != nil {
		return nil, err
	}
	for _, rv := range rvs {
		var r Recall
		if err := s.db(ctx, org).First(&r, rv.RecallID).Error; err == nil {
			st.Recalls = append(st.Recalls, VehicleRecall{Recall: &r, Status: rv.Status})
		}
	}
	var last Reading
	if err := s.db(ctx, org).Where("vehicle_id = ?", v.ID).Order("at DESC").Limit(1).Find(&last).Error; err != nil {
		return nil, err
	} else if last.ID != 0 {
		st.Latest = viewReading(&last)
	}
	var b Booking
	if err := s.db(ctx, org).Where("vehicle_id = ? AND status = ?", v.ID, BookingBooked).Order("id").Limit(1).Find(&b).Error; err == nil && b.ID != 0 {
		st.NextBooking = &b
		var sl Slot
		var ce Centre
		if err := s.db(ctx, org).First(&sl, b.SlotID).Error; err != nil {
			return nil, err
		}
		if err := s.db(ctx, org).First(&ce, sl.CentreID).Error; err != nil {
			return nil, err
		}
		st.BookedAt, st.BookedCentre = sl.StartsAt, ce.Name
	}
	st.Health = "good"
	for _, a := range st.Alerts {
		if a.Severity == "critical" {
			st.Health = "critical"
			break
		}
		st.Health = "attention"
	}
	if st.Health == "good" && (st.Service.State == "overdue" || len(st.Recalls) > 0) {
		st.Health = "attention"
	}
	return st, nil
}

func referencePayment(ctx context.Context, s *Service, p *accounts.Principal) (PaymentWidget, error) {
	var w PaymentWidget
	var next Bill
	if err := s.db(ctx, p.OrgID).Where("owner_id = ? AND status <> ?", p.UserID, BillPaid).Order("due_on").Limit(1).Find(&next).Error; err != nil {
		return w, err
	}
	if next.ID != 0 {
		w.Next = &next
	}
	var paid, total int64
	row := s.db(ctx, p.OrgID).Model(&Bill{}).Where("owner_id = ? AND loan_id IS NOT NULL", p.UserID).
		Select("COALESCE(SUM(paid), 0), COALESCE(SUM(amount), 0)").Row()
	if err := row.Scan(&paid, &total); err != nil {
		return w, err
	}
	w.Progress = chart.Chart{Kind: chart.Progress, Title: "Financing paid back", Value: float64(paid) / 100, Max: float64(total) / 100, Unit: "€"}
	return w, nil
}

func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Fatalf("%s differs from the reference\n got: %s\nwant: %s", what, g, w)
	}
}

func widgetData(t *testing.T, s *Service, id string, p *accounts.Principal) any {
	t.Helper()
	for _, w := range s.widgets() {
		if w.ID == id {
			d, err := w.Data(context.Background(), p)
			if err != nil {
				t.Fatalf("widget %s: %v", id, err)
			}
			return d
		}
	}
	t.Fatalf("no widget %s", id)
	return nil
}

// The dashboard's batched reads give exactly what reading each part on its
// own gives: for the demo car (readings, alerts, a recall, bills), a car
// with a critical alert, two bookings and its model's plan, and
// a car with nothing at all.
func TestBatchedStatusMatchesReference(t *testing.T) {
	m := &Module{}
	ta := portaltest.New(t, []module.Module{m})
	ta.Demo(t)
	s := m.svc
	ctx := context.Background()
	p := ta.Principal(t, ta.Login(t, "demo", "customer@demo.example"))
	db := store.Org(ta.Store.DB, p.OrgID)
	now := time.Now().UTC().Truncate(time.Second)
	second := Vehicle{OwnerID: p.UserID, VIN: "WVWZZZ1KZ8W000999", Make: "Fiat", Model: "500e", Year: 2025, Fuel: "electric",
		OdometerKm: 40000, LastServiceKm: 1000, LastServiceAt: now.AddDate(-3, 0, 0), DeliveredAt: now.AddDate(-3, 0, 0)}
	third := Vehicle{OwnerID: p.UserID, VIN: "WVWZZZ1KZ8W000998", Make: "Nomake", Model: "Nomodel", Year: 2025, Fuel: "petrol",
		LastServiceAt: now, DeliveredAt: now}
	for _, v := range []*Vehicle{&second, &third} {
		if err := db.Create(v).Error; err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []Alert{
		{VehicleID: second.ID, OwnerID: p.UserID, Key: "battery", Severity: "warning", Title: "Battery", Advice: "Charge", RaisedAt: now.Add(-time.Hour)},
		{VehicleID: second.ID, OwnerID: p.UserID, Key: "brakes", Severity: "critical", Title: "Brakes", Advice: "Stop", RaisedAt: now},
		{VehicleID: second.ID, OwnerID: p.UserID, Key: "old", Severity: "critical", Title: "Old", Advice: "-", RaisedAt: now.Add(-2 * time.Hour), ClearedAt: &now},
	} {
		if err := db.Create(&a).Error; err != nil {
			t.Fatal(err)
		}
	}
	var slot Slot
	if err := db.First(&slot).Error; err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{"cancelled", BookingBooked, BookingBooked} {
		if err := db.Create(&Booking{SlotID: slot.ID, VehicleID: second.ID, OwnerID: p.UserID, Status: st, Notes: "n-" + st}).Error; err != nil {
			t.Fatal(err)
		}
	}

	vs, err := s.Vehicles(ctx, p, p.UserID)
	if err != nil || len(vs) != 3 {
		t.Fatalf("vehicles: %d, %v", len(vs), err)
	}
	got := widgetData(t, s, "status", p).(StatusWidget)
	if len(got.Vehicles) != 3 {
		t.Fatalf("status widget lists %d vehicles", len(got.Vehicles))
	}
	for i := range vs {
		want, err := referenceStatus(ctx, s, p.OrgID, &vs[i])
		if err != nil {
			t.Fatal(err)
		}
		sameJSON(t, "status of "+vs[i].VIN, got.Vehicles[i], want)
		one, err := s.Status(ctx, p, vs[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		sameJSON(t, "Status of "+vs[i].VIN, one, want)
	}
	// The fixture exercises what it claims to.
	demo, sec, none := got.Vehicles[0], got.Vehicles[1], got.Vehicles[2]
	if demo.Latest == nil || len(demo.Recalls) == 0 || sec.Health != "critical" || len(sec.Alerts) != 2 ||
		sec.NextBooking == nil || sec.NextBooking.Notes != "n-booked" || none.Latest != nil || none.NextBooking != nil || none.Service.DueKm != 20000 {
		t.Fatalf("fixture not as intended: demo %+v\nsecond %+v\nnone %+v", demo, sec, none)
	}

	want, err := referencePayment(ctx, s, p)
	if err != nil {
		t.Fatal(err)
	}
	pay := widgetData(t, s, "payment", p).(PaymentWidget)
	if pay.Next == nil || pay.Progress.Max == 0 {
		t.Fatalf("demo payment widget: %+v", pay)
	}
	sameJSON(t, "payment widget", pay, want)
	// Nothing due: the loan's progress still shows.
	if err := db.Model(&Bill{}).Where("owner_id = ?", p.UserID).Update("status", BillPaid).Error; err != nil {
		t.Fatal(err)
	}
	if want, err = referencePayment(ctx, s, p); err != nil {
		t.Fatal(err)
	}
	pay = widgetData(t, s, "payment", p).(PaymentWidget)
	if pay.Next != nil || pay.Progress.Max == 0 {
		t.Fatalf("payment widget with nothing due: %+v", pay)
	}
	sameJSON(t, "payment widget with nothing due", pay, want)
}
