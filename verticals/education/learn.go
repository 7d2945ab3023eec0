package education

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/experience/feedback"
	"github.com/portalkit/portalkit/core/experience/quiz"
	"github.com/portalkit/portalkit/core/live"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/store"
)

// practiceKey names a course's "practise my weak topics" quiz.
func practiceKey(courseID uint) string { return fmt.Sprintf("education.practice.%d", courseID) }

func seedOf(parts ...uint) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		_, _ = fmt.Fprintf(h, "%d/", p)
	}
	return h.Sum64()
}

func idStrings(ids []uint) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strconv.FormatUint(uint64(id), 10)
	}
	return out
}

// moduleTopics are the topics of a module's lessons.
func (s *Service) moduleTopics(ctx context.Context, orgID, moduleID uint) ([]uint, error) {
	var ids []uint
	err := s.db(ctx, orgID).Model(&LessonTopic{}).Distinct("topic_id").
		Where("lesson_id IN (?)", s.db(ctx, orgID).Model(&Lesson{}).Select("id").Where("module_id = ?", moduleID)).
		Order("topic_id").Pluck("topic_id", &ids).Error
	return ids, err
}

// StartQuiz starts (or resumes) the student's attempt at a module's quiz:
// items drawn from the course's bank over the module's topics.
func (s *Service) StartQuiz(ctx context.Context, p *accounts.Principal, moduleID uint) (*quiz.Attempt, bool, error) {
	m, access, err := s.module(ctx, p, moduleID)
	if err != nil {
		return nil, false, err
	}
	if access != accessStudent {
		return nil, false, errs.Forbiddenf("only the course's students take its quizzes")
	}
	topics, err := s.moduleTopics(ctx, p.OrgID, m.ID)
	if err != nil {
		return nil, false, err
	}
	return s.startDrawn(ctx, p, m.CourseID, quizKey(m.ID), topics, m.QuizItems, m.QuizAttempts, time.Duration(m.QuizMinutes)*time.Minute)
}

// StartPractice starts (or resumes) a practice quiz over the student's
// weakest topics of a course (at most three), ten items, no limits.
func (s *Service) StartPractice(ctx context.Context, p *accounts.Principal, courseID uint) (*quiz.Attempt, bool, error) {
	_, access, err := s.courseAccess(ctx, p, courseID)
	if err != nil {
		return nil, false, err
	}
	if access != accessStudent {
		return nil, false, errs.Forbiddenf("only the course's students practise")
	}
	ms, err := s.MasteryOf(ctx, p.OrgID, p.UserID, courseID)
	if err != nil {
		return nil, false, err
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].PKnown < ms[j].PKnown })
	var topics []uint
	for _, m := range ms {
		if len(topics) < 3 && m.Verdict != VerdictMastered {
			topics = append(topics, m.Topic.ID)
		}
	}
	return s.startDrawn(ctx, p, courseID, practiceKey(courseID), topics, 10, 0, 0)
}

func (s *Service) startDrawn(ctx context.Context, p *accounts.Principal, courseID uint, key string, topics []uint, n, attempts int, limit time.Duration) (*quiz.Attempt, bool, error) {
	bank, err := s.bank(ctx, p.OrgID, courseID)
	if err != nil {
		return nil, false, err
	}
	prior, err := s.quiz.Attempts(ctx, p.OrgID, p.UserID, key)
	if err != nil {
		return nil, false, err
	}
	items := quiz.Draw(bank, idStrings(topics), n, seedOf(p.UserID, courseID, uint(len(prior)))^uint64(len(key)))
	if len(items) == 0 {
		return nil, false, errs.Conflictf("this quiz has no questions yet")
	}
	return s.quiz.Start(ctx, p.OrgID, p.UserID, quiz.Spec{Key: key, Items: items, MaxAttempts: attempts, TimeLimit: limit})
}

// attempt returns an education attempt p may read: the student's own, or
// one of a student p reaches.
func (s *Service) attempt(ctx context.Context, p *accounts.Principal, id uint) (*quiz.Attempt, error) {
	a, err := s.quiz.Find(ctx, p.OrgID, id)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(a.QuizKey, "education.") {
		return nil, errs.NotFoundf("no attempt %d", id)
	}
	if err := s.canSeeStudent(ctx, p, a.UserID); err != nil {
		return nil, errs.NotFoundf("no attempt %d", id)
	}
	return a, nil
}

