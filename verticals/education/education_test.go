package education_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/verticals/education"
)

var fixedNow = time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC)

func newApp(t *testing.T) (*portaltest.TestApp, *education.Module) {
	t.Helper()
	m := &education.Module{Now: func() time.Time { return fixedNow }}
	return portaltest.New(t, []module.Module{m}), m
}

func TestEducationAuthorizationMatrix(t *testing.T) {
	ta, _ := newApp(t)
	portaltest.AuthorizationMatrix(t, ta)
}

// school is an organisation with a course: two topics of six true/false
// items each, one module whose quiz draws all twelve, a lesson per topic.
type school struct {
	ta        *portaltest.TestApp
	admin     map[string]string
	course    uint
	module    uint
	topics    map[string]uint // key → ID
	lessons   map[string]uint // topic key → lesson ID
	professor map[string]string
}

func do(t *testing.T, ta *portaltest.TestApp, method, url string, body any, h map[string]string, want int) *portaltest.Response {
	t.Helper()
	res := ta.Do(t, method, url, body, h)
	if res.Status != want {
		t.Fatalf("%s %s: %d %s (want %d)", method, url, res.Status, res.Body, want)
	}
	return res
}

func newSchool(t *testing.T, ta *portaltest.TestApp) *school {
	t.Helper()
	s := &school{ta: ta, admin: ta.As(t, "uni", "registrar@uni.example", accounts.Admin), topics: map[string]uint{}, lessons: map[string]uint{}}
	s.professor = ta.As(t, "uni", "prof@uni.example", accounts.Staff)
	prof := ta.User(t, "uni", "prof@uni.example", accounts.Staff)
	var c education.Course
	do(t, ta, "POST", "/api/v1/education/courses", map[string]any{"code": "CS101", "title": "Programming", "term": "2026 autumn", "professors": []uint{prof.ID}}, s.admin, 201).JSON(t, &c)
	s.course = c.ID
	base := fmt.Sprintf("/api/v1/education/courses/%d", c.ID)
	for key, name := range map[string]string{"loops": "Loops", "recursion": "Recursion"} {
		var tp education.Topic
		do(t, ta, "POST", base+"/topics", map[string]any{"key": key, "name": name}, s.professor, 201).JSON(t, &tp)
		s.topics[key] = tp.ID
	}
	var m education.CourseModule
	do(t, ta, "POST", base+"/modules", map[string]any{"title": "Functions", "quiz_items": 12, "quiz_attempts": 2}, s.professor, 201).JSON(t, &m)
	s.module = m.ID
	for _, key := range []string{"loops", "recursion"} {
		var l education.Lesson
		do(t, ta, "POST", fmt.Sprintf("/api/v1/education/modules/%d/lessons", m.ID),
			map[string]any{"title": "About " + key, "body": "# " + key + "\n\n<script>alert(1)</script>\n\nRead [this](https://example.org).", "topics": []string{key}}, s.professor, 201).JSON(t, &l)
		s.lessons[key] = l.ID
		for i := range 6 {
			do(t, ta, "POST", base+"/items", map[string]any{"external_id": fmt.Sprintf("%s-%d", key, i), "topics": []string{key},
				"item": map[string]any{"kind": "truefalse", "prompt": fmt.Sprintf("%s statement %d", key, i),
					"options": []map[string]any{{"id": "true", "text": "True", "correct": true}, {"id": "false", "text": "False"}}}}, s.professor, 201)
		}
	}
	return s
}

func (s *school) student(t *testing.T, email string) (map[string]string, uint) {
	t.Helper()
	h := s.ta.As(t, "uni", email, accounts.Customer)
	id := s.ta.User(t, "uni", email, accounts.Customer).ID
	do(t, s.ta, "POST", fmt.Sprintf("/api/v1/education/courses/%d/enrolments", s.course),
		map[string]any{"students": []map[string]any{{"email": email, "external_id": "sis-" + email}}}, s.admin, 200)
	return h, id
}

