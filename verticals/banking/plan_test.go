package banking

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/money"
)

func eur(m int64) money.Amount { return money.New(m, "EUR") }

// TestMakePlanHandWorked: income 2,500.00; bills 900.00; pending 150.00;
// budgets 800.00 → available 650.00.
//
//	Emergency fund (priority 1): 3,000.00 target, 1,200.00 saved, due in
//	  6 months (Nov 2026 → May 2027) → needs ceil(1800/6) = 300.00.
//	Holiday (priority 2): 1,500.00, 0 saved, due in 5 months (Apr 2027) →
//	  needs 300.00.
//	New bike (priority 3): 1,200.00, 0 saved, due in 4 months (Mar 2027) →
//	  needs 300.00, but only 50.00 is left → behind.
//
// To save 650.00; nothing unallocated. The bike at 50.00 a month completes
// in 24 months: Oct 2028.
func TestMakePlanHandWorked(t *testing.T) {
	nov := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	p, err := MakePlan(PlanInput{
		Month: nov, ExpectedIncome: eur(250000), Bills: eur(90000), Pending: eur(15000), Budgets: eur(80000),
		Goals: []Goal{
			{ID: 3, Name: "New bike", Target: eur(120000), Saved: eur(0), Deadline: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), Priority: 3},
			{ID: 1, Name: "Emergency fund", Target: eur(300000), Saved: eur(120000), Deadline: time.Date(2027, 5, 31, 0, 0, 0, 0, time.UTC), Priority: 1},
			{ID: 2, Name: "Holiday", Target: eur(150000), Saved: eur(0), Deadline: time.Date(2027, 4, 15, 0, 0, 0, 0, time.UTC), Priority: 2},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Available.Minor != 65000 || p.ToSave.Minor != 65000 || p.Unallocated.Minor != 0 {
		t.Fatalf("totals: %+v", p)
	}
	want := []struct {
		id              uint
		needed, monthly int64
		status          string
		projected       string
	}{
		{1, 30000, 30000, "on_track", "2027-04"},
		{2, 30000, 30000, "on_track", "2027-03"},
		{3, 30000, 5000, "behind", "2028-10"},
	}
	for i, w := range want {
		g := p.Goals[i]
		if g.GoalID != w.id || g.Needed.Minor != w.needed || g.Monthly.Minor != w.monthly || g.Status != w.status || g.Projected.Format("2006-01") != w.projected {
			t.Errorf("goal %d: %+v, want %+v", i, g, w)
		}
	}
}

func TestPlanWithSurplusAndShortfall(t *testing.T) {
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	goal := Goal{ID: 1, Target: eur(100000), Saved: eur(40000), Deadline: time.Date(2027, 11, 1, 0, 0, 0, 0, time.UTC), Priority: 1}
	done := Goal{ID: 2, Target: eur(5000), Saved: eur(6000), Deadline: nov, Priority: 1}
	p, _ := MakePlan(PlanInput{Month: nov, ExpectedIncome: eur(300000), Bills: eur(0), Pending: eur(0), Budgets: eur(100000), Goals: []Goal{goal, done}})
	// needs 600/12 = 50.00 a month; the surplus fills the rest (600.00 in all); 1,400.00 stays.
	byID := map[uint]GoalPlan{}
	for _, g := range p.Goals {
		byID[g.GoalID] = g
	}
	if byID[1].Monthly.Minor != 60000 || byID[1].Status != "on_track" || p.Unallocated.Minor != 140000 || byID[2].Status != "done" {
		t.Fatalf("surplus: %+v", p)
	}
	p, _ = MakePlan(PlanInput{Month: nov, ExpectedIncome: eur(100000), Bills: eur(120000), Pending: eur(0), Budgets: eur(0), Goals: []Goal{goal}})
	if p.Available.Minor != -20000 || p.ToSave.Minor != 0 || p.Goals[0].Status != "behind" || !p.Goals[0].Projected.IsZero() {
		t.Fatalf("shortfall: %+v", p)
	}
	if _, err := MakePlan(PlanInput{Month: nov, ExpectedIncome: eur(1), Bills: money.New(1, "USD")}); err == nil {
		t.Fatal("mixed currencies accepted")
	}
}

// TestPlanNeverWraps: a goal of 2^63−1 (older rows, or a caller of
// MakePlan without the API's bounds) needs a huge positive amount and is
// behind, never negative and "on track"; sums past int64 are an error, not
// a wrapped number (issue 19 item 9).
func TestPlanNeverWraps(t *testing.T) {
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	huge := Goal{ID: 1, Target: eur(math.MaxInt64), Saved: eur(0), Deadline: time.Date(2027, 11, 1, 0, 0, 0, 0, time.UTC), Priority: 1}
	p, err := MakePlan(PlanInput{Month: nov, ExpectedIncome: eur(300000), Bills: eur(0), Pending: eur(0), Budgets: eur(0), Goals: []Goal{huge}})
	if err != nil {
		t.Fatal(err)
	}
	if g := p.Goals[0]; g.Needed.Minor <= 0 || g.Status != "behind" || g.Monthly.Minor != 300000 {
		t.Fatalf("goal of 2^63-1: %+v", g)
	}
	if _, err := MakePlan(PlanInput{Month: nov, ExpectedIncome: eur(math.MinInt64 + 1), Bills: eur(2), Pending: eur(0), Budgets: eur(0)}); !errors.Is(err, money.ErrOverflow) {
		t.Fatalf("available below int64: %v", err)
	}
	negSaved := Goal{ID: 2, Target: eur(math.MaxInt64), Saved: eur(-1), Deadline: huge.Deadline, Priority: 1}
	if _, err := MakePlan(PlanInput{Month: nov, ExpectedIncome: eur(1), Bills: eur(0), Pending: eur(0), Budgets: eur(0), Goals: []Goal{negSaved}}); !errors.Is(err, money.ErrOverflow) {
		t.Fatalf("remaining past int64: %v", err)
	}
}
