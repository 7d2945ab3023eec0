package help

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/agnivade/levenshtein"
	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/portalkit/portalkit/core/i18n"
	"github.com/portalkit/portalkit/core/store"
)

// synonymGroup is a set of words or phrases that search treats as the same
// subject in one language: a question with one of them also looks for the
// others. Phrases are kept as their search terms.
type synonymGroup struct {
	module  string
	locale  string
	phrases [][]string
}

// coreSynonyms are the portal's own: signing in, passwords, messages.
var coreSynonyms = map[string][]string{
	"en": {
		"sign in, log in, login, log on, access my account, get into my account",
		"sign out, log out, logout, log off",
		"password, passcode, pin, credentials",
		"forgot, forgotten, lost, reset, locked out, cannot remember",
		"secure message, message, contact, write to, ask, talk to, speak to, advisor, someone, person",
		"session, logged in device, signed in device, device, computer, browser, phone",
	},
	"it": {
		"accedere, accesso, entrare, entrato, login, loggarmi, collegarmi",
		"uscire, esci, disconnettere, disconnesso, logout",
		"password, parola chiave, codice di accesso, credenziali, pin",
		"dimenticato, dimenticata, perso, persa, reimpostare, recuperare, ricordo",
		"messaggio, scrivere, contattare, contatto, chiedere, parlare, consulente, qualcuno, persona",
		"sessione, dispositivo collegato, dispositivo connesso, dispositivo, computer, browser, telefono",
	},
}

// AddSynonyms declares, for module ("" for the portal itself), groups of
// words or phrases that mean the same to someone searching in locale: each
// group is a comma-separated list ("service booking, garage appointment,
// workshop visit"). A question containing any of them also finds articles
// using the others; the group applies only to readers with the module
// enabled. An error names the group that is not usable.
func (s *Service) AddSynonyms(module, locale string, groups ...string) error {
	if !i18n.Supported(locale) {
		return fmt.Errorf("help synonyms of %s: locale %q is not one of %s", moduleName(module), locale, strings.Join(i18n.Locales, ", "))
	}
	a := newAnalyzer(locale)
	var parsed []synonymGroup
	for _, g := range groups {
		sg := synonymGroup{module: module, locale: locale}
		for _, p := range strings.Split(g, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			terms := a.terms(p)
			if len(terms) == 0 {
				return fmt.Errorf("help synonyms of %s: %q in %q has only common words (stop words) and would match nothing", moduleName(module), p, g)
			}
			sg.phrases = append(sg.phrases, terms)
		}
		if len(sg.phrases) < 2 {
			return fmt.Errorf("help synonyms of %s: %q needs at least two words or phrases separated by commas", moduleName(module), g)
		}
		parsed = append(parsed, sg)
	}
	s.mu.Lock()
	s.synonyms = append(s.synonyms, parsed...)
	s.mu.Unlock()
	return nil
}

// expand returns the terms that the synonym groups r may use add to terms
// (a query's terms in locale, in order), without those already there.
func (s *Service) expand(r Reader, locale string, terms []string) []string {
	s.mu.Lock()
	groups := s.synonyms
	s.mu.Unlock()
	have := map[string]bool{}
	for _, t := range terms {
		have[t] = true
	}
	var out []string
	for _, g := range groups {
		if g.locale != locale || !r.moduleVisible(g.module) {
			continue
		}
		hit := false
		for _, p := range g.phrases {
			if containsRun(terms, p) {
				hit = true
				break
			}
		}
		if !hit {
			continue
		}
		for _, p := range g.phrases {
			for _, t := range p {
				if !have[t] {
					have[t] = true
					out = append(out, t)
				}
			}
		}
	}
	return out
}

// containsRun reports whether run occurs in terms as consecutive items.
func containsRun(terms, run []string) bool {
	for i := 0; i+len(run) <= len(terms); i++ {
		if slices.Equal(terms[i:i+len(run)], run) {
			return true
		}
	}
	return false
}

// vocabulary is what an organisation's published articles in one language
// are indexed under: each term with the number of articles containing it,
// and the articles' average length (title terms count three times).
type vocabulary struct {
	df     map[string]int
	n      int
	avgLen float64
}

// vocabEntry is an organisation's vocabularies and the fingerprint of the
// articles they were built from.
type vocabEntry struct {
	count   int64
	updated string
	locales map[string]*vocabulary
}

