package help

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/i18n"
	"github.com/portalkit/portalkit/core/store"
)

// MaxBodyLength bounds an article's Markdown source.
const MaxBodyLength = 100_000

// ArticleInput is what staff write.
type ArticleInput struct {
	Title    string
	Slug     string // made from the title when empty
	Locale   string
	Category string
	Module   string // "" for the portal itself
	Body     string
	Contexts []string
}

// normalize trims the input and checks every field, naming each bad one.
func (in *ArticleInput) normalize(modules []string) error {
	in.Title = strings.TrimSpace(in.Title)
	in.Slug = strings.ToLower(strings.TrimSpace(in.Slug))
	in.Locale = strings.TrimSpace(in.Locale)
	in.Category = strings.TrimSpace(in.Category)
	in.Module = strings.TrimSpace(in.Module)
	in.Body = strings.TrimSpace(strings.ReplaceAll(in.Body, "\r\n", "\n"))
	if in.Slug == "" {
		in.Slug = Slugify(in.Title)
	}
	var fields []errs.FieldError
	if in.Title == "" || utf8.RuneCountInString(in.Title) > 200 {
		fields = append(fields, errs.Field("title", "is required (at most 200 characters)"))
	}
	if !slugPattern.MatchString(in.Slug) || len(in.Slug) > 100 {
		fields = append(fields, errs.Field("slug", "lowercase letters, digits and hyphens (at most 100)"))
	}
	if !i18n.Supported(in.Locale) {
		fields = append(fields, errs.Field("locale", "must be one of "+strings.Join(i18n.Locales, ", ")))
	}
	if utf8.RuneCountInString(in.Category) > 80 {
		fields = append(fields, errs.Field("category", "at most 80 characters"))
	}
	if in.Module != "" && !slices.Contains(modules, in.Module) {
		fields = append(fields, errs.Field("module", "is not a module enabled for your organisation"))
	}
	if in.Body == "" || len(in.Body) > MaxBodyLength {
		fields = append(fields, errs.Field("body", fmt.Sprintf("is required (at most %d characters)", MaxBodyLength)))
	}
	var keys []string
	for _, k := range in.Contexts {
		k = strings.TrimSpace(k)
		if k == "" || slices.Contains(keys, k) {
			continue
		}
		if !contextPattern.MatchString(k) || len(k) > 100 {
			fields = append(fields, errs.Field("contexts", fmt.Sprintf("%q is not a context key such as automotive.vehicle", k)))
			break
		}
		keys = append(keys, k)
	}
	if len(keys) > 20 {
		fields = append(fields, errs.Field("contexts", "at most 20 context keys"))
	}
	in.Contexts = keys
	if len(fields) > 0 {
		return errs.Validation("the article is not valid", fields...)
	}
	return nil
}

