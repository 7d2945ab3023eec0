package education

import (
	"context"
	"math"
	"sort"
	"time"

	"github.com/portalkit/portalkit/core/chart"
)

// Item-analysis flags, as Moodle's quiz statistics suggest.
const (
	FlagTooEasy        = "too_easy"        // facility > 90 %
	FlagTooHard        = "too_hard"        // facility < 30 %
	FlagNoDiscriminate = "no_discriminate" // discrimination < 0.2 (or negative)
)

var flagLabels = map[string]string{
	FlagTooEasy:        "Too easy",
	FlagTooHard:        "Too hard",
	FlagNoDiscriminate: "Does not discriminate",
}

// Scored is one item's score in one attempt, with the attempt's totals.
type Scored struct {
	Attempt  uint
	Item     string
	Score    float64
	Max      float64
	Total    float64 // the attempt's score
	TotalMax float64 // the attempt's maximum
}

// ItemStats is one item's statistics over first attempts.
type ItemStats struct {
	ItemID string `json:"item_id"`
	Prompt string `json:"prompt"`
	// N is the number of first attempts that drew the item.
	N int `json:"n"`
	// Facility is the mean score ÷ the maximum, in [0, 1].
	Facility float64 `json:"facility"`
	// Discrimination is the correlation of the item's score with the rest
	// of the attempt (the attempt's score without this item, as a share of
	// its maximum without this item); nil when it is undefined (fewer than
	// two attempts, or no spread).
	Discrimination *float64 `json:"discrimination,omitempty"`
	Flags          []string `json:"flags,omitempty"`
}

// FlagLabels are the English labels of the item's flags.
func (st ItemStats) FlagLabels() []string {
	out := make([]string, len(st.Flags))
	for i, f := range st.Flags {
		out[i] = flagLabels[f]
	}
	return out
}

// FacilityPercent is the facility as a whole percentage.
func (st ItemStats) FacilityPercent() int { return int(st.Facility*100 + 0.5) }

// Analyse computes facility and discrimination per item, as Moodle's quiz
// statistics define them: facility = mean(x) / max; discrimination = the
// Pearson correlation between x (the item's score) and X (the rest of the
// attempt: (total − x) ÷ (total max − max)). Items come out in the order
// first seen. Pure, so tests check it against a hand-computed matrix.
func Analyse(rows []Scored) []ItemStats {
	type acc struct {
		xs, rest []float64
		sum, max float64
	}
	by := map[string]*acc{}
	var order []string
	for _, r := range rows {
		a := by[r.Item]
		if a == nil {
			a = &acc{}
			by[r.Item] = a
			order = append(order, r.Item)
		}
		a.sum += r.Score
		a.max += r.Max
		x := 0.0
		if r.Max > 0 {
			x = r.Score / r.Max
		}
		rest := 0.0
		if r.TotalMax-r.Max > 0 {
			rest = (r.Total - r.Score) / (r.TotalMax - r.Max)
		}
		a.xs = append(a.xs, x)
		a.rest = append(a.rest, rest)
	}
	out := make([]ItemStats, 0, len(order))
	for _, id := range order {
		a := by[id]
		st := ItemStats{ItemID: id, N: len(a.xs)}
		if a.max > 0 {
			st.Facility = round4(a.sum / a.max)
		}
		if d, ok := correlation(a.xs, a.rest); ok {
			d = round4(d)
			st.Discrimination = &d
		}
		switch {
		case st.Facility > 0.9:
			st.Flags = append(st.Flags, FlagTooEasy)
		case st.Facility < 0.3:
			st.Flags = append(st.Flags, FlagTooHard)
		}
		if st.Discrimination != nil && *st.Discrimination < 0.2 {
			st.Flags = append(st.Flags, FlagNoDiscriminate)
		}
		out = append(out, st)
	}
	return out
}

func round4(f float64) float64 { return math.Round(f*1e4) / 1e4 }

func correlation(x, y []float64) (float64, bool) {
	n := float64(len(x))
	if len(x) < 2 {
		return 0, false
	}
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return 0, false
	}
	return sxy / math.Sqrt(sxx*syy), true
}

// ItemAnalysis is the statistics of a module's quiz over students' first
// attempts, with the bank's prompts.
func (s *Service) ItemAnalysis(ctx context.Context, orgID uint, m *CourseModule) ([]ItemStats, error) {
	var rows []struct {
		AttemptID uint
		ItemID    string
		Score     float64
		MaxScore  float64
		Total     float64
		TotalMax  float64
	}
	err := s.db(ctx, orgID).Table("quiz_responses AS r").
		Select("r.attempt_id, r.item_id, r.score, r.max_score, a.score AS total, a.max_score AS total_max").
		Joins("JOIN quiz_attempts a ON a.id = r.attempt_id").
		Where("r.org_id = ? AND r.quiz_key = ? AND r.number = 1", orgID, quizKey(m.ID)).
		Order("r.attempt_id, r.position").Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	in := make([]Scored, len(rows))
	for i, r := range rows {
		in[i] = Scored{Attempt: r.AttemptID, Item: r.ItemID, Score: r.Score, Max: r.MaxScore, Total: r.Total, TotalMax: r.TotalMax}
	}
	stats := Analyse(in)
	bank, err := s.bank(ctx, orgID, m.CourseID)
	if err != nil {
		return nil, err
	}
	prompts := map[string]string{}
	for _, it := range bank {
		prompts[it.ID] = it.Prompt
	}
	for i := range stats {
		stats[i].Prompt = prompts[stats[i].ItemID]
	}
	sort.SliceStable(stats, func(i, j int) bool { return len(stats[i].Flags) > len(stats[j].Flags) })
	return stats, nil
}

