package help

import (
	"context"
	"fmt"
	"github.com/portalkit/portalkit/core/i18n"
	"gorm.io/gorm"
	"html"
	"html/template"
	"math"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// Full-text search has one entry point, Search. Text is analysed in Go
// (analyze.go) and each database indexes the resulting terms as they are:
//
//   - PostgreSQL: a generated tsvector column over search_title (weight A)
//     and search_body (weight B) with the 'simple' configuration, and a GIN
//     index; the query is a to_tsquery of the analysed terms.
//   - SQLite: an FTS5 table over the same two columns (unicode61, nothing
//     more: the terms are already stemmed) kept in step by triggers.
//
// The database finds the candidates (any term matches; phrases and
// exclusions filter) and orders them roughly; the final ranking (BM25) and
// the snippets are computed here, so both databases answer alike.

func postgresSearchDDL() string {
	return `ALTER TABLE help_articles ADD COLUMN search tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('simple'::regconfig, coalesce(search_title, '')), 'A') ||
  setweight(to_tsvector('simple'::regconfig, coalesce(search_body, '')), 'B')) STORED;
CREATE INDEX help_articles_search ON help_articles USING GIN (search);`
}

var sqliteSearchDDL = []string{
	`CREATE VIRTUAL TABLE help_articles_fts USING fts5(search_title, search_body, content='help_articles', content_rowid='id',
  tokenize='unicode61 remove_diacritics 2')`,
	`CREATE TRIGGER help_articles_fts_ai AFTER INSERT ON help_articles BEGIN
  INSERT INTO help_articles_fts(rowid, search_title, search_body) VALUES (new.id, new.search_title, new.search_body);
END`,
	`CREATE TRIGGER help_articles_fts_ad AFTER DELETE ON help_articles BEGIN
  INSERT INTO help_articles_fts(help_articles_fts, rowid, search_title, search_body) VALUES ('delete', old.id, old.search_title, old.search_body);
END`,
	`CREATE TRIGGER help_articles_fts_au AFTER UPDATE OF search_title, search_body ON help_articles BEGIN
  INSERT INTO help_articles_fts(help_articles_fts, rowid, search_title, search_body) VALUES ('delete', old.id, old.search_title, old.search_body);
  INSERT INTO help_articles_fts(rowid, search_title, search_body) VALUES (new.id, new.search_title, new.search_body);
END`,
	`INSERT INTO help_articles_fts(help_articles_fts) VALUES ('rebuild')`,
}

// Hit is one search result. The relevance score is not exposed.
type Hit struct {
	ID       uint   `json:"id"`
	Slug     string `json:"slug"`
	Locale   string `json:"locale"`
	Title    string `json:"title"`
	Category string `json:"category"`
	Module   string `json:"module"`
	Excerpt  string `json:"excerpt"`
	// Snippet is the passage that matched, HTML-escaped with the matching
	// words in <mark>.
	Snippet template.HTML `json:"snippet"`
	score   float64
	raw     string
	terms   map[string]float64
}

// Highlight markers: control characters that cannot occur in article text
// (Render collapses whitespace and markdown drops them).
const (
	markStart = "\x02"
	markEnd   = "\x03"
)

// MaxQueryLength bounds a search query.
const MaxQueryLength = 200

// candidateLimit bounds the rows the database hands over for ranking, per
// language.
const candidateLimit = 200

// Search finds the published articles r may read that answer text, best
// first, at most limit (1-50). Any word may match (an article matching more
// of them, and rarer ones, ranks higher); "quoted text" must appear as a
// phrase and -word must not appear. Each slug appears once, in the reader's
// language when the article exists in it.
func (s *Service) Search(ctx context.Context, r Reader, text string, limit int) ([]Hit, error) {
	text = strings.TrimSpace(text)
	if len([]rune(text)) > MaxQueryLength {
		return nil, errs.InvalidField("q", fmt.Sprintf("at most %d characters", MaxQueryLength))
	}
	if limit < 1 || limit > 50 {
		limit = 20
	}
	pq := parseQuery(text)
	if pq.empty() {
		return []Hit{}, nil
	}
	vocab, err := s.vocabulary(ctx, r.OrgID)
	if err != nil {
		return nil, err
	}
	var hits []Hit
	for _, loc := range sortedLocales() {
		q := s.compile(r, loc, pq, vocab[loc])
		if q.empty() {
			continue
		}
		found, err := s.candidates(ctx, r, loc, q)
		if err != nil {
			return nil, err
		}
		for i := range found {
			found[i].score = q.score(found[i], vocab[loc])
			found[i].terms = q.terms
		}
		hits = append(hits, found...)
	}
	sort.SliceStable(hits, func(i, j int) bool {
		a, b := hits[i], hits[j]
		if a.score != b.score {
			return a.score > b.score
		}
		if (a.Locale == r.Locale) != (b.Locale == r.Locale) {
			return a.Locale == r.Locale
		}
		return a.Title < b.Title
	})
	out := preferLocale(hits, r.Locale, func(h Hit) (string, string) { return h.Slug, h.Locale })
	if len(out) > limit {
		out = out[:limit]
	}
	// Snippets read each article's text: they are made only for the
	// results returned.
	if err := s.snippets(ctx, r, out); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Snippet = highlight(out[i].raw)
	}
	return out, nil
}

