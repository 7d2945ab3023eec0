package quiz_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/experience/quiz"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func setup(t *testing.T) (*portaltest.TestApp, *clock) {
	ta := portaltest.New(t, nil)
	clk := &clock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	ta.Quiz.SetClock(clk.Now)
	ta.Drafts.SetClock(clk.Now)
	return ta, clk
}

// spec is a quiz worth 2 + 3 + 1 = 6 points.
func spec(limit time.Duration, attempts int) quiz.Spec {
	return quiz.Spec{Key: "school.quiz.1", Items: []quiz.Item{capital, primes, water}, TimeLimit: limit, MaxAttempts: attempts}
}

var allRight = map[string]quiz.Answer{"capital": {"b"}, "primes": {"2", "3", "5"}, "water": {"true"}}

// TestTimeLimitGradesLateSubmissionAsOfDeadline: answers saved before the
// deadline count; a submission after the deadline and its grace is kept
// but graded as of the deadline; saving after it is refused.
func TestTimeLimitGradesLateSubmissionAsOfDeadline(t *testing.T) {
	ta, clk := setup(t)
	ctx := context.Background()
	u := ta.User(t, "acme", "ada@acme.example", accounts.Customer)
	a, resumed, err := ta.Quiz.Start(ctx, u.OrgID, u.ID, spec(10*time.Minute, 0))
	if err != nil || resumed {
		t.Fatalf("start: %v resumed=%v", err, resumed)
	}
	if a.Deadline == nil || !a.Deadline.Equal(clk.Now().Add(10*time.Minute)) {
		t.Fatalf("deadline %v", a.Deadline)
	}
	clk.Add(4 * time.Minute)
	// Capital right, primes two of three (2 of 3 points): 4 of 6 by the deadline.
	if err := ta.Quiz.SaveProgress(ctx, u.OrgID, u.ID, a.ID, map[string]quiz.Answer{"capital": {"b"}, "primes": {"2", "3"}}); err != nil {
		t.Fatal(err)
	}
	clk.Add(7 * time.Minute) // 1 minute past the deadline, beyond the 30 s grace
	if err := ta.Quiz.SaveProgress(ctx, u.OrgID, u.ID, a.ID, allRight); !errs.Is(err, errs.Conflict) {
		t.Fatalf("saving after the deadline: %v, want a conflict", err)
	}
	g, err := ta.Quiz.Submit(ctx, u.OrgID, u.ID, a.ID, allRight)
	if err != nil {
		t.Fatal(err)
	}
	got := g.Attempt
	if !got.Late || got.Score != 4 || got.MaxScore != 6 {
		t.Fatalf("late=%v score %v/%v, want late 4/6", got.Late, got.Score, got.MaxScore)
	}
	if !got.GradedAsOf.Equal(*a.Deadline) || !got.SubmittedAt.Equal(clk.Now()) {
		t.Fatalf("graded as of %v submitted %v, want the deadline %v and now", got.GradedAsOf, got.SubmittedAt, a.Deadline)
	}
	// The late answers are kept.
	stored, err := ta.Quiz.Get(ctx, u.OrgID, u.ID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.LateAnswers == "" || stored.Score != 4 || stored.Status != quiz.StatusGraded {
		t.Fatalf("stored: %+v", stored)
	}
	var rows []quiz.Response
	if err := store.Org(ta.Store.DB, u.OrgID).Where("attempt_id = ?", a.ID).Order("position").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].Score != 2 || rows[1].Score != 2 || rows[2].Answered || !rows[2].At.Equal(*a.Deadline) {
		t.Fatalf("responses: %+v", rows)
	}
	// The draft is gone with the grading.
	if ans, _, err := ta.Quiz.Progress(ctx, u.OrgID, u.ID, a.ID); err != nil || len(ans) != 0 {
		t.Fatalf("progress after grading: %v %v", ans, err)
	}
	if _, err := ta.Quiz.Submit(ctx, u.OrgID, u.ID, a.ID, allRight); !errs.Is(err, errs.Conflict) {
		t.Fatalf("second submission: %v", err)
	}
}

