package automotive

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

var (
	persons   = []accounts.Role{accounts.Customer, accounts.Staff, accounts.Admin}
	readers   = []accounts.Role{accounts.Customer, accounts.Staff, accounts.Admin, accounts.Integrator}
	workshop  = []accounts.Role{accounts.Staff, accounts.Admin}
	paymentsR = []accounts.Role{accounts.Admin, accounts.Integrator}
)

func principal(ctx context.Context) *accounts.Principal {
	p, _ := accounts.PrincipalFrom(ctx)
	return p
}

type idInput struct {
	ID uint `path:"id"`
}

type vehicleBody struct {
	OwnerID    uint   `json:"owner_id,omitempty" doc:"Staff register a vehicle for a customer; customers omit it"`
	VIN        string `json:"vin" minLength:"1" maxLength:"40" doc:"17-character vehicle identification number"`
	Make       string `json:"make" minLength:"1" maxLength:"60"`
	Model      string `json:"model" minLength:"1" maxLength:"60"`
	Year       int    `json:"year" minimum:"1980" maximum:"2100"`
	Fuel       string `json:"fuel" enum:"petrol,diesel,hybrid,electric"`
	Nickname   string `json:"nickname,omitempty" maxLength:"60"`
	OdometerKm int    `json:"odometer_km,omitempty" minimum:"0" maximum:"2000000"`
}

type vehicleOut struct{ Body *Vehicle }

type vehiclesOut struct {
	Body struct {
		Vehicles []Vehicle `json:"vehicles"`
		Next     uint      `json:"next,omitempty" doc:"Pass as after for the next page; absent on the last page"`
	}
}

// VehicleStatus is a vehicle at a glance.
type VehicleStatus struct {
	Vehicle     *Vehicle        `json:"vehicle"`
	Service     ServiceStatus   `json:"service"`
	Health      string          `json:"health" doc:"good, attention or critical"`
	Alerts      []Alert         `json:"alerts"`
	Recalls     []VehicleRecall `json:"recalls"`
	Latest      *ReadingView    `json:"latest,omitempty"`
	NextBooking *Booking        `json:"next_booking,omitempty"`
	// BookedAt and BookedCentre say when and where the next booking is.
	BookedAt     time.Time `json:"booked_at,omitzero" doc:"When the next booked service starts"`
	BookedCentre string    `json:"booked_centre,omitempty" doc:"The workshop of the next booked service"`
}

type statusOut struct{ Body *VehicleStatus }

// fixture helpers for the authorization matrix: an object owned by (or,
// for staff, looked after by) the owner principal.
func (s *Service) fixtureVehicle(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (*Vehicle, error) {
	customer := owner.UserID
	if owner.Role != accounts.Customer {
		u := accounts.User{Email: fmt.Sprintf("fixture-%d@matrix.example", time.Now().UnixNano()), Name: "Fixture", Role: accounts.Customer}
		if err := store.Org(tx, owner.OrgID).Create(&u).Error; err != nil {
			return nil, err
		}
		customer = u.ID
		if owner.Role == accounts.Staff {
			if err := store.Org(tx, owner.OrgID).Create(&accounts.Assignment{StaffID: owner.UserID, CustomerID: u.ID, Relation: "advisor"}).Error; err != nil {
				return nil, err
			}
		}
	}
	v := &Vehicle{OwnerID: customer, VIN: fmt.Sprintf("WVWZZZ1JZ%08d", time.Now().UnixNano()%100000000), Make: "Fixture", Model: "One",
		Year: 2024, Fuel: Petrol, OdometerKm: 1000, LastServiceAt: s.now(), DeliveredAt: s.now()}
	return v, store.Org(tx, owner.OrgID).Create(v).Error
}

func (s *Service) fixtureSlot(tx *gorm.DB, org uint, booked int) (*Slot, error) {
	c := Centre{Name: "Fixture centre", City: "Milano"}
	if err := store.Org(tx, org).Create(&c).Error; err != nil {
		return nil, err
	}
	sl := &Slot{CentreID: c.ID, StartsAt: s.now().Add(72 * time.Hour), Capacity: 2, Booked: booked}
	return sl, store.Org(tx, org).Create(sl).Error
}

func id(v uint) map[string]string { return map[string]string{"id": itoa(v)} }

func (s *Service) vehicleFixture(body any) accounts.Fixture {
	return func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
		v, err := s.fixtureVehicle(ctx, tx, owner)
		if err != nil {
			return nil, nil, err
		}
		if f, ok := body.(func(*Vehicle) any); ok {
			return id(v.ID), f(v), nil
		}
		return id(v.ID), body, nil
	}
}

