package money

import (
	"errors"
	"math"
	"math/big"
	"testing"
)

func TestRoundHalfAway(t *testing.T) {
	cases := []struct {
		num, den int64
		want     int64
	}{
		{5, 10, 1}, {-5, 10, -1}, {4, 10, 0}, {-4, 10, 0}, {15, 10, 2}, {25, 10, 3}, {-25, 10, -3}, {1, 3, 0}, {2, 3, 1}, {7, 1, 7},
	}
	for _, c := range cases {
		if got := RoundHalfAway(big.NewRat(c.num, c.den)); got != c.want {
			t.Errorf("round(%d/%d) = %d, want %d", c.num, c.den, got, c.want)
		}
	}
}

func TestArithmetic(t *testing.T) {
	a, b := New(1050, "EUR"), New(-75, "EUR")
	if s, err := a.Add(b); err != nil || s.Minor != 975 {
		t.Fatalf("add: %v %v", s, err)
	}
	if _, err := a.Add(New(1, "USD")); !errors.Is(err, ErrCurrencyMismatch) {
		t.Fatalf("mixed currencies: %v", err)
	}
	if _, err := New(1<<62, "EUR").Add(New(1<<62, "EUR")); err == nil {
		t.Fatal("overflow not detected")
	}
	// 1.5% of €10.10 = 15.15 cents → 15; of €10.30 = 15.45 → 15; of €10.34 = 15.51 → 16
	rate := big.NewRat(15, 1000)
	for minor, want := range map[int64]int64{1010: 15, 1030: 15, 1034: 16, 1000: 15, -1034: -16} {
		if got, err := New(minor, "EUR").Mul(rate); err != nil || got.Minor != want {
			t.Errorf("%d × 1.5%% = %d (%v), want %d", minor, got.Minor, err, want)
		}
	}
}

// TestArithmeticNeverWraps: every operation on the edges of int64 answers
// ErrOverflow instead of a wrapped (sign-flipped) result (issue 19 item 9).
func TestArithmeticNeverWraps(t *testing.T) {
	mx, mn := New(math.MaxInt64, "EUR"), New(math.MinInt64, "EUR")
	one := New(1, "EUR")
	for name, f := range map[string]func() (Amount, error){
		"max+1":      func() (Amount, error) { return mx.Add(one) },
		"min-1":      func() (Amount, error) { return mn.Sub(one) },
		"0-min":      func() (Amount, error) { return New(0, "EUR").Sub(mn) },
		"1-min":      func() (Amount, error) { return one.Sub(mn) },
		"max×2":      func() (Amount, error) { return mx.Mul(big.NewRat(2, 1)) },
		"min×-1":     func() (Amount, error) { return mn.Mul(big.NewRat(-1, 1)) },
		"sum(max,1)": func() (Amount, error) { return Sum("EUR", mx, one) },
	} {
		if got, err := f(); !errors.Is(err, ErrOverflow) {
			t.Errorf("%s = %v, %v; want ErrOverflow", name, got, err)
		}
	}
	if d, err := New(-5, "EUR").Sub(mn); err != nil || d.Minor != math.MaxInt64-4 {
		t.Errorf("-5 - min = %v, %v", d, err)
	}
	for _, c := range [][2]int64{{math.MaxInt64, 2}, {math.MinInt64, -1}, {-1, math.MinInt64}, {1 << 32, 1 << 31}, {MaxMinor, 10_000}} {
		if _, err := MulMinor(c[0], c[1]); !errors.Is(err, ErrOverflow) {
			t.Errorf("%d × %d: %v, want ErrOverflow", c[0], c[1], err)
		}
	}
	if p, err := MulMinor(MaxMinor, 9_000); err != nil || p != 9_000*MaxMinor {
		t.Errorf("MaxMinor × 9000 = %d, %v", p, err)
	}
	if _, err := New(100, "EUR").Allocate(math.MaxInt64, 1); !errors.Is(err, ErrOverflow) {
		t.Errorf("allocate with weights summing past int64: %v", err)
	}
	if !InRange(MaxMinor) || !InRange(-MaxMinor) || InRange(MaxMinor+1) || InRange(math.MinInt64) {
		t.Error("InRange does not bound at ±MaxMinor")
	}
}

