// Package money is exact money for every module: an amount is an integer
// count of minor units (cents) with an ISO 4217 currency. There are no
// floats anywhere. Arithmetic between different currencies is an error.
//
// Rounding rules (written down once, used everywhere):
//   - Interest, rates and ratios are computed with exact rationals
//     (math/big.Rat) and rounded to minor units only at the end.
//   - Rounding is half away from zero ("commercial rounding", as banks and
//     invoices round): 0.5 cent → 1 cent, −0.5 cent → −1 cent.
//   - Splitting an amount into parts (instalments, allocations) never loses
//     or invents a cent: Allocate distributes the remainder one minor unit
//     at a time to the first parts, so the parts always sum to the whole.
//
// money imports core/i18n only (for formatting).
package money

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/portalkit/portalkit/core/i18n"
)

// Amount is money: Minor units of Currency.
type Amount struct {
	Minor    int64  `json:"minor" doc:"Amount in minor units (cents)"`
	Currency string `json:"currency" doc:"ISO 4217 code, e.g. EUR"`
}

var codePattern = regexp.MustCompile(`^[A-Z]{3}$`)

// ErrCurrencyMismatch is returned by arithmetic on amounts of different
// currencies.
var ErrCurrencyMismatch = errors.New("money: different currencies")

// ErrOverflow is returned by arithmetic whose result does not fit in an
// int64 of minor units.
var ErrOverflow = errors.New("money: overflow")

// MaxMinor bounds every amount a person or a system sends in: ±10^15
// minor units (ten trillion euros). Amounts within it can be summed by the
// thousand and multiplied by the small counts of a plan or a schedule
// without leaving int64; the API schemas carry it as
// minimum:"-1000000000000000" maximum:"1000000000000000".
const MaxMinor int64 = 1_000_000_000_000_000

// InRange reports whether minor is within ±MaxMinor.
func InRange(minor int64) bool { return minor >= -MaxMinor && minor <= MaxMinor }

// CheckPositive is what is wrong with minor as a positive amount sent in
// ("must be positive", "must be at most …"), or "" when nothing is.
func CheckPositive(minor int64) string {
	switch {
	case minor <= 0:
		return "must be positive"
	case minor > MaxMinor:
		return fmt.Sprintf("must be at most %d minor units", MaxMinor)
	}
	return ""
}

// AddMinor returns a + b, or ErrOverflow.
func AddMinor(a, b int64) (int64, error) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, ErrOverflow
	}
	return s, nil
}

// SubMinor returns a − b, or ErrOverflow.
func SubMinor(a, b int64) (int64, error) {
	d := a - b
	if (b > 0 && d > a) || (b < 0 && d < a) {
		return 0, ErrOverflow
	}
	return d, nil
}

// MulMinor returns a × n, or ErrOverflow.
func MulMinor(a, n int64) (int64, error) {
	if a == 0 || n == 0 {
		return 0, nil
	}
	p := a * n
	if p/n != a || (a == -1 && n == math.MinInt64) || (n == -1 && a == math.MinInt64) {
		return 0, ErrOverflow
	}
	return p, nil
}

// New returns minor units of currency.
func New(minor int64, currency string) Amount { return Amount{Minor: minor, Currency: currency} }

// ValidCurrency reports whether code looks like an ISO 4217 code.
func ValidCurrency(code string) bool { return codePattern.MatchString(code) }

// Scale returns the number of minor-unit digits of the amount's currency.
func (a Amount) Scale() int { return i18n.CurrencyScale(a.Currency) }

// IsZero reports whether the amount is zero.
func (a Amount) IsZero() bool { return a.Minor == 0 }

// Neg returns −a.
func (a Amount) Neg() Amount { return Amount{-a.Minor, a.Currency} }

// Add returns a + b.
func (a Amount) Add(b Amount) (Amount, error) {
	if a.Currency != b.Currency {
		return Amount{}, fmt.Errorf("%w: %s + %s", ErrCurrencyMismatch, a.Currency, b.Currency)
	}
	s, err := AddMinor(a.Minor, b.Minor)
	if err != nil {
		return Amount{}, err
	}
	return Amount{s, a.Currency}, nil
}

// Sub returns a − b.
func (a Amount) Sub(b Amount) (Amount, error) {
	if a.Currency != b.Currency {
		return Amount{}, fmt.Errorf("%w: %s - %s", ErrCurrencyMismatch, a.Currency, b.Currency)
	}
	d, err := SubMinor(a.Minor, b.Minor)
	if err != nil {
		return Amount{}, err
	}
	return Amount{d, a.Currency}, nil
}

// Cmp compares a and b (same currency): −1, 0 or +1.
func (a Amount) Cmp(b Amount) (int, error) {
	if a.Currency != b.Currency {
		return 0, ErrCurrencyMismatch
	}
	switch {
	case a.Minor < b.Minor:
		return -1, nil
	case a.Minor > b.Minor:
		return 1, nil
	}
	return 0, nil
}

// Mul returns a × r rounded half away from zero to minor units, or
// ErrOverflow when that does not fit in int64.
func (a Amount) Mul(r *big.Rat) (Amount, error) {
	x := new(big.Rat).Mul(new(big.Rat).SetInt64(a.Minor), r)
	n := RoundHalfAway(x)
	if n == math.MinInt64 || n == math.MaxInt64 {
		return Amount{}, ErrOverflow
	}
	return Amount{n, a.Currency}, nil
}

