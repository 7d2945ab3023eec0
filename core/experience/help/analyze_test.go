package help

import (
	"strings"
	"testing"
)

func TestTermsDropStopWordsAndStem(t *testing.T) {
	cases := []struct{ locale, in, want string }{
		{"en", "I forgot my password", "forgot password"},
		{"en", "How do I change my garage appointment?", "chang garag appoint"},
		{"en", "Is my car being recalled", "car recal"},
		{"en", "the car's tyres", "car tyre"},
		{"it", "Ho dimenticato la password", "dimentic password"},
		{"it", "Come faccio a spostare la prenotazione dell'auto?", "spost prenot aut"},
		{"it", "perché è così lento", "cos lent"},
		{"it", "prenotare prenotazione", "prenot prenot"},
		{"en", "P0300 code", "p0300 code"},
		{"en", "", ""},
	}
	for _, c := range cases {
		if got := strings.Join(Terms(c.locale, c.in), " "); got != c.want {
			t.Errorf("Terms(%s, %q) = %q, want %q", c.locale, c.in, got, c.want)
		}
	}
}

func TestQueriesQuoteEveryTerm(t *testing.T) {
	s := &Service{vocab: newVocabCache()}
	cases := []struct{ in, fts, ts string }{
		{"winter tyres", `("tyre" OR "winter")`, `('tyre' | 'winter')`},
		{`"winter tyres" -summer`, `("tyre" OR "winter") AND "winter tyre" NOT "summer"`, `('tyre' | 'winter') & ('winter' <-> 'tyre') & !'summer'`},
		{`NEAR(a b) * ^ "unclosed`, `("near" OR "unclos") AND "unclos"`, `('near' | 'unclos') & ('unclos')`},
		{`'; DROP TABLE x; --`, `("drop" OR "tabl")`, `('drop' | 'tabl')`},
	}
	for _, c := range cases {
		q := s.compile(Reader{}, "en", parseQuery(c.in), nil)
		if got := q.ftsQuery(); got != c.fts {
			t.Errorf("fts(%q) = %s, want %s", c.in, got, c.fts)
		}
		if got := q.tsquery(); got != c.ts {
			t.Errorf("tsquery(%q) = %s, want %s", c.in, got, c.ts)
		}
	}
	if q := s.compile(Reader{}, "en", parseQuery(`how do I *** ?`), nil); !q.empty() {
		t.Errorf("a query of stop words and symbols is not empty: %+v", q)
	}
}

func TestSynonymsExpandPerModule(t *testing.T) {
	s := &Service{vocab: newVocabCache()}
	if err := s.AddSynonyms("cars", "en", "service booking, garage appointment"); err != nil {
		t.Fatal(err)
	}
	q := parseQuery("change my garage appointment")
	with := s.compile(Reader{Modules: []string{"cars"}}, "en", q, nil)
	if with.terms["servic"] != weightSynonym || with.terms["book"] != weightSynonym || with.terms["garag"] != weightTyped {
		t.Errorf("with the module: %v", with.terms)
	}
	if without := s.compile(Reader{}, "en", q, nil); without.terms["servic"] != 0 {
		t.Errorf("a disabled module's synonyms were used: %v", without.terms)
	}
	for _, bad := range [][]string{{"en", "loan"}, {"en", "the, loan"}, {"fr", "prêt, crédit"}} {
		if err := s.AddSynonyms("cars", bad[0], bad[1]); err == nil {
			t.Errorf("AddSynonyms(%s, %q) accepted", bad[0], bad[1])
		}
	}
}

func TestTypoCorrection(t *testing.T) {
	v := &vocabulary{df: map[string]int{"password": 3, "recal": 1, "session": 2, "sessi": 1, "car": 5}, n: 5, avgLen: 10}
	for in, want := range map[string]string{"pasword": "password", "passwrod": "password", "recall": "recal", "sesion": "session", "cat": "", "password": "", "zzzzzz": "", "pasrwod": "", "psasword": "password", "sesison": "session"} {
		got, _ := v.correct(in)
		if got != want {
			t.Errorf("correct(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSnippetMarksMatchingWords(t *testing.T) {
	text := strings.Repeat("filler words here. ", 20) + "Check the tyres and the tyre pressure before a trip." + strings.Repeat(" more filler", 20)
	got := snippet(text, "en", map[string]float64{"tyre": 1, "pressur": 1}, 12)
	want := "… the " + markStart + "tyres" + markEnd + " and the " + markStart + "tyre" + markEnd + " " + markStart + "pressure" + markEnd
	if !strings.HasPrefix(got, "… ") || !strings.Contains(got, strings.TrimPrefix(want, "… ")) || !strings.HasSuffix(got, " …") {
		t.Errorf("snippet = %q", got)
	}
	if snippet(text, "en", map[string]float64{"absent": 1}, 12) != "" {
		t.Error("a snippet without a match")
	}
}