// TestQuizToSuggestion: a student answers every Loops item right and every
// Recursion item wrong; mastery follows the hand-computed sequences, and
// the one suggestion names Recursion, the question numbers missed and the
// Recursion lesson. Another student and a professor of another course see
// none of it; the course's professor does.
func TestQuizToSuggestion(t *testing.T) {
	ta, _ := newApp(t)
	s := newSchool(t, ta)
	ada, adaID := s.student(t, "ada@uni.example")

	// Continue where you left off: the lesson opened last.
	do(t, ta, "GET", fmt.Sprintf("/api/v1/education/lessons/%d", s.lessons["recursion"]), nil, ada, 200)
	var detail struct {
		Progress education.CourseProgress `json:"progress"`
	}
	do(t, ta, "GET", fmt.Sprintf("/api/v1/education/courses/%d", s.course), nil, ada, 200).JSON(t, &detail)
	if detail.Progress.Continue == nil || detail.Progress.Continue.ID != s.lessons["recursion"] || detail.Progress.Lessons != 2 {
		t.Fatalf("progress: %+v", detail.Progress)
	}
	var lesson struct {
		HTML string `json:"html"`
	}
	do(t, ta, "GET", fmt.Sprintf("/api/v1/education/lessons/%d", s.lessons["loops"]), nil, ada, 200).JSON(t, &lesson)
	if strings.Contains(lesson.HTML, "<script") || !strings.Contains(lesson.HTML, `href="https://example.org" rel="nofollow noreferrer noopener" target="_blank"`) {
		t.Fatalf("lesson HTML not sanitised as the help centre does: %s", lesson.HTML)
	}
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/lessons/%d/complete", s.lessons["loops"]), nil, ada, 204)

	var att education.AttemptView
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/modules/%d/attempts", s.module), nil, ada, 200).JSON(t, &att)
	if len(att.Questions) != 12 || strings.Contains(fmt.Sprint(att), "correct") {
		t.Fatalf("attempt: %d questions", len(att.Questions))
	}
	answers := map[string][]string{}
	var missed []int
	rec := strconv.FormatUint(uint64(s.topics["recursion"]), 10)
	for _, q := range att.Questions {
		if slices.Contains(q.Topics, rec) {
			answers[q.ID] = []string{"false"}
			missed = append(missed, q.Number)
		} else {
			answers[q.ID] = []string{"true"}
		}
	}
	var graded education.AttemptView
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/attempts/%d/submit", att.ID), map[string]any{"answers": answers}, ada, 200).JSON(t, &graded)
	if graded.Status != "graded" || graded.Score != 6 || graded.MaxScore != 12 || len(graded.Results) != 12 {
		t.Fatalf("graded: %s %v/%v", graded.Status, graded.Score, graded.MaxScore)
	}

	var mastery struct {
		Topics      []education.TopicMastery `json:"topics"`
		Suggestions []education.Suggestion   `json:"suggestions"`
	}
	do(t, ta, "GET", fmt.Sprintf("/api/v1/education/courses/%d/mastery", s.course), nil, ada, 200).JSON(t, &mastery)
	by := map[string]education.TopicMastery{}
	for _, m := range mastery.Topics {
		by[m.Topic.Key] = m
	}
	// Six wrong: 0.1714 (TestBKTHandComputed's "00000" and one more); six right: 0.9999.
	if r := by["recursion"]; r.Responses != 6 || r.Correct != 0 || r.Verdict != education.VerdictWeak || r.PKnown < 0.1713 || r.PKnown > 0.1715 {
		t.Fatalf("recursion: %+v", r)
	}
	if l := by["loops"]; l.Responses != 6 || l.Verdict != education.VerdictMastered || l.PKnown < 0.9998 {
		t.Fatalf("loops: %+v", l)
	}
	if len(mastery.Suggestions) != 1 {
		t.Fatalf("suggestions: %+v", mastery.Suggestions)
	}
	sg := mastery.Suggestions[0]
	if sg.Mastery.Topic.Key != "recursion" || !slices.Equal(sg.Missed, missed) || sg.AttemptID != att.ID || sg.Lesson == nil || sg.Lesson.ID != s.lessons["recursion"] {
		t.Fatalf("suggestion: %+v, want Recursion, questions %v, lesson %d", sg, missed, s.lessons["recursion"])
	}

	// The grade is notified, and the dashboard widget shows the course with the suggestion.
	if inbox := do(t, ta, "GET", "/api/v1/notifications", nil, ada, 200); !strings.Contains(inbox.Body, "education.quiz_graded") {
		t.Fatalf("no quiz-graded notification: %s", inbox.Body)
	}
	if dash := do(t, ta, "GET", "/api/v1/dashboard", nil, ada, 200); !strings.Contains(dash.Body, "education.courses") || !strings.Contains(dash.Body, `"key":"recursion"`) {
		t.Fatalf("dashboard: %s", dash.Body)
	}
	// The page says why, in both languages.
	b := ta.Browser()
	b.SignIn(t, "uni", "ada@uni.example")
	page := b.Get(t, fmt.Sprintf("/m/education/courses/%d", s.course))
	want := fmt.Sprintf("You missed questions %s on Recursion.", numbers(missed, "and"))
	if page.Status != 200 || !strings.Contains(page.Body, want) {
		t.Fatalf("course page: %d, want %q in\n%s", page.Status, want, page.Body)
	}
	org := ta.Org(t, "uni")
	if err := store.Org(ta.Store.DB, org.ID).Model(&accounts.User{}).Where("id = ?", adaID).Update("locale", "it").Error; err != nil {
		t.Fatal(err)
	}
	b = ta.Browser()
	b.SignIn(t, "uni", "ada@uni.example")
	page = b.Get(t, fmt.Sprintf("/m/education/courses/%d", s.course))
	want = fmt.Sprintf("Hai sbagliato le domande %s su Recursion.", numbers(missed, "e"))
	if !strings.Contains(page.Body, want) {
		t.Fatalf("Italian course page lacks %q", want)
	}

	// Scoping.
	eve, _ := s.student(t, "eve@uni.example")
	do(t, ta, "GET", fmt.Sprintf("/api/v1/education/attempts/%d", att.ID), nil, eve, 404)
	otherProf := ta.As(t, "uni", "other-prof@uni.example", accounts.Staff)
	other := ta.User(t, "uni", "other-prof@uni.example", accounts.Staff)
	do(t, ta, "POST", "/api/v1/education/courses", map[string]any{"code": "HIS1", "title": "History", "term": "2026", "professors": []uint{other.ID}}, s.admin, 201)
	do(t, ta, "GET", fmt.Sprintf("/api/v1/education/courses/%d/students/%d/mastery", s.course, adaID), nil, otherProf, 404)
	do(t, ta, "GET", fmt.Sprintf("/api/v1/education/attempts/%d", att.ID), nil, otherProf, 404)
	do(t, ta, "GET", fmt.Sprintf("/api/v1/education/courses/%d/students/%d/mastery", s.course, adaID), nil, s.professor, 200)
	do(t, ta, "GET", fmt.Sprintf("/api/v1/education/attempts/%d", att.ID), nil, s.professor, 200)
	// The professor sees the class by topic and the item analysis.
	var class struct {
		Topics []education.ClassTopic `json:"topics"`
	}
	do(t, ta, "GET", fmt.Sprintf("/api/v1/education/courses/%d/class", s.course), nil, s.professor, 200).JSON(t, &class)
	for _, ct := range class.Topics {
		if ct.Topic.Key == "recursion" && (ct.Weak != 1 || ct.NoData != 1) || ct.Topic.Key == "loops" && ct.Mastered != 1 {
			t.Fatalf("class mastery: %+v", class.Topics)
		}
	}
	var analysis struct {
		Items []education.ItemStats `json:"items"`
	}
	do(t, ta, "GET", fmt.Sprintf("/api/v1/education/modules/%d/analysis", s.module), nil, s.professor, 200).JSON(t, &analysis)
	if len(analysis.Items) != 12 || analysis.Items[0].N != 1 || analysis.Items[0].Prompt == "" {
		t.Fatalf("analysis: %+v", analysis.Items)
	}
	pb := ta.Browser()
	pb.SignIn(t, "uni", "prof@uni.example")
	if page := pb.Get(t, fmt.Sprintf("/m/education/courses/%d", s.course)); page.Status != 200 || !strings.Contains(page.Body, "Class mastery by topic") {
		t.Fatalf("professor's course page: %d", page.Status)
	}
	if page := pb.Get(t, fmt.Sprintf("/m/education/modules/%d/analysis", s.module)); page.Status != 200 || !strings.Contains(page.Body, "recursion statement") {
		t.Fatalf("analysis page: %d", page.Status)
	}
	// The grade went live (codes, never answers) to whoever may read Ada's
	// work in the course: Ada, the course's professor and the registrar —
	// never to Eve or the professor of another course.
	var live []struct {
		UserID uint
		Data   string
	}
	if err := store.AllOrgs(ta.Store.DB).Table("live_events").Select("user_id, data").Where("type = ?", "module").Scan(&live).Error; err != nil {
		t.Fatal(err)
	}
	got := map[uint]int{}
	for _, e := range live {
		if strings.Contains(e.Data, `"name":"education.graded"`) && strings.Contains(e.Data, fmt.Sprintf(`"subject":"course:%d"`, s.course)) {
			got[e.UserID]++
		}
	}
	profID := ta.User(t, "uni", "prof@uni.example", accounts.Staff).ID
	registrarID := ta.User(t, "uni", "registrar@uni.example", accounts.Admin).ID
	if got[adaID] != 1 || got[profID] != 1 || got[registrarID] != 1 || len(got) != 3 {
		t.Fatalf("graded events per person %v; want one each for Ada %d, the professor %d and the registrar %d only", got, adaID, profID, registrarID)
	}
	// Staff read attempts but never answer them.
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/attempts/%d/submit", att.ID), map[string]any{"answers": answers}, s.professor, 403)
}

