package education_test

import (
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/verticals/education"
)

// takeQuiz submits an attempt of the module with its first right questions
// answered right and the rest wrong.
func takeQuiz(t *testing.T, s *school, h map[string]string, right int) education.AttemptView {
	t.Helper()
	var att education.AttemptView
	do(t, s.ta, "POST", fmt.Sprintf("/api/v1/education/modules/%d/attempts", s.module), nil, h, 200).JSON(t, &att)
	answers := map[string][]string{}
	for i, q := range att.Questions {
		if i < right {
			answers[q.ID] = []string{"true"}
		} else {
			answers[q.ID] = []string{"false"}
		}
	}
	var g education.AttemptView
	do(t, s.ta, "POST", fmt.Sprintf("/api/v1/education/attempts/%d/submit", att.ID), map[string]any{"answers": answers}, h, 200).JSON(t, &g)
	return g
}

// TestResultsExport: the grade follows the module's grading method
// (highest of two attempts), with the best attempt, attempts and
// completion, in JSON and as the course page's CSV; another course's
// professor gets not found.
func TestResultsExport(t *testing.T) {
	ta, _ := newApp(t)
	s := newSchool(t, ta)
	ada, adaID := s.student(t, "ada@uni.example")
	_, bobID := s.student(t, "bob@uni.example")
	takeQuiz(t, s, ada, 9)
	takeQuiz(t, s, ada, 3)

	var out struct {
		Students []education.StudentResults `json:"students"`
	}
	do(t, ta, "GET", fmt.Sprintf("/api/v1/education/courses/%d/results", s.course), nil, s.professor, 200).JSON(t, &out)
	if len(out.Students) != 2 {
		t.Fatalf("results: %+v", out.Students)
	}
	by := map[uint]education.StudentResults{}
	for _, r := range out.Students {
		by[r.Student.ID] = r
	}
	a, b := by[adaID], by[bobID]
	if len(a.Modules) != 1 || a.ExternalID != "sis-ada@uni.example" {
		t.Fatalf("ada: %+v", a)
	}
	m := a.Modules[0]
	if m.Method != "highest" || m.Attempts != 2 || m.Grade != 0.75 || m.Best != 0.75 || !m.Passed || m.Completed || m.Lessons != 2 {
		t.Errorf("ada's module result: %+v", m)
	}
	if bm := b.Modules[0]; bm.Attempts != 0 || bm.Grade != 0 || bm.Passed {
		t.Errorf("bob's module result: %+v", bm)
	}

	prof := ta.Browser()
	prof.SignIn(t, "uni", "prof@uni.example")
	if page := prof.Get(t, fmt.Sprintf("/m/education/courses/%d", s.course)); !strings.Contains(page.Body, fmt.Sprintf(`/m/education/courses/%d/results.csv`, s.course)) {
		t.Fatalf("the course page has no download link")
	}
	res := prof.Get(t, fmt.Sprintf("/m/education/courses/%d/results.csv", s.course))
	if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || !strings.Contains(res.Header.Get("Content-Disposition"), "results-CS101.csv") {
		t.Fatalf("CSV: %d %v", res.Status, res.Header)
	}
	recs, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
	if err != nil || len(recs) != 3 || recs[0][0] != "student_id" {
		t.Fatalf("CSV: %v %q", err, res.Body)
	}
	found := false
	for _, r := range recs[1:] {
		if r[0] == fmt.Sprint(adaID) {
			found = true
			if r[7] != "2" || r[8] != "75.0" || r[9] != "75.0" || r[10] != "true" {
				t.Errorf("ada's CSV line: %q", r)
			}
		}
	}
	if !found {
		t.Errorf("ada is not in the CSV: %q", recs)
	}

	ta.User(t, "uni", "history@uni.example", accounts.Staff)
	other := ta.As(t, "uni", "history@uni.example", accounts.Staff)
	do(t, ta, "GET", fmt.Sprintf("/api/v1/education/courses/%d/results", s.course), nil, other, 404)
	ob := ta.Browser()
	ob.SignIn(t, "uni", "history@uni.example")
	if res := ob.Get(t, fmt.Sprintf("/m/education/courses/%d/results.csv", s.course)); res.Status != 404 {
		t.Fatalf("another professor downloads the results: %d", res.Status)
	}
	do(t, ta, "GET", fmt.Sprintf("/api/v1/education/courses/%d/results", s.course), nil, ada, 403)
}
