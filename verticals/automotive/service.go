package automotive

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/experience/drafts"
	"github.com/portalkit/portalkit/core/experience/feedback"
	"github.com/portalkit/portalkit/core/live"
	"github.com/portalkit/portalkit/core/money"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/store"
)

// Events the module publishes (subject: the vehicle's owner).
const (
	EventVehicleAdded   = "automotive.vehicle_added"
	EventServiceBooked  = "automotive.service_booked"
	EventServiceDone    = "automotive.service_done"
	EventBookingChanged = "automotive.booking_changed"
	EventAlertRaised    = "automotive.alert_raised"
	EventRecallNotified = "automotive.recall_notified"
	EventPaymentApplied = "automotive.payment_applied"
)

// Service is the automotive module's business logic. Every method that
// reads or writes a customer's object checks the caller through the
// accounts policy.
type Service struct {
	st     *store.Store
	acc    *accounts.Service
	bus    *events.Bus
	notify *notify.Service
	// devices is the device registry and gateway (nil in unit tests that
	// build a Service by hand).
	devices *devices.Service
	// live publishes the module's live events (the zero value: none).
	live live.Publisher
	now  func() time.Time
}

func (s *Service) db(ctx context.Context, org uint) *gorm.DB {
	return store.Org(s.st.DB.WithContext(ctx), org)
}

// publish publishes a module event about owner in tx; summary (an English
// format key, translated for each viewer) and link put it on the owner's
// timeline.
func (s *Service) publish(ctx context.Context, tx *gorm.DB, name string, p *accounts.Principal, owner uint, data any, link, summary string, args ...any) error {
	return s.bus.Publish(ctx, events.Event{Name: name, OrgID: p.OrgID, ActorID: p.UserID, SubjectID: owner, Data: data, Tx: tx,
		Summary: summary, SummaryArgs: args, Link: link})
}

// NewVehicle is what a customer (or staff, for a customer) registers.
type NewVehicle struct {
	OwnerID    uint // staff and admins register for a customer; customers for themselves
	VIN        string
	Make       string
	Model      string
	Year       int
	Fuel       string
	Nickname   string
	OdometerKm int
}

// MaxOdometerKm bounds every odometer reading a person or a device sends
// (the schemas say minimum 0, maximum 2000000): beyond it the distances to
// the next service would stop meaning anything.
const MaxOdometerKm = 2_000_000

// MinYear and MaxYear bound a model year (a vehicle's, a recall's range).
const MinYear, MaxYear = 1980, 2100

