package module

import (
	"context"
	"io/fs"
	"log/slog"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/dashboard"
	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/experience/feedback"
	"github.com/portalkit/portalkit/core/experience/messages"
	"github.com/portalkit/portalkit/core/experience/quiz"
	"github.com/portalkit/portalkit/core/live"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// Host is what the kernel offers a module during Init: the core services to
// use, and one method per kind of contribution to declare. Declarations are
// collected during Init and wired by the kernel afterwards, so their order
// inside Init does not matter.
type Host interface {
	// Info is the module's own Info.
	Info() Info
	// Logger is a logger tagged with the module's ID.
	Logger() *slog.Logger
	// Store is the database. Queries on org-owned tables must be scoped with
	// store.Org.
	Store() *store.Store
	// Config is the deployment's configuration (read-only).
	Config() config.Config
	// Events is the event bus, for publishing the module's own events.
	Events() *events.Bus
	// Accounts is the accounts service: the policy layer
	// (Reach(<module id>).CanRead, CanWrite, WhereVisible; policy groups),
	// users and organisations. The caller of a
	// request is accounts.PrincipalFrom(ctx) (API) or accounts.PrincipalOf(c)
	// (pages); declare operations with accounts.Register and Allow/Matrix.
	Accounts() *accounts.Service

	// Models declares the GORM models the module owns. Their tables must be
	// prefixed with "<module id>_"; the kernel checks it at start.
	Models(models ...any)
	// Migrations declares the module's versioned migrations, in order.
	Migrations(ms ...store.Migration)
	// API declares JSON operations. register receives a huma API whose paths
	// are prefixed with /api/v1/<module id>; operations appear in the
	// OpenAPI document and the docs page.
	API(register func(api huma.API))
	// Pages declares portal pages. register receives a router mounted at
	// /m/<module id>. Handlers render with web.Render.
	Pages(register func(r fiber.Router))
	// Templates adds page templates (*.html with a "content" block), named
	// "<module id>/<file name without .html>".
	Templates(fsys fs.FS)
	// Assets declares the module's files from one tree laid out by
	// convention, instead of a call per directory: templates/*.html
	// (Templates), i18n/<locale>.json (Translations), help/*.md
	// (HelpArticles) and mail/ (the Templates of every notification kind
	// declared after it without its own). Directories it lacks are
	// skipped; a tree with none of them stops start-up naming the module.
	//
	//	//go:embed templates i18n mail
	//	var assets embed.FS
	//	h.Assets(assets)
	Assets(fsys fs.FS)
	// Translations adds "<locale>.json" files translating the module's
	// text (keyed by the English text, see core/i18n).
	Translations(fsys fs.FS)
	// Nav adds navigation entries; Module is filled in by the kernel.
	// Entries beyond the first few go into the "More" menu; give Group to
	// put one in a named menu.
	Nav(items ...web.NavItem)
	// Labels declares how people read the module's internal values of one
	// kind (statuses, categories, units...): value → web.Label{Text, Tone},
	// Text in English and translated through the module's it.json. kind is
	// "<module id>.<what>" ("automotive.booking_status") or a shared kind
	// the module adds values to: "event" (event names), "unit", "mime".
	// Templates show them with {{$.Label kind v}} or {{$.Tag kind v}}
	// (docs/ui.md). A bad kind or a value labelled twice stops start-up.
	Labels(kind string, set web.Labels)
	// On subscribes handler to a core or module event.
	On(event string, handler events.Handler)
	// Job declares a job run exactly once per slot of its cron schedule
	// across every instance (see docs/jobs.md). Name may be "<name>" (the
	// module's ID is prefixed) or the full "<module id>.<name>". A bad name or
	// spec stops start-up naming the job.
	Job(job schedule.Job)
	// Widget declares a dashboard widget: a card on the landing page of the
	// roles it names, shown while the module is enabled for the viewer's
	// organisation, rendered by one of the module's templates and sent as
	// JSON to apps (docs/dashboards.md). Its ID is addressed as
	// "<module id>.<widget id>".
	Widget(w dashboard.Widget)
	// Demo declares the module's demo data, created by `portal serve --demo`
	// and `portal demo` after every core service has created its own.
	Demo(fn DemoFunc)

	// Live publishes the module's live events: something a person's open
	// pages and apps should show at once (a reading stored, a balance
	// changed). In the transaction that makes the change:
	//
	//	err := m.live.Publish(ctx, tx, live.Event{OrgID: org, Name: "reading",
	//		Owner: vehicle.OwnerID, Subject: fmt.Sprintf("vehicle:%d", vehicle.ID),
	//		Data: map[string]any{"health": 92}})
	//
	// Owner names the customer who owns the object: the event goes to
	// everyone who may read it (the owner, their assigned staff, the
	// organisation's admins) and to no one else; To names people instead.
	// It arrives when the transaction commits, on every instance, in order,
	// once per stream (docs/writing-a-module.md, "Live events").
	Live() live.Publisher
	// Notify is the notification service: Send (inside your transaction),
	// and the inbox and preference queries.
	Notify() *notify.Service
	// Notification declares a notification kind. Its ID must be
	// "<module id>.<name>"; its templates need English and Italian.
	Notification(k notify.Kind)
	// NotificationChannel adds a delivery channel (SMS, push) that users
	// can switch on per kind.
	NotificationChannel(ch notify.Channel)
	// HelpArticles declares the module's default help articles: every *.md
	// file of fsys, Markdown with front matter (title, slug, locale,
	// category, context keys; see core/experience/help). They are imported
	// into every organisation at start, when an organisation is created and
	// with the demo data; staff may edit them. A module page links to the
	// articles of its context key with {{.Extra.Help.For "<module>.<page>"}}.
	HelpArticles(fsys fs.FS)
	// HelpSynonyms declares words or phrases that mean the same to someone
	// searching the help centre in locale, one comma-separated group each:
	// h.HelpSynonyms("en", "service booking, garage appointment"). A
	// question using one also finds articles using the others, for readers
	// with the module enabled. A group of stop words only, or of one
	// phrase, stops start-up naming it.
	HelpSynonyms(locale string, groups ...string)
	// Topic declares a device stream: messages that the module's devices
	// publish on t/<org>/d/<device>/<module id>/<stream> are checked by the
	// router, decoded and validated by h (usually a devices.Stream[T]) and
	// stored by the batched writer; invalid ones land in the device's reject
	// log (docs/devices.md).
	Topic(stream string, h devices.Handler)
	// Devices is the device registry and MQTT gateway: a module checks a
	// device it links to one of its objects (Get) and sends it commands
	// (Command), always as the acting user (devices.ActorOf).
	Devices() *devices.Service
	// Messages is secure messaging between customers and their staff. A
	// module opens a conversation about one of its objects with
	// Messages().Open(ctx, tx, principal, moduleID, subjectType, subjectID,
	// subjectTitle, firstMessage).
	Messages() *messages.Service
	// JourneyStep declares a moment of a customer journey after which the
	// customer is asked for feedback: ID "<module id>.<name>", a kind
	// (feedback.CSAT, NPS, CES or Reaction) and the English question
	// (translated through the module's it.json). The module then calls
	// feedback.Ask(ctx, tx, orgID, customerID, stepID, subjectRef) in the
	// transaction that completes the step (docs/experience.md). A malformed
	// step stops start-up naming the module.
	JourneyStep(s feedback.Step)
	// GroupKind declares a kind of policy group (a course, a care team, a
	// shop): ID "<module id>.<name>" (or "<name>", prefixed) and the areas
	// whose customer data its staff-side members reach (accounts.GroupKind;
	// docs/security.md). The module then keeps its groups and memberships
	// with Accounts().SaveGroup and AddGroupMember inside its own
	// transactions, and checks objects with Accounts().Reach(<module id>).
	GroupKind(k accounts.GroupKind)
	// Quiz is the quiz engine: a module draws the items of an attempt from
	// its bank and calls Start, SaveProgress and Submit; Quiz().Handle
	// (called during Init) reacts to its graded attempts inside the grading
	// transaction (docs/experience.md).
	Quiz() *quiz.Service
}

// DemoFunc creates demo data inside tx. It must be idempotent: running the
// demo twice leaves the same data.
type DemoFunc func(ctx context.Context, d *DemoContext) error

// DemoContext is what a module's demo function works with. Fields are added
// as core services gain demo data of their own.
type DemoContext struct {
	// Tx is the transaction the demo data is written in.
	Tx *gorm.DB
	// Orgs maps demo organisation slugs to IDs.
	Orgs map[string]uint
	// Users maps demo e-mail addresses to user IDs (see
	// accounts.DemoUsers): customer@demo.example is the demo customer,
	// staff@demo.example their assigned staff member.
	Users map[string]uint
	// Password is the demo accounts' password.
	Password string
}
