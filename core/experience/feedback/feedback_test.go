package feedback_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/app"
	"github.com/portalkit/portalkit/core/experience/feedback"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
)

// garage declares two journey steps.
type garage struct{ steps []feedback.Step }

var _ module.Module = (*garage)(nil)

func (*garage) Info() module.Info {
	return module.Info{ID: "garage", Name: "Garage", Version: "1.0.0", Description: "Vehicles."}
}

func (g *garage) Init(h module.Host) error {
	for _, s := range g.steps {
		h.JourneyStep(s)
	}
	return nil
}

var (
	stepBooked  = feedback.Step{ID: "garage.booked", Kind: feedback.CES, Question: "How easy was it to book your service?"}
	stepService = feedback.Step{ID: "garage.serviced", Kind: feedback.NPS, Question: "How likely are you to recommend our workshop?"}
	stepCSAT    = feedback.Step{ID: "garage.collected", Kind: feedback.CSAT, Question: "How satisfied are you with the collection?"}
)

type world struct {
	ta  *portaltest.TestApp
	org uint
	id  map[string]uint
	tok map[string]string
	now time.Time
}

func newWorld(t *testing.T) *world {
	ta := portaltest.New(t, []module.Module{&garage{steps: []feedback.Step{stepBooked, stepService, stepCSAT}}})
	w := &world{ta: ta, id: map[string]uint{}, tok: map[string]string{}, now: time.Date(2030, 6, 3, 9, 0, 0, 0, time.UTC)}
	ta.Feedback.SetClock(func() time.Time { return w.now })
	for _, u := range []struct {
		org, name string
		role      accounts.Role
	}{{"acme", "chiara", accounts.Customer}, {"acme", "carlo", accounts.Customer}, {"acme", "sam", accounts.Staff},
		{"acme", "ada", accounts.Admin}, {"other", "olga", accounts.Customer}} {
		email := u.name + "@" + u.org + ".example"
		w.id[u.name] = ta.User(t, u.org, email, u.role).ID
		w.tok[u.name] = ta.Login(t, u.org, email)
	}
	w.org = ta.Org(t, "acme").ID
	if err := ta.Accounts.Assign(context.Background(), ta.Principal(t, w.tok["ada"]), w.id["sam"], w.id["chiara"], "advisor"); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) ask(t *testing.T, who, step, ref string) bool {
	t.Helper()
	var created bool
	err := w.ta.Store.Tx(context.Background(), func(tx *gorm.DB) error {
		var err error
		created, err = w.ta.Feedback.AskAt(context.Background(), tx, w.org, w.id[who], step, ref)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return created
}

func (w *world) pending(t *testing.T, who string) *feedback.Prompt {
	t.Helper()
	p, err := w.ta.Feedback.Pending(context.Background(), w.org, w.id[who])
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (w *world) answer(t *testing.T, who string, id uint, score int) {
	t.Helper()
	if _, err := w.ta.Feedback.Answer(context.Background(), w.ta.Principal(t, w.tok[who]), id, score); err != nil {
		t.Fatalf("answer %d with %d: %v", id, score, err)
	}
}

// answerAll asks who one journey per score of step and answers each.
func (w *world) answerAll(t *testing.T, who, step string, scores ...int) {
	t.Helper()
	for i, sc := range scores {
		ref := fmt.Sprintf("fixture:%s:%d", step, i)
		w.ask(t, who, step, ref)
		var p feedback.Prompt
		if err := store.Org(w.ta.Store.DB, w.org).Where("customer_id = ? AND step_id = ? AND subject_ref = ?", w.id[who], step, ref).Take(&p).Error; err != nil {
			t.Fatal(err)
		}
		w.answer(t, who, p.ID, sc)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestFormulasOnHandComputedFixtures: the figures of DESIGN §6, computed
// by hand, both in Go and through the database.
func TestFormulasOnHandComputedFixtures(t *testing.T) {
	// NPS {10,9,8,7,6,0}: 2 promoters (33.3%), 2 detractors (33.3%) → 0.
	nps := feedback.Tally(feedback.NPS, 10, 9, 8, 7, 6, 0).Compute()
	if !near(nps.Value, 0) || !near(nps.Promoters, 100.0/3) || !near(nps.Detractors, 100.0/3) || !near(nps.Passives, 100.0/3) {
		t.Errorf("NPS = %+v, want 0 with a third each", nps)
	}
	// NPS {10,10,10,3} = 75 − 25 = 50.
	if f := feedback.Tally(feedback.NPS, 10, 10, 10, 3).Compute(); !near(f.Value, 50) {
		t.Errorf("NPS {10,10,10,3} = %v, want 50", f.Value)
	}
	// CSAT {5,4,3,1}: 2 of 4 are 4–5 → 50%.
	if f := feedback.Tally(feedback.CSAT, 5, 4, 3, 1).Compute(); !near(f.Value, 50) {
		t.Errorf("CSAT = %v, want 50", f.Value)
	}
	// CES {7,5,3,1}: mean 16/4 = 4; 5–7 share 50%.
	if f := feedback.Tally(feedback.CES, 7, 5, 3, 1).Compute(); !near(f.Value, 4) || !near(f.HighShare, 50) {
		t.Errorf("CES = %+v, want mean 4, high share 50", f)
	}
	if f := feedback.Tally(feedback.Reaction, 3, 3, 1, 2).Compute(); !near(f.Value, 50) {
		t.Errorf("reactions = %v, want 50", f.Value)
	}
	if f := feedback.Tally(feedback.NPS).Compute(); f.Value != 0 || f.Responses != 0 {
		t.Errorf("empty NPS = %+v", f)
	}

	w := newWorld(t)
	w.answerAll(t, "chiara", stepService.ID, 10, 9, 8, 7, 6, 0)
	w.answerAll(t, "chiara", stepCSAT.ID, 5, 4, 3, 1)
	w.answerAll(t, "chiara", stepBooked.ID, 7, 5, 3, 1)
	res := w.ta.Do(t, http.MethodGet, "/api/v1/feedback/analytics", nil, portaltest.Bearer(w.tok["ada"]))
	if res.Status != 200 {
		t.Fatalf("analytics: %d %s", res.Status, res.Body)
	}
	var rep feedback.Report
	res.JSON(t, &rep)
	got := map[feedback.Kind]feedback.Figure{}
	for _, f := range rep.Overall {
		got[f.Kind] = f
	}
	if f := got[feedback.NPS]; !near(f.Value, 0) || f.Responses != 6 {
		t.Errorf("database NPS = %+v", f)
	}
	if f := got[feedback.CSAT]; !near(f.Value, 50) || f.Responses != 4 {
		t.Errorf("database CSAT = %+v", f)
	}
	if f := got[feedback.CES]; !near(f.Value, 4) || f.Responses != 4 {
		t.Errorf("database CES = %+v", f)
	}
	if rep.Total != 14 || len(rep.ByModule) != 1 || rep.ByModule[0].Key != "garage" || len(rep.ByStep) != 3 || len(rep.ByWeek) != 1 || rep.ByWeek[0].Key != "2030-06-03" {
		t.Errorf("groups: total %d, modules %+v, steps %d, weeks %+v", rep.Total, rep.ByModule, len(rep.ByStep), rep.ByWeek)
	}
	// Filters.
	w.ta.Do(t, http.MethodGet, "/api/v1/feedback/analytics?step=garage.collected", nil, portaltest.Bearer(w.tok["ada"])).JSON(t, &rep)
	if rep.Total != 4 || len(rep.Overall) != 1 || rep.Overall[0].Kind != feedback.CSAT {
		t.Errorf("step filter: %+v", rep)
	}
	w.ta.Do(t, http.MethodGet, "/api/v1/feedback/analytics?from=2030-06-04", nil, portaltest.Bearer(w.tok["ada"])).JSON(t, &rep)
	if rep.Total != 0 {
		t.Errorf("date filter: %d answers after the day they were given", rep.Total)
	}
	if r := w.ta.Do(t, http.MethodGet, "/api/v1/feedback/analytics?from=2030-06-10&to=2030-06-01", nil, portaltest.Bearer(w.tok["ada"])); r.Status != 422 {
		t.Errorf("inverted dates: %d", r.Status)
	}
	if r := w.ta.Do(t, http.MethodGet, "/api/v1/feedback/analytics", nil, portaltest.Bearer(w.tok["chiara"])); r.Status != 403 {
		t.Errorf("a customer read the analytics: %d", r.Status)
	}
	// Out of scale.
	w.ask(t, "chiara", stepCSAT.ID, "out-of-scale")
	var p feedback.Prompt
	store.Org(w.ta.Store.DB, w.org).Where("subject_ref = ?", "out-of-scale").Take(&p)
	r := w.ta.Do(t, http.MethodPost, fmt.Sprintf("/api/v1/feedback/%d/answer", p.ID), map[string]any{"score": 6}, portaltest.Bearer(w.tok["chiara"]))
	if r.Status != 422 || !strings.Contains(r.Body, "between 1 and 5") {
		t.Errorf("CSAT 6: %d %s", r.Status, r.Body)
	}
	if r := w.ta.Do(t, http.MethodPost, fmt.Sprintf("/api/v1/feedback/%d/answer", p.ID), map[string]any{"score": 5}, portaltest.Bearer(w.tok["carlo"])); r.Status != 404 {
		t.Errorf("another customer answered: %d", r.Status)
	}
	w.answer(t, "chiara", p.ID, 5)
	if r := w.ta.Do(t, http.MethodPost, fmt.Sprintf("/api/v1/feedback/%d/answer", p.ID), map[string]any{"score": 1}, portaltest.Bearer(w.tok["chiara"])); r.Status != 409 {
		t.Errorf("second answer: %d", r.Status)
	}
}

// TestOncePerJourneyThrottleAndExpiry.
func TestOncePerJourneyThrottleAndExpiry(t *testing.T) {
	w := newWorld(t)
	if !w.ask(t, "chiara", stepBooked.ID, "booking:1") || w.ask(t, "chiara", stepBooked.ID, "booking:1") {
		t.Fatal("the same journey was asked twice (or not at all)")
	}
	first := w.pending(t, "chiara")
	if first == nil || first.SubjectRef != "booking:1" {
		t.Fatalf("pending = %+v", first)
	}
	// Shown again on the next load, until answered.
	if again := w.pending(t, "chiara"); again == nil || again.ID != first.ID {
		t.Fatalf("second load shows %+v", again)
	}
	w.answer(t, "chiara", first.ID, 6)
	// Two more journeys within the throttle: they wait.
	w.now = w.now.Add(time.Hour)
	w.ask(t, "chiara", stepService.ID, "service:1")
	w.now = w.now.Add(time.Hour)
	w.ask(t, "chiara", stepService.ID, "service:2")
	if p := w.pending(t, "chiara"); p != nil {
		t.Fatalf("a second prompt within the throttle: %+v", p)
	}
	// After the throttle the newest waiting one is shown.
	w.now = w.now.Add(w.ta.Config.Feedback.Throttle)
	p := w.pending(t, "chiara")
	if p == nil || p.SubjectRef != "service:2" {
		t.Fatalf("after the throttle: %+v, want service:2", p)
	}
	if err := w.ta.Feedback.Dismiss(context.Background(), w.ta.Principal(t, w.tok["chiara"]), p.ID); err != nil {
		t.Fatal(err)
	}
	// service:1 waits for the next throttle window, then expires unanswered.
	w.now = w.now.Add(w.ta.Config.Feedback.AskTTL)
	if p := w.pending(t, "chiara"); p != nil {
		t.Fatalf("an expired ask was shown: %+v", p)
	}
	n, err := w.ta.Feedback.Expire(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("expire = %d, %v; want 1 (service:1)", n, err)
	}
	var st string
	store.Org(w.ta.Store.DB, w.org).Model(&feedback.Prompt{}).Where("subject_ref = ?", "service:1").Pluck("status", &st)
	if st != feedback.StatusExpired {
		t.Fatalf("service:1 is %q", st)
	}
	// Carlo is unaffected by Chiara's throttle.
	w.ask(t, "carlo", stepBooked.ID, "booking:9")
	if p := w.pending(t, "carlo"); p == nil {
		t.Fatal("carlo's prompt was throttled by chiara's")
	}
	// Undeclared steps are refused.
	err = w.ta.Store.Tx(context.Background(), func(tx *gorm.DB) error {
		_, err := feedback.Ask(context.Background(), tx, w.org, w.id["chiara"], "garage.nope", "x")
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "garage.nope") {
		t.Fatalf("undeclared step: %v", err)
	}
}

// TestConcurrentLoadsShowOnePrompt: 8 page loads at once, three waiting
// asks: every load shows the same single prompt.
func TestConcurrentLoadsShowOnePrompt(t *testing.T) {
	w := newWorld(t)
	for i := 1; i <= 3; i++ {
		w.now = w.now.Add(time.Minute)
		w.ask(t, "chiara", stepBooked.ID, fmt.Sprintf("booking:%d", i))
	}
	const loads = 8
	ids := make([]uint, loads)
	errs := make([]error, loads)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < loads; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			p, err := w.ta.Feedback.Pending(context.Background(), w.org, w.id["chiara"])
			errs[i] = err
			if p != nil {
				ids[i] = p.ID
			}
		}(i)
	}
	close(start)
	wg.Wait()
	for i := range ids {
		if errs[i] != nil {
			t.Fatalf("load %d: %v", i, errs[i])
		}
		if ids[i] == 0 || ids[i] != ids[0] {
			t.Fatalf("loads showed different prompts: %v", ids)
		}
	}
	var shown int64
	store.Org(w.ta.Store.DB, w.org).Model(&feedback.Prompt{}).Where("customer_id = ? AND shown_at IS NOT NULL", w.id["chiara"]).Count(&shown)
	if shown != 1 {
		t.Fatalf("%d prompts marked shown, want 1", shown)
	}
}

// TestCSVExport: BOM, quoting, the formula guard and staff scoping.
func TestCSVExport(t *testing.T) {
	w := newWorld(t)
	w.answerAll(t, "chiara", stepCSAT.ID, 5)
	w.answerAll(t, "carlo", stepCSAT.ID, 2)
	var p feedback.Prompt
	store.Org(w.ta.Store.DB, w.org).Where("customer_id = ?", w.id["chiara"]).Take(&p)
	tricky := "=HYPERLINK(\"http://evil\"), \"quoted\"\nsecond line; è"
	if _, err := w.ta.Feedback.Comment(context.Background(), w.ta.Principal(t, w.tok["chiara"]), p.ID, tricky); err != nil {
		t.Fatal(err)
	}
	read := func(who string) [][]string {
		t.Helper()
		b := w.ta.Browser()
		b.SignIn(t, "acme", who+"@acme.example")
		res := b.Get(t, "/staff/feedback.csv")
		if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("csv as %s: %d %s", who, res.Status, res.Header.Get("Content-Type"))
		}
		if !strings.HasPrefix(res.Body, "\ufeff") {
			t.Fatal("no byte-order mark")
		}
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.Body, "\ufeff"))).ReadAll()
		if err != nil {
			t.Fatalf("not valid CSV: %v\n%s", err, res.Body)
		}
		return recs
	}
	admin := read("ada")
	if len(admin) != 3 || strings.Join(admin[0], ",") != strings.Join(feedback.CSVHeader, ",") {
		t.Fatalf("admin export: %v", admin)
	}
	var comment string
	for _, r := range admin[1:] {
		if r[9] == "chiara" {
			comment = r[6]
		}
	}
	if comment != "'"+tricky {
		t.Errorf("comment cell = %q, want the text with a leading '", comment)
	}
	staff := read("sam")
	if len(staff) != 2 || staff[1][9] != "chiara" {
		t.Errorf("staff export shows %v, want only chiara", staff)
	}
	var rep feedback.Report
	w.ta.Do(t, http.MethodGet, "/api/v1/feedback/analytics", nil, portaltest.Bearer(w.tok["sam"])).JSON(t, &rep)
	if rep.Total != 1 {
		t.Errorf("staff analytics count %d answers, want 1 (their customer's)", rep.Total)
	}
	var buf bytes.Buffer
	if _, err := w.ta.Feedback.WriteCSV(context.Background(), &buf, w.ta.Principal(t, w.tok["chiara"]), feedback.Filter{}); err == nil {
		t.Error("a customer exported answers")
	}
}

