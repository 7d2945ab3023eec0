// Package drafts keeps half-filled forms on the server so a person can
// continue on any device signed in to the same account ("continue where you
// left off"). A form opts in with data-draft="<module>.<key>" and the
// portal's drafts.js saves its named fields, debounced, through
// PUT /api/v1/drafts/{key}; the page handler calls ForPage to offer the
// saved draft, and the submit handler calls Clear inside the transaction
// that stores the submission. Drafts belong to one person of one
// organisation, expire after drafts.ttl, and are at most drafts.max_bytes.
//
// drafts imports accounts, config, errs, store and web; never core/module or
// core/app.
package drafts

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"regexp"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// Draft is one saved form of one person.
type Draft struct {
	ID uint `gorm:"primaryKey"`
	store.OrgOwned
	UserID uint `gorm:"not null"`
	// Key is "<module>.<form>[.<object>]", e.g. "banking.savings_open".
	Key string `gorm:"column:draft_key;size:120;not null"`
	// Data is the form's fields as a JSON object.
	Data      string    `gorm:"type:text;not null"`
	Size      int       `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null"`
	UpdatedAt time.Time `gorm:"not null"`
	ExpiresAt time.Time `gorm:"not null;index"`
}

// TableName is drafts_forms.
func (Draft) TableName() string { return "drafts_forms" }

// KeyPattern is what a draft key looks like: a module ID, then one or more
// dot-separated parts of lowercase letters, digits, "_" and "-".
const KeyPattern = `^[a-z][a-z0-9_]*(\.[a-z0-9_-]+)+$`

var keyRE = regexp.MustCompile(KeyPattern)

// MaxKeyLen bounds a key.
const MaxKeyLen = 120

// ValidKey reports whether key is a well-formed draft key.
func ValidKey(key string) bool { return len(key) <= MaxKeyLen && keyRE.MatchString(key) }

func checkKey(key string) error {
	if !ValidKey(key) {
		return errs.InvalidField("key", "must look like module.form (lowercase letters, digits, _ and -, parts separated by dots, at most 120 characters)")
	}
	return nil
}

// Options builds a Service.
type Options struct {
	Store  *store.Store
	Config config.Drafts
	Log    *slog.Logger
	// Now overrides the clock (tests).
	Now func() time.Time
}

// Service stores drafts.
type Service struct {
	st  *store.Store
	cfg config.Drafts
	log *slog.Logger
	now func() time.Time
}

// New returns the drafts service.
func New(o Options) (*Service, error) {
	if err := o.Config.Validate(); err != nil {
		return nil, err
	}
	s := &Service{st: o.Store, cfg: o.Config, log: o.Log, now: o.Now}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = func() time.Time { return time.Now().UTC() }
	}
	return s, nil
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Limits returns the configuration in force.
func (s *Service) Limits() config.Drafts { return s.cfg }

// Migrations are the drafts table.
func (s *Service) Migrations() []store.Migration {
	return []store.Migration{{ID: "0001_tables", Up: func(tx *gorm.DB) error {
		if err := tx.Migrator().AutoMigrate(&Draft{}); err != nil {
			return err
		}
		return tx.Exec("CREATE UNIQUE INDEX drafts_forms_owner_key ON drafts_forms (org_id, user_id, draft_key)").Error
	}}}
}

// Saved is a draft as callers see it.
type Saved struct {
	Key       string         `json:"key"`
	Data      map[string]any `json:"data,omitempty"`
	Size      int            `json:"size"`
	SavedAt   time.Time      `json:"saved_at"`
	ExpiresAt time.Time      `json:"expires_at"`
}

func view(d *Draft, withData bool) (*Saved, error) {
	v := &Saved{Key: d.Key, Size: d.Size, SavedAt: d.UpdatedAt, ExpiresAt: d.ExpiresAt}
	if withData {
		if err := json.Unmarshal([]byte(d.Data), &v.Data); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// owner returns the person a principal's drafts belong to; API tokens have
// none.
func owner(p *accounts.Principal) (orgID, userID uint, err error) {
	if p == nil || p.UserID == 0 || p.OrgID == 0 {
		return 0, 0, errs.NotFoundf("not found")
	}
	return p.OrgID, p.UserID, nil
}

// Save stores the fields of the caller's form under key, replacing what was
// saved before, and restarts its expiry. A key that is malformed is
// invalid (422); data above drafts.max_bytes is too large (413).
func (s *Service) Save(ctx context.Context, p *accounts.Principal, key string, data map[string]any) (*Saved, error) {
	orgID, userID, err := owner(p)
	if err != nil {
		return nil, err
	}
	return s.SaveFor(ctx, s.st.DB.WithContext(ctx), orgID, userID, key, data)
}

// SaveFor is Save for a known person, in db (a transaction or the store).
func (s *Service) SaveFor(ctx context.Context, db *gorm.DB, orgID, userID uint, key string, data map[string]any) (*Saved, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if data == nil {
		data = map[string]any{}
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, errs.InvalidField("data", "must be a JSON object of form fields")
	}
	if len(raw) > s.cfg.MaxBytes {
		return nil, errs.New(errs.TooLarge, "the draft is %d bytes; at most %d are kept", len(raw), s.cfg.MaxBytes)
	}
	now := s.now()
	d := &Draft{UserID: userID, Key: key, Data: string(raw), Size: len(raw), CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(s.cfg.TTL)}
	err = store.Org(db.WithContext(ctx), orgID).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "org_id"}, {Name: "user_id"}, {Name: "draft_key"}},
		DoUpdates: clause.AssignmentColumns([]string{"data", "size", "updated_at", "expires_at"}),
	}).Create(d).Error
	if err != nil {
		return nil, err
	}
	return view(d, true)
}

