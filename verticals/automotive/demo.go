package automotive

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/experience/feedback"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/store"
)

// DemoVIN is the demo customer's car.
const DemoVIN = "WVWZZZ1KZ8W000123"

// demo gives the demo customer a car with 90 days of diagnostics (a slowly
// draining battery, a low tyre lately, an occasional trouble code), a
// service coming due, an open recall, a loan with bills, and a service
// centre with free slots. Idempotent.
func (s *Service) demo(ctx context.Context, d *module.DemoContext) error {
	org, owner := d.Orgs["demo"], d.Users["customer@demo.example"]
	if org == 0 || owner == 0 {
		return nil
	}
	db := store.Org(d.Tx.WithContext(ctx), org)
	var n int64
	if err := db.Model(&Vehicle{}).Where("vin = ?", DemoVIN).Count(&n).Error; err != nil || n > 0 {
		return err
	}
	now := s.now().Truncate(time.Hour)
	delivered := now.AddDate(-1, -1, 0)
	for _, p := range []Plan{{Make: "Volkswagen", Model: "Golf", IntervalKm: 15000, IntervalMonths: 12}, {Make: "Fiat", Model: "500e", IntervalKm: 30000, IntervalMonths: 24}} {
		if err := db.Create(&p).Error; err != nil {
			return err
		}
	}
	v := Vehicle{OwnerID: owner, VIN: DemoVIN, Make: "Volkswagen", Model: "Golf", Year: delivered.Year(), Fuel: Petrol, Nickname: "Golfino",
		OdometerKm: 0, LastServiceKm: 1500, LastServiceAt: now.AddDate(0, -11, -10), DeliveredAt: delivered}
	if err := db.Create(&v).Error; err != nil {
		return err
	}
	// 90 days of readings every 3 hours: ~38 km a day, battery drifting
	// from 12.7 V down to 11.9 V, the rear-left tyre losing pressure in the
	// last week, and a P0420 now and then.
	rng := rand.New(rand.NewPCG(42, 7))
	start := now.AddDate(0, 0, -90)
	odo := 14200.0
	fuel := 80.0
	var rows []Reading
	for t, i := start, 0; t.Before(now); t, i = t.Add(3*time.Hour), i+1 {
		progress := float64(t.Sub(start)) / float64(now.Sub(start))
		odo += 3 + rng.Float64()*6
		fuel -= 0.6 + rng.Float64()*0.4
		if fuel < 12 {
			fuel = 85
		}
		rl := 232.0 - rng.Float64()*4
		if now.Sub(t) < 7*24*time.Hour {
			rl = 232 - 55*(1-float64(now.Sub(t))/float64(7*24*time.Hour))
		}
		dtcs := ""
		if i%97 == 13 {
			dtcs = "P0420"
		}
		f := math.Round(fuel*10) / 10
		rows = append(rows, Reading{VehicleID: v.ID, At: t, Seq: int64(i), OdometerKm: math.Round(odo), BatteryV: math.Round((12.7-0.8*progress+rng.Float64()*0.1)*100) / 100,
			CoolantC: 85 + rng.Float64()*8, FuelPct: &f, TyreFL: 235 - rng.Float64()*3, TyreFR: 234 - rng.Float64()*3, TyreRL: rl, TyreRR: 233 - rng.Float64()*3, DTCs: dtcs})
	}
	if err := db.CreateInBatches(&rows, 500).Error; err != nil {
		return err
	}
	last := rows[len(rows)-1]
	seen := now.Add(-time.Hour)
	// The last service was 14,300 km ago: the next (every 15,000 km) is due soon.
	if err := db.Model(&v).Updates(map[string]any{"odometer_km": int(last.OdometerKm), "last_service_km": int(last.OdometerKm) - 14300, "last_seen_at": seen}).Error; err != nil {
		return err
	}
	active := map[string]bool{}
	for _, c := range Conditions(&Diagnostics{BatteryV: last.BatteryV, CoolantC: last.CoolantC, Tyres: Tyres{last.TyreFL, last.TyreFR, last.TyreRL, last.TyreRR}}, active) {
		a := Alert{VehicleID: v.ID, OwnerID: owner, Key: c.Key, Severity: c.Severity, Title: c.Title, Advice: c.Advice, RaisedAt: now.Add(-20 * time.Hour)}
		if err := db.Create(&a).Error; err != nil {
			return err
		}
	}
	c := Centre{Name: "Demo Motors Milano Nord", City: "Milano", Address: "Viale Fulvio Testi 100"}
	c2 := Centre{Name: "Demo Motors Roma Est", City: "Roma", Address: "Via Tiburtina 1000"}
	if err := db.Create(&c).Error; err != nil {
		return err
	}
	if err := db.Create(&c2).Error; err != nil {
		return err
	}
	var slots []Slot
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	for dd := 1; dd <= 14; dd++ {
		dt := day.AddDate(0, 0, dd)
		if dt.Weekday() == time.Sunday {
			continue
		}
		for _, h := range []int{8, 10, 14, 16} {
			slots = append(slots, Slot{CentreID: c.ID, StartsAt: dt.Add(time.Duration(h) * time.Hour), Capacity: 2},
				Slot{CentreID: c2.ID, StartsAt: dt.Add(time.Duration(h)*time.Hour + 30*time.Minute), Capacity: 1})
		}
	}
	if err := db.CreateInBatches(&slots, 200).Error; err != nil {
		return err
	}
	r := Recall{Code: "VW-23R7", Title: "Rear seat-belt buckle may not latch", Description: "On some vehicles the rear centre seat-belt buckle may not latch fully.",
		Remedy: "The buckle is inspected and replaced free of charge (about 30 minutes).", Make: "Volkswagen", Model: "Golf",
		YearFrom: delivered.Year() - 1, YearTo: delivered.Year() + 1, Matched: 1, Notified: 1, CompletedAt: &seen}
	if err := db.Create(&r).Error; err != nil {
		return err
	}
	if err := db.Create(&RecallVehicle{RecallID: r.ID, VehicleID: v.ID, OwnerID: owner, Status: RecallOpen, NotifiedAt: &seen}).Error; err != nil {
		return err
	}
	loanStart := time.Date(delivered.Year(), delivered.Month(), 1, 0, 0, 0, 0, time.UTC)
	l := Loan{VehicleID: v.ID, OwnerID: owner, Kind: "loan", Currency: "EUR", Principal: 1_800_000, AnnualRateBP: 549, Months: 48, Start: loanStart}
	if err := db.Create(&l).Error; err != nil {
		return err
	}
	sched, err := Schedule(LoanTerms{Principal: moneyEUR(l.Principal), AnnualRateBP: l.AnnualRateBP, Months: l.Months, Start: l.Start})
	if err != nil {
		return err
	}
	var bills []Bill
	for _, row := range sched {
		b := Bill{OwnerID: owner, VehicleID: v.ID, LoanID: &l.ID, Number: row.Number, Description: fmt.Sprintf("Loan instalment %d of %d", row.Number, l.Months),
			Currency: "EUR", Amount: row.Payment.Minor, DueOn: row.Due, Status: BillDue}
		if row.Due.Before(now) {
			paid := row.Due
			b.Status, b.Paid, b.PaidAt = BillPaid, b.Amount, &paid
		}
		bills = append(bills, b)
	}
	if err := db.CreateInBatches(&bills, 200).Error; err != nil {
		return err
	}
	return demoServiceFeedback(db, now, owner, d.Users["customer2@demo.example"])
}

// demoServiceFeedback gives the workshop ten weeks of answered "how was
// your service?" surveys, so the staff's feedback analytics has something
// to show.
func demoServiceFeedback(db *gorm.DB, now time.Time, owners ...uint) error {
	scores := []int{5, 4, 5, 3, 4, 5, 2, 4, 5, 4, 5, 3}
	var rows []feedback.Prompt
	for i, score := range scores {
		owner := owners[i%len(owners)]
		if owner == 0 {
			owner = owners[0]
		}
		at := now.AddDate(0, 0, -7*(len(scores)-i)+1).UTC()
		score := score
		answered := at.Add(2 * time.Hour)
		rows = append(rows, feedback.Prompt{CustomerID: owner, StepID: StepService, Module: ID, Kind: feedback.CSAT,
			SubjectRef: fmt.Sprintf("booking:demo-%d", i+1), Status: feedback.StatusAnswered, Score: &score,
			CreatedAt: at, ShownAt: &at, AnsweredAt: &answered, Week: feedback.WeekOf(at)})
	}
	rows[len(rows)-2].Comment = "Quick and friendly, and they explained the recall."
	return db.Create(&rows).Error
}