// vocabCache keeps the vocabularies of recently searched organisations.
// Each search revalidates its entry with one count/max(updated_at) query,
// so a change made through any instance is seen at the next search.
type vocabCache struct {
	mu   sync.Mutex
	orgs *simplelru.LRU[uint, *vocabEntry]
}

func newVocabCache() *vocabCache {
	l, _ := simplelru.NewLRU[uint, *vocabEntry](256, nil) // errors only for a size below 1
	return &vocabCache{orgs: l}
}

// titleWeight is how much more a term of the title counts than one of the
// text, in ranking.
const titleWeight = 3

// vocabulary returns the organisation's vocabularies, rebuilt when its
// articles changed.
func (s *Service) vocabulary(ctx context.Context, orgID uint) (map[string]*vocabulary, error) {
	db := s.st.DB.WithContext(ctx)
	var count int64
	var updated sql.NullString
	if err := store.Org(db, orgID).Model(&Article{}).Select("count(*), max(updated_at)").Row().Scan(&count, &updated); err != nil {
		return nil, err
	}
	s.vocab.mu.Lock()
	e, ok := s.vocab.orgs.Get(orgID)
	s.vocab.mu.Unlock()
	if ok && e.count == count && e.updated == updated.String {
		return e.locales, nil
	}
	rows, err := store.Org(db, orgID).Model(&Article{}).Where("published = ?", true).
		Select("locale, search_title, search_body").Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	locales := map[string]*vocabulary{}
	total := map[string]int{}
	for rows.Next() {
		var loc, title, body string
		if err := rows.Scan(&loc, &title, &body); err != nil {
			return nil, err
		}
		v := locales[loc]
		if v == nil {
			v = &vocabulary{df: map[string]int{}}
			locales[loc] = v
		}
		v.n++
		tt, bt := strings.Fields(title), strings.Fields(body)
		total[loc] += titleWeight*len(tt) + len(bt)
		seen := map[string]bool{}
		for _, list := range [][]string{tt, bt} {
			for _, t := range list {
				if !seen[t] {
					seen[t] = true
					v.df[t]++
				}
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for loc, v := range locales {
		v.avgLen = float64(total[loc]) / float64(v.n)
	}
	s.vocab.mu.Lock()
	s.vocab.orgs.Add(orgID, &vocabEntry{count: count, updated: updated.String, locales: locales})
	s.vocab.mu.Unlock()
	return locales, nil
}

// correct returns the indexed term nearest to t when t itself is not
// indexed: starting with the same letter (people rarely mistype the
// first), within one edit for terms of four to seven letters, two edits
// for longer ones; the most common wins a tie. Shorter terms are never
// corrected (too many neighbours).
func (v *vocabulary) correct(t string) (string, bool) {
	if v == nil {
		return "", false
	}
	if _, ok := v.df[t]; ok {
		return "", false
	}
	n := len([]rune(t))
	maxDist := 0
	switch {
	case n >= 8:
		maxDist = 2
	case n >= 4:
		maxDist = 1
	default:
		return "", false
	}
	first, _ := utf8.DecodeRuneInString(t)
	best, bestDist, bestDF := "", maxDist+1, 0
	for cand, df := range v.df {
		m := len([]rune(cand))
		if m < n-maxDist || m > n+maxDist || m < 3 {
			continue
		}
		if c, _ := utf8.DecodeRuneInString(cand); c != first {
			continue
		}
		d := levenshtein.ComputeDistance(t, cand)
		if d == 2 && swapped(t, cand) {
			d = 1 // two neighbouring letters typed the wrong way round
		}
		if d > maxDist {
			continue
		}
		if d < bestDist || (d == bestDist && (df > bestDF || (df == bestDF && cand < best))) {
			best, bestDist, bestDF = cand, d, df
		}
	}
	return best, best != ""
}

// swapped reports whether b is a with two neighbouring letters exchanged.
func swapped(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	if len(ra) != len(rb) {
		return false
	}
	for i := 0; i+1 < len(ra); i++ {
		if ra[i] != rb[i] {
			return ra[i] == rb[i+1] && ra[i+1] == rb[i] && string(ra[i+2:]) == string(rb[i+2:])
		}
	}
	return false
}