func numbers(ns []int, and string) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " " + and + " " + parts[len(parts)-1]
}

// TestEnrolmentBatchIsIdempotentAndAllOrNothing: the same integrator batch
// sent twice enrols once; a batch with one bad line enrols nobody and names
// the line.
func TestEnrolmentBatchIsIdempotentAndAllOrNothing(t *testing.T) {
	ta, _ := newApp(t)
	s := newSchool(t, ta)
	for _, e := range []string{"a@uni.example", "b@uni.example", "c@uni.example"} {
		ta.User(t, "uni", e, accounts.Customer)
	}
	url := fmt.Sprintf("/api/v1/education/courses/%d/enrolments", s.course)
	batch := map[string]any{"students": []map[string]any{{"email": "a@uni.example", "external_id": "S1"}, {"email": "B@uni.example", "external_id": "S2"}}}
	var r education.EnrolResult
	do(t, ta, "POST", url, batch, s.admin, 200).JSON(t, &r)
	if r.Enrolled != 2 || r.Unchanged != 0 {
		t.Fatalf("first batch: %+v", r)
	}
	do(t, ta, "POST", url, batch, s.admin, 200).JSON(t, &r)
	if r.Enrolled != 0 || r.Unchanged != 2 {
		t.Fatalf("same batch again: %+v", r)
	}
	bad := map[string]any{"students": []map[string]any{{"email": "c@uni.example"}, {"email": "nobody@uni.example"}}}
	res := do(t, ta, "POST", url, bad, s.admin, 422)
	if !strings.Contains(res.Body, "students[1]") {
		t.Fatalf("the bad line is not named: %s", res.Body)
	}
	reused := map[string]any{"students": []map[string]any{{"email": "c@uni.example", "external_id": "S1"}}}
	do(t, ta, "POST", url, reused, s.admin, 422)
	var roster struct {
		Students []education.Student `json:"students"`
	}
	do(t, ta, "GET", fmt.Sprintf("/api/v1/education/courses/%d/students", s.course), nil, s.professor, 200).JSON(t, &roster)
	if len(roster.Students) != 2 {
		t.Fatalf("roster after a refused batch: %+v", roster.Students)
	}
	// A student cannot enrol anyone, nor read the roster.
	h, _ := s.student(t, "c@uni.example")
	do(t, ta, "POST", url, batch, h, 403)
	do(t, ta, "GET", fmt.Sprintf("/api/v1/education/courses/%d/students", s.course), nil, h, 403)
}

