package app

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/experience/drafts"
	"github.com/portalkit/portalkit/core/experience/feedback"
	"github.com/portalkit/portalkit/core/experience/help"
	"github.com/portalkit/portalkit/core/experience/messages"
	"github.com/portalkit/portalkit/core/experience/timeline"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/core/store"
)

// initExperience builds the help centre and secure messages, mounts their
// API and pages, and registers their background work. Modules reach them
// through Host.HelpArticles and Host.Messages.
func (a *App) initExperience() error {
	a.Help = help.New(help.Options{Store: a.Store, Accounts: a.Accounts, Events: a.Events, Log: a.Log.With("service", "help")})
	a.eraseOnDeletion(a.Help.EraseUser)
	if err := a.Help.AddDefaults("", help.CoreArticles()); err != nil {
		return err
	}
	msgs, err := messages.New(messages.Options{Store: a.Store, Accounts: a.Accounts, Events: a.Events, Log: a.Log.With("service", "messages"),
		Config: a.Config, ModuleName: a.moduleName})
	if err != nil {
		return err
	}
	a.Messages = msgs
	a.eraseOnDeletion(msgs.EraseUser)
	if err := a.initDrafts(); err != nil {
		return err
	}
	if err := a.initTimeline(); err != nil {
		return err
	}
	if err := a.initFeedback(); err != nil {
		return err
	}
	if err := a.initQuiz(); err != nil {
		return err
	}
	a.coreMigrations = append(a.coreMigrations, a.experienceMigrations()...)
	a.wireMessages()

	cat := a.Web.Catalog()
	a.Help.RegisterAPI(a.Web.API)
	a.Help.MountPages(a.Web.App, cat)
	a.Messages.RegisterAPI(a.Web.API)
	a.Messages.MountPages(a.Web.App, a.Accounts, cat)
	a.Web.AddNav(help.Nav()...)
	a.Web.AddNav(messages.Nav()...)
	a.Web.Decorate(a.Help.Decorator())
	if err := a.Web.AddTranslations(help.Translations()); err != nil {
		return err
	}
	if err := a.Web.AddTranslations(messages.Translations()); err != nil {
		return err
	}
	if err := a.Web.AddTemplates("help", help.Templates()); err != nil {
		return err
	}
	if err := a.Web.AddTemplates("messages", messages.Templates()); err != nil {
		return err
	}
	// A new organisation gets the default articles in the transaction that
	// creates it.
	a.Events.Subscribe(accounts.EventOrgCreated, func(ctx context.Context, e events.Event) error {
		tx := e.Tx
		if tx == nil {
			tx = a.Store.DB
		}
		_, err := a.Help.ImportDefaults(ctx, tx, e.OrgID)
		return err
	})
	a.AddRunner(a.Help.Importer())
	a.AddRunner(a.Messages.Sweeper())
	return nil
}

// initDrafts builds form drafts: the API, the texts of the offer, the
// middleware that lets page handlers call drafts.ForPage (installed before
// any module page), and the daily purge of expired drafts.
func (a *App) initDrafts() error {
	d, err := drafts.New(drafts.Options{Store: a.Store, Config: a.Config.Drafts, Log: a.Log.With("service", "drafts"), Now: a.Accounts.Now})
	if err != nil {
		return err
	}
	a.Drafts = d
	a.eraseOnDeletion(d.EraseUser)
	a.Web.App.Use(d.Middleware())
	d.RegisterAPI(a.Web.API)
	if err := a.Web.AddTranslations(drafts.Translations()); err != nil {
		return err
	}
	return a.Schedule.Add(schedule.Job{
		Name: "drafts.purge", Cron: "25 3 * * *", CatchUp: schedule.CatchUpLatest, // purges whatever has expired
		Description: "Delete form drafts untouched for longer than drafts.ttl",
		Run: func(ctx context.Context, r *schedule.Run) error {
			n, err := d.Purge(ctx)
			r.Log.Info("purged expired drafts", "count", n)
			return err
		},
	})
}

// initTimeline builds the customer timeline: it subscribes to every event
// (entries are written in the event's transaction), and mounts its API and
// pages.
func (a *App) initTimeline() error {
	a.Timeline = timeline.New(timeline.Options{Store: a.Store, Accounts: a.Accounts, Events: a.Events, Catalog: a.Web.Catalog(),
		Log: a.Log.With("service", "timeline")})
	a.eraseOnDeletion(a.Timeline.EraseUser)
	a.Timeline.RegisterAPI(a.Web.API)
	a.Timeline.MountPages(a.Web.App)
	a.Web.AddNav(timeline.Nav()...)
	if err := a.Web.AddTranslations(timeline.Translations()); err != nil {
		return err
	}
	return a.Web.AddTemplates("timeline", timeline.Templates())
}

