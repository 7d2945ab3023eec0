package quiz_test

import (
	"slices"
	"testing"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/experience/quiz"
)

var (
	capital = quiz.Item{ID: "capital", Kind: quiz.Single, Prompt: "Capital of Italy?", Points: 2, Options: []quiz.Option{
		{ID: "a", Text: "Milan", Feedback: "Milan is the capital of Lombardy."},
		{ID: "b", Text: "Rome", Correct: true, Feedback: "Right: Rome since 1871."},
		{ID: "c", Text: "Turin"},
	}, Wrong: "Review the lesson on Italy."}
	primes = quiz.Item{ID: "primes", Kind: quiz.Multiple, Prompt: "Which are prime?", Points: 3, Options: []quiz.Option{
		{ID: "2", Text: "2", Correct: true}, {ID: "3", Text: "3", Correct: true}, {ID: "5", Text: "5", Correct: true},
		{ID: "4", Text: "4", Feedback: "4 = 2 × 2."}, {ID: "9", Text: "9", Feedback: "9 = 3 × 3."},
	}}
	water = quiz.TrueFalseItem("water", "Water boils at 100 °C at sea level.", true)
	pi    = quiz.Item{ID: "pi", Kind: quiz.Numeric, Prompt: "π to two decimals", Value: 3.14, Tolerance: 0.005}
	city  = quiz.Item{ID: "city", Kind: quiz.Short, Prompt: "Where is the Colosseum?", Accepted: []string{"Roma", "Rome"}, Right: "Yes."}
	pairs = quiz.Item{ID: "pairs", Kind: quiz.Matching, Prompt: "Match", Pairs: []quiz.Pair{
		{Left: "France", Right: "Paris"}, {Left: "Spain", Right: "Madrid"}, {Left: "Italy", Right: "Rome"}, {Left: "Greece", Right: "Athens"},
	}}
	steps = quiz.Item{ID: "steps", Kind: quiz.Ordering, Prompt: "Order", Points: 4, Sequence: []string{"read", "parse", "check", "run", "print"}}
)

