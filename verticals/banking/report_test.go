package banking

import (
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/money"
)

// TestBuildReportAgainstAFixtureMonth: groceries 450 this month vs 400,
// 380, 420 before (avg 400) → not unusual (12.5% above); restaurants 300
// vs 100, 120, 80 (avg 100) → +200%, unusual; travel 250 new → unusual.
func TestBuildReportAgainstAFixtureMonth(t *testing.T) {
	in := ReportInput{
		Month: time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC), Currency: "EUR", Income: 250000,
		ByMonth: [4]map[Category]int64{
			{CatGroceries: 45000, CatRestaurants: 30000, CatTravel: 25000},
			{CatGroceries: 40000, CatRestaurants: 10000, CatFuel: 6000},
			{CatGroceries: 38000, CatRestaurants: 12000},
			{CatGroceries: 42000, CatRestaurants: 8000},
		},
		Merchants: []MerchantLine{{"ESSELUNGA", money.New(30000, "EUR"), 6}, {"RYANAIR", money.New(25000, "EUR"), 1},
			{"RISTORANTE DA MARIO", money.New(18000, "EUR"), 2}, {"CONAD", money.New(15000, "EUR"), 3},
			{"BAR SPORT", money.New(12000, "EUR"), 9}, {"PIZZERIA", money.New(1000, "EUR"), 1}},
	}
	r := BuildReport(in)
	if r.Short || r.Spending.Minor != 100000 || r.SpendingLast.Minor != 56000 || r.Income.Minor != 250000 {
		t.Fatalf("totals: %+v", r)
	}
	if r.ByCategory[0].Category != CatGroceries || r.ByCategory[0].Avg3.Minor != 40000 || r.ByCategory[0].LastMonth.Minor != 40000 {
		t.Fatalf("by category: %+v", r.ByCategory)
	}
	if len(r.Unusual) != 2 || r.Unusual[0].Category != CatRestaurants || r.Unusual[0].PercentAbove != 200 || r.Unusual[1].Category != CatTravel {
		t.Fatalf("unusual: %+v", r.Unusual)
	}
	if len(r.TopMerchants) != 5 || r.TopMerchants[0].Merchant != "ESSELUNGA" || r.TopMerchants[4].Merchant != "BAR SPORT" {
		t.Fatalf("top merchants: %+v", r.TopMerchants)
	}
	if !r.Month.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatal("month")
	}
	empty := BuildReport(ReportInput{Month: in.Month, Currency: "EUR"})
	if !empty.Short || len(empty.ByCategory) != 0 || empty.Unusual == nil {
		t.Fatalf("no activity: %+v", empty)
	}
}

func TestDetectRecurring(t *testing.T) {
	d := func(m, day int) time.Time { return time.Date(2026, time.Month(m), day, 0, 0, 0, 0, time.UTC) }
	eur := func(m int64) money.Amount { return money.New(m, "EUR") }
	txns := []Txn{
		{d(7, 5), "ENEL ENERGIA", eur(-8000)}, {d(8, 4), "ENEL ENERGIA", eur(-8700)}, {d(9, 5), "ENEL ENERGIA", eur(-7900)}, {d(10, 6), "ENEL ENERGIA", eur(-8200)},
		{d(7, 1), "NETFLIX", eur(-1299)}, {d(8, 1), "NETFLIX", eur(-1299)}, {d(9, 1), "NETFLIX", eur(-1299)},
		{d(7, 3), "ESSELUNGA", eur(-4500)}, {d(7, 9), "ESSELUNGA", eur(-2200)}, {d(8, 2), "ESSELUNGA", eur(-6100)}, // irregular
		{d(7, 1), "GYM", eur(-3000)}, {d(8, 1), "GYM", eur(-3000)}, // only two
		{d(7, 27), "STIPENDIO", eur(250000)}, {d(8, 27), "STIPENDIO", eur(250000)}, {d(9, 27), "STIPENDIO", eur(250000)}, // a credit
	}
	bills := DetectRecurring(txns)
	if len(bills) != 2 || bills[0].Merchant != "ENEL ENERGIA" || bills[1].Merchant != "NETFLIX" {
		t.Fatalf("bills: %+v", bills)
	}
	if bills[0].Amount.Minor != -8200 || bills[0].Every != 31 || !bills[0].NextDue.Equal(d(11, 6)) {
		t.Fatalf("enel: %+v", bills[0])
	}
}