func TestAllocateNeverLosesACent(t *testing.T) {
	cases := []struct {
		minor   int64
		weights []int64
		want    []int64
	}{
		{100, []int64{1, 1, 1}, []int64{34, 33, 33}},
		{-100, []int64{1, 1, 1}, []int64{-34, -33, -33}},
		{1000, []int64{3, 7}, []int64{300, 700}},
		{5, []int64{1, 0, 1}, []int64{3, 0, 2}},
		{101, []int64{50, 25, 25}, []int64{51, 25, 25}},
	}
	for _, c := range cases {
		parts, err := New(c.minor, "EUR").Allocate(c.weights...)
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for i, p := range parts {
			sum += p.Minor
			if p.Minor != c.want[i] {
				t.Errorf("allocate %d %v: part %d = %d, want %d", c.minor, c.weights, i, p.Minor, c.want[i])
			}
		}
		if sum != c.minor {
			t.Errorf("allocate %d %v sums to %d", c.minor, c.weights, sum)
		}
	}
	if _, err := New(1, "EUR").Allocate(0, 0); err == nil {
		t.Error("zero weights accepted")
	}
}

func TestParse(t *testing.T) {
	cases := []struct {
		in, cur, locale string
		want            int64
		bad             bool
	}{
		{"1234.56", "EUR", "en", 123456, false},
		{"1,234.56", "EUR", "en", 123456, false},
		{"1.234,56", "EUR", "it", 123456, false},
		{"12.50", "EUR", "it", 1250, false},   // an English decimal in an Italian file
		{"1.234", "EUR", "it", 123400, false}, // Italian grouping
		{"-7", "EUR", "en", -700, false},
		{"(12.00)", "EUR", "en", -1200, false},
		{"€ 3,5", "EUR", "it", 350, false},
		{"1500", "JPY", "en", 1500, false},
		{"0.001", "EUR", "en", 0, true},
		{"15.5", "JPY", "en", 0, true},
		{"abc", "EUR", "en", 0, true},
		{"", "EUR", "en", 0, true},
		{"1.2.3", "EUR", "en", 0, true},
		{"1", "euro", "en", 0, true},
		{"99999999999999999999", "EUR", "en", 0, true},
	}
	for _, c := range cases {
		got, err := Parse(c.in, c.cur, c.locale)
		if c.bad {
			if err == nil {
				t.Errorf("Parse(%q, %s) = %v, want an error", c.in, c.cur, got)
			}
			continue
		}
		if err != nil || got.Minor != c.want || got.Currency != c.cur {
			t.Errorf("Parse(%q, %s, %s) = %v, %v; want %d", c.in, c.cur, c.locale, got, err, c.want)
		}
	}
}

func TestFormatAndString(t *testing.T) {
	a := New(-123456, "EUR")
	if a.Format("it") != "-1.234,56\u00a0€" || a.Format("en") != "-€1,234.56" || a.String() != "-1,234.56 EUR" {
		t.Fatalf("%q %q %q", a.Format("it"), a.Format("en"), a.String())
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1234.56", "1.234,56", "-7", "(1)", "€ 3,5", "0.001", ""} {
		f.Add(s, "it")
		f.Add(s, "en")
	}
	f.Fuzz(func(t *testing.T, s, locale string) {
		a, err := Parse(s, "EUR", locale)
		if err != nil {
			return
		}
		// What parses round-trips through the plain format.
		b, err := Parse(a.String()[:len(a.String())-4], "EUR", "en")
		if err != nil || b != a {
			t.Fatalf("%q → %v → %v (%v)", s, a, b, err)
		}
	})
}