// TestSurveyInThePortal: the dashboard shows the prompt inline; the score
// is stored at once; the comment step uses a draft that another browser
// resumes and the submit clears.
func TestSurveyInThePortal(t *testing.T) {
	w := newWorld(t)
	w.ask(t, "chiara", stepCSAT.ID, "collection:7")
	b := w.ta.Browser()
	b.SignIn(t, "acme", "chiara@acme.example")
	page := b.Get(t, "/")
	if page.Status != 200 || !strings.Contains(page.Body, `id="feedback-prompt"`) || !strings.Contains(page.Body, "How satisfied are you with the collection?") {
		t.Fatalf("dashboard without the prompt: %d", page.Status)
	}
	p := w.pending(t, "chiara")
	res := b.Post(t, fmt.Sprintf("/feedback/%d/answer", p.ID), url.Values{"score": {"4"}, "next": {"/"}})
	if res.Status != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), fmt.Sprintf("/feedback/%d/comment", p.ID)) {
		t.Fatalf("answer: %d %s", res.Status, res.Header.Get("Location"))
	}
	var saved feedback.Prompt
	store.Org(w.ta.Store.DB, w.org).Take(&saved, p.ID)
	if saved.Status != feedback.StatusAnswered || saved.Score == nil || *saved.Score != 4 {
		t.Fatalf("score not stored at once: %+v", saved)
	}
	key := feedback.CommentDraftKey(p.ID)
	page = b.Get(t, res.Header.Get("Location"))
	if !strings.Contains(page.Body, `data-draft="`+key+`"`) || !strings.Contains(page.Body, `data-draft-saved="0"`) {
		t.Fatalf("comment step has no draft form")
	}
	// The phone saves a draft; the laptop's comment page then offers it.
	phone := w.ta.CookieAuth(t, "acme", "chiara@acme.example", accounts.Customer)
	if r := w.ta.Do(t, http.MethodPut, "/api/v1/drafts/"+key, map[string]any{"data": map[string]any{"comment": "Great sta"}}, phone); r.Status != 200 {
		t.Fatalf("draft: %d %s", r.Status, r.Body)
	}
	page = b.Get(t, res.Header.Get("Location"))
	if !strings.Contains(page.Body, `data-draft-saved="1"`) {
		t.Fatal("the comment page does not offer the phone's draft")
	}
	res = b.Post(t, fmt.Sprintf("/feedback/%d/comment", p.ID), url.Values{"comment": {"Great staff"}, "next": {"/"}})
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("comment: %d %s", res.Status, res.Header.Get("Location"))
	}
	if r := w.ta.Do(t, http.MethodGet, "/api/v1/drafts/"+key, nil, phone); r.Status != 404 {
		t.Fatalf("the draft survived the submit: %d", r.Status)
	}
	store.Org(w.ta.Store.DB, w.org).Take(&saved, p.ID)
	if saved.Comment != "Great staff" {
		t.Fatalf("comment = %q", saved.Comment)
	}
	if page := b.Get(t, "/"); strings.Contains(page.Body, `id="feedback-prompt"`) {
		t.Fatal("the answered prompt is still shown")
	}
	// Redirects stay on the portal.
	w.ask(t, "carlo", stepCSAT.ID, "collection:8")
	cb := w.ta.Browser()
	cb.SignIn(t, "acme", "carlo@acme.example")
	cb.Get(t, "/")
	cp := w.pending(t, "carlo")
	res = cb.Post(t, fmt.Sprintf("/feedback/%d/dismiss", cp.ID), url.Values{"next": {"//evil.example/"}})
	if res.Header.Get("Location") != "/" {
		t.Fatalf("open redirect: %s", res.Header.Get("Location"))
	}
	// The answer is on the timeline, and the staff analytics page renders
	// with its charts.
	tl := w.ta.Do(t, http.MethodGet, fmt.Sprintf("/api/v1/customers/%d/timeline?event=feedback.answered", w.id["chiara"]), nil, portaltest.Bearer(w.tok["sam"]))
	if !strings.Contains(tl.Body, "Rated their satisfaction 4 of 5") {
		t.Errorf("timeline: %s", tl.Body)
	}
	sb := w.ta.Browser()
	sb.SignIn(t, "acme", "sam@acme.example")
	ap := sb.Get(t, "/staff/feedback")
	if ap.Status != 200 || !strings.Contains(ap.Body, "<svg") || !strings.Contains(ap.Body, "100%") {
		t.Errorf("analytics page: %d", ap.Status)
	}
	if r := sb.Get(t, "/staff/feedback?from=bad"); r.Status != 422 {
		t.Errorf("bad filter page: %d", r.Status)
	}
}

