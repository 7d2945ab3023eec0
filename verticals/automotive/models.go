package automotive

import (
	"fmt"
	"time"

	"github.com/portalkit/portalkit/core/store"
)

// Vehicle is a customer's car.
type Vehicle struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	OwnerID  uint     `gorm:"not null;index" json:"owner_id"`
	VIN      string   `gorm:"size:17;not null" json:"vin"` // unique per org (migration)
	Make     string   `gorm:"size:60;not null" json:"make"`
	Model    string   `gorm:"size:60;not null" json:"model"`
	Year     int      `gorm:"not null" json:"year"`
	Fuel     FuelKind `gorm:"size:10;not null" json:"fuel"`
	Nickname string   `gorm:"size:60" json:"nickname,omitempty"`
	// DeviceID is the linked telematics unit (core/devices), if any.
	DeviceID *string `gorm:"size:64;index" json:"device_id,omitempty"`
	// OdometerKm is the latest reading (from telematics or the owner).
	OdometerKm    int        `json:"odometer_km"`
	LastServiceKm int        `json:"last_service_km"`
	LastServiceAt time.Time  `json:"last_service_at"`
	DeliveredAt   time.Time  `json:"delivered_at"`
	LastSeenAt    *time.Time `json:"last_seen_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// TableName keeps the table in the module's namespace.
func (Vehicle) TableName() string { return "automotive_vehicles" }

// Plan is the service plan of a make and model.
type Plan struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	Make           string `gorm:"size:60;not null" json:"make"`
	Model          string `gorm:"size:60;not null" json:"model"`
	IntervalKm     int    `gorm:"not null" json:"interval_km"`
	IntervalMonths int    `gorm:"not null" json:"interval_months"`
}

// TableName keeps the table in the module's namespace.
func (Plan) TableName() string { return "automotive_plans" }

// Centre is a service centre.
type Centre struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	Name    string `gorm:"size:100;not null" json:"name"`
	City    string `gorm:"size:60;not null" json:"city"`
	Address string `gorm:"size:200" json:"address"`
}

// TableName keeps the table in the module's namespace.
func (Centre) TableName() string { return "automotive_centres" }

// Slot is a bookable time at a centre with a capacity (service bays).
type Slot struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	CentreID uint      `gorm:"not null;index" json:"centre_id"`
	StartsAt time.Time `gorm:"not null;index" json:"starts_at"`
	Capacity int       `gorm:"not null" json:"capacity"`
	// Booked counts active bookings; a conditional update keeps it at or
	// below Capacity under any concurrency.
	Booked int `gorm:"not null;default:0" json:"booked"`
}

// TableName keeps the table in the module's namespace.
func (Slot) TableName() string { return "automotive_slots" }

// Booking statuses.
const (
	BookingBooked    = "booked"
	BookingCancelled = "cancelled"
	BookingDone      = "done"
)

// Booking is a service appointment.
type Booking struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	SlotID    uint   `gorm:"not null;index" json:"slot_id"`
	VehicleID uint   `gorm:"not null;index" json:"vehicle_id"`
	OwnerID   uint   `gorm:"not null;index" json:"owner_id"`
	Status    string `gorm:"size:12;not null" json:"status"`
	Notes     string `gorm:"size:500" json:"notes,omitempty"`
	// RecallID is set when the booking remedies a recall.
	RecallID  *uint     `json:"recall_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TableName keeps the table in the module's namespace.
func (Booking) TableName() string { return "automotive_bookings" }

// Recall is a recall campaign.
type Recall struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	Code        string `gorm:"size:40;not null" json:"code" doc:"The manufacturer's campaign ID"`
	Title       string `gorm:"size:200;not null" json:"title"`
	Description string `gorm:"size:4000;not null" json:"description"`
	Remedy      string `gorm:"size:2000;not null" json:"remedy"`
	// Affected: make/model/year range, or an explicit VIN list.
	Make     string `gorm:"size:60" json:"make,omitempty"`
	Model    string `gorm:"size:60" json:"model,omitempty"`
	YearFrom int    `json:"year_from,omitempty"`
	YearTo   int    `json:"year_to,omitempty"`
	VINs     string `gorm:"type:text" json:"-"`
	// Matched and Notified count affected vehicles and owners notified so
	// far (the fan-out job's progress).
	Matched  int `json:"matched"`
	Notified int `json:"notified"`
	// Cursor is the last vehicle ID the fan-out job handled.
	Cursor      uint       `json:"-"`
	PublishedBy uint       `json:"published_by"`
	CreatedAt   time.Time  `json:"created_at"`
	CompletedAt *time.Time `json:"completed_at,omitempty" doc:"When every affected owner had been notified"`
}

// TableName keeps the table in the module's namespace.
func (Recall) TableName() string { return "automotive_recalls" }

// Recall statuses of a vehicle.
const (
	RecallOpen     = "open"
	RecallBooked   = "booked"
	RecallRemedied = "remedied"
)

// RecallVehicle is a vehicle affected by a recall.
type RecallVehicle struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	RecallID   uint       `gorm:"not null;uniqueIndex:automotive_recall_vehicle" json:"recall_id"`
	VehicleID  uint       `gorm:"not null;uniqueIndex:automotive_recall_vehicle;index" json:"vehicle_id"`
	OwnerID    uint       `gorm:"not null;index" json:"owner_id"`
	Status     string     `gorm:"size:10;not null" json:"status"`
	NotifiedAt *time.Time `json:"notified_at,omitempty"`
	RemediedAt *time.Time `json:"remedied_at,omitempty"`
}

