package app

import (
	"context"

	"github.com/portalkit/portalkit/core/experience/quiz"
	"github.com/portalkit/portalkit/core/schedule"
)

// initQuiz builds the quiz engine on the drafts (where attempts in progress
// are kept) and the job that grades attempts whose time ran out.
func (a *App) initQuiz() error {
	a.Quiz = quiz.New(quiz.Options{Store: a.Store, Drafts: a.Drafts, Log: a.Log.With("service", "quiz"), Now: a.Accounts.Now})
	a.eraseOnDeletion(a.Quiz.EraseUser)
	return a.Schedule.Add(schedule.Job{
		Name: "quiz.close_expired", Cron: "*/5 * * * *",
		Description: "Grade, as of their deadline, quiz attempts whose time ran out without a submission",
		Run: func(ctx context.Context, r *schedule.Run) error {
			n, err := a.Quiz.CloseExpired(ctx)
			r.Log.Info("graded expired attempts", "count", n)
			return err
		},
	})
}
