package banking

import (
	"sort"
	"time"

	"github.com/portalkit/portalkit/core/money"
)

// CategoryLine is one category's spending in a report.
type CategoryLine struct {
	Category  Category     `json:"category"`
	ThisMonth money.Amount `json:"this_month"`
	LastMonth money.Amount `json:"last_month"`
	Avg3      money.Amount `json:"avg_3_months" doc:"Average of the three months before"`
}

// MerchantLine is one merchant's spending.
type MerchantLine struct {
	Merchant string       `json:"merchant"`
	Amount   money.Amount `json:"amount"`
	Count    int          `json:"count"`
}

// Unusual flags a category whose spending is well above its usual level.
type Unusual struct {
	Category  Category     `json:"category"`
	ThisMonth money.Amount `json:"this_month"`
	Avg3      money.Amount `json:"avg_3_months"`
	// PercentAbove is how far above the average, in whole percent.
	PercentAbove int64 `json:"percent_above"`
}

// ReportInput is a month's aggregates for one customer (computed in SQL by
// the report job): spending per category (positive minor units) for the
// month and the three before, income, and spending per merchant.
type ReportInput struct {
	Month       time.Time
	Currency    string
	ByMonth     [4]map[Category]int64 // [0] this month, [1] last month, [2], [3]
	Income      int64
	Merchants   []MerchantLine
	SavingsPlan *SavingsPlan
	Goals       []GoalPlan
}

// Report is the monthly report as stored, shown and e-mailed.
type Report struct {
	Month        time.Time      `json:"month"`
	Currency     string         `json:"currency"`
	Short        bool           `json:"short" doc:"No activity this month: the short version"`
	Income       money.Amount   `json:"income"`
	Spending     money.Amount   `json:"spending"`
	SpendingLast money.Amount   `json:"spending_last_month"`
	ByCategory   []CategoryLine `json:"by_category"`
	TopMerchants []MerchantLine `json:"top_merchants"`
	Unusual      []Unusual      `json:"unusual"`
	Goals        []GoalPlan     `json:"goals"`
	SavingsPlan  *SavingsPlan   `json:"plan,omitempty"`
}

// Unusual spending: more than 50% above the 3-month average and at least
// €50 (in minor units of the currency) more; a category new this month
// counts when it is at least €100.
const (
	unusualRatioPct = 150
	unusualMinDiff  = 5000
	unusualNewMin   = 10000
)

// BuildReport assembles a report from a month's aggregates.
func BuildReport(in ReportInput) Report {
	cur := in.Currency
	r := Report{Month: time.Date(in.Month.Year(), in.Month.Month(), 1, 0, 0, 0, 0, time.UTC), Currency: cur,
		Income: money.New(in.Income, cur), Goals: in.Goals, SavingsPlan: in.SavingsPlan,
		ByCategory: []CategoryLine{}, TopMerchants: []MerchantLine{}, Unusual: []Unusual{}}
	var spend, spendLast int64
	cats := map[Category]bool{}
	for i := 0; i < 4; i++ {
		for c := range in.ByMonth[i] {
			cats[c] = true
		}
	}
	for c := range cats {
		this, last := in.ByMonth[0][c], in.ByMonth[1][c]
		// the average of the three months before, rounded half away from zero
		sum3 := in.ByMonth[1][c] + in.ByMonth[2][c] + in.ByMonth[3][c]
		avg := (sum3*2 + 3) / 6
		spend += this
		spendLast += last
		r.ByCategory = append(r.ByCategory, CategoryLine{Category: c, ThisMonth: money.New(this, cur), LastMonth: money.New(last, cur), Avg3: money.New(avg, cur)})
		switch {
		case avg > 0 && this*100 > avg*unusualRatioPct && this-avg >= unusualMinDiff:
			r.Unusual = append(r.Unusual, Unusual{c, money.New(this, cur), money.New(avg, cur), (this - avg) * 100 / avg})
		case avg == 0 && this >= unusualNewMin:
			r.Unusual = append(r.Unusual, Unusual{c, money.New(this, cur), money.New(0, cur), 100})
		}
	}
	sort.Slice(r.ByCategory, func(i, j int) bool {
		if r.ByCategory[i].ThisMonth.Minor != r.ByCategory[j].ThisMonth.Minor {
			return r.ByCategory[i].ThisMonth.Minor > r.ByCategory[j].ThisMonth.Minor
		}
		return r.ByCategory[i].Category < r.ByCategory[j].Category
	})
	sort.Slice(r.Unusual, func(i, j int) bool {
		if r.Unusual[i].PercentAbove != r.Unusual[j].PercentAbove {
			return r.Unusual[i].PercentAbove > r.Unusual[j].PercentAbove
		}
		return r.Unusual[i].Category < r.Unusual[j].Category
	})
	ms := append([]MerchantLine(nil), in.Merchants...)
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].Amount.Minor > ms[j].Amount.Minor })
	if len(ms) > 5 {
		ms = ms[:5]
	}
	r.TopMerchants = append(r.TopMerchants, ms...)
	r.Spending, r.SpendingLast = money.New(spend, cur), money.New(spendLast, cur)
	r.Short = spend == 0 && in.Income == 0
	return r
}

// Txn is what recurring-bill detection needs of a transaction.
type Txn struct {
	Date     time.Time
	Merchant string // normalised
	Amount   money.Amount
}

// RecurringBill is a bill detected from history.
type RecurringBill struct {
	Merchant string       `json:"merchant"`
	Amount   money.Amount `json:"amount" doc:"Typical amount (the median)"`
	Every    int          `json:"every_days"`
	LastPaid time.Time    `json:"last_paid"`
	NextDue  time.Time    `json:"next_due"`
}

// DetectRecurring finds monthly bills: at least three debits to the same
// merchant, 26–35 days apart, each within 15% of the median amount.
func DetectRecurring(txns []Txn) []RecurringBill {
	by := map[string][]Txn{}
	for _, t := range txns {
		if t.Amount.Minor < 0 && t.Merchant != "" {
			by[t.Merchant] = append(by[t.Merchant], t)
		}
	}
	var out []RecurringBill
	for m, ts := range by {
		if len(ts) < 3 {
			continue
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i].Date.Before(ts[j].Date) })
		amounts := make([]int64, len(ts))
		for i, t := range ts {
			amounts[i] = -t.Amount.Minor
		}
		sorted := append([]int64(nil), amounts...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
		median := sorted[len(sorted)/2]
		ok := true
		var gaps []int
		for i, a := range amounts {
			if d := a - median; d*100 > median*15 || -d*100 > median*15 {
				ok = false
			}
			if i > 0 {
				g := int(ts[i].Date.Sub(ts[i-1].Date).Hours()/24 + 0.5)
				if g < 26 || g > 35 {
					ok = false
				}
				gaps = append(gaps, g)
			}
		}
		if !ok {
			continue
		}
		sort.Ints(gaps)
		every := gaps[len(gaps)/2]
		last := ts[len(ts)-1]
		out = append(out, RecurringBill{Merchant: m, Amount: money.New(-median, last.Amount.Currency), Every: every,
			LastPaid: last.Date, NextDue: last.Date.AddDate(0, 0, every)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Merchant < out[j].Merchant })
	return out
}