// AddVehicle registers a vehicle.
func (s *Service) AddVehicle(ctx context.Context, p *accounts.Principal, in NewVehicle) (*Vehicle, error) {
	owner := p.UserID
	if p.Is(accounts.Staff, accounts.Admin) && in.OwnerID != 0 {
		owner = in.OwnerID
	}
	if p.Is(accounts.Staff, accounts.Admin) && in.OwnerID != 0 {
		if u, err := s.acc.UserByID(ctx, p.OrgID, owner); err != nil || u.Role != accounts.Customer {
			return nil, errs.InvalidField("owner_id", "is not a customer of this organisation")
		}
		if err := s.acc.Reach(ID).CanWrite(ctx, p, p.OrgID, owner, true); err != nil {
			return nil, err
		}
	}
	vin := NormalizeVIN(in.VIN)
	var fields []errs.FieldError
	if msg := ValidateVIN(vin); msg != "" {
		fields = append(fields, errs.Field("vin", msg))
	}
	in.Make, in.Model = strings.TrimSpace(in.Make), strings.TrimSpace(in.Model)
	if in.Make == "" || len(in.Make) > 60 {
		fields = append(fields, errs.Field("make", "is required"))
	}
	if in.Model == "" || len(in.Model) > 60 {
		fields = append(fields, errs.Field("model", "is required"))
	}
	if y := s.now().Year(); in.Year < MinYear || in.Year > y+1 {
		fields = append(fields, errs.Field("year", fmt.Sprintf("must be between %d and %d", MinYear, y+1)))
	}
	if !ValidFuel(in.Fuel) {
		fields = append(fields, errs.Field("fuel", "must be petrol, diesel, hybrid or electric"))
	}
	if in.OdometerKm < 0 || in.OdometerKm > MaxOdometerKm {
		fields = append(fields, errs.Field("odometer_km", "must be between 0 and 2,000,000"))
	}
	if len(fields) > 0 {
		return nil, errs.Validation("the vehicle is not valid", fields...)
	}
	now := s.now()
	v := &Vehicle{OwnerID: owner, VIN: vin, Make: in.Make, Model: in.Model, Year: in.Year, Fuel: FuelKind(strings.ToLower(in.Fuel)),
		Nickname: strings.TrimSpace(in.Nickname), OdometerKm: in.OdometerKm, LastServiceKm: in.OdometerKm, LastServiceAt: now, DeliveredAt: now}
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		if err := store.Org(tx, p.OrgID).Create(v).Error; err != nil {
			if store.IsUniqueViolation(err) {
				return errs.InvalidField("vin", "this vehicle is already registered")
			}
			return err
		}
		// The owner's half-filled "Add your car" form is done with.
		if p.UserID != 0 {
			if err := drafts.Clear(ctx, tx, p.OrgID, p.UserID, VehicleDraftKey); err != nil {
				return err
			}
		}
		return s.publish(ctx, tx, EventVehicleAdded, p, owner, v, vehicleLink(v.ID), "Registered the vehicle %s", vehicleName(v))
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// VehicleFilter narrows and pages FindVehicles.
type VehicleFilter struct {
	OwnerID uint
	// Query matches the start of the VIN, or make, model, nickname, or the
	// owner's name or e-mail anywhere (case-insensitive).
	Query string
	// After is the cursor: vehicles with an ID above it.
	After uint
	// Limit is the page size: default 100 (as the API), at most 500.
	Limit int
}

// FindVehicles is one page of the vehicles the caller may see (as
// Vehicles), in ID order, and the cursor of the next page (0 on the last).
func (s *Service) FindVehicles(ctx context.Context, p *accounts.Principal, f VehicleFilter) ([]Vehicle, uint, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 500)
	q, err := s.visibleVehicles(ctx, p, f.OwnerID)
	if err != nil {
		return nil, 0, err
	}
	q = q.Where("id > ?", f.After)
	if term := strings.ToLower(strings.TrimSpace(f.Query)); term != "" {
		like := store.ContainsLike(term)
		e := store.LikeEscape
		q = q.Where("(vin LIKE ?"+e+" OR LOWER(make) LIKE ?"+e+" OR LOWER(model) LIKE ?"+e+" OR LOWER(nickname) LIKE ?"+e+
			" OR owner_id IN (SELECT u.id FROM accounts_users u WHERE u.org_id = ? AND (LOWER(u.name) LIKE ?"+e+" OR LOWER(u.email) LIKE ?"+e+")))",
			store.EscapeLike(strings.ToUpper(term))+"%", like, like, like, p.OrgID, like, like)
	}
	var out []Vehicle
	if err := q.Limit(f.Limit + 1).Find(&out).Error; err != nil {
		return nil, 0, err
	}
	var next uint
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = out[f.Limit-1].ID
	}
	return out, next, nil
}

// Vehicles lists the vehicles the caller may see: their own (customers),
// their assigned customers' (staff), all (admins, integrators).
func (s *Service) Vehicles(ctx context.Context, p *accounts.Principal, ownerID uint) ([]Vehicle, error) {
	q, err := s.visibleVehicles(ctx, p, ownerID)
	if err != nil {
		return nil, err
	}
	var out []Vehicle
	return out, q.Limit(500).Find(&out).Error
}

// visibleVehicles is the query of the vehicles p may see (of ownerID
// when not 0), in ID order.
func (s *Service) visibleVehicles(ctx context.Context, p *accounts.Principal, ownerID uint) (*gorm.DB, error) {
	q := s.db(ctx, p.OrgID).Order("id")
	q, err := s.acc.Reach(ID).WhereVisible(ctx, p, q, "owner_id")
	if err != nil {
		return nil, err
	}
	if ownerID != 0 {
		q = q.Where("owner_id = ?", ownerID)
	}
	return q, nil
}

