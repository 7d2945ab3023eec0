package automotive

import (
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/portalkit/portalkit/core/money"
)

// Instalment is one row of an amortisation schedule.
type Instalment struct {
	Number    int          `json:"number"`
	Due       time.Time    `json:"due"`
	Payment   money.Amount `json:"payment"`
	Interest  money.Amount `json:"interest"`
	Principal money.Amount `json:"principal"`
	Balance   money.Amount `json:"balance" doc:"Outstanding principal after this payment"`
}

// LoanTerms describe a loan or lease with monthly payments.
type LoanTerms struct {
	Principal money.Amount
	// AnnualRateBP is the nominal annual interest rate in basis points
	// (650 = 6.50%); the monthly rate is one twelfth of it.
	AnnualRateBP int64
	Months       int
	Start        time.Time // first payment is one month after Start
	// Residual is a lease's final balloon (zero for a loan).
	Residual money.Amount
}

// Schedule computes the amortisation schedule exactly (French method:
// constant payment). The payment is computed with exact rationals and
// rounded half away from zero to the cent; each month's interest is the
// outstanding balance × monthly rate, rounded the same way; the last
// payment absorbs the rounding so the balance ends at exactly the residual
// (zero for a loan), which is then paid as the balloon.
func Schedule(t LoanTerms) ([]Instalment, error) {
	cur := t.Principal.Currency
	if t.Principal.Minor <= 0 || t.Principal.Minor > money.MaxMinor {
		return nil, fmt.Errorf("principal must be positive and at most %d minor units", money.MaxMinor)
	}
	if t.Months < 1 || t.Months > 600 {
		return nil, errors.New("term must be between 1 and 600 months")
	}
	if t.AnnualRateBP < 0 || t.AnnualRateBP > 10000 {
		return nil, errors.New("annual rate must be between 0% and 100%")
	}
	if t.Residual.Currency == "" {
		t.Residual = money.New(0, cur)
	}
	if t.Residual.Currency != cur || t.Residual.Minor < 0 || t.Residual.Minor >= t.Principal.Minor {
		return nil, errors.New("residual must be in the loan's currency, at least zero and less than the principal")
	}
	r := big.NewRat(t.AnnualRateBP, 12*10000) // monthly rate
	P := new(big.Rat).SetInt64(t.Principal.Minor)
	RV := new(big.Rat).SetInt64(t.Residual.Minor)
	n := int64(t.Months)
	var payment *big.Rat
	if r.Sign() == 0 {
		payment = new(big.Rat).Quo(new(big.Rat).Sub(P, RV), new(big.Rat).SetInt64(n))
	} else {
		// (1+r)^n exactly
		onePlus := new(big.Rat).Add(big.NewRat(1, 1), r)
		pow := new(big.Rat).SetInt64(1)
		for i := int64(0); i < n; i++ {
			pow.Mul(pow, onePlus)
		}
		// payment = (P − RV/(1+r)^n) · r / (1 − (1+r)^−n)
		pv := new(big.Rat).Sub(P, new(big.Rat).Quo(RV, pow))
		inv := new(big.Rat).Quo(big.NewRat(1, 1), pow)
		den := new(big.Rat).Sub(big.NewRat(1, 1), inv)
		payment = new(big.Rat).Quo(new(big.Rat).Mul(pv, r), den)
	}
	pay := money.RoundHalfAway(payment)
	balance := t.Principal.Minor
	out := make([]Instalment, 0, t.Months)
	for i := 1; i <= t.Months; i++ {
		interest := money.RoundHalfAway(new(big.Rat).Mul(new(big.Rat).SetInt64(balance), r))
		principal := pay - interest
		if i == t.Months {
			principal = balance - t.Residual.Minor
		}
		balance -= principal
		out = append(out, Instalment{
			Number: i, Due: t.Start.AddDate(0, i, 0),
			Payment: money.New(principal+interest, cur), Interest: money.New(interest, cur),
			Principal: money.New(principal, cur), Balance: money.New(balance, cur),
		})
	}
	return out, nil
}