// RoundHalfAway rounds a rational to the nearest integer, halves away from
// zero; beyond int64 it saturates at math.MinInt64 or math.MaxInt64.
func RoundHalfAway(x *big.Rat) int64 {
	num := new(big.Int).Set(x.Num())
	den := x.Denom()
	neg := num.Sign() < 0
	num.Abs(num)
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	if new(big.Int).Mul(r, big.NewInt(2)).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if neg {
		q.Neg(q)
	}
	if !q.IsInt64() {
		if neg {
			return math.MinInt64
		}
		return math.MaxInt64
	}
	return q.Int64()
}

// Allocate splits a into parts proportional to weights without losing a
// minor unit: the parts sum exactly to a. Remainders go one unit at a time
// to the parts with the largest fractional share (ties: the earlier part).
func (a Amount) Allocate(weights ...int64) ([]Amount, error) {
	var total int64
	for _, w := range weights {
		if w < 0 {
			return nil, errors.New("money: negative weight")
		}
		var err error
		if total, err = AddMinor(total, w); err != nil {
			return nil, err
		}
	}
	if total == 0 {
		return nil, errors.New("money: weights sum to zero")
	}
	out := make([]Amount, len(weights))
	type rem struct {
		i int
		r *big.Rat
	}
	var rems []rem
	var sum int64
	for i, w := range weights {
		share := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(a.Minor), big.NewInt(w)), big.NewInt(total))
		fl := new(big.Int).Quo(share.Num(), share.Denom()) // truncates toward zero
		out[i] = Amount{fl.Int64(), a.Currency}
		sum += fl.Int64()
		frac := new(big.Rat).Sub(share, new(big.Rat).SetInt(fl))
		rems = append(rems, rem{i, frac.Abs(frac)})
	}
	left := a.Minor - sum
	step := int64(1)
	if left < 0 {
		step = -1
		left = -left
	}
	// largest remainders first, stable by index
	for k := 0; k < len(rems); k++ {
		for j := k + 1; j < len(rems); j++ {
			if rems[j].r.Cmp(rems[k].r) > 0 {
				rems[j], rems[k] = rems[k], rems[j]
			}
		}
	}
	for k := 0; left > 0; k = (k + 1) % len(rems) {
		out[rems[k].i].Minor += step
		left--
	}
	return out, nil
}

// Parse reads a decimal amount such as "1234.56", "-7", "1,234.56" (en) or
// "1.234,56" (it) in currency, refusing more decimals than the currency
// has and amounts beyond ±MaxMinor. It never goes through floats.
func Parse(s, currency, locale string) (Amount, error) {
	if !ValidCurrency(currency) {
		return Amount{}, fmt.Errorf("money: %q is not an ISO 4217 currency code", currency)
	}
	s = strings.TrimSpace(s)
	for _, sym := range []string{"€", "$", "£", "¥", currency} {
		s = strings.TrimSpace(strings.ReplaceAll(s, sym, ""))
	}
	s = strings.ReplaceAll(s, "\u00a0", "")
	s = strings.ReplaceAll(s, " ", "")
	dec, group := ".", ","
	if locale == "it" {
		dec, group = ",", "."
	}
	// A string with only the other locale's decimal mark (e.g. "12.50" in
	// an Italian CSV from an English system) is read with that mark when
	// it cannot be grouping (grouping needs exactly three digits after).
	if !strings.Contains(s, dec) && strings.Count(s, group) == 1 {
		if i := strings.Index(s, group); len(s)-i-1 != 3 {
			dec, group = group, dec
		}
	}
	s = strings.ReplaceAll(s, group, "")
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	case strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")"):
		neg, s = true, s[1:len(s)-1]
	}
	whole, frac, hasFrac := strings.Cut(s, dec)
	scale := i18n.CurrencyScale(currency)
	if whole == "" && !hasFrac || strings.ContainsAny(whole, ".,") {
		return Amount{}, fmt.Errorf("money: %q is not an amount", s)
	}
	if len(frac) > scale {
		return Amount{}, fmt.Errorf("money: %q has more than %d decimals for %s", s, scale, currency)
	}
	for len(frac) < scale {
		frac += "0"
	}
	if whole == "" {
		whole = "0"
	}
	digits := whole + frac
	for _, r := range digits {
		if r < '0' || r > '9' {
			return Amount{}, fmt.Errorf("money: %q is not an amount", s)
		}
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > MaxMinor {
		return Amount{}, fmt.Errorf("money: %q is too large", s)
	}
	if neg {
		n = -n
	}
	return Amount{n, currency}, nil
}

// Format formats the amount for locale ("€1,234.56", "1.234,56 €").
func (a Amount) Format(locale string) string { return i18n.FormatMoney(locale, a.Minor, a.Currency) }

// String is the amount in plain notation with its code ("1234.56 EUR").
func (a Amount) String() string {
	return i18n.FormatDecimal("en", a.Minor, a.Scale()) + " " + a.Currency
}

// Sum adds amounts of one currency; an empty list is zero of currency.
func Sum(currency string, amounts ...Amount) (Amount, error) {
	total := New(0, currency)
	for _, x := range amounts {
		var err error
		if total, err = total.Add(x); err != nil {
			return Amount{}, err
		}
	}
	return total, nil
}
