package education

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/experience/quiz"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/store"
)

// demoTopic is a topic of the demo course with its lesson and items;
// difficulty lowers every student's chance on its items.
type demoTopic struct {
	key, name  string
	difficulty float64
	lesson     string
	items      []quiz.Item
}

func tf(prompt string, truth bool) quiz.Item { return quiz.TrueFalseItem("", prompt, truth) }

func single(prompt string, right string, wrong ...string) quiz.Item {
	it := quiz.Item{Kind: quiz.Single, Prompt: prompt, Options: []quiz.Option{{ID: "a", Text: right, Correct: true}}}
	for i, w := range wrong {
		it.Options = append(it.Options, quiz.Option{ID: string(rune('b' + i)), Text: w})
	}
	return it
}

func multi(prompt string, right []string, wrong []string) quiz.Item {
	it := quiz.Item{Kind: quiz.Multiple, Prompt: prompt}
	for i, r := range right {
		it.Options = append(it.Options, quiz.Option{ID: "r" + strconv.Itoa(i), Text: r, Correct: true})
	}
	for i, w := range wrong {
		it.Options = append(it.Options, quiz.Option{ID: "w" + strconv.Itoa(i), Text: w})
	}
	return it
}

func numeric(prompt string, v float64) quiz.Item {
	return quiz.Item{Kind: quiz.Numeric, Prompt: prompt, Value: v}
}

func short(prompt string, accepted ...string) quiz.Item {
	return quiz.Item{Kind: quiz.Short, Prompt: prompt, Accepted: accepted}
}