// Vehicle returns one vehicle the caller may read (not found otherwise).
func (s *Service) Vehicle(ctx context.Context, p *accounts.Principal, id uint) (*Vehicle, error) {
	var v Vehicle
	if err := s.db(ctx, p.OrgID).First(&v, id).Error; err != nil {
		return nil, notFound(err, "vehicle", id)
	}
	if err := s.acc.Reach(ID).CanRead(ctx, p, v.OrgID, v.OwnerID); err != nil {
		return nil, errs.NotFoundf("no vehicle %d", id)
	}
	return &v, nil
}

func notFound(err error, what string, id uint) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return errs.NotFoundf("no %s %d", what, id)
	}
	return err
}

// VehicleUpdate is what an owner may change.
type VehicleUpdate struct {
	Nickname   *string
	OdometerKm *int
}

// UpdateVehicle changes the nickname or the odometer (the owner, or
// assigned staff).
func (s *Service) UpdateVehicle(ctx context.Context, p *accounts.Principal, id uint, in VehicleUpdate) (*Vehicle, error) {
	v, err := s.Vehicle(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if err := s.acc.Reach(ID).CanWrite(ctx, p, v.OrgID, v.OwnerID, true); err != nil {
		return nil, err
	}
	up := map[string]any{}
	if in.Nickname != nil {
		n := strings.TrimSpace(*in.Nickname)
		if len(n) > 60 {
			return nil, errs.InvalidField("nickname", "at most 60 characters")
		}
		up["nickname"], v.Nickname = n, n
	}
	if in.OdometerKm != nil {
		if *in.OdometerKm < v.OdometerKm || *in.OdometerKm > MaxOdometerKm {
			return nil, errs.InvalidField("odometer_km", fmt.Sprintf("must be at least the last reading (%d km)", v.OdometerKm))
		}
		up["odometer_km"], v.OdometerKm = *in.OdometerKm, *in.OdometerKm
	}
	if len(up) > 0 {
		if err := s.db(ctx, p.OrgID).Model(v).Updates(up).Error; err != nil {
			return nil, err
		}
	}
	return v, nil
}

// TransferVehicle gives a vehicle to another customer (staff and admins).
func (s *Service) TransferVehicle(ctx context.Context, p *accounts.Principal, id, newOwner uint) (*Vehicle, error) {
	if !p.Is(accounts.Staff, accounts.Admin) {
		return nil, errs.Forbiddenf("only staff transfer vehicles")
	}
	v, err := s.Vehicle(ctx, p, id)
	if err != nil {
		return nil, err
	}
	u, err := s.acc.UserByID(ctx, p.OrgID, newOwner)
	if err != nil || u.Role != accounts.Customer || !u.Active() {
		return nil, errs.InvalidField("owner_id", "is not an active customer of this organisation")
	}
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		for _, m := range []any{&Vehicle{}, &Booking{}, &Loan{}, &Bill{}, &RecallVehicle{}, &Alert{}} {
			q := store.Org(tx, p.OrgID).Model(m)
			if _, isVehicle := m.(*Vehicle); isVehicle {
				q = q.Where("id = ?", v.ID)
			} else {
				q = q.Where("vehicle_id = ?", v.ID)
			}
			if err := q.Update("owner_id", newOwner).Error; err != nil {
				return err
			}
		}
		return nil
	})
	v.OwnerID = newOwner
	return v, err
}

// LinkDevice links (or, with "", unlinks) a telematics device (staff and
// admins).
func (s *Service) LinkDevice(ctx context.Context, p *accounts.Principal, id uint, deviceID string) (*Vehicle, error) {
	if !p.Is(accounts.Staff, accounts.Admin) {
		return nil, errs.Forbiddenf("only staff link devices")
	}
	v, err := s.Vehicle(ctx, p, id)
	if err != nil {
		return nil, err
	}
	var dev *string
	if d := strings.TrimSpace(deviceID); d != "" {
		if err := s.checkDevice(ctx, p, v, d); err != nil {
			return nil, err
		}
		dev = &d
	}
	if err := s.db(ctx, p.OrgID).Model(v).Update("device_id", dev).Error; err != nil {
		return nil, err
	}
	v.DeviceID = dev
	return v, nil
}

