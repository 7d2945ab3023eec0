package education

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/experience/quiz"
	"github.com/portalkit/portalkit/core/web"
)

// ModuleResult is one student's result at one module: the quiz grade by
// the module's grading method over their graded attempts, and whether the
// module is complete (every lesson done and the quiz passed).
type ModuleResult struct {
	ModuleID  uint    `json:"module_id"`
	Module    string  `json:"module"`
	Method    string  `json:"method" enum:"highest,average,first,last" doc:"The module's grading method"`
	Attempts  int     `json:"attempts" doc:"Graded attempts"`
	Grade     float64 `json:"grade" doc:"The graded score as a share of the maximum (0 to 1) by the grading method; 0 without attempts"`
	Best      float64 `json:"best" doc:"The best attempt as a share of the maximum (0 to 1)"`
	Passed    bool    `json:"passed"`
	Lessons   int     `json:"lessons"`
	Done      int     `json:"lessons_done"`
	Completed bool    `json:"completed" doc:"Every lesson done and the quiz passed"`
}

// StudentResults is one student's results in a course.
type StudentResults struct {
	Student    Student        `json:"student"`
	ExternalID string         `json:"external_id,omitempty" doc:"The student information system's key given at enrolment"`
	Percent    int            `json:"percent" doc:"Course progress: lessons done and quizzes passed as a share of both"`
	Modules    []ModuleResult `json:"modules"`
}

// Results returns every enrolled student's results in a course, module by
// module, students by name.
func (s *Service) Results(ctx context.Context, orgID uint, c *Course) ([]StudentResults, error) {
	roster, err := s.Roster(ctx, orgID, c.ID)
	if err != nil {
		return nil, err
	}
	var enr []Enrolment
	if err := s.db(ctx, orgID).Where("course_id = ?", c.ID).Find(&enr).Error; err != nil {
		return nil, err
	}
	ext := map[uint]string{}
	for _, e := range enr {
		if e.ExternalID != nil {
			ext[e.StudentID] = *e.ExternalID
		}
	}
	out := make([]StudentResults, 0, len(roster))
	for _, st := range roster {
		pr, err := s.Progress(ctx, orgID, st.ID, c)
		if err != nil {
			return nil, err
		}
		r := StudentResults{Student: st, ExternalID: ext[st.ID], Percent: pr.Percent, Modules: make([]ModuleResult, 0, len(pr.Modules))}
		var attempts []quiz.Attempt
		if err := s.db(ctx, orgID).Where("user_id = ? AND quiz_key LIKE ? AND status = ?", st.ID, "education.module.%", quiz.StatusGraded).
			Select("id, quiz_key, status, score, max_score").Find(&attempts).Error; err != nil {
			return nil, err
		}
		for _, m := range pr.Modules {
			best := 0.0
			for _, a := range attempts {
				if a.QuizKey == quizKey(m.ID) && a.MaxScore > 0 {
					best = max(best, a.Score/a.MaxScore)
				}
			}
			r.Modules = append(r.Modules, ModuleResult{ModuleID: m.ID, Module: m.Title, Method: m.QuizMethod, Attempts: m.Quiz.Attempts,
				Grade: m.Quiz.Fraction, Best: best, Passed: m.Passed, Lessons: len(m.Lessons), Done: m.Done, Completed: m.Complete})
		}
		out = append(out, r)
	}
	return out, nil
}

// ResultsCSV writes results one line per student and module.
func ResultsCSV(rs []StudentResults) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"student_id", "external_id", "name", "email", "module_id", "module", "method", "attempts", "grade_percent", "best_percent", "passed", "lessons_done", "lessons", "completed"})
	// A spreadsheet runs a cell starting with = + - @ as a formula: names
	// and titles are typed by people, so such a cell is quoted.
	cell := func(v string) string {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			return "'" + v
		}
		return v
	}
	pct := func(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) }
	for _, r := range rs {
		for _, m := range r.Modules {
			_ = w.Write([]string{strconv.FormatUint(uint64(r.Student.ID), 10), cell(r.ExternalID), cell(r.Student.Name), cell(r.Student.Email),
				strconv.FormatUint(uint64(m.ModuleID), 10), cell(m.Module), m.Method, strconv.Itoa(m.Attempts), pct(m.Grade), pct(m.Best),
				strconv.FormatBool(m.Passed), strconv.Itoa(m.Done), strconv.Itoa(m.Lessons), strconv.FormatBool(m.Completed)})
		}
	}
	w.Flush()
	return b.Bytes()
}

// resultsFile is the course's results as a CSV download (its staff,
// admins).
func (s *Service) resultsFile(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), me(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	course, err := s.teaching(ctx, p, id)
	if err != nil {
		return err
	}
	rs, err := s.Results(ctx, p.OrgID, course)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="results-%s.csv"`, safeName(course.Code)))
	return c.Send(ResultsCSV(rs))
}

// safeName keeps a course code's file-name-safe characters (the code
// pattern allows only those, but the header must never break).
func safeName(code string) string {
	b := []byte(code)
	for i, ch := range b {
		if !(ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '.' || ch == '_' || ch == '-') {
			b[i] = '_'
		}
	}
	return string(b)
}