// parsedQuery is what a person typed: free words, "phrases" and
// -exclusions (a word or a "phrase").
type parsedQuery struct {
	words   []string
	phrases []string
	nots    []string
}

func (p parsedQuery) empty() bool { return len(p.words) == 0 && len(p.phrases) == 0 }

// parseQuery splits text into free words, quoted phrases and exclusions.
// Nothing typed is ever interpreted as database syntax: only the analysed
// terms reach the database.
func parseQuery(text string) parsedQuery {
	var p parsedQuery
	rs := []rune(text)
	for i := 0; i < len(rs); {
		for i < len(rs) && unicode.IsSpace(rs[i]) {
			i++
		}
		if i >= len(rs) {
			break
		}
		neg := false
		if rs[i] == '-' {
			neg = true
			i++
		}
		var t string
		phrase := false
		if i < len(rs) && rs[i] == '"' {
			j := i + 1
			for j < len(rs) && rs[j] != '"' {
				j++
			}
			t, phrase = string(rs[i+1:min(j, len(rs))]), true
			i = j + 1
		} else {
			j := i
			for j < len(rs) && !unicode.IsSpace(rs[j]) && rs[j] != '"' {
				j++
			}
			t = string(rs[i:j])
			i = j
		}
		switch {
		case len(words(t)) == 0:
		case neg:
			p.nots = append(p.nots, t)
		case phrase:
			p.phrases = append(p.phrases, t)
		default:
			p.words = append(p.words, t)
		}
	}
	return p
}

// Weights of the terms a query looks for: the words typed (or their
// nearest indexed spelling) count fully, the synonyms they bring in less.
const (
	weightTyped   = 1.0
	weightTypo    = 0.9
	weightSynonym = 0.7
)

// compiledQuery is a query analysed for one language.
type compiledQuery struct {
	locale  string
	terms   map[string]float64 // term → weight; any may match
	phrases [][]string         // each must match as a phrase
	nots    []string           // none may match
}

func (q compiledQuery) empty() bool { return len(q.terms) == 0 && len(q.phrases) == 0 }

// compile analyses pq in locale: stop words out, stems, the nearest
// indexed term for a misspelt one, and the synonyms the reader's modules
// declare.
func (s *Service) compile(r Reader, locale string, pq parsedQuery, v *vocabulary) compiledQuery {
	a := newAnalyzer(locale)
	q := compiledQuery{locale: locale, terms: map[string]float64{}}
	var seq []string
	add := func(t string, w float64) {
		if q.terms[t] < w {
			q.terms[t] = w
		}
	}
	for _, w := range pq.words {
		for _, t := range a.terms(w) {
			if c, ok := v.correct(t); ok {
				add(c, weightTypo)
				seq = append(seq, c)
				continue
			}
			add(t, weightTyped)
			seq = append(seq, t)
		}
	}
	for _, ph := range pq.phrases {
		if ts := a.terms(ph); len(ts) > 0 {
			q.phrases = append(q.phrases, ts)
			for _, t := range ts {
				add(t, weightTyped)
			}
			seq = append(seq, ts...)
		}
	}
	for _, t := range s.expand(r, locale, seq) {
		add(t, weightSynonym)
	}
	for _, n := range pq.nots {
		q.nots = append(q.nots, a.terms(n)...)
	}
	return q
}

