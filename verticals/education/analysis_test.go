package education_test

import (
	"slices"
	"testing"

	"github.com/portalkit/portalkit/verticals/education"
)

// TestItemAnalysisHandComputed: four first attempts at three one-point
// items (1 = right):
//
//	attempt  i1 i2 i3  total
//	A         1  1  0   2
//	B         1  0  1   2
//	C         0  0  1   1
//	D         1  1  1   3
//
// Facility: i1 3/4, i2 2/4, i3 3/4. Discrimination against the rest of the
// attempt ((total − x) / 2): i1 x=[1,1,0,1] rest=[.5,.5,.5,1] → r = .125/.375
// = 0.3333; i2 x=[1,0,0,1] rest=[.5,1,.5,1] → r = 0 (flagged); i3
// x=[0,1,1,1] rest=[1,.5,0,1] → r = −.375/√(.75·.6875) = −0.5222 (flagged).
func TestItemAnalysisHandComputed(t *testing.T) {
	matrix := map[uint][3]float64{1: {1, 1, 0}, 2: {1, 0, 1}, 3: {0, 0, 1}, 4: {1, 1, 1}}
	var rows []education.Scored
	for a := uint(1); a <= 4; a++ {
		s := matrix[a]
		total := s[0] + s[1] + s[2]
		for i, item := range []string{"i1", "i2", "i3"} {
			rows = append(rows, education.Scored{Attempt: a, Item: item, Score: s[i], Max: 1, Total: total, TotalMax: 3})
		}
	}
	got := education.Analyse(rows)
	want := []struct {
		id    string
		fac   float64
		disc  float64
		flags []string
	}{
		{"i1", 0.75, 0.3333, nil},
		{"i2", 0.5, 0, []string{education.FlagNoDiscriminate}},
		{"i3", 0.75, -0.5222, []string{education.FlagNoDiscriminate}},
	}
	if len(got) != 3 {
		t.Fatalf("got %d items", len(got))
	}
	for i, w := range want {
		g := got[i]
		if g.ItemID != w.id || g.N != 4 || g.Facility != w.fac || g.Discrimination == nil || *g.Discrimination != w.disc || !slices.Equal(g.Flags, w.flags) {
			t.Errorf("%s: %+v (discrimination %v), want facility %v discrimination %v flags %v", w.id, g, deref(g.Discrimination), w.fac, w.disc, w.flags)
		}
	}

	// Everyone right: too easy, no spread so no discrimination; everyone wrong: too hard.
	flat := []education.Scored{
		{Attempt: 1, Item: "easy", Score: 2, Max: 2, Total: 2, TotalMax: 4}, {Attempt: 1, Item: "hard", Score: 0, Max: 2, Total: 2, TotalMax: 4},
		{Attempt: 2, Item: "easy", Score: 2, Max: 2, Total: 2, TotalMax: 4}, {Attempt: 2, Item: "hard", Score: 0, Max: 2, Total: 2, TotalMax: 4},
	}
	got = education.Analyse(flat)
	if got[0].Facility != 1 || got[0].Discrimination != nil || !slices.Equal(got[0].Flags, []string{education.FlagTooEasy}) {
		t.Errorf("easy: %+v", got[0])
	}
	if got[1].Facility != 0 || !slices.Equal(got[1].Flags, []string{education.FlagTooHard}) {
		t.Errorf("hard: %+v", got[1])
	}
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}