// checkDevice makes sure a device may be linked to v: it is a registered
// device of the organisation that serves this module and belongs to the
// vehicle's owner, and no other vehicle has it.
func (s *Service) checkDevice(ctx context.Context, p *accounts.Principal, v *Vehicle, id string) error {
	if s.devices == nil {
		return errs.New(errs.Unavailable, "the device registry is not running")
	}
	d, err := s.devices.Get(ctx, devices.ActorOf(p), id)
	if err != nil {
		return errs.InvalidField("device_id", "is not a device of this organisation")
	}
	if d.Module != ID {
		return errs.InvalidField("device_id", "serves another module ("+d.Module+"), not automotive")
	}
	if d.OwnerID != v.OwnerID {
		return errs.InvalidField("device_id", "belongs to another customer than the vehicle's owner")
	}
	var n int64
	if err := s.db(ctx, p.OrgID).Model(&Vehicle{}).Where("device_id = ? AND id <> ?", id, v.ID).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return errs.InvalidField("device_id", "is linked to another vehicle already")
	}
	return nil
}

// RefreshDiagnostics asks the vehicle's telematics unit for a fresh
// reading (an MQTT command on its command topic). The owner and staff may.
func (s *Service) RefreshDiagnostics(ctx context.Context, p *accounts.Principal, id uint) error {
	v, err := s.Vehicle(ctx, p, id)
	if err != nil {
		return err
	}
	if v.DeviceID == nil {
		return errs.Conflictf("this vehicle has no connected telematics unit")
	}
	if s.devices == nil {
		return errs.New(errs.Unavailable, "the device gateway is not running")
	}
	_, err = s.devices.OwnerCommand(ctx, devices.ActorOf(p), *v.DeviceID, CommandRefresh, map[string]any{"vin": v.VIN})
	return err
}

// CommandRefresh is the command a car answers with a diagnostics reading.
const CommandRefresh = "refresh_diagnostics"

// --- service centres and bookings ---

// Centres lists the organisation's service centres.
func (s *Service) Centres(ctx context.Context, p *accounts.Principal) ([]Centre, error) {
	var out []Centre
	return out, s.db(ctx, p.OrgID).Order("name").Find(&out).Error
}

// FreeSlots lists a centre's slots in [from, to) that still have room.
func (s *Service) FreeSlots(ctx context.Context, p *accounts.Principal, centreID uint, from, to time.Time) ([]Slot, error) {
	var c Centre
	if err := s.db(ctx, p.OrgID).First(&c, centreID).Error; err != nil {
		return nil, notFound(err, "service centre", centreID)
	}
	if to.Sub(from) > 62*24*time.Hour || !to.After(from) {
		return nil, errs.InvalidField("to", "the period must be positive and at most two months")
	}
	var out []Slot
	err := s.db(ctx, p.OrgID).Where("centre_id = ? AND starts_at >= ? AND starts_at < ? AND booked < capacity", centreID, from, to).
		Order("starts_at").Limit(500).Find(&out).Error
	return out, err
}

// takeSlot reserves one place in a slot, in tx. The conditional update is
// the whole concurrency story: it succeeds for at most Capacity bookings,
// whatever the number of simultaneous requests, on SQLite and PostgreSQL.
func (s *Service) takeSlot(tx *gorm.DB, org, slotID uint, now time.Time) error {
	res := store.Org(tx, org).Model(&Slot{}).
		Where("id = ? AND booked < capacity AND starts_at > ?", slotID, now).
		Update("booked", gorm.Expr("booked + 1"))
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 1 {
		return nil
	}
	var sl Slot
	if err := store.Org(tx, org).First(&sl, slotID).Error; err != nil {
		return errs.InvalidField("slot_id", "no such slot")
	}
	if !sl.StartsAt.After(now) {
		return errs.InvalidField("slot_id", "this slot is in the past")
	}
	return errs.Conflictf("this slot has just been taken; please choose another")
}