func (s *Service) bookingFixture(withSecondSlot bool) accounts.Fixture {
	return func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
		v, err := s.fixtureVehicle(ctx, tx, owner)
		if err != nil {
			return nil, nil, err
		}
		sl, err := s.fixtureSlot(tx, owner.OrgID, 1)
		if err != nil {
			return nil, nil, err
		}
		b := Booking{SlotID: sl.ID, VehicleID: v.ID, OwnerID: v.OwnerID, Status: BookingBooked}
		if err := store.Org(tx, owner.OrgID).Create(&b).Error; err != nil {
			return nil, nil, err
		}
		var body any = map[string]any{"odometer_km": 1500}
		if withSecondSlot {
			other, err := s.fixtureSlot(tx, owner.OrgID, 0)
			if err != nil {
				return nil, nil, err
			}
			body = map[string]any{"slot_id": other.ID}
		}
		return id(b.ID), body, nil
	}
}

func (s *Service) registerAPI(api huma.API) {
	tag := func(o *huma.Operation) { o.Tags = []string{"Automotive"} }
	accounts.Register(api, huma.Operation{OperationID: "automotive-vehicles", Method: http.MethodGet, Path: "/vehicles",
		Summary: "List vehicles", Description: "Customers see their own; staff their assigned customers'; admins and integrators all of the organisation's. Paged in ID order: pass the response's next as after."},
		func(ctx context.Context, in *struct {
			OwnerID uint   `query:"owner_id" doc:"Only this customer's vehicles"`
			Q       string `query:"q" maxLength:"100" doc:"Start of the VIN, or part of make, model, nickname, or the owner's name or e-mail"`
			After   uint   `query:"after" doc:"Cursor: the next value of the previous page"`
			Limit   int    `query:"limit" minimum:"1" maximum:"500" default:"100" doc:"Page size"`
		}) (*vehiclesOut, error) {
			list, next, err := s.FindVehicles(ctx, principal(ctx), VehicleFilter{OwnerID: in.OwnerID, Query: in.Q, After: in.After, Limit: in.Limit})
			if err != nil {
				return nil, err
			}
			out := &vehiclesOut{}
			out.Body.Vehicles = nonNil(list)
			out.Body.Next = next
			return out, nil
		}, accounts.Allow(readers...), tag)

	accounts.Register(api, huma.Operation{OperationID: "automotive-vehicle-add", Method: http.MethodPost, Path: "/vehicles",
		Summary: "Register a vehicle", DefaultStatus: 201},
		func(ctx context.Context, in *struct{ Body vehicleBody }) (*vehicleOut, error) {
			v, err := s.AddVehicle(ctx, principal(ctx), NewVehicle(in.Body))
			if err != nil {
				return nil, err
			}
			return &vehicleOut{Body: v}, nil
		}, accounts.Allow(persons...), tag, web.Idempotent())

	accounts.Register(api, huma.Operation{OperationID: "automotive-vehicle", Method: http.MethodGet, Path: "/vehicles/{id}",
		Summary: "A vehicle at a glance", Description: "Latest diagnostics, health summary, service status, active alerts, open recalls and the next booking."},
		func(ctx context.Context, in *idInput) (*statusOut, error) {
			st, err := s.Status(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return &statusOut{Body: st}, nil
		}, accounts.Allow(readers...), tag, accounts.Matrix(s.vehicleFixture(nil)))

	accounts.Register(api, huma.Operation{OperationID: "automotive-vehicle-update", Method: http.MethodPatch, Path: "/vehicles/{id}",
		Summary: "Update a vehicle's nickname or odometer"},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body struct {
				Nickname   *string `json:"nickname,omitempty" maxLength:"60"`
				OdometerKm *int    `json:"odometer_km,omitempty" minimum:"0" maximum:"2000000"`
			}
		}) (*vehicleOut, error) {
			v, err := s.UpdateVehicle(ctx, principal(ctx), in.ID, VehicleUpdate{Nickname: in.Body.Nickname, OdometerKm: in.Body.OdometerKm})
			if err != nil {
				return nil, err
			}
			return &vehicleOut{Body: v}, nil
		}, accounts.Allow(persons...), tag, accounts.Matrix(s.vehicleFixture(map[string]any{"nickname": "Matrix"})))

	accounts.Register(api, huma.Operation{OperationID: "automotive-vehicle-transfer", Method: http.MethodPost, Path: "/vehicles/{id}/transfer",
		Summary: "Transfer a vehicle to another customer (staff)"},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body struct {
				OwnerID uint `json:"owner_id" minimum:"1"`
			}
		}) (*vehicleOut, error) {
			v, err := s.TransferVehicle(ctx, principal(ctx), in.ID, in.Body.OwnerID)
			if err != nil {
				return nil, err
			}
			return &vehicleOut{Body: v}, nil
		}, accounts.Allow(workshop...), tag, accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			v, err := s.fixtureVehicle(ctx, tx, owner)
			if err != nil {
				return nil, nil, err
			}
			u := accounts.User{Email: fmt.Sprintf("new-owner-%d@matrix.example", time.Now().UnixNano()), Name: "New owner", Role: accounts.Customer}
			if err := store.Org(tx, owner.OrgID).Create(&u).Error; err != nil {
				return nil, nil, err
			}
			return id(v.ID), map[string]any{"owner_id": u.ID}, nil
		}))

	accounts.Register(api, huma.Operation{OperationID: "automotive-vehicle-device", Method: http.MethodPost, Path: "/vehicles/{id}/device",
		Summary: "Link or unlink the telematics device (staff)"},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body struct {
				DeviceID string `json:"device_id" maxLength:"64" doc:"Empty to unlink"`
			}
		}) (*vehicleOut, error) {
			v, err := s.LinkDevice(ctx, principal(ctx), in.ID, in.Body.DeviceID)
			if err != nil {
				return nil, err
			}
			return &vehicleOut{Body: v}, nil
		}, accounts.Allow(workshop...), tag, accounts.Matrix(s.vehicleFixture(map[string]any{"device_id": ""})), web.Problems(http.StatusServiceUnavailable))

	accounts.Register(api, huma.Operation{OperationID: "automotive-vehicle-refresh", Method: http.MethodPost, Path: "/vehicles/{id}/refresh",
		Summary: "Ask the car for a fresh diagnostics reading", DefaultStatus: http.StatusAccepted,
		Description: "Sends the refresh_diagnostics command to the vehicle's telematics unit over MQTT; the reading arrives when the car is online. 409 when the vehicle has no unit."},
		func(ctx context.Context, in *struct {
			ID uint `path:"id"`
		}) (*struct{}, error) {
			return nil, s.RefreshDiagnostics(ctx, principal(ctx), in.ID)
		}, accounts.Allow(accounts.Customer, accounts.Staff, accounts.Admin), tag, accounts.MatrixSkip("needs a vehicle with a connected device; covered by TestCarReadingsOverMQTT"), web.Problems(http.StatusServiceUnavailable))

	type seriesIn struct {
		ID   uint      `path:"id"`
		From time.Time `query:"from" doc:"RFC 3339; default 30 days ago"`
		To   time.Time `query:"to" doc:"RFC 3339; default now"`
	}
	type seriesOut struct{ Body *Diagnostics30 }
	accounts.Register(api, huma.Operation{OperationID: "automotive-vehicle-diagnostics", Method: http.MethodGet, Path: "/vehicles/{id}/diagnostics",
		Summary: "Diagnostics history for charts", Description: "Battery voltage and tyre pressures per reading (at most 2,000 points, evenly thinned), and distance per week."},
		func(ctx context.Context, in *seriesIn) (*seriesOut, error) {
			d, err := s.History(ctx, principal(ctx), in.ID, in.From, in.To)
			if err != nil {
				return nil, err
			}
			return &seriesOut{Body: d}, nil
		}, accounts.Allow(readers...), tag, accounts.Matrix(s.vehicleFixture(nil)))

	type loanOut struct {
		Body struct {
			Loan     *Loan        `json:"loan"`
			Schedule []Instalment `json:"schedule"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "automotive-vehicle-loan", Method: http.MethodGet, Path: "/vehicles/{id}/loan",
		Summary: "A vehicle's financing and its amortisation schedule"},
		func(ctx context.Context, in *idInput) (*loanOut, error) {
			l, sched, err := s.LoanOf(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			out := &loanOut{}
			out.Body.Loan, out.Body.Schedule = l, sched
			return out, nil
		}, accounts.Allow(readers...), tag, accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			v, err := s.fixtureVehicle(ctx, tx, owner)
			if err != nil {
				return nil, nil, err
			}
			l := Loan{VehicleID: v.ID, OwnerID: v.OwnerID, Kind: "loan", Currency: "EUR", Principal: 1_000_000, AnnualRateBP: 500, Months: 12, Start: s.now()}
			return id(v.ID), nil, store.Org(tx, owner.OrgID).Create(&l).Error
		}))

	type loanIn struct {
		ID   uint `path:"id"`
		Body struct {
			Kind         string    `json:"kind" enum:"loan,lease"`
			Currency     string    `json:"currency" minLength:"3" maxLength:"3"`
			Principal    int64     `json:"principal_minor" minimum:"1" maximum:"1000000000000000"`
			Residual     int64     `json:"residual_minor,omitempty" minimum:"0" maximum:"1000000000000000"`
			AnnualRateBP int64     `json:"annual_rate_bp" minimum:"0" maximum:"10000" doc:"Annual nominal rate in basis points: 650 = 6.50%"`
			Months       int       `json:"months" minimum:"1" maximum:"600"`
			Start        time.Time `json:"start"`
		}
	}
	type loanCreated struct{ Body *Loan }
	accounts.Register(api, huma.Operation{OperationID: "automotive-vehicle-loan-create", Method: http.MethodPost, Path: "/vehicles/{id}/loan",
		Summary: "Set up a vehicle's loan or lease (staff)", Description: "Issues one bill per instalment (and the residual for a lease).", DefaultStatus: 201},
		func(ctx context.Context, in *loanIn) (*loanCreated, error) {
			b := in.Body
			l, err := s.CreateLoan(ctx, principal(ctx), in.ID, NewLoan{Kind: b.Kind, Currency: strings.ToUpper(b.Currency), Principal: b.Principal,
				Residual: b.Residual, AnnualRateBP: b.AnnualRateBP, Months: b.Months, Start: b.Start})
			if err != nil {
				return nil, err
			}
			return &loanCreated{Body: l}, nil
		}, accounts.Allow(workshop...), tag, accounts.Matrix(s.vehicleFixture(map[string]any{
			"kind": "loan", "currency": "EUR", "principal_minor": 1_200_000, "annual_rate_bp": 450, "months": 24, "start": "2026-01-01T00:00:00Z"})), web.Idempotent())

	// --- centres, slots, bookings ---
	type centresOut struct {
		Body struct {
			Centres []Centre `json:"centres"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "automotive-centres", Method: http.MethodGet, Path: "/centres", Summary: "Service centres"},
		func(ctx context.Context, _ *struct{}) (*centresOut, error) {
			list, err := s.Centres(ctx, principal(ctx))
			if err != nil {
				return nil, err
			}
			out := &centresOut{}
			out.Body.Centres = nonNil(list)
			return out, nil
		}, accounts.Allow(readers...), tag)

	type centreIn struct {
		Body struct {
			Name    string `json:"name" minLength:"1" maxLength:"100"`
			City    string `json:"city" minLength:"1" maxLength:"60"`
			Address string `json:"address,omitempty" maxLength:"200"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "automotive-centre-create", Method: http.MethodPost, Path: "/centres",
		Summary: "Add a service centre (admins)", DefaultStatus: 201},
		func(ctx context.Context, in *centreIn) (*struct{ Body *Centre }, error) {
			p := principal(ctx)
			c := &Centre{Name: strings.TrimSpace(in.Body.Name), City: strings.TrimSpace(in.Body.City), Address: strings.TrimSpace(in.Body.Address)}
			if err := s.db(ctx, p.OrgID).Create(c).Error; err != nil {
				return nil, err
			}
			return &struct{ Body *Centre }{Body: c}, nil
		}, accounts.Allow(accounts.Admin), tag, web.Idempotent())

	type slotsIn struct {
		ID   uint      `path:"id"`
		From time.Time `query:"from" doc:"RFC 3339; default now"`
		To   time.Time `query:"to" doc:"RFC 3339; default in 14 days"`
	}
	type slotsOut struct {
		Body struct {
			Slots []Slot `json:"slots"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "automotive-centre-slots", Method: http.MethodGet, Path: "/centres/{id}/slots",
		Summary: "Free slots of a service centre"},
		func(ctx context.Context, in *slotsIn) (*slotsOut, error) {
			from, to := in.From, in.To
			if from.IsZero() {
				from = s.now()
			}
			if to.IsZero() {
				to = from.Add(14 * 24 * time.Hour)
			}
			list, err := s.FreeSlots(ctx, principal(ctx), in.ID, from, to)
			if err != nil {
				return nil, err
			}
			out := &slotsOut{}
			out.Body.Slots = nonNil(list)
			return out, nil
		}, accounts.Allow(readers...), tag,
		accounts.MatrixSkip("service centres are shared by everyone in the organisation; other organisations get 404 (TestCentresAndSlotsAreOrgScoped)"))

	type newSlotsIn struct {
		ID   uint `path:"id"`
		Body struct {
			From     time.Time `json:"from" doc:"First slot"`
			Count    int       `json:"count" minimum:"1" maximum:"500"`
			Every    string    `json:"every" doc:"Interval between slots, e.g. 1h"`
			Capacity int       `json:"capacity" minimum:"1" maximum:"50"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "automotive-centre-slots-create", Method: http.MethodPost, Path: "/centres/{id}/slots",
		Summary: "Open bookable slots at a centre (admins)", DefaultStatus: 201},
		func(ctx context.Context, in *newSlotsIn) (*slotsOut, error) {
			every, err := time.ParseDuration(in.Body.Every)
			if err != nil || every < 15*time.Minute {
				return nil, errs.InvalidField("body.every", "must be a duration of at least 15m, e.g. 1h")
			}
			list, err := s.OpenSlots(ctx, principal(ctx), in.ID, in.Body.From, in.Body.Count, every, in.Body.Capacity)
			if err != nil {
				return nil, err
			}
			out := &slotsOut{}
			out.Body.Slots = list
			return out, nil
		}, accounts.Allow(accounts.Admin), tag, accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			c := Centre{Name: "Fixture", City: "Roma"}
			if err := store.Org(tx, owner.OrgID).Create(&c).Error; err != nil {
				return nil, nil, err
			}
			return id(c.ID), map[string]any{"from": s.now().Add(48 * time.Hour).Format(time.RFC3339), "count": 2, "every": "1h", "capacity": 1}, nil
		}), web.Idempotent())

	type bookingsOut struct {
		Body struct {
			Bookings []Booking `json:"bookings"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "automotive-bookings", Method: http.MethodGet, Path: "/bookings", Summary: "Service bookings"},
		func(ctx context.Context, _ *struct{}) (*bookingsOut, error) {
			list, err := s.Bookings(ctx, principal(ctx))
			if err != nil {
				return nil, err
			}
			out := &bookingsOut{}
			out.Body.Bookings = nonNil(list)
			return out, nil
		}, accounts.Allow(readers...), tag)

	type bookIn struct {
		Body struct {
			VehicleID uint   `json:"vehicle_id" minimum:"1"`
			SlotID    uint   `json:"slot_id" minimum:"1"`
			Notes     string `json:"notes,omitempty" maxLength:"500"`
		}
	}
	type bookingOut struct{ Body *Booking }
	accounts.Register(api, huma.Operation{OperationID: "automotive-book", Method: http.MethodPost, Path: "/bookings",
		Summary: "Book a service", Description: "409 when the slot has just been taken: a slot is never overbooked.", DefaultStatus: 201},
		func(ctx context.Context, in *bookIn) (*bookingOut, error) {
			b, err := s.Book(ctx, principal(ctx), in.Body.VehicleID, in.Body.SlotID, in.Body.Notes)
			if err != nil {
				return nil, err
			}
			return &bookingOut{Body: b}, nil
		}, accounts.Allow(persons...), tag, web.Idempotent())

	type rescheduleIn struct {
		ID   uint `path:"id"`
		Body struct {
			SlotID uint `json:"slot_id" minimum:"1"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "automotive-reschedule", Method: http.MethodPatch, Path: "/bookings/{id}", Summary: "Reschedule a booking"},
		func(ctx context.Context, in *rescheduleIn) (*bookingOut, error) {
			b, err := s.Reschedule(ctx, principal(ctx), in.ID, in.Body.SlotID)
			if err != nil {
				return nil, err
			}
			return &bookingOut{Body: b}, nil
		}, accounts.Allow(persons...), tag, accounts.Matrix(s.bookingFixture(true)))

	accounts.Register(api, huma.Operation{OperationID: "automotive-cancel", Method: http.MethodDelete, Path: "/bookings/{id}", Summary: "Cancel a booking", DefaultStatus: 204},
		func(ctx context.Context, in *idInput) (*struct{}, error) {
			return nil, s.Cancel(ctx, principal(ctx), in.ID)
		}, accounts.Allow(persons...), tag, accounts.Matrix(s.bookingFixture(false)))

	type doneIn struct {
		ID   uint `path:"id"`
		Body struct {
			OdometerKm int `json:"odometer_km" minimum:"0" maximum:"2000000"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "automotive-service-done", Method: http.MethodPost, Path: "/bookings/{id}/done",
		Summary: "Mark a service done (staff)", Description: "Moves the vehicle's service history on, remedies a recall booked with it, and asks the owner for feedback."},
		func(ctx context.Context, in *doneIn) (*bookingOut, error) {
			b, err := s.MarkDone(ctx, principal(ctx), in.ID, in.Body.OdometerKm)
			if err != nil {
				return nil, err
			}
			return &bookingOut{Body: b}, nil
		}, accounts.Allow(workshop...), tag, accounts.Matrix(s.bookingFixture(false)))

	// --- bills and payments ---
	type billsOut struct {
		Body struct {
			Bills []Bill `json:"bills"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "automotive-bills", Method: http.MethodGet, Path: "/bills", Summary: "Bills (instalments, invoices)"},
		func(ctx context.Context, in *struct {
			Status string `query:"status" enum:"due,paid,overdue," doc:"Only bills with this status"`
		}) (*billsOut, error) {
			list, err := s.Bills(ctx, principal(ctx), in.Status)
			if err != nil {
				return nil, err
			}
			out := &billsOut{}
			out.Body.Bills = nonNil(list)
			return out, nil
		}, accounts.Allow(readers...), tag)

	type paymentIn struct {
		Body struct {
			BillID    uint      `json:"bill_id" minimum:"1"`
			Reference string    `json:"reference" minLength:"1" maxLength:"100" doc:"The payment system's reference; the same reference twice is applied once"`
			Amount    int64     `json:"amount_minor" minimum:"1" maximum:"1000000000000000"`
			Currency  string    `json:"currency" minLength:"3" maxLength:"3"`
			PaidAt    time.Time `json:"paid_at,omitempty"`
		}
	}
	type paymentOut struct {
		Status int `json:"-"`
		Body   struct {
			Payment *Payment `json:"payment"`
			Bill    *Bill    `json:"bill"`
			Replay  bool     `json:"replay" doc:"true when this reference had been applied before"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "automotive-payment", Method: http.MethodPost, Path: "/payments",
		Summary: "Record a payment (payment systems)", Description: "Idempotent by reference: 201 the first time, 200 with the same result afterwards.", DefaultStatus: 201},
		func(ctx context.Context, in *paymentIn) (*paymentOut, error) {
			b := in.Body
			pay, bill, created, err := s.RecordPayment(ctx, principal(ctx), PaymentInput{BillID: b.BillID, Reference: b.Reference, Amount: b.Amount,
				Currency: strings.ToUpper(b.Currency), PaidAt: b.PaidAt})
			if err != nil {
				return nil, err
			}
			out := &paymentOut{Status: http.StatusCreated}
			if !created {
				out.Status = http.StatusOK
			}
			out.Body.Payment, out.Body.Bill, out.Body.Replay = pay, bill, !created
			return out, nil
		}, accounts.Allow(paymentsR...), tag, web.Idempotent())

	s.registerRecallAPI(api, tag)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