var demoTopics = []demoTopic{
	{key: "variables", name: "Variables", difficulty: -0.15, lesson: "A **variable** names a value: `x = 3` binds the name `x` to 3. Assigning again replaces the value; `x += 4` is `x = x + 4`.",
		items: []quiz.Item{
			numeric("After `x = 3` and `x += 4`, what is x?", 7),
			tf("`x = 5` compares x with 5.", false),
			single("Which name is a valid variable name?", "total_sum", "2nd_total", "total-sum", "class"),
			short("What do we call the value a variable refers to, in one word?", "value"),
			numeric("After `a = 2`, `b = a`, `a = 9`, what is b?", 2),
			multi("Which of these are assignments?", []string{"n = 1", "n += 2"}, []string{"n == 1", "print(n)"}),
			tf("A variable can be given a new value of another type.", true),
		}},
	{key: "conditionals", name: "Conditionals", difficulty: -0.05, lesson: "An **if** statement runs a block only when its condition is true; `elif` and `else` cover the other cases, checked in order.",
		items: []quiz.Item{
			single("What does `if 0:` do with its block?", "Skips it", "Runs it once", "Raises an error"),
			tf("`elif` is checked even when the `if` condition was true.", false),
			numeric("x = 7. `if x > 5: y = 1 else: y = 2`. What is y?", 1),
			multi("Which conditions are true when n = 4?", []string{"n % 2 == 0", "n > 3"}, []string{"n < 4", "n == 5"}),
			short("Which keyword handles every case the conditions above did not?", "else"),
			tf("`a and b` is true only when both are true.", true),
			single("Which operator means 'not equal'?", "!=", "=!", "<>", "=/="),
		}},
	{key: "loops", name: "Loops", difficulty: 0.05, lesson: "A **for** loop repeats a block for each element; `range(n)` gives 0 … n−1. A **while** loop repeats while its condition holds.",
		items: []quiz.Item{
			numeric("How many times does `for i in range(5):` run its block?", 5),
			numeric("What is the sum of `i` over `for i in range(4)`?", 6),
			tf("A `while` loop always runs its block at least once.", false),
			single("Which statement leaves a loop at once?", "break", "continue", "pass", "return 0"),
			{Kind: quiz.Ordering, Prompt: "Put the steps of `for x in xs:` in order.", Sequence: []string{"take the next element", "bind it to x", "run the block", "repeat until no element is left"}},
			short("Which keyword skips to the next iteration?", "continue"),
			multi("Which loops stop?", []string{"for i in range(3): pass", "while False: pass"}, []string{"while True: pass"}),
		}},
	{key: "functions", name: "Functions", difficulty: 0.1, lesson: "A **function** is defined with `def name(params):` and gives a result with `return`. A function without `return` returns `None`.",
		items: []quiz.Item{
			short("What does a function without `return` give back?", "None"),
			numeric("`def f(x): return 2*x + 1`. What is f(3)?", 7),
			tf("Parameters are local to the function.", true),
			single("Which line defines a function?", "def area(r):", "function area(r):", "area(r) =", "define area(r):"),
			{Kind: quiz.Matching, Prompt: "Match each term with its meaning.", Pairs: []quiz.Pair{{Left: "parameter", Right: "a name in the definition"}, {Left: "argument", Right: "a value in the call"}, {Left: "return value", Right: "what the call gives back"}}},
			multi("Which calls are valid for `def g(a, b=1)`?", []string{"g(1)", "g(1, 2)", "g(a=1, b=3)"}, []string{"g()"}),
			numeric("`def h(n): return n * n`. What is h(h(2))?", 16),
		}},
	{key: "recursion", name: "Recursion", difficulty: 0.3, lesson: "A **recursive** function calls itself on a smaller problem. It needs a **base case** that returns without calling itself, or it never stops.",
		items: []quiz.Item{
			short("What do we call the case that stops a recursion?", "base case", "the base case"),
			numeric("`def f(n): return 1 if n == 0 else n * f(n-1)`. What is f(4)?", 24),
			tf("Every recursive function needs a base case to stop.", true),
			numeric("`def s(n): return 0 if n == 0 else n + s(n-1)`. What is s(5)?", 15),
			single("What happens when a recursion has no base case?", "It never stops (stack overflow)", "It returns None", "It runs once"),
			{Kind: quiz.Ordering, Prompt: "Order the calls made by f(3) for `f(n) = f(n-1)` with base case n == 0.", Sequence: []string{"f(3)", "f(2)", "f(1)", "f(0)"}},
			numeric("How many calls does `fib(3)` make with `fib(n) = n if n < 2 else fib(n-1) + fib(n-2)`?", 5),
		}},
	{key: "lists", name: "Lists", difficulty: 0.15, lesson: "A **list** holds values in order: `xs = [1, 2, 3]`. `xs[0]` is the first element, `len(xs)` the length, `xs.append(4)` adds at the end.",
		items: []quiz.Item{
			numeric("What is `len([4, 5, 6])`?", 3),
			numeric("xs = [10, 20, 30]. What is xs[-1]?", 30),
			tf("`xs.append(1)` returns the new list.", false),
			single("Which gives the first two elements of xs?", "xs[:2]", "xs[2:]", "xs[0:1]", "xs[2]"),
			short("Which method adds one element at the end of a list?", "append", "append()"),
			multi("Which expressions are lists?", []string{"[]", "list(range(3))"}, []string{"(1, 2)", "{1, 2}"}),
			// Anyone would get this one: it shows as "too easy".
			tf("`[1, 2]` is a list.", true),
		}},
}

// demoModules group the topics three by two.
var demoModules = []struct {
	title  string
	topics []string
}{
	{"Getting started", []string{"variables", "conditionals"}},
	{"Repeating and reusing", []string{"loops", "functions"}},
	{"Thinking recursively", []string{"recursion", "lists"}},
}

var demoFirst = []string{"Giulia", "Marco", "Sofia", "Luca", "Aurora", "Matteo", "Chiara", "Andrea", "Elena", "Davide", "Sara", "Simone", "Martina",
	"Federico", "Alice", "Lorenzo", "Giorgia", "Tommaso", "Anna", "Riccardo", "Beatrice", "Pietro", "Noemi", "Gabriele", "Irene", "Filippo", "Ludovica", "Edoardo", "Camilla"}