func releaseSlot(tx *gorm.DB, org, slotID uint) error {
	return store.Org(tx, org).Model(&Slot{}).Where("id = ? AND booked > 0", slotID).Update("booked", gorm.Expr("booked - 1")).Error
}

// Book books a service for a vehicle the caller may change. A vehicle has
// at most one active booking.
func (s *Service) Book(ctx context.Context, p *accounts.Principal, vehicleID, slotID uint, notes string) (*Booking, error) {
	v, err := s.Vehicle(ctx, p, vehicleID)
	if err != nil {
		return nil, err
	}
	if err := s.acc.Reach(ID).CanWrite(ctx, p, v.OrgID, v.OwnerID, true); err != nil {
		return nil, err
	}
	if len(notes) > 500 {
		return nil, errs.InvalidField("notes", "at most 500 characters")
	}
	b := &Booking{SlotID: slotID, VehicleID: v.ID, OwnerID: v.OwnerID, Status: BookingBooked, Notes: strings.TrimSpace(notes)}
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		var active int64
		if err := store.Org(tx, p.OrgID).Model(&Booking{}).Where("vehicle_id = ? AND status = ?", v.ID, BookingBooked).Count(&active).Error; err != nil {
			return err
		}
		if active > 0 {
			return errs.Conflictf("this vehicle already has a service booked; reschedule it instead")
		}
		if err := s.takeSlot(tx, p.OrgID, slotID, s.now()); err != nil {
			return err
		}
		// An open recall is remedied at the next service.
		var rv RecallVehicle
		if err := store.Org(tx, p.OrgID).Where("vehicle_id = ? AND status = ?", v.ID, RecallOpen).First(&rv).Error; err == nil {
			b.RecallID = &rv.RecallID
			if err := store.Org(tx, p.OrgID).Model(&rv).Update("status", RecallBooked).Error; err != nil {
				return err
			}
		}
		if err := store.Org(tx, p.OrgID).Create(b).Error; err != nil {
			return err
		}
		return s.publish(ctx, tx, EventServiceBooked, p, v.OwnerID, b, vehicleLink(v.ID), "Booked a service for %s", vehicleName(v))
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// booking loads a booking the caller may read.
func (s *Service) booking(ctx context.Context, p *accounts.Principal, id uint) (*Booking, error) {
	var b Booking
	if err := s.db(ctx, p.OrgID).First(&b, id).Error; err != nil {
		return nil, notFound(err, "booking", id)
	}
	if err := s.acc.Reach(ID).CanRead(ctx, p, b.OrgID, b.OwnerID); err != nil {
		return nil, errs.NotFoundf("no booking %d", id)
	}
	return &b, nil
}

// Bookings lists the caller's visible bookings, newest first.
func (s *Service) Bookings(ctx context.Context, p *accounts.Principal) ([]Booking, error) {
	q := s.db(ctx, p.OrgID).Order("id DESC")
	q, err := s.acc.Reach(ID).WhereVisible(ctx, p, q, "owner_id")
	if err != nil {
		return nil, err
	}
	var out []Booking
	return out, q.Limit(200).Find(&out).Error
}

// Reschedule moves an active booking to another slot atomically: the new
// place is taken before the old one is released.
func (s *Service) Reschedule(ctx context.Context, p *accounts.Principal, id, slotID uint) (*Booking, error) {
	b, err := s.booking(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if err := s.acc.Reach(ID).CanWrite(ctx, p, b.OrgID, b.OwnerID, true); err != nil {
		return nil, err
	}
	if b.Status != BookingBooked {
		return nil, errs.Conflictf("only an active booking can be rescheduled")
	}
	if b.SlotID == slotID {
		return b, nil
	}
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		if err := s.takeSlot(tx, p.OrgID, slotID, s.now()); err != nil {
			return err
		}
		if err := releaseSlot(tx, p.OrgID, b.SlotID); err != nil {
			return err
		}
		old := b.SlotID
		b.SlotID = slotID
		if err := store.Org(tx, p.OrgID).Model(b).Update("slot_id", slotID).Error; err != nil {
			return err
		}
		return s.publish(ctx, tx, EventBookingChanged, p, b.OwnerID, map[string]any{"booking": b, "from_slot": old}, vehicleLink(b.VehicleID), "Moved a service booking")
	})
	return b, err
}