// onGraded updates the student's mastery of every topic of the graded
// items, in the grading transaction, in the order the items were asked.
func (s *Service) onGraded(ctx context.Context, tx *gorm.DB, g *quiz.Graded) error {
	a := g.Attempt
	type obs struct {
		topic   uint
		correct bool
	}
	var seq []obs
	var topicIDs []uint
	for i, it := range g.Items {
		for _, t := range it.Topics {
			id, err := strconv.ParseUint(t, 10, 64)
			if err != nil {
				continue
			}
			seq = append(seq, obs{uint(id), g.Results[i].Correct})
			if !slices.Contains(topicIDs, uint(id)) {
				topicIDs = append(topicIDs, uint(id))
			}
		}
	}
	if len(seq) == 0 {
		return nil
	}
	var topics []Topic
	if err := store.Org(tx, a.OrgID).Where("id IN ?", topicIDs).Find(&topics).Error; err != nil {
		return err
	}
	course := map[uint]uint{}
	for _, t := range topics {
		course[t.ID] = t.CourseID
	}
	var rows []Mastery
	if err := store.Org(tx, a.OrgID).Where("student_id = ? AND topic_id IN ?", a.UserID, topicIDs).Find(&rows).Error; err != nil {
		return err
	}
	byTopic := map[uint]*Mastery{}
	for i := range rows {
		byTopic[rows[i].TopicID] = &rows[i]
	}
	at := *a.GradedAsOf
	for _, o := range seq {
		m := byTopic[o.topic]
		if m == nil {
			if course[o.topic] == 0 {
				continue // the topic was deleted since the item was drawn
			}
			m = &Mastery{StudentID: a.UserID, CourseID: course[o.topic], TopicID: o.topic, PKnown: PInit}
			byTopic[o.topic] = m
		}
		m.PKnown = Update(m.PKnown, o.correct)
		m.Responses++
		if o.correct {
			m.Correct++
		}
		m.LastAt = at
	}
	upd := make([]Mastery, 0, len(byTopic))
	for _, id := range topicIDs {
		if m := byTopic[id]; m != nil {
			upd = append(upd, *m)
		}
	}
	if err := store.Org(tx, a.OrgID).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "org_id"}, {Name: "student_id"}, {Name: "topic_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"p_known", "responses", "correct", "last_at"}),
	}).Create(&upd).Error; err != nil {
		return err
	}
	if err := s.notifyGraded(ctx, tx, a); err != nil {
		return err
	}
	if replayingHistory(ctx) {
		return nil // demo history: nobody just took this quiz
	}
	// The student's open course pages (mastery, suggestions) and their
	// teachers' heat maps refresh on commit: the event goes to whoever may
	// read the student's work in the module's area (the student, the
	// course's staff through its group, admins).
	published := map[uint]bool{}
	for _, m := range upd {
		if published[m.CourseID] {
			continue
		}
		published[m.CourseID] = true
		err := s.live.Publish(ctx, tx, live.Event{OrgID: a.OrgID, Name: "graded", Owner: a.UserID,
			Subject: fmt.Sprintf("course:%d", m.CourseID), Data: map[string]any{"course": m.CourseID, "attempt": a.ID}})
		if err != nil {
			return err
		}
	}
	_, err := feedback.Ask(ctx, tx, a.OrgID, a.UserID, StepQuiz, fmt.Sprintf("attempt:%d", a.ID))
	return err
}

// historyKey marks a context in which past attempts are replayed (the demo
// data): they update mastery like any attempt, but ask no one for feedback —
// the survey would crowd out the one the person is really asked.
type historyKey struct{}

func replayingHistory(ctx context.Context) bool { return ctx.Value(historyKey{}) != nil }