// initFeedback builds feedback surveys: the core's journey steps (the
// portal's own CSAT question and the help centre's "was this helpful?",
// counted as a reaction), the API, the customer's answer pages, the staff
// analytics, the inline prompt on every customer page, and the daily
// expiry of unanswered asks.
func (a *App) initFeedback() error {
	if err := feedback.Declare(feedback.CoreStep, feedback.HelpStep); err != nil {
		return err
	}
	fb, err := feedback.New(feedback.Options{Store: a.Store, Accounts: a.Accounts, Events: a.Events, Config: a.Config.Feedback,
		Catalog: a.Web.Catalog(), Log: a.Log.With("service", "feedback"), Now: a.Accounts.Now})
	if err != nil {
		return err
	}
	a.Feedback = fb
	a.eraseOnDeletion(fb.EraseUser)
	fb.RegisterAPI(a.Web.API)
	fb.MountPages(a.Web.App, a.Accounts)
	a.Web.AddNav(feedback.Nav()...)
	a.Web.Decorate(fb.Decorator())
	if err := a.Web.AddTranslations(feedback.Translations()); err != nil {
		return err
	}
	if err := a.Web.AddTemplates("feedback", feedback.Templates()); err != nil {
		return err
	}
	// A customer's "was this helpful?" is a quick reaction, in the vote's
	// transaction.
	a.Events.Subscribe(help.EventArticleRated, func(ctx context.Context, e events.Event) error {
		data, _ := e.Data.(map[string]any)
		helpful, ok := data["helpful"].(bool)
		if e.SubjectID == 0 || e.Tx == nil || !ok {
			return nil
		}
		score := 1
		if helpful {
			score = 3
		}
		return fb.RecordReaction(ctx, e.Tx, e.OrgID, e.SubjectID, feedback.HelpStep.ID, fmt.Sprintf("article:%v", data["article_id"]), score)
	})
	return a.Schedule.Add(schedule.Job{
		Name: "feedback.expire", Cron: "35 3 * * *", CatchUp: schedule.CatchUpLatest,
		Description: "Close feedback asks left unanswered for longer than feedback.ask_ttl",
		Run: func(ctx context.Context, r *schedule.Run) error {
			n, err := fb.Expire(ctx)
			r.Log.Info("expired feedback asks", "count", n)
			return err
		},
	})
}

// checkFeedback validates the journey steps every module declared; a bad
// one stops start-up naming the module.
func (a *App) checkFeedback() error {
	var errs []error
	for _, h := range a.modules {
		if err := feedback.Declare(h.steps...); err != nil {
			errs = append(errs, fmt.Errorf("module %s: %w", h.info.ID, err))
		}
	}
	return errors.Join(errs...)
}

// experienceMigrations are the help and messages tables.
func (a *App) experienceMigrations() []store.MigrationSet {
	return []store.MigrationSet{
		{Owner: "help", Migrations: a.Help.Migrations()},
		{Owner: "messages", Migrations: a.Messages.Migrations()},
		{Owner: "drafts", Migrations: a.Drafts.Migrations()},
		{Owner: "timeline", Migrations: a.Timeline.Migrations()},
		{Owner: "feedback", Migrations: a.Feedback.Migrations()},
		{Owner: "quiz", Migrations: a.Quiz.Migrations()},
	}
}

// checkExperience reports the errors modules' declarations caused (a
// malformed help article), after every module's Init.
func (a *App) checkExperience() error {
	return errors.Join(a.helpErrs...)
}

// demoExperience imports the help articles into the demo organisations and
// gives the demo customer a conversation with their advisor.
func (a *App) demoExperience(ctx context.Context, tx *gorm.DB, dc *module.DemoContext) error {
	if _, err := a.Help.ImportDefaults(ctx, tx, 0); err != nil {
		return err
	}
	// One pending survey for the demo customer, so the demo shows it.
	if _, err := a.Feedback.AskAt(ctx, tx, dc.Orgs["demo"], dc.Users["customer@demo.example"], feedback.CoreStep.ID, "demo:welcome"); err != nil {
		return err
	}
	return a.Messages.Demo(ctx, tx, dc.Orgs["demo"], dc.Users["customer@demo.example"], dc.Users["staff@demo.example"])
}

// moduleName is the display name of a loaded module.
func (a *App) moduleName(id string) string {
	for _, h := range a.modules {
		if h.info.ID == id {
			return h.info.Name
		}
	}
	return id
}