// TestHelpVotesCountAsReactions and the demo's pending survey.
func TestHelpVotesCountAsReactionsAndDemo(t *testing.T) {
	w := newWorld(t)
	w.ta.Demo(t)
	demo := w.ta.Org(t, "demo")
	cust := w.ta.User(t, "demo", "customer@demo.example", accounts.Customer)
	p, err := w.ta.Feedback.Pending(context.Background(), demo.ID, cust.ID)
	if err != nil || p == nil || p.StepID != feedback.CoreStep.ID {
		t.Fatalf("demo customer's pending survey: %+v, %v", p, err)
	}
	tok := w.ta.Login(t, "demo", "customer@demo.example")
	res := w.ta.Do(t, http.MethodGet, "/api/v1/help/articles", nil, portaltest.Bearer(tok))
	var list struct {
		Articles []struct {
			ID uint `json:"id"`
		} `json:"articles"`
	}
	res.JSON(t, &list)
	if len(list.Articles) == 0 {
		t.Fatalf("no help articles in the demo: %s", res.Body)
	}
	for _, helpful := range []bool{false, true} { // voting again replaces the reaction
		r := w.ta.Do(t, http.MethodPost, fmt.Sprintf("/api/v1/help/articles/%d/vote", list.Articles[0].ID), map[string]any{"helpful": helpful}, portaltest.Bearer(tok))
		if r.Status != 200 {
			t.Fatalf("vote: %d %s", r.Status, r.Body)
		}
	}
	var rows []feedback.Prompt
	store.Org(w.ta.Store.DB, demo.ID).Where("step_id = ?", feedback.HelpStep.ID).Find(&rows)
	if len(rows) != 1 || rows[0].Kind != feedback.Reaction || *rows[0].Score != 3 || rows[0].CustomerID != cust.ID {
		t.Fatalf("help reactions: %+v", rows)
	}
}