// notifyGraded tells the student their attempt is graded, once per attempt.
func (s *Service) notifyGraded(ctx context.Context, tx *gorm.DB, a *quiz.Attempt) error {
	if s.notify == nil {
		return nil
	}
	title := "Practice"
	if mid := strings.TrimPrefix(a.QuizKey, "education.module."); mid != a.QuizKey {
		var m CourseModule
		if err := store.Org(tx, a.OrgID).Select("title").Where("id = ?", mid).Limit(1).Find(&m).Error; err != nil {
			return err
		}
		title = m.Title
	}
	pct := 0
	if a.MaxScore > 0 {
		pct = int(a.Score/a.MaxScore*100 + 0.5)
	}
	_, err := s.notify.Send(ctx, tx, notify.Notification{OrgID: a.OrgID, UserID: a.UserID, Kind: KindQuizGraded, DedupeKey: fmt.Sprintf("attempt:%d", a.ID),
		Data: map[string]any{"title": title, "percent": pct, "link": fmt.Sprintf("/m/education/attempts/%d", a.ID)}})
	return err
}

// TopicMastery is one topic's estimate for one student.
type TopicMastery struct {
	Topic     Topic     `json:"topic"`
	PKnown    float64   `json:"p_known"`
	Responses int       `json:"responses"`
	Correct   int       `json:"correct"`
	Verdict   string    `json:"verdict" enum:"not_enough,weak,learning,mastered"`
	LastAt    time.Time `json:"last_at,omitzero"`
}

// VerdictLabel is the verdict's English label (translate it with T).
func (m TopicMastery) VerdictLabel() string { return verdictLabels[m.Verdict] }

// Percent is P(known) as a whole percentage.
func (m TopicMastery) Percent() int { return int(m.PKnown*100 + 0.5) }

// MasteryOf returns a student's mastery of every topic of a course, by
// topic name; topics without answers have the prior and no verdict.
func (s *Service) MasteryOf(ctx context.Context, orgID, studentID, courseID uint) ([]TopicMastery, error) {
	topics, err := s.Topics(ctx, orgID, courseID)
	if err != nil {
		return nil, err
	}
	var rows []Mastery
	if err := s.db(ctx, orgID).Where("student_id = ? AND course_id = ?", studentID, courseID).Find(&rows).Error; err != nil {
		return nil, err
	}
	by := map[uint]Mastery{}
	for _, r := range rows {
		by[r.TopicID] = r
	}
	out := make([]TopicMastery, len(topics))
	for i, t := range topics {
		m, ok := by[t.ID]
		if !ok {
			m.PKnown = PInit
		}
		out[i] = TopicMastery{Topic: t, PKnown: m.PKnown, Responses: m.Responses, Correct: m.Correct, Verdict: Verdict(m.PKnown, m.Responses), LastAt: m.LastAt}
	}
	return out, nil
}

// Suggestion is what to do about one weak topic.
type Suggestion struct {
	Rank    int          `json:"rank"`
	Mastery TopicMastery `json:"mastery"`
	// Lesson is the lesson of the topic to (re)read: the first not yet
	// completed, else the first.
	Lesson *Lesson `json:"lesson,omitempty"`
	// Missed are the question numbers missed on the topic in the latest
	// attempt that had misses on it, and that attempt.
	Missed    []int `json:"missed,omitempty"`
	AttemptID uint  `json:"attempt_id,omitempty"`
}

// Suggestions returns at most three suggestions for a student's weak
// topics of a course, weakest first, each with its reason.
func (s *Service) Suggestions(ctx context.Context, orgID, studentID, courseID uint) ([]Suggestion, error) {
	ms, err := s.MasteryOf(ctx, orgID, studentID, courseID)
	if err != nil {
		return nil, err
	}
	var weak []TopicMastery
	for _, m := range ms {
		if m.Verdict == VerdictWeak {
			weak = append(weak, m)
		}
	}
	sort.SliceStable(weak, func(i, j int) bool { return weak[i].PKnown < weak[j].PKnown })
	if len(weak) > 3 {
		weak = weak[:3]
	}
	if len(weak) == 0 {
		return nil, nil
	}
	missed, err := s.recentMisses(ctx, orgID, studentID)
	if err != nil {
		return nil, err
	}
	out := make([]Suggestion, len(weak))
	for i, m := range weak {
		sg := Suggestion{Rank: i + 1, Mastery: m}
		if mm, ok := missed[m.Topic.ID]; ok {
			sg.Missed, sg.AttemptID = mm.numbers, mm.attempt
		}
		l, err := s.lessonFor(ctx, orgID, studentID, m.Topic.ID)
		if err != nil {
			return nil, err
		}
		sg.Lesson = l
		out[i] = sg
	}
	return out, nil
}

