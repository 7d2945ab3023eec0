package banking

import (
	"context"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/chart"
	"github.com/portalkit/portalkit/core/dashboard"
)

// BalancesWidget is the customer's accounts with balances.
type BalancesWidget struct {
	Accounts []AccountView `json:"accounts"`
}

// BudgetWidget is this month's budgets with progress bars.
type BudgetWidget struct {
	Budgets []BudgetStatus `json:"budgets"`
	Charts  []chart.Chart  `json:"charts"`
}

// GoalsWidget is the goals' progress.
type GoalsWidget struct {
	Goals  []SavingsGoal `json:"goals"`
	Charts []chart.Chart `json:"charts"`
}

// LatestReportWidget links the latest monthly report.
type LatestReportWidget struct {
	Report *MonthlyReport `json:"report,omitempty"`
}

func budgetCharts(bs []BudgetStatus) []chart.Chart {
	out := make([]chart.Chart, len(bs))
	for i, b := range bs {
		out[i] = chart.Chart{Kind: chart.Progress, Title: string(b.Category), Value: float64(b.Spent) / 100, Max: float64(b.Amount) / 100, Unit: "€"}
	}
	return out
}

func goalCharts(gs []SavingsGoal) []chart.Chart {
	out := make([]chart.Chart, len(gs))
	for i, g := range gs {
		out[i] = chart.Chart{Kind: chart.Progress, Title: "Saved so far", Value: float64(g.Saved) / 100, Max: float64(g.Target) / 100, Unit: "€"}
	}
	return out
}

func (s *Service) widgets() []dashboard.Widget {
	cust := []accounts.Role{accounts.Customer}
	return []dashboard.Widget{
		{ID: "balances", Title: "My accounts", Roles: cust, Size: dashboard.Small, Order: 20, Template: "widget_balances",
			LiveOn: []string{"banking.balance"},
			Data: func(ctx context.Context, p *accounts.Principal) (any, error) {
				// What Accounts returns for a customer, in one read: their
				// accounts with each balance as a subquery.
				list := []AccountView{}
				err := s.db(ctx, p.OrgID).Model(&Account{}).
					Select("banking_accounts.*, (SELECT COALESCE(SUM(e.amount), 0) FROM banking_entries e "+
						"WHERE e.org_id = banking_accounts.org_id AND e.account_id = banking_accounts.id) AS balance").
					Where("owner_id = ?", p.UserID).Order("id").Limit(500).Scan(&list).Error
				return BalancesWidget{Accounts: list}, err
			}},
		{ID: "budgets", Title: "Budgets this month", Roles: cust, Size: dashboard.Medium, Order: 21, Template: "widget_budgets",
			LiveOn: []string{"banking.balance"},
			Data: func(ctx context.Context, p *accounts.Principal) (any, error) {
				bs, err := s.Budgets(ctx, p, 0)
				return BudgetWidget{Budgets: bs, Charts: budgetCharts(bs)}, err
			}},
		{ID: "goals", Title: "Savings goals", Roles: cust, Size: dashboard.Small, Order: 22, Template: "widget_goals",
			LiveOn: []string{"banking.balance"},
			Data: func(ctx context.Context, p *accounts.Principal) (any, error) {
				gs, err := s.Goals(ctx, p, 0)
				return GoalsWidget{Goals: gs, Charts: goalCharts(gs)}, err
			}},
		{ID: "report", Title: "Latest monthly report", Roles: cust, Size: dashboard.Small, Order: 23, Template: "widget_report",
			Data: func(ctx context.Context, p *accounts.Principal) (any, error) {
				// The first of what Reports lists for the customer, alone.
				var rs []MonthlyReport
				err := s.db(ctx, p.OrgID).Select("id", "org_id", "owner_id", "month", "short", "created_at").
					Where("owner_id = ? AND data <> ''", p.UserID).Order("month DESC").Limit(1).Find(&rs).Error
				w := LatestReportWidget{}
				if len(rs) > 0 {
					w.Report = &rs[0]
				}
				return w, err
			}},
	}
}
