package automotive

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

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
	sts, err := s.statuses(ctx, p.OrgID, byVehicleIDs([]uint{v.ID}))
	if err != nil {
		return nil, err
	}
	if len(sts) == 0 {
		return nil, errs.NotFoundf("no vehicle %d", id)
	}
	return sts[0], nil
}

// byVehicleIDs selects vehicles by ID for statuses.
func byVehicleIDs(ids []uint) func(*gorm.DB) *gorm.DB {
	return func(q *gorm.DB) *gorm.DB { return q.Where("automotive_vehicles.id IN ?", ids) }
}

// ownedBy selects, for statuses, the vehicles of owner that p may read (as
// Vehicles does), at most 500.
func (s *Service) ownedBy(ctx context.Context, p *accounts.Principal, owner uint) (func(*gorm.DB) *gorm.DB, error) {
	if err := s.acc.Reach(ID).CanRead(ctx, p, p.OrgID, owner); errs.Is(err, errs.NotFound) {
		// Nothing of owner's is visible: no vehicle matches.
		return func(q *gorm.DB) *gorm.DB { return q.Where("1 = 0") }, nil
	} else if err != nil {
		return nil, err
	}
	return func(q *gorm.DB) *gorm.DB {
		return q.Where("automotive_vehicles.owner_id = ?", owner).Limit(500)
	}, nil
}

// vehicleExtras is what statuses reads about each vehicle in one query: the
// vehicle, its service plan, its latest reading and its next booking, each
// of which may be absent (LEFT JOINs).
type vehicleExtras struct {
	Vehicle    `gorm:"embedded"`
	PlanKm     *int       `gorm:"column:plan_km"`
	PlanMonths *int       `gorm:"column:plan_months"`
	RID        *uint      `gorm:"column:r_id"`
	RAt        *time.Time `gorm:"column:r_at"`
	ROdometer  *float64   `gorm:"column:r_odometer_km"`
	RBattery   *float64   `gorm:"column:r_battery_v"`
	RCoolant   *float64   `gorm:"column:r_coolant_c"`
	RFuel      *float64   `gorm:"column:r_fuel_pct"`
	RSoc       *float64   `gorm:"column:r_soc_pct"`
	RTyreFL    *float64   `gorm:"column:r_tyre_fl"`
	RTyreFR    *float64   `gorm:"column:r_tyre_fr"`
	RTyreRL    *float64   `gorm:"column:r_tyre_rl"`
	RTyreRR    *float64   `gorm:"column:r_tyre_rr"`
	RDTCs      *string    `gorm:"column:r_dtcs"`
	BID        *uint      `gorm:"column:b_id"`
	BOrgID     *uint      `gorm:"column:b_org_id"`
	BSlotID    *uint      `gorm:"column:b_slot_id"`
	BOwnerID   *uint      `gorm:"column:b_owner_id"`
	BStatus    *string    `gorm:"column:b_status"`
	BNotes     *string    `gorm:"column:b_notes"`
	BRecallID  *uint      `gorm:"column:b_recall_id"`
	BCreatedAt *time.Time `gorm:"column:b_created_at"`
	BUpdatedAt *time.Time `gorm:"column:b_updated_at"`
	BStartsAt  *time.Time `gorm:"column:b_starts_at"`
	BCentre    *string    `gorm:"column:b_centre"`
}

// vehicleExtrasColumns selects vehicleExtras. Plan: the organisation's
// first plan for the make and model; reading: the latest; booking: the
// first still booked.
const vehicleExtrasColumns = `automotive_vehicles.*,
	pl.interval_km AS plan_km, pl.interval_months AS plan_months,
	r.id AS r_id, r.at AS r_at, r.odometer_km AS r_odometer_km, r.battery_v AS r_battery_v, r.coolant_c AS r_coolant_c,
	r.fuel_pct AS r_fuel_pct, r.soc_pct AS r_soc_pct, r.tyre_fl AS r_tyre_fl, r.tyre_fr AS r_tyre_fr, r.tyre_rl AS r_tyre_rl,
	r.tyre_rr AS r_tyre_rr, r.dt_cs AS r_dtcs,
	b.id AS b_id, b.org_id AS b_org_id, b.slot_id AS b_slot_id, b.owner_id AS b_owner_id, b.status AS b_status,
	b.notes AS b_notes, b.recall_id AS b_recall_id, b.created_at AS b_created_at, b.updated_at AS b_updated_at,
	bs.starts_at AS b_starts_at, bc.name AS b_centre`

