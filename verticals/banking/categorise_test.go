package banking

import "testing"

func TestCategorise(t *testing.T) {
	rules := append([]Rule{
		{Match: "BAR SPORT", Category: CatEntertainment, Source: "org"},
		{Match: "ESSELUNGA", Category: CatShopping, Source: "customer"}, // the customer's correction
	}, DefaultRules...)
	cases := []struct {
		desc string
		mcc  int
		amt  int64
		want Category
	}{
		{"PAGAMENTO POS ESSELUNGA MILANO 12/03", 5411, -4520, CatShopping}, // customer beats default and MCC
		{"CONAD SUPERSTORE", 0, -2300, CatGroceries},
		{"Bar Sport Via Roma", 5814, -350, CatEntertainment}, // org beats default "BAR "
		{"UNKNOWN SHOP", 5411, -100, CatGroceries},           // MCC
		{"UNKNOWN HOTEL", 3501, -10000, CatTravel},
		{"UNKNOWN", 9999, -100, CatOther}, // unknown MCC
		{"Stipendio novembre ACME SPA", 0, 250000, CatIncome},
		{"refund from someone", 0, 1500, CatIncome},
		{"something", 0, -100, CatOther},
		{"SDD ENEL ENERGIA", 0, -8700, CatUtilities},
	}
	for _, c := range cases {
		if got := Categorise(c.desc, c.mcc, c.amt, rules); got != c.want {
			t.Errorf("Categorise(%q, %d) = %s, want %s", c.desc, c.mcc, got, c.want)
		}
	}
	if n, ok := MCCName(5411); !ok || n != "Grocery Stores, Supermarkets" {
		t.Errorf("MCCName(5411) = %q", n)
	}
	if NormalizeMerchant("Pagamento POS  Esselunga-Milano*12") != "ESSELUNGA MILANO 12" {
		t.Errorf("normalize: %q", NormalizeMerchant("Pagamento POS  Esselunga-Milano*12"))
	}
}