// TestSubmissionWithinGraceCounts: a submission a few seconds after the
// deadline (a slow phone) is graded as given.
func TestSubmissionWithinGraceCounts(t *testing.T) {
	ta, clk := setup(t)
	ctx := context.Background()
	u := ta.User(t, "acme", "ada@acme.example", accounts.Customer)
	a, _, err := ta.Quiz.Start(ctx, u.OrgID, u.ID, spec(time.Minute, 0))
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Minute + 10*time.Second)
	g, err := ta.Quiz.Submit(ctx, u.OrgID, u.ID, a.ID, allRight)
	if err != nil {
		t.Fatal(err)
	}
	if g.Attempt.Late || g.Attempt.Score != 6 {
		t.Fatalf("late=%v score %v", g.Attempt.Late, g.Attempt.Score)
	}
}

// TestResumeOnSecondDeviceAndAbandonedAttempt: progress saved from one
// session is what Start and Progress give back on another; an attempt left
// open past its deadline is graded by CloseExpired with that progress, and
// the module's handler runs in the grading.
func TestResumeOnSecondDeviceAndAbandonedAttempt(t *testing.T) {
	ta, clk := setup(t)
	ctx := context.Background()
	u := ta.User(t, "acme", "ada@acme.example", accounts.Customer)
	var handled []float64
	ta.Quiz.Handle("school.", func(ctx context.Context, tx *gorm.DB, g *quiz.Graded) error {
		handled = append(handled, g.Attempt.Score)
		return nil
	})
	a, _, err := ta.Quiz.Start(ctx, u.OrgID, u.ID, spec(20*time.Minute, 2))
	if err != nil {
		t.Fatal(err)
	}
	if err := ta.Quiz.SaveProgress(ctx, u.OrgID, u.ID, a.ID, map[string]quiz.Answer{"water": {"true"}, "primes": {"2"}}); err != nil {
		t.Fatal(err)
	}
	// "The phone": the same person starts the quiz again and gets the same attempt and answers.
	clk.Add(5 * time.Minute)
	b, resumed, err := ta.Quiz.Start(ctx, u.OrgID, u.ID, spec(20*time.Minute, 2))
	if err != nil || !resumed || b.ID != a.ID {
		t.Fatalf("resume: %v resumed=%v id %d vs %d", err, resumed, b.ID, a.ID)
	}
	ans, at, err := ta.Quiz.Progress(ctx, u.OrgID, u.ID, a.ID)
	if err != nil || len(ans) != 2 || ans["water"][0] != "true" || at.IsZero() {
		t.Fatalf("progress: %v %v %v", ans, at, err)
	}
	// Another student sees none of it.
	eve := ta.User(t, "acme", "eve@acme.example", accounts.Customer)
	if _, _, err := ta.Quiz.Progress(ctx, eve.OrgID, eve.ID, a.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("another student's progress: %v", err)
	}
	if err := ta.Quiz.SaveProgress(ctx, eve.OrgID, eve.ID, a.ID, allRight); !errs.Is(err, errs.NotFound) {
		t.Fatalf("another student saved: %v", err)
	}
	if _, err := ta.Quiz.Submit(ctx, eve.OrgID, eve.ID, a.ID, allRight); !errs.Is(err, errs.NotFound) {
		t.Fatalf("another student submitted: %v", err)
	}
	// The tab is closed; the job grades it when the time is up.
	clk.Add(14 * time.Minute)
	if n, err := ta.Quiz.CloseExpired(ctx); err != nil || n != 0 {
		t.Fatalf("closed %d before the deadline: %v", n, err)
	}
	clk.Add(2 * time.Minute)
	if n, err := ta.Quiz.CloseExpired(ctx); err != nil || n != 1 {
		t.Fatalf("closed %d: %v", n, err)
	}
	got, _ := ta.Quiz.Get(ctx, u.OrgID, u.ID, a.ID)
	// water 1 + primes 1/3 × 3 = 1 → 2 of 6.
	if got.Status != quiz.StatusGraded || got.Score != 2 || got.Late || !got.GradedAsOf.Equal(*a.Deadline) {
		t.Fatalf("abandoned attempt: %+v", got)
	}
	if len(handled) != 1 || handled[0] != 2 {
		t.Fatalf("handler saw %v", handled)
	}
	// One attempt left of two; then none.
	c, _, err := ta.Quiz.Start(ctx, u.OrgID, u.ID, spec(20*time.Minute, 2))
	if err != nil || c.Number != 2 {
		t.Fatalf("second attempt: %v %+v", err, c)
	}
	if _, err := ta.Quiz.Submit(ctx, u.OrgID, u.ID, c.ID, allRight); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ta.Quiz.Start(ctx, u.OrgID, u.ID, spec(20*time.Minute, 2)); !errs.Is(err, errs.Conflict) {
		t.Fatalf("third attempt of two: %v", err)
	}
	atts, err := ta.Quiz.Attempts(ctx, u.OrgID, u.ID, "school.quiz.1")
	if err != nil || len(atts) != 2 {
		t.Fatalf("attempts: %v %d", err, len(atts))
	}
	// 2/6 then 6/6.
	for m, want := range map[quiz.Method]float64{quiz.Highest: 1, quiz.First: 0.3333, quiz.Last: 1, quiz.Average: 0.6667} {
		if f := quiz.Combine(m, atts); f.Fraction != want || f.Attempts != 2 {
			t.Errorf("%s: %+v, want %v", m, f, want)
		}
	}
}

