package automotive

import (
	"context"
	"strings"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// ReadingView is a reading as the API and pages show it.
type ReadingView struct {
	At         time.Time `json:"at"`
	OdometerKm float64   `json:"odometer_km"`
	BatteryV   float64   `json:"battery_v"`
	CoolantC   float64   `json:"coolant_c"`
	FuelPct    *float64  `json:"fuel_pct,omitempty"`
	SocPct     *float64  `json:"soc_pct,omitempty"`
	Tyres      Tyres     `json:"tyres_kpa"`
	DTCs       []DTC     `json:"dtcs"`
}

func viewReading(r *Reading) *ReadingView {
	v := &ReadingView{At: r.At, OdometerKm: r.OdometerKm, BatteryV: r.BatteryV, CoolantC: r.CoolantC, FuelPct: r.FuelPct, SocPct: r.SocPct,
		Tyres: Tyres{r.TyreFL, r.TyreFR, r.TyreRL, r.TyreRR}, DTCs: []DTC{}}
	for _, c := range strings.Split(r.DTCs, ",") {
		if d, ok := ExplainDTC(c); ok {
			v.DTCs = append(v.DTCs, d)
		}
	}
	return v
}

// VehicleRecall is an open or booked recall of a vehicle.
type VehicleRecall struct {
	Recall *Recall `json:"recall"`
	Status string  `json:"status"`
}

// defaultPlan applies when the organisation has no plan for the model.
var defaultPlan = ServicePlan{IntervalKm: 20000, IntervalMonths: 12}

func (s *Service) planFor(ctx context.Context, org uint, v *Vehicle) ServicePlan {
	var p Plan
	if err := s.db(ctx, org).Where("make = ? AND model = ?", v.Make, v.Model).First(&p).Error; err == nil {
		return ServicePlan{IntervalKm: p.IntervalKm, IntervalMonths: p.IntervalMonths}
	}
	return defaultPlan
}

// Status returns a vehicle at a glance.
func (s *Service) Status(ctx context.Context, p *accounts.Principal, id uint) (*VehicleStatus, error) {
	v, err := s.Vehicle(ctx, p, id)
	if err != nil {
		return nil, err
	}
	st := &VehicleStatus{Vehicle: v, Alerts: []Alert{}, Recalls: []VehicleRecall{}}
	st.Service = NextService(s.planFor(ctx, p.OrgID, v), v.LastServiceKm, v.LastServiceAt, v.OdometerKm, s.now())
	if err := s.db(ctx, p.OrgID).Where("vehicle_id = ? AND cleared_at IS NULL", v.ID).Order("raised_at DESC").Find(&st.Alerts).Error; err != nil {
		return nil, err
	}
	var rvs []RecallVehicle
	if err := s.db(ctx, p.OrgID).Where("vehicle_id = ? AND status <> ?", v.ID, RecallRemedied).Find(&rvs).Error; err != nil {
		return nil, err
	}
	for _, rv := range rvs {
		var r Recall
		if err := s.db(ctx, p.OrgID).First(&r, rv.RecallID).Error; err == nil {
			st.Recalls = append(st.Recalls, VehicleRecall{Recall: &r, Status: rv.Status})
		}
	}
	var last Reading
	if err := s.db(ctx, p.OrgID).Where("vehicle_id = ?", v.ID).Order("at DESC").Limit(1).Find(&last).Error; err != nil {
		return nil, err
	} else if last.ID != 0 {
		st.Latest = viewReading(&last)
	}
	var b Booking
	if err := s.db(ctx, p.OrgID).Where("vehicle_id = ? AND status = ?", v.ID, BookingBooked).Limit(1).Find(&b).Error; err == nil && b.ID != 0 {
		st.NextBooking = &b
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

// Point is one point of a chart series.
type Point struct {
	At    time.Time `json:"at"`
	Value float64   `json:"value"`
}

// Diagnostics30 is a vehicle's history for charts.
type Diagnostics30 struct {
	From    time.Time          `json:"from"`
	To      time.Time          `json:"to"`
	Battery []Point            `json:"battery_v"`
	Tyres   map[string][]Point `json:"tyres_kpa"`
	// WeeklyKm is the distance driven per week (Monday-based, UTC).
	WeeklyKm []Point `json:"weekly_km"`
}

const maxPoints = 2000

// History returns battery, tyre and distance series over [from, to).
func (s *Service) History(ctx context.Context, p *accounts.Principal, id uint, from, to time.Time) (*Diagnostics30, error) {
	v, err := s.Vehicle(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if to.IsZero() {
		to = s.now()
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -30)
	}
	if !from.Before(to) || to.Sub(from) > 366*24*time.Hour {
		return nil, errs.InvalidField("from", "the period must be positive and at most a year")
	}
	var rows []Reading
	err = store.Org(s.st.DB.WithContext(ctx), p.OrgID).Select("at", "odometer_km", "battery_v", "tyre_fl", "tyre_fr", "tyre_rl", "tyre_rr").
		Where("vehicle_id = ? AND at >= ? AND at < ?", v.ID, from, to).Order("at").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	h := &Diagnostics30{From: from, To: to, Battery: []Point{}, WeeklyKm: []Point{},
		Tyres: map[string][]Point{"fl": {}, "fr": {}, "rl": {}, "rr": {}}}
	step := 1
	if len(rows) > maxPoints {
		step = (len(rows) + maxPoints - 1) / maxPoints
	}
	type week struct {
		start    time.Time
		min, max float64
	}
	var weeks []week
	for i, r := range rows {
		ws := weekStart(r.At)
		if len(weeks) == 0 || !weeks[len(weeks)-1].start.Equal(ws) {
			weeks = append(weeks, week{ws, r.OdometerKm, r.OdometerKm})
		}
		w := &weeks[len(weeks)-1]
		w.min, w.max = min(w.min, r.OdometerKm), max(w.max, r.OdometerKm)
		if i%step != 0 && i != len(rows)-1 {
			continue
		}
		h.Battery = append(h.Battery, Point{r.At, r.BatteryV})
		h.Tyres["fl"] = append(h.Tyres["fl"], Point{r.At, r.TyreFL})
		h.Tyres["fr"] = append(h.Tyres["fr"], Point{r.At, r.TyreFR})
		h.Tyres["rl"] = append(h.Tyres["rl"], Point{r.At, r.TyreRL})
		h.Tyres["rr"] = append(h.Tyres["rr"], Point{r.At, r.TyreRR})
	}
	// Distance in a week: from the last reading before it (the previous
	// week's maximum) to its own maximum, so no kilometre is lost between weeks.
	for i, w := range weeks {
		start := w.min
		if i > 0 {
			start = weeks[i-1].max
		}
		h.WeeklyKm = append(h.WeeklyKm, Point{w.start, max(0, w.max-start)})
	}
	return h, nil
}

func weekStart(t time.Time) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	off := (int(d.Weekday()) + 6) % 7
	return d.AddDate(0, 0, -off)
}

// OpenSlots opens count slots at a centre, every interval from from (admins).
func (s *Service) OpenSlots(ctx context.Context, p *accounts.Principal, centreID uint, from time.Time, count int, every time.Duration, capacity int) ([]Slot, error) {
	if !p.Is(accounts.Admin) {
		return nil, errs.Forbiddenf("only admins open slots")
	}
	var c Centre
	if err := s.db(ctx, p.OrgID).First(&c, centreID).Error; err != nil {
		return nil, notFound(err, "service centre", centreID)
	}
	if !from.After(s.now()) {
		return nil, errs.InvalidField("body.from", "must be in the future")
	}
	slots := make([]Slot, count)
	for i := range slots {
		slots[i] = Slot{CentreID: c.ID, StartsAt: from.Add(time.Duration(i) * every), Capacity: capacity}
	}
	return slots, s.db(ctx, p.OrgID).CreateInBatches(&slots, 200).Error
}