// Load returns the caller's unexpired draft under key, or a not-found
// error.
func (s *Service) Load(ctx context.Context, p *accounts.Principal, key string) (*Saved, error) {
	orgID, userID, err := owner(p)
	if err != nil {
		return nil, err
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	d, err := s.find(ctx, orgID, userID, key)
	if err != nil {
		return nil, err
	}
	return view(d, true)
}

func (s *Service) find(ctx context.Context, orgID, userID uint, key string) (*Draft, error) {
	var d Draft
	err := store.Org(s.st.DB.WithContext(ctx), orgID).
		Where("user_id = ? AND draft_key = ? AND expires_at > ?", userID, key, s.now()).First(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.NotFoundf("no draft %q", key)
	}
	return &d, err
}

// List returns the caller's unexpired drafts, newest first, without their
// fields.
func (s *Service) List(ctx context.Context, p *accounts.Principal) ([]Saved, error) {
	orgID, userID, err := owner(p)
	if err != nil {
		return nil, err
	}
	var ds []Draft
	if err := store.Org(s.st.DB.WithContext(ctx), orgID).Select("draft_key", "size", "updated_at", "expires_at").
		Where("user_id = ? AND expires_at > ?", userID, s.now()).Order("updated_at DESC").Limit(200).Find(&ds).Error; err != nil {
		return nil, err
	}
	out := make([]Saved, 0, len(ds))
	for i := range ds {
		v, _ := view(&ds[i], false)
		out = append(out, *v)
	}
	return out, nil
}

// Delete removes the caller's draft under key ("start over"); not found when
// there is none.
func (s *Service) Delete(ctx context.Context, p *accounts.Principal, key string) error {
	orgID, userID, err := owner(p)
	if err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	res := store.Org(s.st.DB.WithContext(ctx), orgID).Where("user_id = ? AND draft_key = ?", userID, key).Delete(&Draft{})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errs.NotFoundf("no draft %q", key)
	}
	return nil
}

// Clear deletes a person's draft under key inside tx — the transaction that
// stores the form's submission, so the draft disappears exactly when the
// submission is committed. Clearing a draft that does not exist is not an
// error.
func Clear(ctx context.Context, tx *gorm.DB, orgID, userID uint, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	return store.Org(tx.WithContext(ctx), orgID).Where("user_id = ? AND draft_key = ?", userID, key).Delete(&Draft{}).Error
}

// Purge deletes every expired draft of every organisation and returns how
// many (the drafts.purge job).
func (s *Service) Purge(ctx context.Context) (int64, error) {
	res := store.AllOrgs(s.st.DB.WithContext(ctx)).Where("expires_at <= ?", s.now()).Delete(&Draft{})
	return res.RowsAffected, res.Error
}

// localService is where Middleware leaves the service for ForPage.
const localService = "portal.drafts"

// Middleware makes the service reachable from page handlers (ForPage). The
// kernel installs it before any module page.
func (s *Service) Middleware() fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Locals(localService, s)
		return c.Next()
	}
}

// Offer is what a page handler gives its template for a form with a
// draft: the key, and whether the signed-in person has a saved draft.
type Offer struct {
	Key     string
	Saved   bool
	SavedAt time.Time
	// known is false when the page could not look the draft up (a route
	// mounted before the drafts middleware): the script then asks itself.
	known bool
}

// ForPage is what a page handler calls to offer "continue where you left
// off" on the form with draft key: it checks the key and looks up the
// signed-in person's draft. The template puts {{.Data.Draft.Attrs $}}
// inside the form tag; drafts.js does the rest.
func ForPage(c *fiber.Ctx, key string) (Offer, error) {
	if err := checkKey(key); err != nil {
		return Offer{}, err
	}
	o := Offer{Key: key}
	s, _ := c.Locals(localService).(*Service)
	p, ok := accounts.PrincipalOf(c)
	if !ok || p.UserID == 0 {
		o.known = true // nobody to offer a draft to
		return o, nil
	}
	if s == nil {
		return o, nil
	}
	d, err := s.find(c.UserContext(), p.OrgID, p.UserID, key)
	switch {
	case errs.Is(err, errs.NotFound):
		d = nil
	case err != nil:
		return o, err
	}
	o.known = true
	if d != nil {
		o.Saved, o.SavedAt = true, d.UpdatedAt
	}
	return o, nil
}

// Attrs returns the form attributes drafts.js reads: the key, whether a
// draft is saved (so the script fetches it only then) and the offer's
// texts in the page's language.
func (o Offer) Attrs(p *web.Page) template.HTMLAttr {
	labels, _ := json.Marshal(map[string]string{
		"offer":    p.T("You have an unfinished version of this form."),
		"continue": p.T("Continue where you left off"),
		"restart":  p.T("Start over"),
		"saved":    p.T("Draft saved"),
		"failed":   p.T("Your draft could not be saved."),
	})
	attrs := `data-draft="` + template.HTMLEscapeString(o.Key) + `"`
	if o.known {
		saved := "0"
		if o.Saved {
			saved = "1"
		}
		attrs += ` data-draft-saved="` + saved + `" data-draft-at="` + strconv.FormatInt(o.SavedAt.Unix(), 10) + `"`
	}
	return template.HTMLAttr(attrs + ` data-draft-labels="` + template.HTMLEscapeString(string(labels)) + `"`)
}