type misses struct {
	attempt uint
	numbers []int
}

// recentMisses finds, per topic, the question numbers missed in the latest
// of the student's last 20 graded education attempts that missed any.
func (s *Service) recentMisses(ctx context.Context, orgID, studentID uint) (map[uint]misses, error) {
	var atts []quiz.Attempt
	if err := s.db(ctx, orgID).Where("user_id = ? AND status = ? AND quiz_key LIKE ?", studentID, quiz.StatusGraded, "education.%").
		Order("graded_as_of DESC, id DESC").Limit(20).Find(&atts).Error; err != nil {
		return nil, err
	}
	out := map[uint]misses{}
	if len(atts) == 0 {
		return out, nil
	}
	ids := make([]uint, len(atts))
	for i, a := range atts {
		ids[i] = a.ID
	}
	var rs []quiz.Response
	if err := s.db(ctx, orgID).Where("attempt_id IN ? AND score < max_score", ids).Order("attempt_id, position").Find(&rs).Error; err != nil {
		return nil, err
	}
	missedAt := map[uint][]int{} // attempt → missed positions
	for _, r := range rs {
		missedAt[r.AttemptID] = append(missedAt[r.AttemptID], r.Position)
	}
	for _, a := range atts { // newest first
		pos := missedAt[a.ID]
		if len(pos) == 0 {
			continue
		}
		items, err := a.ItemsOf()
		if err != nil {
			continue
		}
		per := map[uint][]int{}
		for _, n := range pos {
			if n < 1 || n > len(items) {
				continue
			}
			for _, t := range items[n-1].Topics {
				id, _ := strconv.ParseUint(t, 10, 64)
				per[uint(id)] = append(per[uint(id)], n)
			}
		}
		for t, ns := range per {
			if _, done := out[t]; !done {
				out[t] = misses{attempt: a.ID, numbers: ns}
			}
		}
	}
	return out, nil
}

// lessonFor picks the lesson to suggest for a topic.
func (s *Service) lessonFor(ctx context.Context, orgID, studentID, topicID uint) (*Lesson, error) {
	var ls []Lesson
	err := s.db(ctx, orgID).Table("education_lessons AS l").Select("l.id, l.org_id, l.course_id, l.module_id, l.position, l.title").
		Joins("JOIN education_modules m ON m.id = l.module_id").
		Where("l.id IN (?)", s.db(ctx, orgID).Model(&LessonTopic{}).Select("lesson_id").Where("topic_id = ?", topicID)).
		Order("m.position, l.position, l.id").Find(&ls).Error
	if err != nil || len(ls) == 0 {
		return nil, err
	}
	var done []uint
	if err := s.db(ctx, orgID).Model(&Progress{}).Where("student_id = ? AND completed_at IS NOT NULL", studentID).Pluck("lesson_id", &done).Error; err != nil {
		return nil, err
	}
	for i := range ls {
		if !slices.Contains(done, ls[i].ID) {
			return &ls[i], nil
		}
	}
	return &ls[0], nil
}

// OpenSuggestion records that a student followed a suggestion for a topic
// to a lesson, with their mastery at that moment.
func (s *Service) OpenSuggestion(ctx context.Context, p *accounts.Principal, l *Lesson, topicID uint) error {
	if p.Role != accounts.Customer {
		return nil
	}
	var m Mastery
	q := s.db(ctx, p.OrgID).Where("student_id = ? AND topic_id = ?", p.UserID, topicID).Limit(1).Find(&m)
	if q.Error != nil || q.RowsAffected == 0 {
		return q.Error
	}
	return s.db(ctx, p.OrgID).Create(&SuggestionOpen{StudentID: p.UserID, TopicID: topicID, LessonID: l.ID, PKnown: m.PKnown, At: s.now()}).Error
}

// joinNumbers writes question numbers as "3", "3 and 7" or "2, 3 and 7"
// with and translated by t.
func joinNumbers(ns []int, and string) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	if len(parts) <= 1 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " " + and + " " + parts[len(parts)-1]
}

// Numbers writes the missed question numbers, joined with and ("3 and 7").
func (sg Suggestion) Numbers(and string) string { return joinNumbers(sg.Missed, and) }