// ParseContexts splits a comma- or space-separated list of context keys.
func ParseContexts(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

func requireEditor(p *accounts.Principal) error {
	if !p.Is(accounts.Staff, accounts.Admin, accounts.Integrator) {
		return errs.Forbiddenf("only staff edit the help centre")
	}
	return nil
}

// q returns a handle on org that selects the model's columns by name (the
// PostgreSQL search column is not read back).
func (s *Service) q(ctx context.Context, db *gorm.DB, orgID uint) *gorm.DB {
	if db == nil {
		db = s.st.DB
	}
	return store.Org(db.WithContext(ctx), orgID).Session(&gorm.Session{QueryFields: true})
}

// Get returns article id of the caller's organisation, published or not
// (staff).
func (s *Service) Get(ctx context.Context, p *accounts.Principal, id uint) (*Article, error) {
	if err := requireEditor(p); err != nil {
		return nil, err
	}
	return s.get(ctx, nil, p.OrgID, id)
}

func (s *Service) get(ctx context.Context, db *gorm.DB, orgID, id uint) (*Article, error) {
	var a Article
	err := s.q(ctx, db, orgID).First(&a, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.NotFoundf("no article %d", id)
	}
	return &a, err
}

// Create writes a new article (staff); it starts unpublished.
func (s *Service) Create(ctx context.Context, p *accounts.Principal, in ArticleInput) (*Article, error) {
	if err := requireEditor(p); err != nil {
		return nil, err
	}
	if err := in.normalize(p.Modules); err != nil {
		return nil, err
	}
	r, err := Render(in.Body)
	if err != nil {
		return nil, err
	}
	a := &Article{Module: in.Module, Slug: in.Slug, Locale: in.Locale, Title: in.Title, Category: in.Category, Body: in.Body,
		HTML: string(r.HTML), Plain: r.Plain, Excerpt: r.Excerpt, Contexts: strings.Join(in.Contexts, ","), Source: "staff",
		CreatedBy: p.UserID, UpdatedBy: p.UserID}
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		if err := store.Org(tx, p.OrgID).Create(a).Error; err != nil {
			if store.IsUniqueViolation(err) {
				return errs.Validation("the article is not valid", errs.Field("slug", "is already used by another article in this language"))
			}
			return err
		}
		return s.setContexts(tx, p.OrgID, a.ID, in.Contexts)
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Update changes an article's content (staff). Its published state stays;
// a default article edited by staff is no longer replaced by new versions
// the module ships.
func (s *Service) Update(ctx context.Context, p *accounts.Principal, id uint, in ArticleInput) (*Article, error) {
	if err := requireEditor(p); err != nil {
		return nil, err
	}
	if err := in.normalize(p.Modules); err != nil {
		return nil, err
	}
	r, err := Render(in.Body)
	if err != nil {
		return nil, err
	}
	var a *Article
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		if a, err = s.get(ctx, tx, p.OrgID, id); err != nil {
			return err
		}
		// A module may keep a disabled module's article as it is.
		if in.Module != a.Module && in.Module != "" && !slices.Contains(p.Modules, in.Module) {
			return errs.InvalidField("module", "is not a module enabled for your organisation")
		}
		st, sb := indexTerms(in.Locale, in.Title, in.Category, r.Plain)
		upd := map[string]any{"module": in.Module, "slug": in.Slug, "locale": in.Locale, "title": in.Title, "category": in.Category,
			"body": in.Body, "html": string(r.HTML), "plain": r.Plain, "excerpt": r.Excerpt, "contexts": strings.Join(in.Contexts, ","),
			"search_title": st, "search_body": sb,
			"edited": a.Source == "default" || a.Edited, "updated_by": p.UserID, "updated_at": s.now()}
		if err := store.Org(tx, p.OrgID).Model(&Article{}).Where("id = ?", a.ID).Updates(upd).Error; err != nil {
			if store.IsUniqueViolation(err) {
				return errs.Validation("the article is not valid", errs.Field("slug", "is already used by another article in this language"))
			}
			return err
		}
		if err := s.setContexts(tx, p.OrgID, a.ID, in.Contexts); err != nil {
			return err
		}
		a, err = s.get(ctx, tx, p.OrgID, id)
		return err
	})
	return a, err
}

func (s *Service) setContexts(tx *gorm.DB, orgID, articleID uint, keys []string) error {
	db := store.Org(tx, orgID)
	if err := db.Where("article_id = ?", articleID).Delete(&ArticleContext{}).Error; err != nil {
		return err
	}
	for _, k := range keys {
		if err := db.Create(&ArticleContext{ArticleID: articleID, Key: k}).Error; err != nil {
			return err
		}
	}
	return nil
}

// SetPublished publishes or unpublishes an article (staff).
func (s *Service) SetPublished(ctx context.Context, p *accounts.Principal, id uint, published bool) (*Article, error) {
	if err := requireEditor(p); err != nil {
		return nil, err
	}
	var a *Article
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		if a, err = s.get(ctx, tx, p.OrgID, id); err != nil {
			return err
		}
		if a.Published == published {
			return nil
		}
		upd := map[string]any{"published": published, "updated_by": p.UserID, "updated_at": s.now()}
		if published {
			now := s.now()
			upd["published_at"] = now
			a.PublishedAt = &now
		}
		if err := store.Org(tx, p.OrgID).Model(&Article{}).Where("id = ?", a.ID).Updates(upd).Error; err != nil {
			return err
		}
		a.Published = published
		if published {
			return s.publish(ctx, tx, events.Event{Name: EventArticlePublished, OrgID: p.OrgID, ActorID: p.UserID,
				Data: map[string]any{"summary": fmt.Sprintf("Published the help article “%s”", a.Title), "link": "/help/a/" + a.Slug,
					"article_id": a.ID, "slug": a.Slug}})
		}
		return nil
	})
	return a, err
}

