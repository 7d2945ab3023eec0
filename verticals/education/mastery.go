package education

import "math"

// The mastery model is Bayesian Knowledge Tracing (Corbett & Anderson,
// 1995) with one parameter set for every topic:
//
//	P(L0) = 0.2   a student knows a topic before answering anything on it
//	P(T)  = 0.15  they learn it between two answers
//	P(G)  = 0.2   a guess is right without knowing it
//	P(S)  = 0.1   a slip is wrong while knowing it
//
// An answer counts as correct with full marks (a partly right multiple
// choice is a miss). After each answer the posterior is
//
//	right: P(L|r) = P(L)(1−S) / (P(L)(1−S) + (1−P(L))G)
//	wrong: P(L|w) = P(L)S / (P(L)S + (1−P(L))(1−G))
//
// and then P(L) ← P(L|obs) + (1 − P(L|obs))·T. Below MinResponses answers
// there is no verdict; at or above, P(L) ≥ 0.95 is mastered and < 0.6 weak.
const (
	PInit    = 0.2
	PLearn   = 0.15
	PGuess   = 0.2
	PSlip    = 0.1
	Mastered = 0.95
	Weak     = 0.6
	// MinResponses is the fewest answers on a topic that give a verdict.
	MinResponses = 5
)

// Update returns P(L) after one answer.
func Update(p float64, correct bool) float64 {
	var post float64
	if correct {
		post = p * (1 - PSlip) / (p*(1-PSlip) + (1-p)*PGuess)
	} else {
		post = p * PSlip / (p*PSlip + (1-p)*(1-PGuess))
	}
	return math.Round((post+(1-post)*PLearn)*1e6) / 1e6
}

// Verdicts.
const (
	VerdictNone     = "not_enough"
	VerdictWeak     = "weak"
	VerdictLearning = "learning"
	VerdictMastered = "mastered"
)

// Verdict is the word for an estimate after n answers.
func Verdict(p float64, n int) string {
	switch {
	case n < MinResponses:
		return VerdictNone
	case p >= Mastered:
		return VerdictMastered
	case p < Weak:
		return VerdictWeak
	}
	return VerdictLearning
}

// verdictLabels are the English labels of the verdicts (translated in
// it.json).
var verdictLabels = map[string]string{
	VerdictNone:     "Not enough answers yet",
	VerdictWeak:     "Needs work",
	VerdictLearning: "Learning",
	VerdictMastered: "Mastered",
}