// TestConcurrentStartAndSubmit: two tabs starting at once share one
// attempt; two submissions at once grade it once.
func TestConcurrentStartAndSubmit(t *testing.T) {
	ta, _ := setup(t)
	ctx := context.Background()
	u := ta.User(t, "acme", "ada@acme.example", accounts.Customer)
	var wg sync.WaitGroup
	ids := make([]uint, 4)
	errs4 := make([]error, 4)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, _, err := ta.Quiz.Start(ctx, u.OrgID, u.ID, spec(0, 1))
			errs4[i] = err
			if a != nil {
				ids[i] = a.ID
			}
		}()
	}
	wg.Wait()
	for i := range ids {
		if errs4[i] != nil || ids[i] != ids[0] {
			t.Fatalf("start %d: %v, attempt %d vs %d", i, errs4[i], ids[i], ids[0])
		}
	}
	ok := make(chan bool, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := ta.Quiz.Submit(ctx, u.OrgID, u.ID, ids[0], allRight)
			if err != nil && !errs.Is(err, errs.Conflict) {
				t.Errorf("submit: %v", err)
			}
			ok <- err == nil
		}()
	}
	wg.Wait()
	close(ok)
	wins := 0
	for w := range ok {
		if w {
			wins++
		}
	}
	var n int64
	store.Org(ta.Store.DB, u.OrgID).Model(&quiz.Response{}).Where("attempt_id = ?", ids[0]).Count(&n)
	if wins != 1 || n != 3 {
		t.Fatalf("%d submissions won, %d responses; want 1 and 3", wins, n)
	}
}

// TestBadSpecAndAnswersNameTheField: a malformed quiz or an answer to a
// question not in the attempt is refused before anything is written.
func TestBadSpecAndAnswersNameTheField(t *testing.T) {
	ta, _ := setup(t)
	ctx := context.Background()
	u := ta.User(t, "acme", "ada@acme.example", accounts.Customer)
	bad := spec(0, 0)
	broken := pi
	broken.Tolerance = -2
	bad.Items = append(bad.Items, broken)
	if _, _, err := ta.Quiz.Start(ctx, u.OrgID, u.ID, bad); !containsField(err, "items[3].tolerance") {
		t.Fatalf("bad item: %v", err)
	}
	if _, _, err := ta.Quiz.Start(ctx, u.OrgID, u.ID, quiz.Spec{Key: "Not A Key", Items: spec(0, 0).Items}); !containsField(err, "key") {
		t.Fatalf("bad key: %v", err)
	}
	a, _, err := ta.Quiz.Start(ctx, u.OrgID, u.ID, spec(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ta.Quiz.Submit(ctx, u.OrgID, u.ID, a.ID, map[string]quiz.Answer{"nope": {"x"}}); !containsField(err, "answers.nope") {
		t.Fatalf("unknown item: %v", err)
	}
	if got, _ := ta.Quiz.Get(ctx, u.OrgID, u.ID, a.ID); got.Status != quiz.StatusOpen {
		t.Fatalf("a refused submission changed the attempt: %+v", got)
	}
}