// statuses returns the vehicles that filter selects, at a glance, in ID
// order, with three queries whatever their number: each vehicle with its
// plan, latest reading and next booking in one, then their active alerts,
// then their open recalls. The caller has checked that it may read the
// vehicles filter selects.
func (s *Service) statuses(ctx context.Context, org uint, filter func(*gorm.DB) *gorm.DB) ([]*VehicleStatus, error) {
	var extras []vehicleExtras
	q := s.db(ctx, org).Model(&Vehicle{}).Select(vehicleExtrasColumns).
		Joins(`LEFT JOIN automotive_plans pl ON pl.id = (SELECT p2.id FROM automotive_plans p2 WHERE p2.org_id = automotive_vehicles.org_id
			AND p2.make = automotive_vehicles.make AND p2.model = automotive_vehicles.model ORDER BY p2.id LIMIT 1)`).
		Joins(`LEFT JOIN automotive_readings r ON r.id = (SELECT r2.id FROM automotive_readings r2 WHERE r2.org_id = automotive_vehicles.org_id
			AND r2.vehicle_id = automotive_vehicles.id ORDER BY r2.at DESC LIMIT 1)`).
		Joins(`LEFT JOIN automotive_bookings b ON b.id = (SELECT b2.id FROM automotive_bookings b2 WHERE b2.org_id = automotive_vehicles.org_id
			AND b2.vehicle_id = automotive_vehicles.id AND b2.status = ? ORDER BY b2.id LIMIT 1)`, BookingBooked).
		Joins(`LEFT JOIN automotive_slots bs ON bs.id = b.slot_id AND bs.org_id = b.org_id`).
		Joins(`LEFT JOIN automotive_centres bc ON bc.id = bs.centre_id AND bc.org_id = bs.org_id`)
	if err := filter(q).Order("automotive_vehicles.id").Scan(&extras).Error; err != nil {
		return nil, err
	}
	out := make([]*VehicleStatus, len(extras))
	if len(extras) == 0 {
		return out, nil
	}
	ids := make([]uint, len(extras))
	byID := make(map[uint]*VehicleStatus, len(extras))
	for i := range extras {
		ids[i] = extras[i].ID
		out[i] = &VehicleStatus{Vehicle: &extras[i].Vehicle, Alerts: []Alert{}, Recalls: []VehicleRecall{}}
		byID[ids[i]] = out[i]
	}
	plans := map[uint]ServicePlan{}
	for i := range extras {
		e, st := &extras[i], out[i]
		if e.PlanKm != nil && e.PlanMonths != nil {
			plans[e.ID] = ServicePlan{IntervalKm: *e.PlanKm, IntervalMonths: *e.PlanMonths}
		}
		if e.RID != nil {
			st.Latest = viewReading(&Reading{ID: *e.RID, At: deref(e.RAt), OdometerKm: deref(e.ROdometer), BatteryV: deref(e.RBattery),
				CoolantC: deref(e.RCoolant), FuelPct: e.RFuel, SocPct: e.RSoc, TyreFL: deref(e.RTyreFL), TyreFR: deref(e.RTyreFR),
				TyreRL: deref(e.RTyreRL), TyreRR: deref(e.RTyreRR), DTCs: deref(e.RDTCs)})
		}
		if e.BID != nil {
			st.NextBooking = &Booking{ID: *e.BID, OrgOwned: store.OrgOwned{OrgID: deref(e.BOrgID)}, SlotID: deref(e.BSlotID),
				VehicleID: e.ID, OwnerID: deref(e.BOwnerID), Status: deref(e.BStatus), Notes: deref(e.BNotes),
				RecallID: e.BRecallID, CreatedAt: deref(e.BCreatedAt), UpdatedAt: deref(e.BUpdatedAt)}
			st.BookedAt, st.BookedCentre = deref(e.BStartsAt), deref(e.BCentre)
		}
	}
	now := s.now()
	for _, st := range out {
		plan, ok := plans[st.Vehicle.ID]
		if !ok {
			plan = defaultPlan
		}
		v := st.Vehicle
		st.Service = NextService(plan, v.LastServiceKm, v.LastServiceAt, v.OdometerKm, now)
	}

	var alerts []Alert
	if err := s.db(ctx, org).Where("vehicle_id IN ? AND cleared_at IS NULL", ids).Order("raised_at DESC").Find(&alerts).Error; err != nil {
		return nil, err
	}
	for _, a := range alerts {
		if st := byID[a.VehicleID]; st != nil {
			st.Alerts = append(st.Alerts, a)
		}
	}

	var recalls []vehicleRecallRow
	err := s.db(ctx, org).Model(&Recall{}).Select("automotive_recalls.*, rv.vehicle_id AS rv_vehicle_id, rv.status AS rv_status").
		Joins("JOIN automotive_recall_vehicles rv ON rv.recall_id = automotive_recalls.id AND rv.org_id = automotive_recalls.org_id").
		Where("rv.vehicle_id IN ? AND rv.status <> ?", ids, RecallRemedied).Order("rv.id").Scan(&recalls).Error
	if err != nil {
		return nil, err
	}
	for i := range recalls {
		if st := byID[recalls[i].RvVehicleID]; st != nil {
			r := recalls[i].Recall
			st.Recalls = append(st.Recalls, VehicleRecall{Recall: &r, Status: recalls[i].RvStatus})
		}
	}

	for _, st := range out {
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
	}
	return out, nil
}

// vehicleRecallRow is a recall with the status it has for one vehicle.
type vehicleRecallRow struct {
	Recall      `gorm:"embedded"`
	RvVehicleID uint   `gorm:"column:rv_vehicle_id"`
	RvStatus    string `gorm:"column:rv_status"`
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
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