// TableName keeps the table in the module's namespace.
func (RecallVehicle) TableName() string { return "automotive_recall_vehicles" }

// Loan is a vehicle's financing: a loan or a lease.
type Loan struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	VehicleID    uint      `gorm:"not null;uniqueIndex" json:"vehicle_id"`
	OwnerID      uint      `gorm:"not null;index" json:"owner_id"`
	Kind         string    `gorm:"size:8;not null" json:"kind" enum:"loan,lease"`
	Currency     string    `gorm:"size:3;not null" json:"currency"`
	Principal    int64     `gorm:"not null" json:"principal_minor"`
	Residual     int64     `gorm:"not null" json:"residual_minor"`
	AnnualRateBP int64     `gorm:"not null" json:"annual_rate_bp"`
	Months       int       `gorm:"not null" json:"months"`
	Start        time.Time `gorm:"not null" json:"start"`
	CreatedAt    time.Time `json:"created_at"`
}

// TableName keeps the table in the module's namespace.
func (Loan) TableName() string { return "automotive_loans" }

// Bill statuses.
const (
	BillDue     = "due"
	BillPaid    = "paid"
	BillOverdue = "overdue"
)

// Bill is something the owner pays: a loan instalment, a service invoice.
type Bill struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	OwnerID     uint       `gorm:"not null;index" json:"owner_id"`
	VehicleID   uint       `gorm:"not null;index" json:"vehicle_id"`
	LoanID      *uint      `gorm:"index" json:"loan_id,omitempty"`
	Number      int        `json:"number,omitempty" doc:"Instalment number for loan bills"`
	Description string     `gorm:"size:200;not null" json:"description"`
	Currency    string     `gorm:"size:3;not null" json:"currency"`
	Amount      int64      `gorm:"not null" json:"amount_minor"`
	Paid        int64      `gorm:"not null;default:0" json:"paid_minor"`
	DueOn       time.Time  `gorm:"not null;index" json:"due_on"`
	Status      string     `gorm:"size:8;not null;index" json:"status"`
	PaidAt      *time.Time `json:"paid_at,omitempty"`
}

// InstalmentOf is the number of instalments of the loan a loan bill
// belongs to, read from its description ("Loan instalment 14 of 48"), so
// pages say it in the reader's language; 0 for any other bill.
func (b Bill) InstalmentOf() int {
	var n, of int
	if b.LoanID == nil {
		return 0
	}
	if _, err := fmt.Sscanf(b.Description, "Loan instalment %d of %d", &n, &of); err != nil || n != b.Number {
		return 0
	}
	return of
}

// TableName keeps the table in the module's namespace.
func (Bill) TableName() string { return "automotive_bills" }

// Payment is a payment the integrator's payment system records against a
// bill; Reference makes recording idempotent.
type Payment struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	BillID    uint      `gorm:"not null;index" json:"bill_id"`
	Reference string    `gorm:"size:100;not null" json:"reference"` // unique per org (migration)
	Currency  string    `gorm:"size:3;not null" json:"currency"`
	Amount    int64     `gorm:"not null" json:"amount_minor"`
	PaidAt    time.Time `gorm:"not null" json:"paid_at"`
	CreatedAt time.Time `json:"created_at"`
}

// TableName keeps the table in the module's namespace.
func (Payment) TableName() string { return "automotive_payments" }

// Reading is one diagnostics reading, stored typed for charts.
type Reading struct {
	ID uint `gorm:"primaryKey"`
	store.OrgOwned
	VehicleID  uint      `gorm:"not null;index:automotive_readings_vehicle_time"`
	At         time.Time `gorm:"not null;index:automotive_readings_vehicle_time"`
	Seq        int64
	OdometerKm float64
	BatteryV   float64
	CoolantC   float64
	FuelPct    *float64
	SocPct     *float64
	TyreFL     float64
	TyreFR     float64
	TyreRL     float64
	TyreRR     float64
	DTCs       string `gorm:"size:500"`
	Lat, Lon   *float64
}

// TableName keeps the table in the module's namespace.
func (Reading) TableName() string { return "automotive_readings" }

// Alert is a condition raised for a vehicle, active until it clears.
type Alert struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	VehicleID uint       `gorm:"not null;index" json:"vehicle_id"`
	OwnerID   uint       `gorm:"not null;index" json:"owner_id"`
	Key       string     `gorm:"size:40;not null" json:"key"`
	Severity  string     `gorm:"size:10;not null" json:"severity"`
	Title     string     `gorm:"size:200;not null" json:"title"`
	Advice    string     `gorm:"size:500;not null" json:"advice"`
	RaisedAt  time.Time  `gorm:"not null" json:"raised_at"`
	ClearedAt *time.Time `json:"cleared_at,omitempty"`
}

// TableName keeps the table in the module's namespace.
func (Alert) TableName() string { return "automotive_alerts" }

var models = []any{&Vehicle{}, &Plan{}, &Centre{}, &Slot{}, &Booking{}, &Recall{}, &RecallVehicle{}, &Loan{}, &Bill{}, &Payment{}, &Reading{}, &Alert{}}