// TestGradeHandComputed checks every kind against grades worked out by hand.
func TestGradeHandComputed(t *testing.T) {
	cases := []struct {
		name     string
		item     quiz.Item
		answer   quiz.Answer
		score    float64
		feedback []string
	}{
		{"single right", capital, quiz.Answer{"b"}, 2, []string{"Right: Rome since 1871."}},
		{"single wrong with option and general feedback", capital, quiz.Answer{"a"}, 0, []string{"Milan is the capital of Lombardy.", "Review the lesson on Italy."}},
		{"single with two choices is wrong", capital, quiz.Answer{"a", "b"}, 0, []string{"Milan is the capital of Lombardy.", "Right: Rome since 1871.", "Review the lesson on Italy."}},
		{"single unanswered", capital, nil, 0, []string{"Review the lesson on Italy."}},
		// Multiple: C=3 correct, I=2 incorrect; fraction = R/3 − W/2, × 3 points.
		{"multiple all right", primes, quiz.Answer{"5", "2", "3"}, 3, nil},
		{"multiple two of three", primes, quiz.Answer{"2", "3"}, 2, nil},                                           // 2/3 × 3
		{"multiple all right and one wrong", primes, quiz.Answer{"2", "3", "5", "4"}, 1.5, []string{"4 = 2 × 2."}}, // (1 − 1/2) × 3
		{"multiple one right one wrong", primes, quiz.Answer{"2", "9"}, 0, []string{"9 = 3 × 3."}},                 // 1/3 − 1/2 < 0 → 0
		{"multiple one right", primes, quiz.Answer{"3"}, 1, nil},                                                   // 1/3 × 3
		{"multiple everything", primes, quiz.Answer{"2", "3", "5", "4", "9"}, 0, []string{"4 = 2 × 2.", "9 = 3 × 3."}},
		{"true/false right", water, quiz.Answer{"true"}, 1, nil},
		{"true/false wrong", water, quiz.Answer{"false"}, 0, nil},
		{"numeric exact", pi, quiz.Answer{"3.14"}, 1, nil},
		{"numeric inside tolerance, decimal comma", pi, quiz.Answer{" 3,144 "}, 1, nil},
		{"numeric at the edge of tolerance", pi, quiz.Answer{"3.135"}, 1, nil},
		{"numeric outside tolerance", pi, quiz.Answer{"3.146"}, 0, nil},
		{"numeric not a number", pi, quiz.Answer{"three"}, 0, nil},
		{"short accented, cased and spaced", city, quiz.Answer{"  RÓMA. "}, 1, []string{"Yes."}},
		{"short second accepted answer", city, quiz.Answer{"rome"}, 1, []string{"Yes."}},
		{"short wrong", city, quiz.Answer{"Romania"}, 0, nil},
		// Matching: 4 pairs, 1 point; fraction = right pairs / 4.
		{"matching all", pairs, quiz.Answer{"Paris", "Madrid", "Rome", "Athens"}, 1, nil},
		{"matching three of four", pairs, quiz.Answer{"Paris", "Madrid", "Athens", "Athens"}, 0.75, nil},
		{"matching swapped pair", pairs, quiz.Answer{"Madrid", "Paris", "Rome", "Athens"}, 0.5, nil},
		{"matching short answer list", pairs, quiz.Answer{"Paris"}, 0.25, nil},
		// Ordering: 5 elements, 4 points; fraction = elements in place / 5.
		{"ordering right", steps, quiz.Answer{"read", "parse", "check", "run", "print"}, 4, nil},
		{"ordering two swapped", steps, quiz.Answer{"read", "check", "parse", "run", "print"}, 2.4, nil}, // 3/5 × 4
		{"ordering reversed", steps, quiz.Answer{"print", "run", "check", "parse", "read"}, 0.8, nil},    // only "check" in place: 1/5 × 4
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.item.Validate(); err != nil {
				t.Fatalf("the item itself is invalid: %v", err)
			}
			r := quiz.Grade(c.item, c.answer)
			if r.Score != c.score {
				t.Fatalf("score %v, want %v (%+v)", r.Score, c.score, r)
			}
			if r.Max != c.item.MaxScore() || r.Correct != (c.score == c.item.MaxScore()) {
				t.Fatalf("max %v correct %v for score %v", r.Max, r.Correct, r.Score)
			}
			if !slices.Equal(r.Feedback, c.feedback) {
				t.Fatalf("feedback %q, want %q", r.Feedback, c.feedback)
			}
			// Deterministic: grading again gives the same result.
			if again := quiz.Grade(c.item, c.answer); again.Score != r.Score || !slices.Equal(again.Feedback, r.Feedback) {
				t.Fatalf("a second grading differs: %+v vs %+v", again, r)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"  Perché   NO. ": "perche no",
		"Ångström":        "angstrom",
		"naïve café":      "naive cafe",
		"ﬁne":             "fine", // compatibility ligature
		"":                "",
	} {
		if got := quiz.Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestValidateNamesTheField: a malformed item is refused with the field at
// fault.
func TestValidateNamesTheField(t *testing.T) {
	noCorrect := capital
	noCorrect.Options = []quiz.Option{{ID: "a", Text: "A"}, {ID: "b", Text: "B"}}
	badTol := pi
	badTol.Tolerance = -1
	emptyShort := city
	emptyShort.Accepted = []string{"  ", "."}
	dupOrder := steps
	dupOrder.Sequence = []string{"a", "a"}
	cases := map[string]quiz.Item{
		"options":   noCorrect,
		"tolerance": badTol,
		"accepted":  emptyShort,
		"sequence":  dupOrder,
		"kind":      {ID: "x", Kind: "essay", Prompt: "Write"},
		"prompt":    {ID: "x", Kind: quiz.Single},
	}
	for field, it := range cases {
		err := it.Validate()
		if err == nil {
			t.Fatalf("%s: accepted", field)
		}
		if !containsField(err, field) {
			t.Fatalf("%s: error %v does not name the field", field, err)
		}
	}
}

// TestPresentHidesAnswersAndIsStable: a question shows no correct flag, and
// its shuffled order is the same for the same attempt.
func TestPresentHidesAnswersAndIsStable(t *testing.T) {
	q1 := quiz.Present(primes, 1, 42)
	q2 := quiz.Present(primes, 1, 42)
	if !slices.Equal(q1.Options, q2.Options) {
		t.Fatalf("the same attempt shows options in two orders: %v %v", q1.Options, q2.Options)
	}
	if len(q1.Options) != 5 {
		t.Fatalf("options: %v", q1.Options)
	}
	differs := false
	for seed := uint64(1); seed < 20 && !differs; seed++ {
		differs = !slices.Equal(quiz.Present(primes, 1, seed).Options, q1.Options)
	}
	if !differs {
		t.Fatal("options are never shuffled")
	}
	tf := quiz.Present(water, 2, 42)
	if tf.Options[0].ID != "true" || tf.Options[1].ID != "false" {
		t.Fatalf("true/false reordered: %v", tf.Options)
	}
	m := quiz.Present(pairs, 3, 7)
	if !slices.Equal(m.Left, []string{"France", "Spain", "Italy", "Greece"}) || len(m.Choices) != 4 {
		t.Fatalf("matching: %+v", m)
	}
}

// TestDrawSpreadsOverTopics: items are drawn round robin over the topics,
// never twice, the same for the same seed.
func TestDrawSpreadsOverTopics(t *testing.T) {
	var pool []quiz.Item
	for i, topic := range []string{"a", "a", "a", "a", "b", "b", "c"} {
		it := quiz.TrueFalseItem(string(rune('p'+i)), "Q", true)
		it.Topics = []string{topic}
		pool = append(pool, it)
	}
	both := pool[0]
	both.ID, both.Topics = "ab", []string{"a", "b"}
	pool = append(pool, both)

	got := quiz.Draw(pool, []string{"a", "b", "c"}, 6, 9)
	if len(got) != 6 {
		t.Fatalf("drew %d items", len(got))
	}
	count := map[string]int{}
	seen := map[string]bool{}
	for _, it := range got {
		if seen[it.ID] {
			t.Fatalf("item %s drawn twice", it.ID)
		}
		seen[it.ID] = true
		count[it.Topics[0]]++
	}
	if count["c"] != 1 || count["b"] < 2 {
		t.Fatalf("topics not spread: %v (%v)", count, ids(got))
	}
	if again := quiz.Draw(pool, []string{"a", "b", "c"}, 6, 9); !slices.Equal(ids(again), ids(got)) {
		t.Fatalf("same seed, different draw: %v vs %v", ids(again), ids(got))
	}
	if all := quiz.Draw(pool, []string{"c"}, 5, 1); len(all) != 1 {
		t.Fatalf("topic c has one item, drew %v", ids(all))
	}
}

func ids(items []quiz.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

func containsField(err error, field string) bool {
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid {
		return false
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}