// demo creates the course CS101 in the demo organisation: three modules,
// six topics, a lesson per topic, 42 items, the demo customer and 29 more
// students with months of answers, a TA with office hours. Deterministic
// (a fixed seed) and idempotent.
func (s *Service) demo(ctx context.Context, d *module.DemoContext) error {
	ctx = context.WithValue(ctx, historyKey{}, true)
	tx, orgID := d.Tx, d.Orgs["demo"]
	if orgID == 0 {
		return nil
	}
	var n int64
	if err := store.Org(tx, orgID).Model(&Course{}).Where("code = ?", "CS101").Count(&n).Error; err != nil || n > 0 {
		return err
	}
	staffID := d.Users["staff@demo.example"]
	prof, err := s.acc.CreateUser(ctx, tx, orgID, accounts.NewUser{Email: "professor@demo.example", Name: "Prof. Laura Bianchi", Role: accounts.Staff, Password: d.Password, Verified: true})
	if err != nil {
		return err
	}
	c, err := s.CreateCourse(ctx, tx, orgID, NewCourse{Code: "CS101", Title: "Introduction to Programming", Term: "2026 autumn",
		Description: "Variables to recursion, in Python.", Professors: []uint{prof.ID}, TAs: []uint{staffID}})
	if err != nil {
		return err
	}
	now := s.now()
	topicID := map[string]uint{}
	var bank []quiz.Item
	for _, t := range demoTopics {
		tp, err := s.AddTopic(ctx, tx, orgID, c.ID, NewTopic{Key: t.key, Name: t.name})
		if err != nil {
			return err
		}
		topicID[t.key] = tp.ID
		for i, it := range t.items {
			b, err := s.AddItem(ctx, tx, orgID, c.ID, NewItem{ExternalID: fmt.Sprintf("demo-%s-%d", t.key, i), Topics: []string{t.key}, Item: BankQuestion(it)})
			if err != nil {
				return fmt.Errorf("demo item %s %d: %w", t.key, i, err)
			}
			it.ID, it.Topics = strconv.FormatUint(uint64(b.ID), 10), []string{strconv.FormatUint(uint64(tp.ID), 10)}
			bank = append(bank, it)
		}
	}
	mods := make([]*CourseModule, len(demoModules))
	lessons := map[string]*Lesson{}
	for i, dm := range demoModules {
		due := now.AddDate(0, 0, -28+21*i)
		m, err := s.AddModule(ctx, tx, orgID, c.ID, NewModule{Title: dm.title, DueAt: &due, QuizItems: 10, QuizMinutes: 20, QuizAttempts: 3})
		if err != nil {
			return err
		}
		mods[i] = m
		for _, key := range dm.topics {
			for _, t := range demoTopics {
				if t.key != key {
					continue
				}
				l, err := s.AddLesson(ctx, tx, orgID, m, NewLesson{Title: t.name, Body: "# " + t.name + "\n\n" + t.lesson, Topics: []string{key}})
				if err != nil {
					return err
				}
				lessons[key] = l
			}
		}
	}

	// Students: the demo customer and 29 more, each with an ability.
	students := []uint{d.Users["customer@demo.example"]}
	for i, first := range demoFirst {
		u, err := s.acc.CreateUser(ctx, tx, orgID, accounts.NewUser{Email: fmt.Sprintf("student%02d@demo.example", i+1), Name: first + " " + string(rune('A'+i%26)) + ".", Role: accounts.Customer, Verified: true})
		if err != nil {
			return err
		}
		students = append(students, u.ID)
	}
	lines := make([]EnrolLine, len(students))
	for i, id := range students {
		lines[i] = EnrolLine{StudentID: id, ExternalID: fmt.Sprintf("SIS-%05d", 10000+i)}
	}
	if _, err := s.Enrol(ctx, tx, orgID, c.ID, lines); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(2026, 15))
	for si, sid := range students {
		ability := 0.35 + 0.6*rng.Float64()
		if si == 0 {
			ability = 0.8 // the demo customer: strong, except on recursion
		}
		// Modules taken: everyone the first, most the second, some the third.
		taken := 1 + rng.IntN(3)
		if si == 0 {
			taken = 3
		}
		last := now.AddDate(0, 0, -rng.IntN(30))
		for mi := 0; mi < taken; mi++ {
			m := mods[mi]
			topics := []string{idStr(topicID[demoModules[mi].topics[0]]), idStr(topicID[demoModules[mi].topics[1]])}
			tries := 1 + rng.IntN(2)
			for try := 0; try < tries; try++ {
				items := quiz.Draw(bank, topics, m.QuizItems, seedOf(sid, m.ID, uint(try)))
				a, _, err := s.quiz.StartTx(ctx, tx, orgID, sid, quiz.Spec{Key: quizKey(m.ID), Items: items, MaxAttempts: m.QuizAttempts})
				if err != nil {
					return err
				}
				answers := map[string]quiz.Answer{}
				for _, it := range items {
					p := ability - topicDifficulty(it, topicID) + 0.1*float64(try)
					if si == 0 && slices.Contains(it.Topics, idStr(topicID["recursion"])) {
						p = 0.15
					}
					if it.Kind == quiz.TrueFalse && it.Prompt == "`[1, 2]` is a list." {
						p = 1
					}
					answers[it.ID] = demoAnswer(it, rng.Float64() < p, rng)
				}
				if _, err := s.quiz.SubmitTx(ctx, tx, orgID, sid, a.ID, answers); err != nil {
					return err
				}
				at := last.AddDate(0, 0, -7*(taken-mi)+try)
				if err := backdate(tx, orgID, a.ID, at); err != nil {
					return err
				}
			}
			for _, key := range demoModules[mi].topics {
				l := lessons[key]
				seen := last.AddDate(0, 0, -7*(taken-mi)-1)
				done := seen
				pr := Progress{StudentID: sid, CourseID: c.ID, LessonID: l.ID, OpenedAt: seen, LastSeenAt: seen, CompletedAt: &done}
				if si == 0 && key == "lists" {
					pr.CompletedAt, pr.LastSeenAt = nil, now.Add(-3*time.Hour)
				}
				if err := store.Org(tx, orgID).Create(&pr).Error; err != nil {
					return err
				}
			}
		}
		if err := store.Org(tx, orgID).Model(&Mastery{}).Where("student_id = ?", sid).Update("last_at", last).Error; err != nil {
			return err
		}
	}
	// Office hours: the TA's next three weeks, Tuesdays and Thursdays at 15:00.
	for _, days := range []int{1, 3} {
		start := time.Date(now.Year(), now.Month(), now.Day(), 15, 0, 0, 0, time.UTC).AddDate(0, 0, days)
		if _, err := s.PublishSlots(ctx, tx, &accounts.Principal{OrgID: orgID, UserID: staffID, Role: accounts.Staff}, c,
			NewSlots{StartsAt: start, Minutes: 20, Place: "Room B12", Capacity: 2, Weeks: 3}); err != nil {
			return err
		}
	}
	return nil
}