// ClassTopic is the class's mastery of one topic: how many students are
// in each verdict.
type ClassTopic struct {
	Topic    Topic   `json:"topic"`
	Weak     int     `json:"weak"`
	Learning int     `json:"learning"`
	Mastered int     `json:"mastered"`
	NoData   int     `json:"not_enough"`
	Mean     float64 `json:"mean_p_known" doc:"Mean P(known) over students with a verdict"`
}

// ClassMastery counts the course's students per topic and verdict.
func (s *Service) ClassMastery(ctx context.Context, orgID, courseID uint) ([]ClassTopic, error) {
	topics, err := s.Topics(ctx, orgID, courseID)
	if err != nil {
		return nil, err
	}
	var students int64
	if err := s.db(ctx, orgID).Model(&Enrolment{}).Where("course_id = ?", courseID).Count(&students).Error; err != nil {
		return nil, err
	}
	var rows []Mastery
	if err := s.db(ctx, orgID).Select("topic_id, p_known, responses").Where("course_id = ? AND student_id IN (?)", courseID,
		s.db(ctx, orgID).Model(&Enrolment{}).Select("student_id").Where("course_id = ?", courseID)).Find(&rows).Error; err != nil {
		return nil, err
	}
	idx := map[uint]int{}
	out := make([]ClassTopic, len(topics))
	for i, t := range topics {
		idx[t.ID] = i
		out[i] = ClassTopic{Topic: t}
	}
	sums := make([]float64, len(topics))
	for _, r := range rows {
		i, ok := idx[r.TopicID]
		if !ok {
			continue
		}
		switch Verdict(r.PKnown, r.Responses) {
		case VerdictWeak:
			out[i].Weak++
		case VerdictLearning:
			out[i].Learning++
		case VerdictMastered:
			out[i].Mastered++
		default:
			continue
		}
		sums[i] += r.PKnown
	}
	for i := range out {
		with := out[i].Weak + out[i].Learning + out[i].Mastered
		out[i].NoData = int(students) - with
		if with > 0 {
			out[i].Mean = round4(sums[i] / float64(with))
		}
	}
	return out, nil
}

// heatChart draws the class's mastery by topic: for each topic the number
// of students who need work, are learning, or have mastered it.
func heatChart(ct []ClassTopic) chart.Chart {
	c := chart.Chart{Kind: chart.Bar, Title: "Class mastery by topic", LabelHeader: "Topic", ValueName: "Students",
		Series: []chart.Series{{Name: "Needs work"}, {Name: "Learning"}, {Name: "Mastered"}}}
	for _, t := range ct {
		c.Labels = append(c.Labels, t.Topic.Name)
		c.Series[0].Values = append(c.Series[0].Values, float64(t.Weak))
		c.Series[1].Values = append(c.Series[1].Values, float64(t.Learning))
		c.Series[2].Values = append(c.Series[2].Values, float64(t.Mastered))
	}
	return c
}

// AtRisk is a student with weak topics who has not been active lately.
type AtRisk struct {
	Student    Student   `json:"student"`
	WeakTopics int       `json:"weak_topics"`
	LastActive time.Time `json:"last_active,omitzero"`
}

// StudentsAtRisk returns the course's students with at least one weak
// topic and no lesson opened or quiz answered in the last 14 days, least
// recently active first.
func (s *Service) StudentsAtRisk(ctx context.Context, orgID, courseID uint) ([]AtRisk, error) {
	roster, err := s.Roster(ctx, orgID, courseID)
	if err != nil {
		return nil, err
	}
	var ms []Mastery
	if err := s.db(ctx, orgID).Select("student_id, p_known, responses, last_at").Where("course_id = ?", courseID).Find(&ms).Error; err != nil {
		return nil, err
	}
	var seen []Progress
	// The latest per student is taken here: SQLite returns MAX() of a time
	// column as text.
	if err := s.db(ctx, orgID).Select("student_id, last_seen_at").Where("course_id = ?", courseID).Find(&seen).Error; err != nil {
		return nil, err
	}
	weak := map[uint]int{}
	last := map[uint]time.Time{}
	for _, m := range ms {
		if Verdict(m.PKnown, m.Responses) == VerdictWeak {
			weak[m.StudentID]++
		}
		if m.LastAt.After(last[m.StudentID]) {
			last[m.StudentID] = m.LastAt
		}
	}
	for _, p := range seen {
		if p.LastSeenAt.After(last[p.StudentID]) {
			last[p.StudentID] = p.LastSeenAt
		}
	}
	cutoff := s.now().AddDate(0, 0, -14)
	var out []AtRisk
	for _, st := range roster {
		if weak[st.ID] > 0 && last[st.ID].Before(cutoff) {
			out = append(out, AtRisk{Student: st, WeakTopics: weak[st.ID], LastActive: last[st.ID]})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].LastActive.Before(out[j].LastActive) })
	return out, nil
}
