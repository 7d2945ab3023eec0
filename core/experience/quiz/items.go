package quiz

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/portalkit/portalkit/core/errs"
)

// Kind is the type of a question. Every kind is graded automatically.
type Kind string

// The item kinds.
const (
	// Single is single choice: exactly one option is correct.
	Single Kind = "single"
	// Multiple is multiple choice with partial credit (see Grade).
	Multiple Kind = "multiple"
	// TrueFalse is single choice between the options "true" and "false".
	TrueFalse Kind = "truefalse"
	// Numeric accepts a number within Tolerance of Value.
	Numeric Kind = "numeric"
	// Short accepts any of several answers, compared after normalisation
	// (case, spacing, accents).
	Short Kind = "short"
	// Matching pairs each left-hand prompt with one right-hand answer.
	Matching Kind = "matching"
	// Ordering puts elements in the order of Sequence.
	Ordering Kind = "ordering"
)

// Kinds lists every kind, in the order forms offer them.
var Kinds = []Kind{Single, Multiple, TrueFalse, Numeric, Short, Matching, Ordering}

// Option is one choice of a Single, Multiple or TrueFalse item, with the
// feedback shown to whoever chose it.
type Option struct {
	ID       string `json:"id"`
	Text     string `json:"text"`
	Correct  bool   `json:"correct,omitempty"`
	Feedback string `json:"feedback,omitempty"`
}

// Pair is one line of a Matching item: Left is shown, Right is the answer.
type Pair struct {
	Left  string `json:"left"`
	Right string `json:"right"`
}

// Item is one auto-graded question. It is stored, as it was when drawn,
// in the attempt, so an attempt is always graded against the questions
// its student saw.
type Item struct {
	// ID is the caller's stable identifier of the question (e.g. its bank
	// row), the same in every attempt that draws it.
	ID     string `json:"id,omitempty"`
	Kind   Kind   `json:"kind"`
	Prompt string `json:"prompt"`
	// Points is the item's maximum score; 0 means 1.
	Points float64 `json:"points,omitempty"`
	// Topics are the caller's topic keys the item exercises.
	Topics []string `json:"topics,omitempty"`
	// Options are the choices of Single, Multiple and TrueFalse items.
	Options []Option `json:"options,omitempty"`
	// Value and Tolerance define a Numeric item's accepted interval
	// [Value-Tolerance, Value+Tolerance].
	Value     float64 `json:"value,omitempty"`
	Tolerance float64 `json:"tolerance,omitempty"`
	// Accepted are a Short item's accepted answers.
	Accepted []string `json:"accepted,omitempty"`
	// Pairs are a Matching item's lines.
	Pairs []Pair `json:"pairs,omitempty"`
	// Sequence is an Ordering item's elements in their correct order.
	Sequence []string `json:"sequence,omitempty"`
	// Right and Wrong are general feedback, shown after grading when the
	// answer earned full marks, or not.
	Right string `json:"right,omitempty"`
	Wrong string `json:"wrong,omitempty"`
}

// TrueFalseItem builds a TrueFalse item whose correct answer is truth.
func TrueFalseItem(id, prompt string, truth bool) Item {
	return Item{ID: id, Kind: TrueFalse, Prompt: prompt, Options: []Option{
		{ID: "true", Text: "True", Correct: truth},
		{ID: "false", Text: "False", Correct: !truth},
	}}
}

// MaxScore is the item's maximum score.
func (it Item) MaxScore() float64 {
	if it.Points <= 0 {
		return 1
	}
	return it.Points
}

