package education

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/experience/quiz"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/store"
)

// KindXAPI is the organisation-level webhook event carrying an xAPI 1.0.3
// statement for each graded attempt (notify.SendOrgWebhook): a learning
// record store, or a bridge to one, subscribes an endpoint to it.
const KindXAPI = ID + ".xapi"

func xapiKind() notify.Kind {
	return notify.Kind{ID: KindXAPI, Title: "Learning records (xAPI statements, webhook)", Templates: mailTemplates()}
}

// xAPI verb and activity type IRIs (ADL vocabulary).
const (
	VerbCompleted      = "http://adlnet.gov/expapi/verbs/completed"
	activityAssessment = "http://adlnet.gov/expapi/activities/assessment"
	activityCourse     = "http://adlnet.gov/expapi/activities/course"
)

// xapiNamespace derives statement IDs: one stable UUID per attempt, so a
// statement resent by an integrator's bridge is recognised by the LRS.
var xapiNamespace = uuid.MustParse("0d5a5f39-63d6-4c8e-9a3b-7f1e2b9c4a10")

// Statement is the part of an xAPI 1.0.3 statement the portal sends.
type Statement struct {
	ID        string    `json:"id"`
	Actor     XAgent    `json:"actor"`
	Verb      XVerb     `json:"verb"`
	Object    XActivity `json:"object"`
	Result    XResult   `json:"result"`
	Context   XContext  `json:"context"`
	Timestamp string    `json:"timestamp"`
	Version   string    `json:"version"`
}

// XAgent identifies the learner by an account on the portal (the user's
// ID under the portal's base URL), never by e-mail address.
type XAgent struct {
	ObjectType string   `json:"objectType"`
	Account    XAccount `json:"account"`
}

// XAccount is an agent's account: homePage is the portal, name the user ID.
type XAccount struct {
	HomePage string `json:"homePage"`
	Name     string `json:"name"`
}

// XVerb is a verb IRI with its display name.
type XVerb struct {
	ID      string            `json:"id"`
	Display map[string]string `json:"display"`
}

// XActivity is the quiz (or the course, as a parent).
type XActivity struct {
	ObjectType string       `json:"objectType"`
	ID         string       `json:"id"`
	Definition *XDefinition `json:"definition,omitempty"`
}

// XDefinition names an activity and gives its type.
type XDefinition struct {
	Type string            `json:"type"`
	Name map[string]string `json:"name"`
}

// XResult is the attempt's score and outcome.
type XResult struct {
	Score      XScore `json:"score"`
	Success    *bool  `json:"success,omitempty"`
	Completion bool   `json:"completion"`
	Duration   string `json:"duration,omitempty"`
}

// XScore is scaled (−1 to 1), raw, min and max.
type XScore struct {
	Scaled float64 `json:"scaled"`
	Raw    float64 `json:"raw"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// XContext places the attempt in its course and names the platform.
type XContext struct {
	Platform          string                 `json:"platform"`
	ContextActivities map[string][]XActivity `json:"contextActivities"`
}

// statement builds the "completed" statement of a graded attempt.
func (s *Service) statement(a *quiz.Attempt, course *Course, mod *CourseModule) Statement {
	base := strings.TrimRight(s.baseURL, "/")
	if base == "" {
		base = "http://localhost" // no base URL configured: still an IRL, as xAPI requires
	}
	st := Statement{
		ID:      uuid.NewSHA1(xapiNamespace, []byte(fmt.Sprintf("%s/attempts/%d", base, a.ID))).String(),
		Actor:   XAgent{ObjectType: "Agent", Account: XAccount{HomePage: base, Name: strconv.FormatUint(uint64(a.UserID), 10)}},
		Verb:    XVerb{ID: VerbCompleted, Display: map[string]string{"en-US": "completed"}},
		Version: "1.0.3",
		Context: XContext{Platform: "PortalKit", ContextActivities: map[string][]XActivity{"parent": {{ObjectType: "Activity",
			ID:         fmt.Sprintf("%s/m/education/courses/%d", base, course.ID),
			Definition: &XDefinition{Type: activityCourse, Name: map[string]string{"en-US": course.Code + " " + course.Title}}}}}},
	}
	if a.GradedAsOf != nil {
		st.Timestamp = a.GradedAsOf.UTC().Format(time.RFC3339Nano)
		st.Result.Duration = isoDuration(a.GradedAsOf.Sub(a.StartedAt))
	}
	scaled := 0.0
	if a.MaxScore > 0 {
		scaled = math.Round(a.Score/a.MaxScore*10000) / 10000
	}
	st.Result.Score = XScore{Scaled: scaled, Raw: a.Score, Min: 0, Max: a.MaxScore}
	st.Result.Completion = true
	if mod != nil {
		st.Object = XActivity{ObjectType: "Activity", ID: fmt.Sprintf("%s/m/education/modules/%d/quiz", base, mod.ID),
			Definition: &XDefinition{Type: activityAssessment, Name: map[string]string{"en-US": mod.Title}}}
		pass := a.MaxScore > 0 && a.Score/a.MaxScore >= mod.PassFraction
		st.Result.Success = &pass
	} else {
		st.Object = XActivity{ObjectType: "Activity", ID: fmt.Sprintf("%s/m/education/courses/%d/practice", base, course.ID),
			Definition: &XDefinition{Type: activityAssessment, Name: map[string]string{"en-US": "Practice: " + course.Title}}}
	}
	return st
}

// isoDuration writes d as an ISO 8601 duration (PT1H2M3.5S).
func isoDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	h := int(d / time.Hour)
	m := int(d % time.Hour / time.Minute)
	sec := float64(d%time.Minute) / float64(time.Second)
	out := "PT"
	if h > 0 {
		out += strconv.Itoa(h) + "H"
	}
	if m > 0 {
		out += strconv.Itoa(m) + "M"
	}
	return out + strconv.FormatFloat(math.Round(sec*100)/100, 'f', -1, 64) + "S"
}

// sendStatement queues the graded attempt's xAPI statement for the
// organisation's endpoints subscribed to education.xapi, in the grading
// transaction (a quiz.Handler): a rolled-back grading sends nothing, and
// the dedupe key sends one statement per attempt.
func (s *Service) sendStatement(ctx context.Context, tx *gorm.DB, g *quiz.Graded) error {
	a := g.Attempt
	kind, idStr, _ := strings.Cut(strings.TrimPrefix(a.QuizKey, ID+"."), ".")
	id, err := strconv.ParseUint(idStr, 10, 64)
	if err != nil {
		return nil
	}
	var mod *CourseModule
	courseID := uint(id)
	switch kind {
	case "module":
		mod = &CourseModule{}
		if err := store.Org(tx, a.OrgID).First(mod, id).Error; err != nil {
			return err
		}
		courseID = mod.CourseID
	case "practice":
	default:
		return nil
	}
	var c Course
	if err := store.Org(tx, a.OrgID).First(&c, courseID).Error; err != nil {
		return err
	}
	raw, err := json.Marshal(s.statement(a, &c, mod))
	if err != nil {
		return err
	}
	var data map[string]any
	if err := json.Unmarshal(raw, &data); err != nil {
		return err
	}
	_, err = s.notify.SendOrgWebhook(ctx, tx, notify.OrgEvent{OrgID: a.OrgID, Kind: KindXAPI, Data: data,
		DedupeKey: fmt.Sprintf("%s:attempt:%d", KindXAPI, a.ID)})
	return err
}
