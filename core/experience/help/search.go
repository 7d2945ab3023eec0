package help

import (
	"context"
	"database/sql"
	"fmt"
	"html"
	"html/template"
	"sort"
	"strings"
	"unicode"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// Full-text search has one entry point, Search, and one implementation per
// dialect:
//
//   - PostgreSQL: a generated tsvector column (title weight A, text weight
//     B) built with the article's language configuration ('english',
//     'italian'), a GIN index, websearch_to_tsquery for the query (quoted
//     phrases, -exclusions, "or") and ts_rank for relevance.
//   - SQLite: an FTS5 table over the same columns kept in step by triggers,
//     with the porter stemmer (English) and diacritics folded; bm25 weighs a
//     title match ten times a text match. SQLite has no Italian stemmer, so
//     Italian query words of five letters or more match by their stem
//     prefix ("sessione" finds "sessioni").

// searchConfigs maps a locale to its PostgreSQL text search configuration.
var searchConfigs = map[string]string{"en": "english", "it": "italian"}

// pgConfigExpr is a CASE expression choosing the configuration for column
// (built from constants only, so it can be used in a generated column).
func pgConfigExpr(column string) string {
	locales := make([]string, 0, len(searchConfigs))
	for l := range searchConfigs {
		locales = append(locales, l)
	}
	sort.Strings(locales)
	var b strings.Builder
	b.WriteString("CASE " + column)
	for _, l := range locales {
		fmt.Fprintf(&b, " WHEN '%s' THEN '%s'::regconfig", l, searchConfigs[l])
	}
	b.WriteString(" ELSE 'simple'::regconfig END")
	return b.String()
}

func postgresSearchDDL() string {
	cfg := pgConfigExpr("locale")
	return `ALTER TABLE help_articles ADD COLUMN search tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector(` + cfg + `, coalesce(title, '')), 'A') ||
  setweight(to_tsvector(` + cfg + `, coalesce(category, '')), 'C') ||
  setweight(to_tsvector(` + cfg + `, coalesce(plain, '')), 'B')) STORED;
CREATE INDEX help_articles_search ON help_articles USING GIN (search);`
}

var sqliteSearchDDL = []string{
	`CREATE VIRTUAL TABLE help_articles_fts USING fts5(title, plain, content='help_articles', content_rowid='id',
  tokenize='porter unicode61 remove_diacritics 2')`,
	`CREATE TRIGGER help_articles_fts_ai AFTER INSERT ON help_articles BEGIN
  INSERT INTO help_articles_fts(rowid, title, plain) VALUES (new.id, new.title, new.plain);
END`,
	`CREATE TRIGGER help_articles_fts_ad AFTER DELETE ON help_articles BEGIN
  INSERT INTO help_articles_fts(help_articles_fts, rowid, title, plain) VALUES ('delete', old.id, old.title, old.plain);
END`,
	`CREATE TRIGGER help_articles_fts_au AFTER UPDATE OF title, plain ON help_articles BEGIN
  INSERT INTO help_articles_fts(help_articles_fts, rowid, title, plain) VALUES ('delete', old.id, old.title, old.plain);
  INSERT INTO help_articles_fts(rowid, title, plain) VALUES (new.id, new.title, new.plain);
END`,
	`INSERT INTO help_articles_fts(help_articles_fts) VALUES ('rebuild')`,
}

// Hit is one search result. The relevance score is not exposed: on SQLite
// bm25 weighs terms by their frequency across the whole table, which spans
// organisations.
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
}

// Highlight markers: control characters that cannot occur in article text
// (Render collapses whitespace and markdown drops them).
const (
	markStart = "\x02"
	markEnd   = "\x03"
)

// MaxQueryLength bounds a search query.
const MaxQueryLength = 200