// badStep declares a malformed step.
type badStep struct{}

func (badStep) Info() module.Info {
	return module.Info{ID: "clinic", Name: "Clinic", Version: "1.0.0", Description: "x"}
}
func (badStep) Init(h module.Host) error {
	h.JourneyStep(feedback.Step{ID: "garage.stolen", Kind: feedback.NPS, Question: "?"})
	return nil
}

type badKind struct{}

func (badKind) Info() module.Info {
	return module.Info{ID: "school", Name: "School", Version: "1.0.0", Description: "x"}
}
func (badKind) Init(h module.Host) error {
	h.JourneyStep(feedback.Step{ID: "school.exam", Kind: "stars", Question: "How was it?"})
	return nil
}

// TestBadStepStopsStartUp names the module.
func TestBadStepStopsStartUp(t *testing.T) {
	for _, c := range []struct {
		m    module.Module
		want []string
	}{{badStep{}, []string{"module clinic", "clinic.<name>"}}, {badKind{}, []string{"module school", "stars"}}} {
		cfg := portaltest.Config(t)
		a, err := app.New(context.Background(), app.Options{Config: cfg, Modules: []module.Module{c.m}, Argon2: &portaltest.TestArgon2})
		if err == nil {
			a.Close()
			t.Fatalf("%s started with a bad step", c.m.Info().ID)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q lacks %q", err, w)
			}
		}
	}
}