// Cancel cancels an active booking and frees its place.
func (s *Service) Cancel(ctx context.Context, p *accounts.Principal, id uint) error {
	b, err := s.booking(ctx, p, id)
	if err != nil {
		return err
	}
	if err := s.acc.Reach(ID).CanWrite(ctx, p, b.OrgID, b.OwnerID, true); err != nil {
		return err
	}
	if b.Status != BookingBooked {
		return errs.Conflictf("this booking is already %s", b.Status)
	}
	return s.st.Tx(ctx, func(tx *gorm.DB) error {
		res := store.Org(tx, p.OrgID).Model(&Booking{}).Where("id = ? AND status = ?", b.ID, BookingBooked).Update("status", BookingCancelled)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.Conflictf("this booking changed meanwhile; reload")
		}
		if b.RecallID != nil {
			if err := store.Org(tx, p.OrgID).Model(&RecallVehicle{}).Where("recall_id = ? AND vehicle_id = ? AND status = ?", *b.RecallID, b.VehicleID, RecallBooked).
				Update("status", RecallOpen).Error; err != nil {
				return err
			}
		}
		if err := releaseSlot(tx, p.OrgID, b.SlotID); err != nil {
			return err
		}
		return s.publish(ctx, tx, EventBookingChanged, p, b.OwnerID, map[string]any{"booking": b, "cancelled": true}, vehicleLink(b.VehicleID), "Cancelled a service booking")
	})
}

// MarkDone records that a booked service was carried out (staff and
// admins): the vehicle's service history moves on, a recall booked with it
// is remedied, and automotive.service_done lets the experience core ask the
// owner for feedback.
func (s *Service) MarkDone(ctx context.Context, p *accounts.Principal, id uint, odometerKm int) (*Booking, error) {
	if !p.Is(accounts.Staff, accounts.Admin) {
		return nil, errs.Forbiddenf("only staff mark services done")
	}
	b, err := s.booking(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if b.Status != BookingBooked {
		return nil, errs.Conflictf("this booking is %s", b.Status)
	}
	var v Vehicle
	if err := s.db(ctx, p.OrgID).First(&v, b.VehicleID).Error; err != nil {
		return nil, err
	}
	if odometerKm > MaxOdometerKm {
		return nil, errs.InvalidField("odometer_km", fmt.Sprintf("must be at most %d km", MaxOdometerKm))
	}
	if odometerKm < v.OdometerKm {
		return nil, errs.InvalidField("odometer_km", fmt.Sprintf("must be at least the last reading (%d km)", v.OdometerKm))
	}
	now := s.now()
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		if err := store.Org(tx, p.OrgID).Model(b).Update("status", BookingDone).Error; err != nil {
			return err
		}
		if err := store.Org(tx, p.OrgID).Model(&v).Updates(map[string]any{"odometer_km": odometerKm, "last_service_km": odometerKm, "last_service_at": now}).Error; err != nil {
			return err
		}
		if b.RecallID != nil {
			if err := store.Org(tx, p.OrgID).Model(&RecallVehicle{}).Where("recall_id = ? AND vehicle_id = ?", *b.RecallID, b.VehicleID).
				Updates(map[string]any{"status": RecallRemedied, "remedied_at": now}).Error; err != nil {
				return err
			}
		}
		b.Status = BookingDone
		// Ask the owner how the service went (once per booking, throttled
		// by the feedback service).
		if _, err := feedback.Ask(ctx, tx, p.OrgID, b.OwnerID, StepService, "booking:"+itoa(b.ID)); err != nil {
			return err
		}
		return s.publish(ctx, tx, EventServiceDone, p, b.OwnerID, b, vehicleLink(v.ID), "Service done for %s at %d km", vehicleName(&v), odometerKm)
	})
	return b, err
}

// --- financing and bills ---

