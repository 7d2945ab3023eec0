package automotive

import (
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/money"
)

// TestScheduleMatchesAHandComputedExample: €20,000 at 6.00% over 48 months.
// Payment = 20000 × 0.005 / (1 − 1.005^−48) = 469.7010... → €469.70.
// Month 1: interest = 20000.00 × 0.005 = 100.00; principal 369.70;
// balance 19,630.30. Month 2: interest = 19630.30 × 0.005 = 98.1515 → 98.15;
// principal 371.55; balance 19,258.75.
func TestScheduleMatchesAHandComputedExample(t *testing.T) {
	start := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	s, err := Schedule(LoanTerms{Principal: money.New(2_000_000, "EUR"), AnnualRateBP: 600, Months: 48, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	check := func(i int, pay, interest, principal, balance int64) {
		t.Helper()
		r := s[i]
		if r.Payment.Minor != pay || r.Interest.Minor != interest || r.Principal.Minor != principal || r.Balance.Minor != balance {
			t.Errorf("instalment %d = %d/%d/%d/%d, want %d/%d/%d/%d", r.Number,
				r.Payment.Minor, r.Interest.Minor, r.Principal.Minor, r.Balance.Minor, pay, interest, principal, balance)
		}
	}
	check(0, 46970, 10000, 36970, 1963030)
	check(1, 46970, 9815, 37155, 1925875)
	last := s[47]
	if last.Balance.Minor != 0 {
		t.Fatalf("the loan does not end at zero: %d", last.Balance.Minor)
	}
	var principal, total int64
	for _, r := range s {
		principal += r.Principal.Minor
		total += r.Payment.Minor
		if r.Payment.Minor != r.Interest.Minor+r.Principal.Minor {
			t.Fatalf("row %d does not add up", r.Number)
		}
	}
	if principal != 2_000_000 {
		t.Fatalf("principal repaid %d", principal)
	}
	// The last payment absorbs the rounding of 47 payments: within a few cents.
	if d := last.Payment.Minor - 46970; d < -50 || d > 50 {
		t.Fatalf("last payment %d is far from the others", last.Payment.Minor)
	}
	if !s[0].Due.Equal(time.Date(2026, 2, 15, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("first due %v", s[0].Due)
	}
	t.Logf("total paid %d cents (interest %d)", total, total-2_000_000)
}

func TestLeaseWithResidualAndZeroRate(t *testing.T) {
	s, err := Schedule(LoanTerms{Principal: money.New(3_000_000, "EUR"), AnnualRateBP: 399, Months: 36, Residual: money.New(1_200_000, "EUR")})
	if err != nil {
		t.Fatal(err)
	}
	if s[35].Balance.Minor != 1_200_000 {
		t.Fatalf("a lease ends at its residual, got %d", s[35].Balance.Minor)
	}
	z, err := Schedule(LoanTerms{Principal: money.New(1000, "EUR"), Months: 3})
	if err != nil {
		t.Fatal(err)
	}
	if z[0].Payment.Minor != 333 || z[2].Payment.Minor != 334 || z[2].Balance.Minor != 0 {
		t.Fatalf("zero-rate split: %+v", z)
	}
	for _, bad := range []LoanTerms{
		{Principal: money.New(0, "EUR"), Months: 12},
		{Principal: money.New(100, "EUR"), Months: 0},
		{Principal: money.New(100, "EUR"), Months: 12, AnnualRateBP: -1},
		{Principal: money.New(100, "EUR"), Months: 12, Residual: money.New(100, "EUR")},
		{Principal: money.New(100, "EUR"), Months: 12, Residual: money.New(10, "USD")},
	} {
		if _, err := Schedule(bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}
