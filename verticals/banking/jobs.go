package banking

import (
	"context"

	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/schedule"
)

// Notification kinds of the module.
const (
	KindMonthlyReport = "banking.monthly_report"
	KindBudgetAlert   = "banking.budget_alert"
)

func (s *Service) kinds() []notify.Kind {
	both := []string{notify.ChannelInApp, notify.ChannelEmail}
	return []notify.Kind{
		{ID: KindMonthlyReport, Title: "Monthly report", DefaultChannels: both, Mutable: true, Templates: mailTemplates()},
		{ID: KindBudgetAlert, Title: "Budget alerts", DefaultChannels: both, Mutable: true, Templates: mailTemplates()},
	}
}

func (s *Service) jobs() []schedule.Job {
	return []schedule.Job{
		{Name: "monthly_report", Cron: "5 * * * *", Description: "Build and send the monthly report of every customer whose month has just begun in their time zone",
			Run: s.reportJob},
		{Name: "savings_transfers", Cron: "10 * * * *", Description: "Move the amounts of accepted savings plans to savings on their day from 06:00 in the customer's time zone, once per plan and month",
			Run: func(ctx context.Context, r *schedule.Run) error { return s.transferJob(ctx, r) }},
	}
}