// NewLoan describes financing staff set up for a vehicle.
type NewLoan struct {
	Kind         string
	Currency     string
	Principal    int64
	Residual     int64
	AnnualRateBP int64
	Months       int
	Start        time.Time
}

// CreateLoan records a vehicle's loan or lease and issues its instalment
// bills (staff and admins).
func (s *Service) CreateLoan(ctx context.Context, p *accounts.Principal, vehicleID uint, in NewLoan) (*Loan, error) {
	if !p.Is(accounts.Staff, accounts.Admin) {
		return nil, errs.Forbiddenf("only staff set up financing")
	}
	v, err := s.Vehicle(ctx, p, vehicleID)
	if err != nil {
		return nil, err
	}
	if in.Kind != "loan" && in.Kind != "lease" {
		return nil, errs.InvalidField("kind", "must be loan or lease")
	}
	if !money.ValidCurrency(in.Currency) {
		return nil, errs.InvalidField("currency", "must be an ISO 4217 code such as EUR")
	}
	if msg := money.CheckPositive(in.Principal); msg != "" {
		return nil, errs.InvalidField("principal_minor", msg)
	}
	if in.Kind == "loan" && in.Residual != 0 {
		return nil, errs.InvalidField("residual_minor", "a loan has no residual; use a lease")
	}
	sched, err := Schedule(LoanTerms{Principal: money.New(in.Principal, in.Currency), AnnualRateBP: in.AnnualRateBP, Months: in.Months,
		Start: in.Start, Residual: money.New(in.Residual, in.Currency)})
	if err != nil {
		return nil, errs.Validation(err.Error())
	}
	l := &Loan{VehicleID: v.ID, OwnerID: v.OwnerID, Kind: in.Kind, Currency: in.Currency, Principal: in.Principal, Residual: in.Residual,
		AnnualRateBP: in.AnnualRateBP, Months: in.Months, Start: in.Start}
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		if err := store.Org(tx, p.OrgID).Create(l).Error; err != nil {
			if store.IsUniqueViolation(err) {
				return errs.Conflictf("this vehicle already has financing")
			}
			return err
		}
		bills := make([]Bill, 0, len(sched)+1)
		for _, row := range sched {
			bills = append(bills, Bill{OwnerID: v.OwnerID, VehicleID: v.ID, LoanID: &l.ID, Number: row.Number,
				Description: fmt.Sprintf("%s instalment %d of %d", strings.ToUpper(in.Kind[:1])+in.Kind[1:], row.Number, in.Months),
				Currency:    in.Currency, Amount: row.Payment.Minor, DueOn: row.Due, Status: BillDue})
		}
		if in.Residual > 0 {
			last := sched[len(sched)-1]
			bills = append(bills, Bill{OwnerID: v.OwnerID, VehicleID: v.ID, LoanID: &l.ID, Number: in.Months + 1,
				Description: "Final lease payment (residual value)", Currency: in.Currency, Amount: in.Residual, DueOn: last.Due, Status: BillDue})
		}
		return store.Org(tx, p.OrgID).CreateInBatches(&bills, 200).Error
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// LoanOf returns a vehicle's financing with its schedule.
func (s *Service) LoanOf(ctx context.Context, p *accounts.Principal, vehicleID uint) (*Loan, []Instalment, error) {
	v, err := s.Vehicle(ctx, p, vehicleID)
	if err != nil {
		return nil, nil, err
	}
	var l Loan
	if err := s.db(ctx, p.OrgID).Where("vehicle_id = ?", v.ID).First(&l).Error; err != nil {
		return nil, nil, notFound(err, "financing for vehicle", v.ID)
	}
	sched, err := Schedule(LoanTerms{Principal: money.New(l.Principal, l.Currency), AnnualRateBP: l.AnnualRateBP, Months: l.Months,
		Start: l.Start, Residual: money.New(l.Residual, l.Currency)})
	return &l, sched, err
}

// Bills lists visible bills, by due date; status filters (due, paid,
// overdue, or "" for all).
func (s *Service) Bills(ctx context.Context, p *accounts.Principal, status string) ([]Bill, error) {
	q := s.db(ctx, p.OrgID).Order("due_on, id")
	q, err := s.acc.Reach(ID).WhereVisible(ctx, p, q, "owner_id")
	if err != nil {
		return nil, err
	}
	if status != "" {
		q = q.Where("status = ?", status)
	}
	var out []Bill
	return out, q.Limit(500).Find(&out).Error
}

// PaymentInput is a payment the integrator's payment system reports.
type PaymentInput struct {
	BillID    uint
	Reference string
	Amount    int64
	Currency  string
	PaidAt    time.Time
}

// RecordPayment applies a payment to a bill. The same reference twice
// applies it once and returns the first result (idempotent), so a payment
// system may retry freely.
func (s *Service) RecordPayment(ctx context.Context, p *accounts.Principal, in PaymentInput) (*Payment, *Bill, bool, error) {
	if !p.Is(accounts.Admin, accounts.Integrator) {
		return nil, nil, false, errs.Forbiddenf("payments are recorded by the payment system or an admin")
	}
	ref := strings.TrimSpace(in.Reference)
	if ref == "" || len(ref) > 100 {
		return nil, nil, false, errs.InvalidField("reference", "is required (at most 100 characters)")
	}
	if msg := money.CheckPositive(in.Amount); msg != "" {
		return nil, nil, false, errs.InvalidField("amount_minor", msg)
	}
	var existing Payment
	if err := s.db(ctx, p.OrgID).Where("reference = ?", ref).First(&existing).Error; err == nil {
		var b Bill
		if err := s.db(ctx, p.OrgID).First(&b, existing.BillID).Error; err != nil {
			return nil, nil, false, err
		}
		if existing.BillID != in.BillID || existing.Amount != in.Amount {
			return nil, nil, false, errs.Conflictf("reference %s was already used for a different payment", ref)
		}
		return &existing, &b, false, nil
	}
	var b Bill
	if err := s.db(ctx, p.OrgID).First(&b, in.BillID).Error; err != nil {
		return nil, nil, false, notFound(err, "bill", in.BillID)
	}
	if in.Currency != b.Currency {
		return nil, nil, false, errs.InvalidField("currency", "must be the bill's currency, "+b.Currency)
	}
	if b.Status == BillPaid {
		return nil, nil, false, errs.Conflictf("bill %d is already paid", b.ID)
	}
	if in.Amount > b.Amount-b.Paid {
		return nil, nil, false, errs.InvalidField("amount_minor", fmt.Sprintf("is more than what is left to pay (%d)", b.Amount-b.Paid))
	}
	at := in.PaidAt
	if at.IsZero() {
		at = s.now()
	}
	pay := &Payment{BillID: b.ID, Reference: ref, Currency: in.Currency, Amount: in.Amount, PaidAt: at}
	created := true
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		if err := store.Org(tx, p.OrgID).Create(pay).Error; err != nil {
			if store.IsUniqueViolation(err) {
				created = false // a concurrent retry won; report its result
				return errRetryRead
			}
			return err
		}
		b.Paid += in.Amount
		up := map[string]any{"paid": gorm.Expr("paid + ?", in.Amount)}
		if b.Paid >= b.Amount {
			b.Status, b.PaidAt = BillPaid, &at
			up["status"], up["paid_at"] = BillPaid, at
		}
		if err := store.Org(tx, p.OrgID).Model(&Bill{}).Where("id = ?", b.ID).Updates(up).Error; err != nil {
			return err
		}
		return s.bus.Publish(ctx, events.Event{Name: EventPaymentApplied, OrgID: p.OrgID, SubjectID: b.OwnerID, Data: map[string]any{"bill": b, "payment": pay}, Tx: tx,
			Summary: "Payment received for %s", SummaryArgs: []any{b.Description}, Link: vehicleLink(b.VehicleID)})
	})
	if errors.Is(err, errRetryRead) {
		p2, b2, _, err2 := s.RecordPayment(ctx, p, in)
		return p2, b2, false, err2
	}
	if err != nil {
		return nil, nil, false, err
	}
	return pay, &b, created, nil
}

var errRetryRead = errors.New("payment recorded concurrently")

func itoa(n uint) string { return strconv.FormatUint(uint64(n), 10) }
