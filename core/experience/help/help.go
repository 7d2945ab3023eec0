// Package help is the self-service help centre: articles per module written
// in Markdown (rendered and sanitised), grouped in categories, in each
// supported language; full-text search (PostgreSQL tsvector + GIN with
// websearch_to_tsquery and ts_rank; SQLite FTS5 with bm25) behind one
// Search function; "was this helpful?" answers counted once per person;
// staff pages to write, preview, publish and unpublish articles; and
// contextual links from module pages to the articles about them.
//
// Modules ship default articles as Markdown files with front matter
// (module.Host.HelpArticles); they are imported into every organisation at
// start, when an organisation is created and with the demo data.
//
// help imports accounts, config, errs, events, i18n, store and web; never
// core/module or core/app.
package help

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/i18n"
	"github.com/portalkit/portalkit/core/store"
)

// Events published by the help centre. Data is a map with "summary" (a
// sentence for the customer timeline), "link", "article_id" and "slug".
const (
	EventArticlePublished = "help.article_published"
	EventArticleRated     = "help.article_rated"
)

// Options builds a Service.
type Options struct {
	Store    *store.Store
	Accounts *accounts.Service
	Events   *events.Bus
	Log      *slog.Logger
	// Now overrides the clock (tests).
	Now func() time.Time
}

// Service is the help centre.
type Service struct {
	st  *store.Store
	acc *accounts.Service
	bus *events.Bus
	log *slog.Logger
	now func() time.Time

	mu       sync.Mutex
	defaults []DefaultArticle
	synonyms []synonymGroup
	vocab    *vocabCache
}

// New returns the help centre service.
func New(o Options) *Service {
	s := &Service{st: o.Store, acc: o.Accounts, bus: o.Events, log: o.Log, now: o.Now, vocab: newVocabCache()}
	for loc, groups := range coreSynonyms {
		if err := s.AddSynonyms("", loc, groups...); err != nil {
			panic(err) // the core's own list: a programming error
		}
	}
	if s.now == nil {
		s.now = func() time.Time { return time.Now().UTC() }
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// Migrations are the help tables and the dialect's full-text index.
func (s *Service) Migrations() []store.Migration {
	return []store.Migration{
		{ID: "0001_tables", Up: func(tx *gorm.DB) error {
			if err := tx.Migrator().AutoMigrate(&Article{}, &ArticleContext{}, &Vote{}, &Settings{}); err != nil {
				return err
			}
			for _, q := range []string{
				"CREATE UNIQUE INDEX help_articles_org_slug_locale ON help_articles (org_id, slug, locale)",
				"CREATE INDEX help_contexts_org_key ON help_contexts (org_id, context_key)",
				"CREATE UNIQUE INDEX help_votes_article_user ON help_votes (article_id, user_id)",
				"CREATE UNIQUE INDEX help_settings_org ON help_settings (org_id)",
			} {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return nil
		}},
		{ID: "0002_search", Up: func(tx *gorm.DB) error {
			// The first index (the database's own stemming) was replaced by
			// 0003; a fresh database goes straight to it.
			return nil
		}},
		{ID: "0003_search_terms", Up: s.migrateSearchTerms},
	}
}

// SetClock replaces the service's clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Reader is who reads the help centre: an organisation, a language and the
// modules enabled for them.
type Reader struct {
	OrgID   uint
	OrgSlug string
	Locale  string
	Modules []string
	// UserID is the signed-in person (0 for an anonymous reader or a token).
	UserID uint
	Role   accounts.Role
}

// SignedIn reports whether the reader is a signed-in person (who may vote).
func (r Reader) SignedIn() bool { return r.UserID != 0 }

// ReaderFor resolves the reader of a request: the signed-in person's
// organisation, or for an anonymous visitor the organisation orgSlug names,
// whose help centre must be public. locale overrides the language when it
// is supported.
func (s *Service) ReaderFor(ctx context.Context, p *accounts.Principal, orgSlug, locale string) (Reader, error) {
	if p != nil && p.OrgID != 0 && !p.Is(accounts.PlatformAdmin) {
		r := Reader{OrgID: p.OrgID, OrgSlug: p.OrgSlug, Locale: p.Locale, Modules: p.Modules, UserID: p.UserID, Role: p.Role}
		if i18n.Supported(locale) {
			r.Locale = locale
		}
		if !i18n.Supported(r.Locale) {
			r.Locale = "en"
		}
		return r, nil
	}
	orgSlug = strings.ToLower(strings.TrimSpace(orgSlug))
	if orgSlug == "" {
		return Reader{}, errs.Unauthenticatedf("sign in, or name the organisation (org=...) whose help centre to read")
	}
	org, err := s.acc.OrgBySlug(ctx, orgSlug)
	if err != nil || org.Slug == accounts.PlatformOrgSlug {
		return Reader{}, errs.NotFoundf("no organisation %q", orgSlug)
	}
	set, err := s.Settings(ctx, org.ID)
	if err != nil {
		return Reader{}, err
	}
	if !set.Public {
		return Reader{}, errs.Unauthenticatedf("this help centre is for signed-in members; please sign in")
	}
	r := Reader{OrgID: org.ID, OrgSlug: org.Slug, Locale: org.Locale, Modules: org.EnabledModules()}
	if i18n.Supported(locale) {
		r.Locale = locale
	}
	if !i18n.Supported(r.Locale) {
		r.Locale = "en"
	}
	return r, nil
}

// Settings returns an organisation's help-centre settings. Without a saved
// row the help centre is public: articles are meant to be found, also by
// someone who cannot sign in.
func (s *Service) Settings(ctx context.Context, orgID uint) (Settings, error) {
	var set Settings
	err := store.Org(s.st.DB.WithContext(ctx), orgID).First(&set).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Settings{OrgOwned: store.OrgOwned{OrgID: orgID}, Public: true}, nil
	}
	return set, err
}

// SetPublic chooses whether anyone may read the organisation's published
// articles without signing in (org admins).
func (s *Service) SetPublic(ctx context.Context, p *accounts.Principal, public bool) (Settings, error) {
	if !p.Is(accounts.Admin) {
		return Settings{}, errs.Forbiddenf("only organisation admins change the help centre's settings")
	}
	var set Settings
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		db := store.Org(tx, p.OrgID)
		if err := db.FirstOrCreate(&set).Error; err != nil {
			return err
		}
		set.Public = public
		return db.Model(&set).Updates(map[string]any{"public": public, "updated_at": s.now()}).Error
	})
	return set, err
}

// moduleVisible reports whether an article of module is shown to r.
func (r Reader) moduleVisible(module string) bool {
	return module == "" || slices.Contains(r.Modules, module)
}

// publish publishes an event if a bus is wired.
func (s *Service) publish(ctx context.Context, tx *gorm.DB, e events.Event) error {
	if s.bus == nil {
		return nil
	}
	e.Tx = tx
	return s.bus.Publish(ctx, e)
}