// Search finds the published articles r may read that match text, best
// first, at most limit (1-50). Each slug appears once, in the reader's
// language when the article exists in it.
func (s *Service) Search(ctx context.Context, r Reader, text string, limit int) ([]Hit, error) {
	text = strings.TrimSpace(text)
	if len([]rune(text)) > MaxQueryLength {
		return nil, errs.InvalidField("q", fmt.Sprintf("at most %d characters", MaxQueryLength))
	}
	if text == "" {
		return []Hit{}, nil
	}
	if limit < 1 || limit > 50 {
		limit = 20
	}
	var hits []Hit
	var err error
	if s.st.Dialect == store.Postgres {
		hits, err = s.searchPostgres(ctx, r, text, limit)
	} else {
		hits, err = s.searchSQLite(ctx, r, text, limit)
	}
	if err != nil {
		return nil, err
	}
	out := preferLocale(hits, r.Locale, func(h Hit) (string, string) { return h.Slug, h.Locale })
	if len(out) > limit {
		out = out[:limit]
	}
	// Snippets cost more than finding and ranking (they read each
	// article's text): they are made only for the results returned.
	if err := s.snippets(ctx, r, text, out); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Snippet = highlight(out[i].raw)
	}
	return out, nil
}

// snippets fills the raw snippet of each hit.
func (s *Service) snippets(ctx context.Context, r Reader, text string, hits []Hit) error {
	if len(hits) == 0 {
		return nil
	}
	ids := make([]uint, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	db := s.st.DB.WithContext(ctx)
	var rows *sql.Rows
	var err error
	if s.st.Dialect == store.Postgres {
		var headline []string
		for _, loc := range sortedLocales() {
			headline = append(headline, fmt.Sprintf("WHEN '%s' THEN ts_headline('%s', a.plain, websearch_to_tsquery('%s', @q), @opts)", loc, searchConfigs[loc], searchConfigs[loc]))
		}
		// The hits come from an org-scoped query; the organisation is checked
		// again below rather than in SQL, where it would tempt the planner to
		// the org_id index instead of the primary key.
		rows, err = db.Raw(`SELECT a.id, a.org_id, CASE a.locale `+strings.Join(headline, " ")+` ELSE '' END
FROM help_articles a WHERE a.id IN @ids`, map[string]any{"q": text, "ids": ids,
			"opts": "StartSel=" + markStart + ", StopSel=" + markEnd + ", MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=\" … \""}).Rows()
	} else {
		rows, err = db.Raw(`SELECT f.rowid, a.org_id, snippet(help_articles_fts, 1, char(2), char(3), '…', 16)
FROM help_articles_fts f JOIN help_articles a ON a.id = f.rowid
WHERE help_articles_fts MATCH ? AND f.rowid IN ?`, ftsQuery(text, r.Locale), ids).Rows()
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	byID := map[uint]string{}
	for rows.Next() {
		var id, org uint
		var snip sql.NullString
		if err := rows.Scan(&id, &org, &snip); err != nil {
			return err
		}
		if org == r.OrgID {
			byID[id] = snip.String
		}
	}
	for i := range hits {
		hits[i].raw = byID[hits[i].ID]
	}
	return rows.Err()
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

func (s *Service) searchPostgres(ctx context.Context, r Reader, text string, limit int) ([]Hit, error) {
	cond, args := readerFilter(r)
	args["q"] = text
	args["limit"] = limit * 2
	// One tsquery per language, each a constant, so the GIN index serves
	// both halves of the OR.
	var match, rank []string
	for _, loc := range sortedLocales() {
		q := fmt.Sprintf("websearch_to_tsquery('%s', @q)", searchConfigs[loc])
		match = append(match, fmt.Sprintf("(a.locale = '%s' AND a.search @@ %s)", loc, q))
		rank = append(rank, fmt.Sprintf("WHEN '%s' THEN ts_rank(a.search, %s)", loc, q))
	}
	sql := `SELECT a.id, a.slug, a.locale, a.title, a.category, a.module, a.excerpt,
  CASE a.locale ` + strings.Join(rank, " ") + ` ELSE 0 END AS score, '' AS snippet
FROM help_articles a
WHERE ` + cond + ` AND (` + strings.Join(match, " OR ") + `)
ORDER BY score DESC, (a.locale = @loc) DESC, a.title
LIMIT @limit`
	return scanHits(s.st.DB.WithContext(ctx).Raw(sql, args))
}

func (s *Service) searchSQLite(ctx context.Context, r Reader, text string, limit int) ([]Hit, error) {
	q := ftsQuery(text, r.Locale)
	if q == "" {
		return []Hit{}, nil
	}
	cond, args := readerFilter(r)
	args["q"] = q
	args["limit"] = limit * 2
	// SQLite computes every column of every match before sorting, so the
	// snippets are made afterwards, for the rows kept (snippets).
	sql := `SELECT a.id, a.slug, a.locale, a.title, a.category, a.module, a.excerpt,
  -bm25(help_articles_fts, 10.0, 1.0) AS score, '' AS snippet
FROM help_articles_fts JOIN help_articles a ON a.id = help_articles_fts.rowid
WHERE help_articles_fts MATCH @q AND ` + cond + `
ORDER BY score DESC, (a.locale = @loc) DESC, a.title
LIMIT @limit`
	return scanHits(s.st.DB.WithContext(ctx).Raw(sql, args))
}

func scanHits(db *gorm.DB) ([]Hit, error) {
	rows, err := db.Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Hit
	for rows.Next() {
		var h Hit
		var snippet sql.NullString
		if err := rows.Scan(&h.ID, &h.Slug, &h.Locale, &h.Title, &h.Category, &h.Module, &h.Excerpt, &h.score, &snippet); err != nil {
			return nil, err
		}
		h.raw = snippet.String
		out = append(out, h)
	}
	return out, rows.Err()
}

func sortedLocales() []string {
	out := make([]string, 0, len(searchConfigs))
	for l := range searchConfigs {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
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

// ftsQuery turns what a person types into an FTS5 query with the meaning
// websearch_to_tsquery gives it on PostgreSQL: words are ANDed, "quoted
// text" is a phrase, -word excludes, "or" between words is OR. Every word
// is quoted, so FTS5 syntax in the input is never interpreted. An empty
// result means nothing can match.
func ftsQuery(text, locale string) string {
	type term struct {
		text   string
		phrase bool
		not    bool
	}
	var groups [][]term
	var cur []term
	var nots []term
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
		var t term
		if i < len(rs) && rs[i] == '"' {
			j := i + 1
			for j < len(rs) && rs[j] != '"' {
				j++
			}
			t = term{text: string(rs[i+1 : min(j, len(rs))]), phrase: true}
			i = j + 1
		} else {
			j := i
			for j < len(rs) && !unicode.IsSpace(rs[j]) && rs[j] != '"' {
				j++
			}
			t = term{text: string(rs[i:j])}
			i = j
		}
		if !hasWordChar(t.text) {
			continue
		}
		if !t.phrase && !neg && strings.EqualFold(t.text, "or") {
			if len(cur) > 0 {
				groups = append(groups, cur)
				cur = nil
			}
			continue
		}
		t.not = neg
		if neg {
			nots = append(nots, t)
		} else {
			cur = append(cur, t)
		}
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	if len(groups) == 0 {
		return ""
	}
	quote := func(t term) string {
		q := `"` + strings.ReplaceAll(t.text, `"`, `""`) + `"`
		if !t.phrase && locale == "it" {
			if stem, ok := italianStem(t.text); ok {
				return `"` + strings.ReplaceAll(stem, `"`, `""`) + `" *`
			}
		}
		return q
	}
	var ors []string
	for _, g := range groups {
		var ands []string
		for _, t := range g {
			ands = append(ands, quote(t))
		}
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	q := ors[0]
	if len(ors) > 1 {
		q = "(" + strings.Join(ors, " OR ") + ")"
	}
	for _, t := range nots {
		q += " NOT " + quote(term{text: t.text, phrase: true})
	}
	return q
}

func hasWordChar(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// italianStem drops the final vowel of an Italian word of five letters or
// more, so that singular and plural (sessione, sessioni) share a prefix.
func italianStem(word string) (string, bool) {
	rs := []rune(strings.ToLower(word))
	if len(rs) < 5 {
		return "", false
	}
	for _, r := range rs {
		if !unicode.IsLetter(r) {
			return "", false
		}
	}
	switch rs[len(rs)-1] {
	case 'a', 'e', 'i', 'o':
		return string(rs[:len(rs)-1]), true
	}
	return "", false
}
