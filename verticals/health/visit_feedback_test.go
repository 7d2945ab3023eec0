package health_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/experience/feedback"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/verticals/health"
)

// TestVisitAsksCSATOnce: recording a visit asks the patient, in the same
// transaction, how satisfied they are (CSAT, step health.visit), once for
// that visit; the patient answers through the core's feedback API.
func TestVisitAsksCSATOnce(t *testing.T) {
	ta, _ := newApp(t)
	c := newClinic(t, ta)
	var out struct{ Visit health.Visit }
	c.must(t, "POST", c.diaryURL("visits"), map[string]any{"notes": "Walk more."}, c.rossi, 201).JSON(t, &out)
	prompts := func() []feedback.Prompt {
		var ps []feedback.Prompt
		if err := store.AllOrgs(ta.Store.DB).Where("customer_id = ? AND step_id = ?", c.patientID, health.StepVisit).Order("id").Find(&ps).Error; err != nil {
			t.Fatal(err)
		}
		return ps
	}
	ps := prompts()
	if len(ps) != 1 || ps[0].SubjectRef != fmt.Sprintf("visit:%d", out.Visit.ID) || ps[0].Kind != feedback.CSAT || ps[0].Module != "health" {
		t.Fatalf("prompts after the visit: %+v", ps)
	}
	// Asking again for the same visit asks nothing.
	err := ta.Store.DB.Transaction(func(tx *gorm.DB) error {
		asked, err := feedback.Ask(context.Background(), tx, ps[0].OrgID, c.patientID, health.StepVisit, ps[0].SubjectRef)
		if asked {
			t.Error("the same visit was asked twice")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(prompts()); n != 1 {
		t.Fatalf("%d prompts for one visit", n)
	}
	// The patient is asked, and answers.
	pending := c.must(t, "GET", "/api/v1/feedback/pending", nil, c.patient, 200)
	if !strings.Contains(pending.Body, health.StepVisit) || !strings.Contains(pending.Body, "How satisfied are you with your visit?") {
		t.Fatalf("pending: %s", pending.Body)
	}
	c.must(t, "POST", fmt.Sprintf("/api/v1/feedback/%d/answer", ps[0].ID), map[string]any{"score": 5}, c.patient, 200)
	c.must(t, "POST", fmt.Sprintf("/api/v1/feedback/%d/answer", ps[0].ID), map[string]any{"score": 4}, c.patient, 409)
	if ps = prompts(); ps[0].Score == nil || *ps[0].Score != 5 || ps[0].Status != "answered" {
		t.Fatalf("after the answer: %+v", ps[0])
	}
	if r := c.must(t, "GET", "/api/v1/feedback/pending", nil, c.patient, 200); strings.Contains(r.Body, health.StepVisit) {
		t.Fatalf("still pending after the answer: %s", r.Body)
	}
	// A refused visit asks nothing; the next visit is asked about on its own.
	c.must(t, "POST", c.diaryURL("visits"), map[string]any{"on": "2030-01-01T00:00:00Z"}, c.rossi, 422)
	if n := len(prompts()); n != 1 {
		t.Fatalf("a refused visit asked: %d prompts", n)
	}
	c.must(t, "POST", c.diaryURL("visits"), map[string]any{"notes": "Check-up."}, c.rossi, 201)
	if ps = prompts(); len(ps) != 2 || ps[1].SubjectRef == ps[0].SubjectRef {
		t.Fatalf("second visit: %+v", ps)
	}
}
