package notes_test

// The smaller fragments of docs/writing-a-module.md, as examples the
// compiler checks (go vet and go test build them; they are not run). Each
// starts where a module's Init or handler would be.

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/experience/drafts"
	"github.com/portalkit/portalkit/core/experience/feedback"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"

	"example.com/portal-examples/notes"
)

type createInput struct {
	Body struct {
		Title string `json:"title" minLength:"1" maxLength:"100" doc:"What the note is about"`
	}
}

type createOutput struct{ Body notes.Note }

func Example_idempotentCreate() {
	var api huma.API // what h.API hands your register function
	var create func(context.Context, *createInput) (*createOutput, error)

	accounts.Register(api, huma.Operation{OperationID: "notes-create", Method: http.MethodPost, Path: "/notes", DefaultStatus: http.StatusCreated},
		create, accounts.Allow(accounts.Customer), web.Idempotent())
}

func Example_eventsAndDemo() {
	var h module.Host // what Init receives
	var ctx context.Context
	var tx *gorm.DB
	var org, customer uint
	var n notes.Note

	h.On("app.started", func(ctx context.Context, e events.Event) error { return nil })
	err := h.Events().Publish(ctx, events.Event{Name: "notes.created", OrgID: org, SubjectID: customer, Data: n, Tx: tx})

	h.Demo(func(ctx context.Context, d *module.DemoContext) error {
		// idempotent: running the demo twice leaves the same data
		org, owner := d.Orgs["demo"], d.Users["customer@demo.example"]
		return store.Org(d.Tx, org).Where(notes.Note{OwnerID: owner, Title: "Welcome"}).FirstOrCreate(&notes.Note{}).Error
	})

	h.On(accounts.EventUserDeleted, func(ctx context.Context, e events.Event) error {
		return store.Org(e.Tx.WithContext(ctx), e.OrgID).Where("owner_id = ?", e.SubjectID).Delete(&notes.Note{}).Error
	})
	_ = err
}

//go:embed testdata/help
var helpFS embed.FS

func Example_helpAndConversations() {
	var h module.Host
	var ctx context.Context
	var tx *gorm.DB
	var principal *accounts.Principal
	var n notes.Note

	sub, _ := fs.Sub(helpFS, "testdata/help")
	h.HelpArticles(sub) // help/booking.en.md, help/booking.it.md, ...
	h.HelpSynonyms("en", "note, memo, reminder")
	msgs := h.Messages()

	// in a template:  {{.Extra.Help.For "notes.list"}}
	// in a handler, in the module's transaction:
	conv, err := msgs.Open(ctx, tx, principal, "notes", "note", strconv.Itoa(int(n.ID)), n.Title, "Question about this note")
	_, _ = conv, err
}

func Example_feedbackTimelineDrafts() {
	var h module.Host
	var ctx context.Context
	var tx *gorm.DB
	var c *fiber.Ctx
	var orgID, customerID, userID uint
	var id, title string

	h.JourneyStep(feedback.Step{ID: "notes.shared", Kind: feedback.CSAT, Question: "How happy are you with sharing?"})
	// in the transaction that completes the step:
	_, err := feedback.Ask(ctx, tx, orgID, customerID, "notes.shared", "note:"+id)
	err = errors.Join(err, h.Events().Publish(ctx, events.Event{Name: "notes.shared", OrgID: orgID, SubjectID: customerID, Tx: tx,
		Summary: "Shared the note “%s”", SummaryArgs: []any{title}, Link: "/m/notes/" + id}))
	// a form page: offer, _ := drafts.ForPage(c, "notes.new"); template: <form {{.Data.Draft.Attrs $}}>
	offer, _ := drafts.ForPage(c, "notes.new")
	// its submit, in the same transaction:
	err = errors.Join(err, drafts.Clear(ctx, tx, orgID, userID, "notes.new"))
	_, _ = offer, err
}

// Reading is a thermostat's payload.
type Reading struct {
	TS      time.Time `json:"ts"`
	Celsius float64   `json:"celsius"`
}

func Example_deviceStream() {
	var h module.Host

	h.Topic("temp", devices.Stream[Reading]{
		Validate: func(r Reading) error { // the error is the reject reason
			if r.Celsius < -40 || r.Celsius > 90 {
				return fmt.Errorf("celsius %.1f is outside -40..90", r.Celsius)
			}
			return nil
		},
		Time:     func(r Reading) time.Time { return r.TS },    // when it was measured
		Value:    func(r Reading) float64 { return r.Celsius }, // kept in hourly roll-ups
		Simulate: func(r *rand.Rand, now time.Time) Reading { return Reading{TS: now, Celsius: 18 + 4*r.Float64()} },
		// optional: act on each stored reading (idempotent; after commit, before the ack)
		OnStored: func(ctx context.Context, rd devices.Reading, r Reading) error { return nil },
	})
}
