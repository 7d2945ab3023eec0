package banking

import (
	"errors"
	"sort"
	"time"

	"github.com/portalkit/portalkit/core/money"
)

// Goal is a savings goal.
type Goal struct {
	ID       uint
	Name     string
	Target   money.Amount
	Saved    money.Amount
	Deadline time.Time
	// Priority orders goals: 1 is the most important.
	Priority int
}

// PlanInput is what the budget tool knows about the month ahead.
type PlanInput struct {
	Month          time.Time    // any time in the month planned
	ExpectedIncome money.Amount // salary and other expected credits
	Bills          money.Amount // recurring bills due this month
	Pending        money.Amount // scheduled and pending payments
	Budgets        money.Amount // the month's spending budgets
	Goals          []Goal
}

// GoalPlan is the plan for one goal.
type GoalPlan struct {
	GoalID    uint         `json:"goal_id"`
	Name      string       `json:"name"`
	Remaining money.Amount `json:"remaining"`
	// Needed is what the goal needs each month to meet its deadline.
	Needed money.Amount `json:"needed"`
	// Monthly is what the plan puts aside this month.
	Monthly money.Amount `json:"monthly"`
	// Status is "done", "on_track" or "behind".
	Status string `json:"status"`
	// Projected is when the goal completes at this month's rate (zero when
	// nothing is put aside).
	Projected time.Time `json:"projected,omitempty"`
}

// Plan is a month's savings plan.
type SavingsPlan struct {
	Month time.Time `json:"month"`
	// Available is income − bills − pending − budgets (may be negative).
	Available money.Amount `json:"available"`
	// ToSave is what the plan moves to savings this month.
	ToSave      money.Amount `json:"to_save"`
	Unallocated money.Amount `json:"unallocated" doc:"Available money the plan leaves in the current account"`
	Goals       []GoalPlan   `json:"goals"`
}

// monthsUntil counts whole months from the plan month to the deadline's
// month, at least 1 (a goal due this month gets all of it now).
func monthsUntil(from, deadline time.Time) int64 {
	n := int64((deadline.Year()-from.Year())*12 + int(deadline.Month()) - int(from.Month()))
	if n < 1 {
		return 1
	}
	return n
}

// ceilDiv is a ÷ b rounded up, for a ≥ 0; it cannot overflow (a + b − 1
// would, for a near math.MaxInt64).
func ceilDiv(a, b int64) int64 {
	if b <= 0 {
		return a
	}
	q := a / b
	if a%b != 0 {
		q++
	}
	return q
}

// MakePlan computes the month's plan: what is available after bills,
// pending payments and budgets is set aside for goals in order of priority
// (then nearest deadline), each goal getting what it needs per month to
// meet its deadline; anything left after every goal's need goes to the
// highest-priority unfinished goals, up to what each still lacks.
func MakePlan(in PlanInput) (SavingsPlan, error) {
	cur := in.ExpectedIncome.Currency
	avail := in.ExpectedIncome
	for _, x := range []money.Amount{in.Bills, in.Pending, in.Budgets} {
		var err error
		if avail, err = avail.Sub(x); errors.Is(err, money.ErrCurrencyMismatch) {
			return SavingsPlan{}, errors.New("the plan's amounts must share one currency")
		} else if err != nil {
			return SavingsPlan{}, err
		}
	}
	month := time.Date(in.Month.Year(), in.Month.Month(), 1, 0, 0, 0, 0, time.UTC)
	goals := append([]Goal(nil), in.Goals...)
	sort.SliceStable(goals, func(i, j int) bool {
		if goals[i].Priority != goals[j].Priority {
			return goals[i].Priority < goals[j].Priority
		}
		return goals[i].Deadline.Before(goals[j].Deadline)
	})
	p := SavingsPlan{Month: month, Available: avail}
	left := avail.Minor
	if left < 0 {
		left = 0
	}
	for _, g := range goals {
		if g.Target.Currency != cur || g.Saved.Currency != cur {
			return SavingsPlan{}, errors.New("goals must be in the plan's currency")
		}
		rem, err := money.SubMinor(g.Target.Minor, g.Saved.Minor)
		if err != nil {
			return SavingsPlan{}, err
		}
		if rem < 0 {
			rem = 0
		}
		gp := GoalPlan{GoalID: g.ID, Name: g.Name, Remaining: money.New(rem, cur)}
		gp.Needed = money.New(ceilDiv(rem, monthsUntil(month, g.Deadline)), cur)
		give := gp.Needed.Minor
		if give > left {
			give = left
		}
		left -= give
		gp.Monthly = money.New(give, cur)
		p.Goals = append(p.Goals, gp)
	}
	// Extra money: to the most important goals that still lack something.
	for i := range p.Goals {
		if left == 0 {
			break
		}
		lack := p.Goals[i].Remaining.Minor - p.Goals[i].Monthly.Minor
		if lack <= 0 {
			continue
		}
		give := min(lack, left)
		p.Goals[i].Monthly.Minor += give
		left -= give
	}
	var toSave int64
	for i := range p.Goals {
		gp := &p.Goals[i]
		var err error
		if toSave, err = money.AddMinor(toSave, gp.Monthly.Minor); err != nil {
			return SavingsPlan{}, err
		}
		switch {
		case gp.Remaining.Minor == 0:
			gp.Status = "done"
		case gp.Monthly.Minor >= gp.Needed.Minor:
			gp.Status = "on_track"
		default:
			gp.Status = "behind"
		}
		if gp.Remaining.Minor > 0 && gp.Monthly.Minor > 0 {
			gp.Projected = month.AddDate(0, int(ceilDiv(gp.Remaining.Minor, gp.Monthly.Minor))-1, 0)
		}
	}
	p.ToSave = money.New(toSave, cur)
	p.Unallocated = money.New(left, cur)
	return p, nil
}