// Delete removes an article written by staff. Articles a module ships are
// unpublished instead (deleting them would bring them back at the next
// import).
func (s *Service) Delete(ctx context.Context, p *accounts.Principal, id uint) error {
	if err := requireEditor(p); err != nil {
		return err
	}
	return s.st.Tx(ctx, func(tx *gorm.DB) error {
		a, err := s.get(ctx, tx, p.OrgID, id)
		if err != nil {
			return err
		}
		if a.Source == "default" {
			return errs.Conflictf("articles shipped with the portal cannot be deleted; unpublish it instead")
		}
		db := store.Org(tx, p.OrgID)
		if err := db.Where("article_id = ?", id).Delete(&ArticleContext{}).Error; err != nil {
			return err
		}
		if err := db.Where("article_id = ?", id).Delete(&Vote{}).Error; err != nil {
			return err
		}
		return db.Delete(&Article{}, id).Error
	})
}

// ManageFilter narrows the staff list.
type ManageFilter struct {
	Locale string
	Status string // "published", "draft" or ""
	Query  string // title contains
}

// Manage lists every article of the caller's organisation with its
// helpful counts (staff).
func (s *Service) Manage(ctx context.Context, p *accounts.Principal, f ManageFilter) ([]Article, error) {
	if err := requireEditor(p); err != nil {
		return nil, err
	}
	db := s.q(ctx, nil, p.OrgID)
	if i18n.Supported(f.Locale) {
		db = db.Where("locale = ?", f.Locale)
	}
	switch f.Status {
	case "published":
		db = db.Where("published = ?", true)
	case "draft":
		db = db.Where("published = ?", false)
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		db = db.Where("LOWER(title) LIKE ?"+store.LikeEscape, store.ContainsLike(strings.ToLower(q)))
	}
	var out []Article
	err := db.Order("category, title, locale").Limit(1000).Find(&out).Error
	return out, err
}

// Read returns the published article slug for r, in r's language when it
// exists in it.
func (s *Service) Read(ctx context.Context, r Reader, slug string) (*Article, error) {
	var list []Article
	err := s.q(ctx, nil, r.OrgID).Where("slug = ? AND published = ?", slug, true).Find(&list).Error
	if err != nil {
		return nil, err
	}
	list = slices.DeleteFunc(list, func(a Article) bool { return !r.moduleVisible(a.Module) })
	list = preferLocale(list, r.Locale, func(a Article) (string, string) { return a.Slug, a.Locale })
	if len(list) == 0 {
		return nil, errs.NotFoundf("no help article %q", slug)
	}
	return &list[0], nil
}

// List returns the published articles r may read, one per slug, by
// category and title. module narrows to one module's articles when set.
func (s *Service) List(ctx context.Context, r Reader, module string) ([]Article, error) {
	cond, args := readerFilter(r)
	db := s.q(ctx, nil, r.OrgID).Table("help_articles AS a").Where(cond, args)
	if module != "" {
		db = db.Where("a.module = ?", module)
	}
	var list []Article
	if err := db.Order("a.category, a.title").Find(&list).Error; err != nil {
		return nil, err
	}
	return preferLocale(list, r.Locale, func(a Article) (string, string) { return a.Slug, a.Locale }), nil
}

// ForContext returns the published articles linked to context key (a page
// of a module) that r may read.
func (s *Service) ForContext(ctx context.Context, r Reader, key string) ([]Article, error) {
	cond, args := readerFilter(r)
	args["key"] = key
	var list []Article
	err := s.q(ctx, nil, r.OrgID).Table("help_articles AS a").
		Where(cond+" AND a.id IN (SELECT c.article_id FROM help_contexts c WHERE c.org_id = @org AND c.context_key = @key)", args).
		Order("a.title").Limit(20).Find(&list).Error
	if err != nil {
		return nil, err
	}
	return preferLocale(list, r.Locale, func(a Article) (string, string) { return a.Slug, a.Locale }), nil
}