func idStr(id uint) string { return strconv.FormatUint(uint64(id), 10) }

func topicDifficulty(it quiz.Item, ids map[string]uint) float64 {
	for _, t := range demoTopics {
		if slices.Contains(it.Topics, idStr(ids[t.key])) {
			return t.difficulty
		}
	}
	return 0
}

// demoAnswer is a right answer to it, or a plausible wrong one.
func demoAnswer(it quiz.Item, right bool, rng *rand.Rand) quiz.Answer {
	switch it.Kind {
	case quiz.Single, quiz.TrueFalse:
		for _, o := range it.Options {
			if o.Correct == right {
				return quiz.Answer{o.ID}
			}
		}
	case quiz.Multiple:
		var a quiz.Answer
		for _, o := range it.Options {
			if o.Correct && (right || len(a) == 0) {
				a = append(a, o.ID)
			}
		}
		if !right {
			for _, o := range it.Options {
				if !o.Correct {
					return append(a, o.ID)
				}
			}
		}
		return a
	case quiz.Numeric:
		if right {
			return quiz.Answer{strconv.FormatFloat(it.Value, 'f', -1, 64)}
		}
		return quiz.Answer{strconv.Itoa(int(it.Value) + 1 + rng.IntN(3))}
	case quiz.Short:
		if right {
			return quiz.Answer{it.Accepted[0]}
		}
		return quiz.Answer{"I don't know"}
	case quiz.Matching:
		a := make(quiz.Answer, len(it.Pairs))
		for i, p := range it.Pairs {
			a[i] = p.Right
		}
		if !right {
			a[0], a[1] = a[1], a[0]
		}
		return a
	case quiz.Ordering:
		a := slices.Clone(quiz.Answer(it.Sequence))
		if !right {
			slices.Reverse(a)
		}
		return a
	}
	return nil
}

// backdate moves a demo attempt, its responses into the past.
func backdate(tx *gorm.DB, orgID, attemptID uint, at time.Time) error {
	if err := store.Org(tx, orgID).Model(&quiz.Attempt{}).Where("id = ?", attemptID).
		Updates(map[string]any{"started_at": at.Add(-15 * time.Minute), "submitted_at": at, "graded_as_of": at}).Error; err != nil {
		return err
	}
	return store.Org(tx, orgID).Model(&quiz.Response{}).Where("attempt_id = ?", attemptID).Update("at", at).Error
}
