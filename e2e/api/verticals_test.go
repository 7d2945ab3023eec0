package api

import (
	"context"
	"errors"
	"net/http"
	"testing"

	sdk "github.com/portalkit/portalkit/sdk/go/api"
	"github.com/portalkit/portalkit/sdk/go/portal"
)

// Education: a student lists their courses with the SDK, starts a module's
// quiz, answers it and gets it graded; the same submission sent again (a
// retry with the SDK's Idempotency-Key) grades nothing twice; their mastery
// counts the answers; another customer cannot read the attempt (a 404
// problem).
func TestEducationStudentTakesAQuizThroughTheSDK(t *testing.T) {
	_, base := start(t)
	ctx := context.Background()
	c := signIn(t, base, "customer@demo.example")
	cs, err := portal.Result(c.API.EducationCoursesWithResponse(ctx))
	if err != nil || len(*cs.JSON200.Courses) == 0 {
		t.Fatalf("courses: %v", err)
	}
	course := (*cs.JSON200.Courses)[0]
	detail, err := portal.Result(c.API.EducationCourseWithResponse(ctx, course.Id))
	if err != nil || detail.JSON200.Progress == nil {
		t.Fatalf("course %d: %v", course.Id, err)
	}
	answered := func() int64 {
		m, err := portal.Result(c.API.EducationMasteryWithResponse(ctx, course.Id))
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, tm := range *m.JSON200.Topics {
			n += tm.Responses
		}
		return n
	}
	before := answered()
	var att *sdk.EducationAttemptView
	for _, m := range *detail.JSON200.Progress.Modules {
		if r, err := portal.Result(c.API.EducationQuizStartWithResponse(ctx, m.Id, nil)); err == nil {
			att = r.JSON200
			break
		}
	}
	if att == nil || att.Questions == nil || len(*att.Questions) == 0 {
		t.Fatal("no module quiz the demo student may take")
	}
	answers := map[string]*[]string{}
	for _, q := range *att.Questions {
		if q.Options != nil && len(*q.Options) > 0 {
			a := []string{(*q.Options)[0].Id}
			answers[q.Id] = &a
		}
	}
	key := portal.NewIdempotencyKey()
	var graded []sdk.EducationAttemptView
	for range 2 { // the answer to the first was lost on the way
		r, err := portal.Result(c.API.EducationAttemptSubmitWithResponse(ctx, att.Id, &sdk.EducationAttemptSubmitParams{IdempotencyKey: &key},
			sdk.EducationAttemptSubmitJSONRequestBody{Answers: answers}))
		if err != nil {
			t.Fatalf("submit: %v", err)
		}
		graded = append(graded, *r.JSON200)
	}
	if graded[0].Status != "graded" || graded[0].MaxScore <= 0 || graded[0].Results == nil || graded[1].Score != graded[0].Score {
		t.Fatalf("graded %+v, then %+v", graded[0], graded[1])
	}
	if after := answered(); after <= before {
		t.Fatalf("mastery counts %d answers after the quiz, %d before", after, before)
	}
	other := signIn(t, base, "customer2@demo.example")
	_, err = portal.Result(other.API.EducationAttemptWithResponse(ctx, att.Id))
	var p *portal.Problem
	if !errors.As(err, &p) || p.Status != http.StatusNotFound {
		t.Fatalf("another customer reading the attempt: %v, want a 404 problem", err)
	}
}

// Health: a patient records a reading with the SDK and reads it back; an
// impossible one is a 422 problem naming the field; the clinician of their
// care team reads it; another customer gets a 404 problem.
func TestHealthPatientRecordsAVitalThroughTheSDK(t *testing.T) {
	_, base := start(t)
	ctx := context.Background()
	c := signIn(t, base, "customer@demo.example")
	me, err := portal.Result(c.API.MeWithResponse(ctx))
	if err != nil {
		t.Fatal(err)
	}
	patient := me.JSON200.User.Id
	kind, unit := "weight", "kg"
	r, err := portal.Result(c.API.HealthObservationAddWithResponse(ctx, patient, nil, sdk.HealthObservationAddJSONRequestBody{Kind: &kind, Unit: &unit, Value: 71.4}))
	if err != nil || r.JSON201 == nil || len(*r.JSON201) == 0 {
		t.Fatalf("record: %v", err)
	}
	stored := (*r.JSON201)[0]
	if stored.Value != 71.4 || stored.Source != "patient" {
		t.Fatalf("stored %+v", stored)
	}
	_, err = portal.Result(c.API.HealthObservationAddWithResponse(ctx, patient, nil, sdk.HealthObservationAddJSONRequestBody{Kind: &kind, Unit: &unit, Value: 900}))
	var p *portal.Problem
	if !errors.As(err, &p) || p.Status != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Location != "body.value" {
		t.Fatalf("a weight of 900 kg: %v, want a 422 problem naming body.value", err)
	}
	found := func(cl *portal.Client) error {
		obs, err := portal.Result(cl.API.HealthObservationsWithResponse(ctx, patient, nil))
		if err != nil {
			return err
		}
		for _, o := range *obs.JSON200 {
			if o.Id == stored.Id {
				return nil
			}
		}
		return errors.New("the reading is not listed")
	}
	if err := found(c); err != nil {
		t.Fatalf("the patient's own list: %v", err)
	}
	if err := found(signIn(t, base, "staff@demo.example")); err != nil {
		t.Fatalf("the care team's clinician: %v", err)
	}
	err = found(signIn(t, base, "customer2@demo.example"))
	if !errors.As(err, &p) || p.Status != http.StatusNotFound {
		t.Fatalf("another customer: %v, want a 404 problem", err)
	}
}