// Validate reports the first problem that would make the item ungradable,
// naming the field.
func (it Item) Validate() error {
	bad := func(field, format string, args ...any) error {
		return errs.InvalidField(field, fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(it.ID) == "" {
		return bad("id", "is required")
	}
	if strings.TrimSpace(it.Prompt) == "" {
		return bad("prompt", "is required")
	}
	if it.Points < 0 || math.IsNaN(it.Points) || math.IsInf(it.Points, 0) {
		return bad("points", "must be a positive number")
	}
	switch it.Kind {
	case Single, Multiple, TrueFalse:
		if len(it.Options) < 2 {
			return bad("options", "needs at least two options")
		}
		seen := map[string]bool{}
		correct := 0
		for _, o := range it.Options {
			if o.ID == "" || seen[o.ID] {
				return bad("options", "every option needs its own ID (%q is missing or repeated)", o.ID)
			}
			if strings.TrimSpace(o.Text) == "" {
				return bad("options", "option %q has no text", o.ID)
			}
			seen[o.ID] = true
			if o.Correct {
				correct++
			}
		}
		switch {
		case it.Kind == TrueFalse && (len(it.Options) != 2 || !seen["true"] || !seen["false"]):
			return bad("options", "a true/false item has exactly the options \"true\" and \"false\"")
		case it.Kind != Multiple && correct != 1:
			return bad("options", "exactly one option must be correct (found %d)", correct)
		case it.Kind == Multiple && correct == 0:
			return bad("options", "at least one option must be correct")
		}
	case Numeric:
		if math.IsNaN(it.Value) || math.IsInf(it.Value, 0) {
			return bad("value", "must be a number")
		}
		if it.Tolerance < 0 || math.IsNaN(it.Tolerance) || math.IsInf(it.Tolerance, 0) {
			return bad("tolerance", "must be zero or a positive number")
		}
	case Short:
		ok := false
		for _, a := range it.Accepted {
			if Normalize(a) != "" {
				ok = true
			}
		}
		if !ok {
			return bad("accepted", "needs at least one accepted answer")
		}
	case Matching:
		if len(it.Pairs) < 2 {
			return bad("pairs", "needs at least two pairs")
		}
		seen := map[string]bool{}
		for _, p := range it.Pairs {
			if strings.TrimSpace(p.Left) == "" || strings.TrimSpace(p.Right) == "" {
				return bad("pairs", "every pair needs a left and a right side")
			}
			if seen[p.Left] {
				return bad("pairs", "the left side %q is repeated", p.Left)
			}
			seen[p.Left] = true
		}
	case Ordering:
		if len(it.Sequence) < 2 {
			return bad("sequence", "needs at least two elements")
		}
		seen := map[string]bool{}
		for _, s := range it.Sequence {
			if strings.TrimSpace(s) == "" || seen[s] {
				return bad("sequence", "elements must be non-empty and distinct (%q)", s)
			}
			seen[s] = true
		}
	default:
		return bad("kind", "must be one of single, multiple, truefalse, numeric, short, matching, ordering")
	}
	return nil
}

// Answer is a response to one item, the same shape for every kind so that
// forms and JSON carry it alike:
//
//	Single, TrueFalse  [option ID]
//	Multiple           option IDs chosen, in any order
//	Numeric, Short     [text as typed]
//	Matching           the Right chosen for each pair, in the order of Pairs
//	Ordering           the elements in the order given
type Answer []string

// Result is the grade of one answer.
type Result struct {
	ItemID string `json:"item_id"`
	// Score is in [0, Max], rounded to four decimals.
	Score float64 `json:"score"`
	Max   float64 `json:"max"`
	// Fraction is Score / Max.
	Fraction float64 `json:"fraction"`
	// Correct is full marks.
	Correct bool `json:"correct"`
	// Answered is false when nothing was given.
	Answered bool `json:"answered"`
	// Feedback is the feedback of every option chosen, then the item's
	// general feedback.
	Feedback []string `json:"feedback,omitempty"`
}

// round4 keeps scores to four decimals so that sums and comparisons are
// the same on every machine and after a round trip through the database.
func round4(f float64) float64 { return math.Round(f*1e4) / 1e4 }

// Grade scores answer against the item. It is a pure function: the same
// item and answer always give the same result.
//
//   - Single, TrueFalse: full marks for the correct option, else 0.
//   - Multiple: fraction = max(0, R/C − W/I), where C is the number of
//     correct options, I of incorrect ones, R and W how many of each were
//     chosen (every right choice earns its share, every wrong one takes
//     its share back; with no incorrect options W/I is 0).
//   - Numeric: full marks when |x − Value| ≤ Tolerance; "3,5" and "3.5"
//     are both read as 3.5.
//   - Short: full marks when the normalised answer equals a normalised
//     accepted answer (see Normalize).
//   - Matching: fraction = pairs matched correctly / pairs.
//   - Ordering: fraction = elements in their correct position / elements.
func Grade(it Item, a Answer) Result {
	r := Result{ItemID: it.ID, Max: it.MaxScore()}
	for _, s := range a {
		if strings.TrimSpace(s) != "" {
			r.Answered = true
		}
	}
	frac := 0.0
	if r.Answered {
		switch it.Kind {
		case Single, TrueFalse, Multiple:
			frac, r.Feedback = gradeChoice(it, a)
		case Numeric:
			if x, ok := ParseNumber(a[0]); ok && math.Abs(x-it.Value) <= it.Tolerance+1e-9 {
				frac = 1
			}
		case Short:
			got := Normalize(a[0])
			for _, acc := range it.Accepted {
				if got == Normalize(acc) {
					frac = 1
				}
			}
		case Matching:
			right := 0
			for i, p := range it.Pairs {
				if i < len(a) && strings.TrimSpace(a[i]) == p.Right {
					right++
				}
			}
			frac = float64(right) / float64(len(it.Pairs))
		case Ordering:
			right := 0
			for i, s := range it.Sequence {
				if i < len(a) && a[i] == s {
					right++
				}
			}
			frac = float64(right) / float64(len(it.Sequence))
		}
	}
	r.Fraction = round4(frac)
	r.Score = round4(frac * r.Max)
	r.Correct = r.Fraction == 1
	switch {
	case r.Correct && it.Right != "":
		r.Feedback = append(r.Feedback, it.Right)
	case !r.Correct && it.Wrong != "":
		r.Feedback = append(r.Feedback, it.Wrong)
	}
	return r
}

func gradeChoice(it Item, a Answer) (float64, []string) {
	chosen := map[string]bool{}
	for _, id := range a {
		chosen[strings.TrimSpace(id)] = true
	}
	var fb []string
	var correct, incorrect, right, wrong int
	for _, o := range it.Options {
		if o.Correct {
			correct++
		} else {
			incorrect++
		}
		if !chosen[o.ID] {
			continue
		}
		if o.Feedback != "" {
			fb = append(fb, o.Feedback)
		}
		if o.Correct {
			right++
		} else {
			wrong++
		}
	}
	if it.Kind != Multiple {
		// More than one choice on a single-choice item is not an answer to it.
		if right == 1 && wrong == 0 {
			return 1, fb
		}
		return 0, fb
	}
	frac := float64(right) / float64(correct)
	if incorrect > 0 {
		frac -= float64(wrong) / float64(incorrect)
	}
	return math.Max(0, frac), fb
}

// ParseNumber reads a number as people type it: surrounding spaces are
// ignored and a single decimal comma is read as a point ("3,5" = 3.5).
func ParseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if strings.Count(s, ",") == 1 && !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// Normalize is how Short answers are compared: accents removed (é → e),
// lower case, runs of spaces made one, spaces and a final full stop trimmed.
func Normalize(s string) string {
	t := transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	out = strings.ToLower(strings.Join(strings.Fields(out), " "))
	return strings.TrimSpace(strings.TrimSuffix(out, "."))
}

// Question is an item as a student sees it: no correct answers, options
// and right-hand sides in an order fixed by the attempt.
type Question struct {
	ID     string   `json:"id"`
	Number int      `json:"number"`
	Kind   Kind     `json:"kind"`
	Prompt string   `json:"prompt"`
	Points float64  `json:"points"`
	Topics []string `json:"topics,omitempty"`
	// Options are the choices (Single, Multiple, TrueFalse).
	Options []Choice `json:"options,omitempty"`
	// Left are a Matching item's prompts; Choices its right-hand sides, or an
	// Ordering item's elements, shuffled.
	Left    []string `json:"left,omitempty"`
	Choices []string `json:"choices,omitempty"`
}

// Choice is an option without its correctness.
type Choice struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// Present returns the item as question number n of an attempt. The order of
// options is shuffled with seed (the attempt's ID), so it is the same every
// time the attempt is shown. True/false keeps its order.
func Present(it Item, n int, seed uint64) Question {
	q := Question{ID: it.ID, Number: n, Kind: it.Kind, Prompt: it.Prompt, Points: it.MaxScore(), Topics: it.Topics}
	rng := seeded(seed, it.ID)
	for _, o := range it.Options {
		q.Options = append(q.Options, Choice{ID: o.ID, Text: o.Text})
	}
	if it.Kind != TrueFalse {
		rng.Shuffle(len(q.Options), func(i, j int) { q.Options[i], q.Options[j] = q.Options[j], q.Options[i] })
	}
	switch it.Kind {
	case Matching:
		for _, p := range it.Pairs {
			q.Left = append(q.Left, p.Left)
			q.Choices = append(q.Choices, p.Right)
		}
	case Ordering:
		q.Choices = append(q.Choices, it.Sequence...)
	}
	rng.Shuffle(len(q.Choices), func(i, j int) { q.Choices[i], q.Choices[j] = q.Choices[j], q.Choices[i] })
	return q
}

func seeded(seed uint64, id string) *rand.Rand {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	_, _ = h.Write(b[:])
	_, _ = h.Write([]byte(id))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}