// sortedTerms returns the query's terms in a stable order.
func (q compiledQuery) sortedTerms() []string {
	out := make([]string, 0, len(q.terms))
	for t := range q.terms {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// queryText writes q in a database's syntax: any of its terms (quoted and
// joined by or), and every phrase, joined by and; then each exclusion.
func (q compiledQuery) queryText(quote func(string) string, or, and string, phrase func([]string) string, not func(string) string) string {
	var parts []string
	if ts := q.sortedTerms(); len(ts) > 0 {
		any := make([]string, len(ts))
		for i, t := range ts {
			any[i] = quote(t)
		}
		parts = append(parts, "("+strings.Join(any, or)+")")
	}
	for _, ph := range q.phrases {
		parts = append(parts, phrase(ph))
	}
	out := strings.Join(parts, and)
	for _, n := range q.nots {
		out += not(n)
	}
	return out
}

// tsquery is the query for PostgreSQL's to_tsquery('simple', ...). Terms
// are letters and digits only (analyze.go), quoted all the same.
func (q compiledQuery) tsquery() string {
	quote := func(t string) string { return "'" + t + "'" }
	return q.queryText(quote, " | ", " & ", func(ph []string) string {
		seq := make([]string, len(ph))
		for i, t := range ph {
			seq[i] = quote(t)
		}
		return "(" + strings.Join(seq, " <-> ") + ")"
	}, func(n string) string { return " & !" + quote(n) })
}

// ftsQuery is the query for SQLite's FTS5 MATCH, every term quoted.
func (q compiledQuery) ftsQuery() string {
	quote := func(t string) string { return `"` + strings.ReplaceAll(t, `"`, `""`) + `"` }
	return q.queryText(quote, " OR ", " AND ", func(ph []string) string { return quote(strings.Join(ph, " ")) },
		func(n string) string { return " NOT " + quote(n) })
}

// candidates returns the articles of locale that r may read and q
// matches, at most candidateLimit, roughly the best first.
func (s *Service) candidates(ctx context.Context, r Reader, locale string, q compiledQuery) ([]Hit, error) {
	cond, args := readerFilter(r)
	args["qloc"] = locale
	args["cap"] = candidateLimit
	cols := `a.id, a.slug, a.locale, a.title, a.category, a.module, a.excerpt, a.search_title, a.search_body`
	var sql string
	if s.st.Dialect == store.Postgres {
		args["q"] = q.tsquery()
		sql = `SELECT ` + cols + ` FROM help_articles a
WHERE ` + cond + ` AND a.locale = @qloc AND a.search @@ to_tsquery('simple', @q)
ORDER BY ts_rank(a.search, to_tsquery('simple', @q)) DESC, a.id
LIMIT @cap`
	} else {
		args["q"] = q.ftsQuery()
		sql = `SELECT ` + cols + ` FROM help_articles_fts JOIN help_articles a ON a.id = help_articles_fts.rowid
WHERE help_articles_fts MATCH @q AND ` + cond + ` AND a.locale = @qloc
ORDER BY bm25(help_articles_fts, 3.0, 1.0), a.id
LIMIT @cap`
	}
	rows, err := s.st.DB.WithContext(ctx).Raw(sql, args).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Hit
	for rows.Next() {
		var h Hit
		var title, body string
		if err := rows.Scan(&h.ID, &h.Slug, &h.Locale, &h.Title, &h.Category, &h.Module, &h.Excerpt, &title, &body); err != nil {
			return nil, err
		}
		h.raw = title + "\x00" + body
		out = append(out, h)
	}
	return out, rows.Err()
}

// BM25 parameters (the usual ones).
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// score ranks one candidate (whose raw holds its title and body terms) by
// BM25 over the query's terms, title terms counting titleWeight times, with
// document frequencies from the organisation's vocabulary.
func (q compiledQuery) score(h Hit, v *vocabulary) float64 {
	title, body, _ := strings.Cut(h.raw, "\x00")
	tf := map[string]int{}
	n := 0
	for _, t := range strings.Fields(title) {
		tf[t] += titleWeight
		n += titleWeight
	}
	for _, t := range strings.Fields(body) {
		tf[t]++
		n++
	}
	docs, avg := 1, float64(n)
	if v != nil && v.n > 0 {
		docs, avg = v.n, v.avgLen
	}
	score := 0.0
	for t, w := range q.terms {
		f := float64(tf[t])
		if f == 0 {
			continue
		}
		df := 1
		if v != nil && v.df[t] > 0 {
			df = v.df[t]
		}
		idf := math.Log(1 + (float64(docs)-float64(df)+0.5)/(float64(df)+0.5))
		score += w * idf * f * (bm25K1 + 1) / (f + bm25K1*(1-bm25B+bm25B*float64(n)/avg))
	}
	return score
}

// snippets fills the raw snippet of each hit: the passage of about 30
// words of its text with the most matching words, marked.
func (s *Service) snippets(ctx context.Context, r Reader, hits []Hit) error {
	for i := range hits {
		hits[i].raw = ""
	}
	if len(hits) == 0 {
		return nil
	}
	ids := make([]uint, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	var rows []struct {
		ID    uint
		Plain string
	}
	if err := store.Org(s.st.DB.WithContext(ctx), r.OrgID).Model(&Article{}).Where("id IN ?", ids).
		Select("id, plain").Scan(&rows).Error; err != nil {
		return err
	}
	plain := map[uint]string{}
	for _, row := range rows {
		plain[row.ID] = row.Plain
	}
	for i := range hits {
		hits[i].raw = snippet(plain[hits[i].ID], hits[i].Locale, hits[i].terms, 30)
	}
	return nil
}

// snippet cuts from text the window of size words holding the most words
// whose term is in terms, with those words between the highlight markers;
// "" when none matches.
func snippet(text, locale string, terms map[string]float64, size int) string {
	ws := words(text)
	a := newAnalyzer(locale)
	match := make([]bool, len(ws))
	any := false
	for i, w := range ws {
		if t := a.term(w.text); t != "" && terms[t] > 0 {
			match[i], any = true, true
		}
	}
	if !any {
		return ""
	}
	best, bestN, n := 0, -1, 0
	for i := range ws {
		if match[i] {
			n++
		}
		if i >= size && match[i-size] {
			n--
		}
		if n > bestN {
			best, bestN = max(0, i-size+1), n
		}
	}
	// Start a little before the first match of the window.
	for best < len(ws) && !match[best] && best+size < len(ws) {
		best++
	}
	best = max(0, best-3)
	end := min(len(ws), best+size)
	var b strings.Builder
	if best > 0 {
		b.WriteString("… ")
	}
	pos := ws[best].start
	for i := best; i < end; i++ {
		b.WriteString(text[pos:ws[i].start])
		if match[i] {
			b.WriteString(markStart + ws[i].text + markEnd)
		} else {
			b.WriteString(ws[i].text)
		}
		pos = ws[i].end
	}
	if end < len(ws) {
		b.WriteString(" …")
	} else {
		b.WriteString(text[pos:])
	}
	return b.String()
}

// Closest returns up to n articles r may read for a search that found
// nothing: those whose title is nearest to text (shared letter trigrams),
// else the ones readers found most helpful.
func (s *Service) Closest(ctx context.Context, r Reader, text string, n int) ([]Hit, error) {
	cond, args := readerFilter(r)
	rows, err := s.st.DB.WithContext(ctx).Raw(`SELECT a.id, a.slug, a.locale, a.title, a.category, a.module, a.excerpt, a.helpful_yes
FROM help_articles a WHERE `+cond, args).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var all []Hit
	for rows.Next() {
		var h Hit
		var yes int64
		if err := rows.Scan(&h.ID, &h.Slug, &h.Locale, &h.Title, &h.Category, &h.Module, &h.Excerpt, &yes); err != nil {
			return nil, err
		}
		h.score = float64(yes) / 1e6 // breaks ties between equally near titles
		all = append(all, h)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	all = preferLocale(all, r.Locale, func(h Hit) (string, string) { return h.Slug, h.Locale })
	q := trigrams(text)
	for i := range all {
		all[i].score += similarity(q, trigrams(all[i].Title))
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].score != all[j].score {
			return all[i].score > all[j].score
		}
		return all[i].Title < all[j].Title
	})
	if len(all) > n {
		all = all[:n]
	}
	return all, nil
}

// trigrams returns the letter trigrams of each word of s (lower case,
// accents folded, words padded with spaces).
func trigrams(s string) map[string]bool {
	out := map[string]bool{}
	for _, w := range words(s) {
		rs := []rune(" " + foldAccents(strings.ToLower(w.text)) + " ")
		for i := 0; i+3 <= len(rs); i++ {
			out[string(rs[i:i+3])] = true
		}
	}
	return out
}

// similarity is the share of a's trigrams found in b (0-1).
func similarity(a, b map[string]bool) float64 {
	if len(a) == 0 {
		return 0
	}
	n := 0
	for t := range a {
		if b[t] {
			n++
		}
	}
	return float64(n) / float64(len(a))
}

func sortedLocales() []string {
	out := slices.Clone(i18n.Locales)
	sort.Strings(out)
	return out
}

// readerFilter is the SQL condition (on alias a) for the articles r may
// read, with its named arguments.
func readerFilter(r Reader) (string, map[string]any) {
	args := map[string]any{"org": r.OrgID, "loc": r.Locale, "yes": true}
	cond := `a.org_id = @org AND a.published = @yes
  AND (a.locale = @loc OR NOT EXISTS (SELECT 1 FROM help_articles b
       WHERE b.org_id = a.org_id AND b.slug = a.slug AND b.locale = @loc AND b.published = @yes))`
	if len(r.Modules) > 0 {
		cond += " AND (a.module = '' OR a.module IN @mods)"
		args["mods"] = r.Modules
	} else {
		cond += " AND a.module = ''"
	}
	return cond, args
}

// highlight escapes a snippet and turns the match markers into <mark>.
func highlight(raw string) template.HTML {
	esc := html.EscapeString(raw)
	open := false
	var b strings.Builder
	for _, r := range esc {
		switch string(r) {
		case markStart:
			if !open {
				b.WriteString("<mark>")
				open = true
			}
		case markEnd:
			if open {
				b.WriteString("</mark>")
				open = false
			}
		default:
			b.WriteRune(r)
		}
	}
	if open {
		b.WriteString("</mark>")
	}
	return template.HTML(b.String())
}

// preferLocale keeps one item per slug: the one in locale, else English,
// else the first; the order of the kept items is preserved.
func preferLocale[T any](items []T, locale string, key func(T) (slug, loc string)) []T {
	rank := func(loc string) int {
		switch loc {
		case locale:
			return 0
		case "en":
			return 1
		}
		return 2
	}
	bestIdx, bestRank := map[string]int{}, map[string]int{}
	for i, it := range items {
		slug, loc := key(it)
		if r, ok := bestRank[slug]; !ok || rank(loc) < r {
			bestIdx[slug], bestRank[slug] = i, rank(loc)
		}
	}
	out := make([]T, 0, len(bestIdx))
	for i, it := range items {
		if slug, _ := key(it); bestIdx[slug] == i {
			out = append(out, it)
		}
	}
	return out
}

// migrateSearchTerms moves search to terms analysed in Go: it adds the
// search_title and search_body columns, fills them for every article, and
// (re)builds the database's index over them.
func (s *Service) migrateSearchTerms(tx *gorm.DB) error {
	m := tx.Migrator()
	for _, col := range []string{"SearchTitle", "SearchBody"} {
		if !m.HasColumn(&Article{}, col) {
			if err := m.AddColumn(&Article{}, col); err != nil {
				return err
			}
		}
	}
	var drop []string
	if s.st.Dialect == store.Postgres {
		drop = []string{`DROP INDEX IF EXISTS help_articles_search`, `ALTER TABLE help_articles DROP COLUMN IF EXISTS search`}
	} else {
		drop = []string{`DROP TRIGGER IF EXISTS help_articles_fts_ai`, `DROP TRIGGER IF EXISTS help_articles_fts_ad`,
			`DROP TRIGGER IF EXISTS help_articles_fts_au`, `DROP TABLE IF EXISTS help_articles_fts`}
	}
	for _, q := range drop {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	// Every organisation's articles: a migration is not a request.
	var rows []struct {
		ID                      uint
		Locale, Title, Category string
		Plain                   string
	}
	if err := store.AllOrgs(tx).Model(&Article{}).Select("id, locale, title, category, plain").Scan(&rows).Error; err != nil {
		return err
	}
	for _, a := range rows {
		st, sb := indexTerms(a.Locale, a.Title, a.Category, a.Plain)
		if err := store.AllOrgs(tx).Model(&Article{}).Where("id = ?", a.ID).
			UpdateColumns(map[string]any{"search_title": st, "search_body": sb}).Error; err != nil {
			return err
		}
	}
	if s.st.Dialect == store.Postgres {
		return tx.Exec(postgresSearchDDL()).Error
	}
	for _, q := range sqliteSearchDDL {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	return nil
}
