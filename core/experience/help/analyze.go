package help

import (
	"strings"
	"sync"
	"unicode"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
	"github.com/blevesearch/snowballstem/italian"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Text analysis is done here, in Go, for both databases, so that
// PostgreSQL and SQLite index and query exactly the same tokens: words are
// lower-cased, the stop words of the language are dropped, the rest are
// reduced to their Snowball stem and their accents are folded
// ("prenotazione", "prenotare" → "prenot"; "perché" is a stop word).

// stemmers are the Snowball stemmers per locale.
var stemmers = map[string]func(*snowballstem.Env) bool{"en": english.Stem, "it": italian.Stem}

// stopWords are the words of a question that say nothing about its
// subject: articles, pronouns, auxiliaries, question words and the
// phrases people wrap a question in ("how do I", "come faccio a").
var stopWords = map[string]map[string]bool{
	"en": wordSet(`a about above after again against all also am an and any anyone anything are aren as at be
because been before being below between both but by can cannot could couldn d did didn do does doesn doing don done
down during each either else ever few for from further get gets getting got had hadn has hasn have haven having he
her here hers herself him himself his how i if im in into is isn it its itself ive just least let ll m may me might
mine more most must my myself need needs no nor not now of off on once one only or other ought our ours ourselves out
over own please re s same shall she should shouldn so some something such t than thank thanks that the their theirs
them themselves then there these they this those through to too under until up upon us ve very want wants was wasn
way we were weren what whats when where whether which while who whom whose why will with won would wouldn you your
yours yourself yourselves`),
	"it": wordSet(`a ad agli ai al all alla alle allo anche ancora avere avete aveva avevo c ci cio ciò col come con
cosa cui d da dagli dai dal dall dalla dalle dallo de degli dei del dell della delle dello devo devi deve dobbiamo
dove dovrei e è ecco ed era erano essere fa faccio fare fatto fra gli grazie ha hai hanno ho i il in io l la le lei
li lo loro lui ma mai me mi mia mie miei mio molto ne negli nei nel nell nella nelle nello no noi non o per perché
perche più piu poi posso possiamo possono potete potrei può puo qual quale quali qualcosa quando quanto quella quelle
quelli quello questa queste questi questo qui riesco riesci s sarà se sei si sia siamo siete solo sono su sugli sui
sul sull sulla sulle sullo t ti tra tu tua tue tuo tuoi tutti tutto un una uno vi voglio voi vorrei vostra vostro`),
}

func wordSet(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
		m[foldAccents(w)] = true
	}
	return m
}

var foldPool = sync.Pool{New: func() any {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}}

// foldAccents removes diacritics ("perché" → "perche").
func foldAccents(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	t := foldPool.Get().(transform.Transformer)
	defer foldPool.Put(t)
	t.Reset()
	out, _, err := transform.String(t, s)
	if err != nil {
		return s
	}
	return out
}

// word is one word of a text with its place (byte offsets).
type word struct {
	text       string
	start, end int
}

// words splits text into words of letters and digits (an apostrophe
// splits: "l'auto" is "l" and "auto").
func words(text string) []word {
	var out []word
	start := -1
	for i, r := range text {
		isWord := unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
		switch {
		case isWord && start < 0:
			start = i
		case !isWord && start >= 0:
			out = append(out, word{text[start:i], start, i})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, word{text[start:], start, len(text)})
	}
	return out
}

// analyzer turns words into search terms for one language. It is not safe
// for concurrent use (it reuses one stemming environment).
type analyzer struct {
	locale string
	stem   func(*snowballstem.Env) bool
	stop   map[string]bool
	env    *snowballstem.Env
}

func newAnalyzer(locale string) *analyzer {
	a := &analyzer{locale: locale, stem: stemmers[locale], stop: stopWords[locale], env: snowballstem.NewEnv("")}
	return a
}

// term returns the search term of one word, or "" for a stop word or a
// single letter.
func (a *analyzer) term(w string) string {
	w = strings.ToLower(w)
	if a.stop[w] {
		return ""
	}
	if len([]rune(w)) < 2 && !unicode.IsDigit([]rune(w)[0]) {
		return ""
	}
	if a.stem != nil && !isNumber(w) {
		a.env.SetCurrent(w)
		a.stem(a.env)
		w = a.env.Current()
	}
	return foldAccents(w)
}

// terms returns the search terms of text, in order.
func (a *analyzer) terms(text string) []string {
	ws := words(text)
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		if t := a.term(w.text); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func isNumber(s string) bool {
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// Terms returns the search terms of text in locale (a language without a
// stemmer keeps lower-cased words without stop words). Exported for the
// tests and tools that check what an article is indexed under.
func Terms(locale, text string) []string { return newAnalyzer(locale).terms(text) }

// indexTerms returns what an article is indexed under: its stemmed title
// and its stemmed category and text, each as space-separated terms.
func indexTerms(locale, title, category, plain string) (searchTitle, searchBody string) {
	a := newAnalyzer(locale)
	return strings.Join(a.terms(title), " "), strings.Join(a.terms(category+" . "+plain), " ")
}