// TestDemoCourseShowsMeaningfulValues: the demo course has three modules,
// 42 items over six topics and 30 students whose answers give item
// analysis, mastery and suggestions something to show; running the demo
// twice changes nothing.
func TestDemoCourseShowsMeaningfulValues(t *testing.T) {
	ta, m := newApp(t)
	ta.Demo(t)
	ta.Demo(t)
	org := ta.Org(t, "demo")
	ctx := t.Context()
	svc := m.Service()
	var courses []education.Course
	if err := store.Org(ta.Store.DB, org.ID).Find(&courses).Error; err != nil || len(courses) != 1 {
		t.Fatalf("courses: %v %d", err, len(courses))
	}
	c := courses[0]
	var items, students, modules int64
	store.Org(ta.Store.DB, org.ID).Model(&education.BankItem{}).Where("course_id = ?", c.ID).Count(&items)
	store.Org(ta.Store.DB, org.ID).Model(&education.Enrolment{}).Where("course_id = ?", c.ID).Count(&students)
	store.Org(ta.Store.DB, org.ID).Model(&education.CourseModule{}).Where("course_id = ?", c.ID).Count(&modules)
	if items < 40 || students != 30 || modules != 3 {
		t.Fatalf("%d items, %d students, %d modules", items, students, modules)
	}
	customer := ta.User(t, "demo", "customer@demo.example", accounts.Customer)
	sg, err := svc.Suggestions(ctx, org.ID, customer.ID, c.ID)
	if err != nil || len(sg) == 0 || sg[0].Mastery.Topic.Key != "recursion" || len(sg[0].Missed) == 0 || sg[0].Lesson == nil {
		t.Fatalf("the demo student's suggestions: %v %+v", err, sg)
	}
	var mods []education.CourseModule
	store.Org(ta.Store.DB, org.ID).Where("course_id = ?", c.ID).Order("position").Find(&mods)
	stats, err := svc.ItemAnalysis(ctx, org.ID, &mods[0])
	if err != nil || len(stats) < 10 {
		t.Fatalf("analysis: %v %d", err, len(stats))
	}
	positive := 0
	for _, st := range stats {
		if st.N < 5 {
			t.Fatalf("item %s drawn in only %d first attempts", st.ItemID, st.N)
		}
		if st.Discrimination != nil && *st.Discrimination > 0.2 {
			positive++
		}
	}
	if positive < len(stats)/2 {
		t.Fatalf("only %d of %d items discriminate: the histories are not realistic", positive, len(stats))
	}
	class, err := svc.ClassMastery(ctx, org.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	verdicts := 0
	for _, ct := range class {
		verdicts += ct.Weak + ct.Learning + ct.Mastered
	}
	if verdicts < 60 {
		t.Fatalf("class mastery has %d verdicts: %+v", verdicts, class)
	}
}
