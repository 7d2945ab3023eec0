package help

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/i18n"
)

//go:embed articles/*.md
var coreArticles embed.FS

// CoreArticles are the portal's own help articles (signing in, passwords,
// sessions), in English and Italian. The kernel imports them into every
// organisation like a module's defaults.
func CoreArticles() fs.FS {
	sub, _ := fs.Sub(coreArticles, "articles")
	return sub
}

// DefaultArticle is one article a module ships as a Markdown file with
// front matter:
//
//	---
//	title: Booking a service
//	slug: booking-a-service
//	locale: en
//	category: Service
//	context: [automotive.vehicle, automotive.bookings]
//	---
//	Markdown body...
type DefaultArticle struct {
	Module   string
	File     string
	Title    string
	Slug     string
	Locale   string
	Category string
	Contexts []string
	Body     string
	Hash     string
	rendered Rendered
}

type frontMatter struct {
	Title    string   `yaml:"title"`
	Slug     string   `yaml:"slug"`
	Locale   string   `yaml:"locale"`
	Category string   `yaml:"category"`
	Context  []string `yaml:"context"`
}

// ParseDefaults reads every *.md file of fsys (recursively) as a default
// article of module. An error names the file and the problem.
func ParseDefaults(module string, fsys fs.FS) ([]DefaultArticle, error) {
	var out []DefaultArticle
	seen := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || path.Ext(p) != ".md" {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		a, err := ParseDefault(module, p, b)
		if err != nil {
			return err
		}
		key := a.Locale + "/" + a.Slug
		if other, dup := seen[key]; dup {
			return fmt.Errorf("help article %s: slug %q in locale %s is also used by %s", p, a.Slug, a.Locale, other)
		}
		seen[key] = p
		out = append(out, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out, nil
}

// ParseDefault parses one Markdown file with front matter.
func ParseDefault(module, file string, src []byte) (DefaultArticle, error) {
	fail := func(format string, args ...any) (DefaultArticle, error) {
		return DefaultArticle{}, fmt.Errorf("help article %s: %s", file, fmt.Sprintf(format, args...))
	}
	text := strings.ReplaceAll(string(src), "\r\n", "\n")
	if !strings.HasPrefix(text, "---\n") {
		return fail("must start with front matter between --- lines")
	}
	end := strings.Index(text[4:], "\n---")
	if end < 0 {
		return fail("front matter is not closed with ---")
	}
	head, body := text[4:4+end], text[4+end+4:]
	body = strings.TrimLeft(strings.TrimPrefix(body, "-"), "\n")
	var fm frontMatter
	dec := yaml.NewDecoder(bytes.NewReader([]byte(head)))
	dec.KnownFields(true)
	if err := dec.Decode(&fm); err != nil && !errors.Is(err, io.EOF) {
		return fail("front matter: %v", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	a := DefaultArticle{Module: module, File: file, Title: strings.TrimSpace(fm.Title), Slug: strings.TrimSpace(fm.Slug),
		Locale: strings.TrimSpace(fm.Locale), Category: strings.TrimSpace(fm.Category), Body: strings.TrimSpace(body)}
	if a.Slug == "" {
		a.Slug = Slugify(a.Title)
	}
	switch {
	case a.Title == "" || len(a.Title) > 200:
		return fail("title is required (at most 200 characters)")
	case !slugPattern.MatchString(a.Slug) || len(a.Slug) > 100:
		return fail("slug %q must be lowercase letters, digits and hyphens", a.Slug)
	case !i18n.Supported(a.Locale):
		return fail("locale %q is not one of %s", a.Locale, strings.Join(i18n.Locales, ", "))
	case len(a.Category) > 80:
		return fail("category is longer than 80 characters")
	case a.Body == "":
		return fail("has no body")
	}
	for _, k := range fm.Context {
		k = strings.TrimSpace(k)
		if !contextPattern.MatchString(k) || len(k) > 100 {
			return fail("context key %q must look like module.page", k)
		}
		if !slices.Contains(a.Contexts, k) {
			a.Contexts = append(a.Contexts, k)
		}
	}
	r, err := Render(a.Body)
	if err != nil {
		return fail("%v", err)
	}
	a.rendered = r
	sum := sha256.Sum256(src)
	a.Hash = hex.EncodeToString(sum[:])
	return a, nil
}

// AddDefaults registers the default articles a module ships in fsys. The
// files are parsed at once: an error names the file and stops start-up.
func (s *Service) AddDefaults(module string, fsys fs.FS) error {
	list, err := ParseDefaults(module, fsys)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range list {
		for _, b := range s.defaults {
			if a.Locale == b.Locale && a.Slug == b.Slug {
				return fmt.Errorf("help article %s (%s): slug %q in locale %s is also shipped by %s (%s)",
					a.File, moduleName(a.Module), a.Slug, a.Locale, b.File, moduleName(b.Module))
			}
		}
	}
	s.defaults = append(s.defaults, list...)
	return nil
}

func moduleName(id string) string {
	if id == "" {
		return "core"
	}
	return "module " + id
}

// Defaults returns the registered default articles.
func (s *Service) Defaults() []DefaultArticle {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]DefaultArticle(nil), s.defaults...)
}

// ImportDefaults brings the default articles into organisation orgID, or
// into every organisation when orgID is 0, in tx. It is idempotent and
// set-based (a few statements per article, whatever the number of
// organisations): a missing article is created published; one imported
// from an older version is updated unless staff edited it; staff's own
// articles with the same slug are left alone. It returns how many articles
// were created or updated.
func (s *Service) ImportDefaults(ctx context.Context, tx *gorm.DB, orgID uint) (int64, error) {
	now := s.now()
	var total int64
	orgFilter, args := "", []any{}
	if orgID != 0 {
		orgFilter, args = " AND o.id = ?", []any{orgID}
	}
	db := tx.WithContext(ctx)
	for _, d := range s.Defaults() {
		// Raw SQL is not checked by the org-scoping guard: every statement
		// below names its organisations explicitly (all, or orgID).
		st, sb := indexTerms(d.Locale, d.Title, d.Category, d.rendered.Plain)
		ins := db.Exec(`INSERT INTO help_articles (org_id, module, slug, locale, title, category, body, html, plain, search_title, search_body,
  excerpt, contexts, published, published_at, source, default_hash, edited, helpful_yes, helpful_no, created_by, updated_by, created_at, updated_at)
SELECT o.id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'default', ?, ?, 0, 0, 0, 0, ?, ?
FROM accounts_orgs o
WHERE o.slug <> 'platform'`+orgFilter+`
  AND NOT EXISTS (SELECT 1 FROM help_articles a WHERE a.org_id = o.id AND a.locale = ? AND a.slug = ?)`,
			append(append([]any{d.Module, d.Slug, d.Locale, d.Title, d.Category, d.Body, string(d.rendered.HTML), d.rendered.Plain, st, sb,
				d.rendered.Excerpt, strings.Join(d.Contexts, ","), true, now, d.Hash, false, now, now}, args...), d.Locale, d.Slug)...)
		if ins.Error != nil {
			return total, fmt.Errorf("help: import %s: %w", d.File, ins.Error)
		}
		upd := db.Exec(`UPDATE help_articles SET module = ?, title = ?, category = ?, body = ?, html = ?, plain = ?,
  search_title = ?, search_body = ?, excerpt = ?, contexts = ?, default_hash = ?, updated_at = ?
WHERE locale = ? AND slug = ? AND source = 'default' AND edited = ? AND default_hash <> ?
  AND org_id IN (SELECT o.id FROM accounts_orgs o WHERE o.slug <> 'platform'`+orgFilter+`)`,
			append([]any{d.Module, d.Title, d.Category, d.Body, string(d.rendered.HTML), d.rendered.Plain, st, sb, d.rendered.Excerpt,
				strings.Join(d.Contexts, ","), d.Hash, now, d.Locale, d.Slug, false, d.Hash}, args...)...)
		if upd.Error != nil {
			return total, fmt.Errorf("help: update %s: %w", d.File, upd.Error)
		}
		total += ins.RowsAffected + upd.RowsAffected
		if ins.RowsAffected+upd.RowsAffected == 0 {
			continue
		}
		if err := s.syncDefaultContexts(db, d, orgFilter, args); err != nil {
			return total, fmt.Errorf("help: contexts of %s: %w", d.File, err)
		}
	}
	return total, nil
}

// syncDefaultContexts makes the context links of the (unedited) default
// article d match its file.
func (s *Service) syncDefaultContexts(db *gorm.DB, d DefaultArticle, orgFilter string, args []any) error {
	scope := `SELECT a.id FROM help_articles a JOIN accounts_orgs o ON o.id = a.org_id
WHERE a.locale = ? AND a.slug = ? AND a.source = 'default' AND a.edited = ? AND o.slug <> 'platform'` + orgFilter
	scopeArgs := append([]any{d.Locale, d.Slug, false}, args...)
	if err := db.Exec(`DELETE FROM help_contexts WHERE article_id IN (`+scope+`)`, scopeArgs...).Error; err != nil {
		return err
	}
	for _, k := range d.Contexts {
		if err := db.Exec(`INSERT INTO help_contexts (org_id, article_id, context_key)
SELECT a.org_id, a.id, ? FROM help_articles a WHERE a.id IN (`+scope+`)`, append([]any{k}, scopeArgs...)...).Error; err != nil {
			return err
		}
	}
	return nil
}

// Importer imports the default articles into every organisation when the
// app starts (it is an app.Runner).
type Importer struct{ s *Service }

// Importer returns the runner that imports default articles at start.
func (s *Service) Importer() *Importer { return &Importer{s} }

// Name implements app.Runner.
func (*Importer) Name() string { return "help-defaults" }

// Start imports the defaults into every organisation, in one transaction.
func (r *Importer) Start(ctx context.Context) error {
	start := time.Now()
	var n int64
	err := r.s.st.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		n, err = r.s.ImportDefaults(ctx, tx, 0)
		return err
	})
	if err != nil {
		return err
	}
	r.s.log.Info("help: default articles imported", "articles", len(r.s.Defaults()), "rows_changed", n, "elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}

// Stop implements app.Runner; the import finished in Start.
func (*Importer) Stop(context.Context) error { return nil }