// Category is a group of articles for the index page.
type Category struct {
	Name     string
	Articles []Article
}

// Categories groups articles by category, in the order given.
func Categories(list []Article) []Category {
	var out []Category
	idx := map[string]int{}
	for _, a := range list {
		i, ok := idx[a.Category]
		if !ok {
			i = len(out)
			idx[a.Category] = i
			out = append(out, Category{Name: a.Category})
		}
		out[i].Articles = append(out[i].Articles, a)
	}
	return out
}

// Vote records whether article id helped the signed-in person. Each person
// counts once per article: answering again replaces their answer.
func (s *Service) Vote(ctx context.Context, r Reader, id uint, helpful bool) (*Article, error) {
	if !r.SignedIn() {
		return nil, errs.Unauthenticatedf("sign in to rate articles")
	}
	var a *Article
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		if a, err = s.get(ctx, tx, r.OrgID, id); err != nil {
			return err
		}
		if !a.Published || !r.moduleVisible(a.Module) {
			return errs.NotFoundf("no article %d", id)
		}
		db := store.Org(tx, r.OrgID)
		var v Vote
		err = db.Where("article_id = ? AND user_id = ?", id, r.UserID).First(&v).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			if err := db.Create(&Vote{ArticleID: id, UserID: r.UserID, Helpful: helpful}).Error; err != nil {
				if store.IsUniqueViolation(err) {
					return errs.Conflictf("your answer was recorded at the same moment; reload the page")
				}
				return err
			}
		case err != nil:
			return err
		case v.Helpful == helpful:
			return nil
		default:
			if err := db.Model(&Vote{}).Where("id = ?", v.ID).Updates(map[string]any{"helpful": helpful, "updated_at": s.now()}).Error; err != nil {
				return err
			}
		}
		// Counts are recomputed from the votes, so they can never drift.
		var yes, total int64
		if err := db.Model(&Vote{}).Where("article_id = ? AND helpful = ?", id, true).Count(&yes).Error; err != nil {
			return err
		}
		if err := db.Model(&Vote{}).Where("article_id = ?", id).Count(&total).Error; err != nil {
			return err
		}
		if err := db.Model(&Article{}).Where("id = ?", id).UpdateColumns(map[string]any{"helpful_yes": yes, "helpful_no": total - yes}).Error; err != nil {
			return err
		}
		a.HelpfulYes, a.HelpfulNo = yes, total-yes
		answer := "not helpful"
		if helpful {
			answer = "helpful"
		}
		var subject uint
		if r.Role == accounts.Customer {
			subject = r.UserID
		}
		format := "Rated the help article “%s” as not helpful"
		if helpful {
			format = "Rated the help article “%s” as helpful"
		}
		return s.publish(ctx, tx, events.Event{Name: EventArticleRated, OrgID: r.OrgID, ActorID: r.UserID, SubjectID: subject,
			Data: map[string]any{"summary": fmt.Sprintf("Rated the help article “%s” as %s", a.Title, answer), "link": "/help/a/" + a.Slug,
				"article_id": a.ID, "slug": a.Slug, "helpful": helpful},
			Summary: format, SummaryArgs: []any{a.Title}, Link: "/help/a/" + a.Slug})
	})
	return a, err
}

// MyVote returns the signed-in reader's answer for article id, if any.
func (s *Service) MyVote(ctx context.Context, r Reader, id uint) (*bool, error) {
	if !r.SignedIn() {
		return nil, nil
	}
	var v Vote
	err := store.Org(s.st.DB.WithContext(ctx), r.OrgID).Where("article_id = ? AND user_id = ?", id, r.UserID).First(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &v.Helpful, nil
}

// Preview renders Markdown as the article page would show it.
func Preview(body string) (template.HTML, error) {
	if len(body) > MaxBodyLength {
		return "", errs.InvalidField("body", fmt.Sprintf("at most %d characters", MaxBodyLength))
	}
	r, err := Render(body)
	return r.HTML, err
}
