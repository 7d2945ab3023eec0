package education_test

import (
	"testing"

	"github.com/portalkit/portalkit/verticals/education"
)

// TestBKTHandComputed follows response sequences through the model; the
// expected values were worked out by hand from the formulas in mastery.go
// (P(L0)=0.2, T=0.15, G=0.2, S=0.1), e.g. one right answer:
// 0.2·0.9 / (0.2·0.9 + 0.8·0.2) = 0.5294, then + 0.4706·0.15 = 0.6.
func TestBKTHandComputed(t *testing.T) {
	cases := []struct {
		seq     string
		want    []float64
		verdict string
	}{
		{"11111", []float64{0.6, 0.8903, 0.9774, 0.9956, 0.9992}, education.VerdictMastered},
		{"00000", []float64{0.1758, 0.1721, 0.1715, 0.1714, 0.1714}, education.VerdictWeak},
		{"10101", []float64{0.6, 0.2842, 0.695, 0.3384, 0.7426}, education.VerdictLearning},
		{"0001111", []float64{0.1758, 0.1721, 0.1715, 0.56, 0.8736, 0.9735, 0.9949}, education.VerdictMastered},
		// Three right answers are not enough for a verdict, however good.
		{"111", []float64{0.6, 0.8903, 0.9774}, education.VerdictNone},
		{"0000", []float64{0.1758, 0.1721, 0.1715, 0.1714}, education.VerdictNone},
	}
	for _, c := range cases {
		p := education.PInit
		for i, ch := range c.seq {
			p = education.Update(p, ch == '1')
			if d := p - c.want[i]; d > 0.00005 || d < -0.00005 {
				t.Fatalf("%s: after answer %d P(L) = %.5f, want %.4f", c.seq, i+1, p, c.want[i])
			}
		}
		if v := education.Verdict(p, len(c.seq)); v != c.verdict {
			t.Errorf("%s: verdict %q, want %q", c.seq, v, c.verdict)
		}
	}
}
