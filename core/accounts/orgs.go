package accounts

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/i18n"
	"github.com/portalkit/portalkit/core/store"
)

var (
	slugPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$`)
	colorPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
)

// NewOrg describes an organisation to create.
type NewOrg struct {
	Slug, Name, Locale, TimeZone string
	SelfSignup                   bool
	// Modules to enable; nil enables every loaded module.
	Modules []string
}

// SupportedLocales are the locales the portal is translated into (one
// list, core/i18n's).
var SupportedLocales = i18n.Locales

func validateLocaleTZ(locale, tz string) error {
	if locale != "" && !slices.Contains(SupportedLocales, locale) {
		return errs.InvalidField("locale", "must be one of "+strings.Join(SupportedLocales, ", "))
	}
	if tz != "" {
		if _, err := time.LoadLocation(tz); err != nil {
			return errs.InvalidField("time_zone", "is not an IANA time zone such as Europe/Rome")
		}
	}
	return nil
}

// CreateOrg creates an organisation.
func (s *Service) CreateOrg(ctx context.Context, in NewOrg) (*Org, error) {
	in.Slug = strings.ToLower(strings.TrimSpace(in.Slug))
	in.Name = strings.TrimSpace(in.Name)
	var fields []errs.FieldError
	if !slugPattern.MatchString(in.Slug) {
		fields = append(fields, errs.Field("slug", "3-40 lowercase letters, digits or hyphens, not starting or ending with a hyphen"))
	}
	if in.Name == "" || len(in.Name) > 120 {
		fields = append(fields, errs.Field("name", "is required (at most 120 characters)"))
	}
	if len(fields) > 0 {
		return nil, errs.Validation("the organisation is not valid", fields...)
	}
	if in.Locale == "" {
		in.Locale = "en"
	}
	if in.TimeZone == "" {
		in.TimeZone = "UTC"
	}
	if err := validateLocaleTZ(in.Locale, in.TimeZone); err != nil {
		return nil, err
	}
	mods := in.Modules
	if mods == nil {
		mods = s.modules()
	}
	if err := s.checkModules(mods); err != nil {
		return nil, err
	}
	o := &Org{Slug: in.Slug, Name: in.Name, Locale: in.Locale, TimeZone: in.TimeZone,
		SelfSignup: in.SelfSignup, Modules: strings.Join(mods, ","), RetentionDays: 30}
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(o).Error; err != nil {
			if store.IsUniqueViolation(err) {
				return errs.Validation("the organisation is not valid", errs.Field("slug", "is already taken"))
			}
			return err
		}
		if err := s.Audit(ctx, tx, AuditEntry{OrgOwned: store.OrgOwned{OrgID: o.ID}, Action: AuditOrgCreated, TargetType: "org", TargetID: o.ID, Detail: o.Slug}); err != nil {
			return err
		}
		return s.publish(ctx, tx, EventOrgCreated, o.ID, 0, 0, o)
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

func (s *Service) checkModules(mods []string) error {
	loaded := s.modules()
	for _, m := range mods {
		if !slices.Contains(loaded, m) {
			return errs.InvalidField("modules", "no module "+m+" is loaded in this deployment")
		}
	}
	return nil
}

// OrgBySlug returns the organisation with slug, or a not-found error.
func (s *Service) OrgBySlug(ctx context.Context, slug string) (*Org, error) {
	var o Org
	err := s.st.DB.WithContext(ctx).Where("slug = ?", strings.ToLower(strings.TrimSpace(slug))).First(&o).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.NotFoundf("no organisation %q", slug)
	}
	return &o, err
}

// OrgByID returns an organisation.
func (s *Service) OrgByID(ctx context.Context, id uint) (*Org, error) {
	var o Org
	err := s.st.DB.WithContext(ctx).First(&o, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.NotFoundf("no organisation %d", id)
	}
	return &o, err
}

// ListOrgs returns organisations by slug, for platform admins.
func (s *Service) ListOrgs(ctx context.Context, p *Principal, page Page) ([]Org, int64, error) {
	if !p.Is(PlatformAdmin) {
		return nil, 0, errs.Forbiddenf("only platform admins list organisations")
	}
	var out []Org
	var total int64
	q := s.st.DB.WithContext(ctx).Model(&Org{}).Where("slug <> ?", PlatformOrgSlug)
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	err := q.Order("slug").Limit(page.limit()).Offset(page.offset()).Find(&out).Error
	return out, total, err
}

// OrgsWithModule returns the IDs of organisations that enabled module id;
// jobs of a module walk only these.
func (s *Service) OrgsWithModule(ctx context.Context, id string) ([]uint, error) {
	var orgs []Org
	if err := s.st.DB.WithContext(ctx).Select("id", "modules").Find(&orgs).Error; err != nil {
		return nil, err
	}
	var out []uint
	for _, o := range orgs {
		if o.ModuleEnabled(id) {
			out = append(out, o.ID)
		}
	}
	return out, nil
}

// OrgSettings is what an org admin may change.
type OrgSettings struct {
	Name          *string
	LogoURL       *string
	PrimaryColor  *string
	Locale        *string
	TimeZone      *string
	SelfSignup    *bool
	RetentionDays *int
	Modules       []string
}

// UpdateOrg changes the caller's organisation (org admins) or any
// organisation (platform admins).
func (s *Service) UpdateOrg(ctx context.Context, p *Principal, orgID uint, in OrgSettings) (*Org, error) {
	if !(p.Is(Admin) && p.OrgID == orgID) && !p.Is(PlatformAdmin) {
		return nil, errs.Forbiddenf("only the organisation's admins change its settings")
	}
	o, err := s.OrgByID(ctx, orgID)
	if err != nil {
		return nil, err
	}
	var fields []errs.FieldError
	if in.Name != nil {
		if n := strings.TrimSpace(*in.Name); n == "" || len(n) > 120 {
			fields = append(fields, errs.Field("name", "is required (at most 120 characters)"))
		} else {
			o.Name = n
		}
	}
	if in.LogoURL != nil {
		u := strings.TrimSpace(*in.LogoURL)
		if u != "" && !strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "data:image/") {
			fields = append(fields, errs.Field("logo_url", "must be an https:// URL, a /path on this portal, or a data:image URL"))
		} else {
			o.LogoURL = u
		}
	}
	if in.PrimaryColor != nil {
		c := strings.TrimSpace(*in.PrimaryColor)
		if c != "" && !colorPattern.MatchString(c) {
			fields = append(fields, errs.Field("primary_color", "must be a colour such as #1f5fbf"))
		} else {
			o.PrimaryColor = strings.ToLower(c)
		}
	}
	if in.Locale != nil {
		if err := validateLocaleTZ(*in.Locale, ""); err != nil {
			fields = append(fields, errs.Field("locale", "must be one of "+strings.Join(SupportedLocales, ", ")))
		} else {
			o.Locale = *in.Locale
		}
	}
	if in.TimeZone != nil {
		if err := validateLocaleTZ("", *in.TimeZone); err != nil {
			fields = append(fields, errs.Field("time_zone", "is not an IANA time zone such as Europe/Rome"))
		} else {
			o.TimeZone = *in.TimeZone
		}
	}
	if in.RetentionDays != nil {
		if *in.RetentionDays < 0 || *in.RetentionDays > 3650 {
			fields = append(fields, errs.Field("retention_days", "must be between 0 and 3650"))
		} else {
			o.RetentionDays = *in.RetentionDays
		}
	}
	if in.SelfSignup != nil {
		o.SelfSignup = *in.SelfSignup
	}
	if in.Modules != nil {
		if err := s.checkModules(in.Modules); err != nil {
			if e, ok := errs.As(err); ok && len(e.Fields) > 0 {
				fields = append(fields, e.Fields...)
			} else {
				return nil, err
			}
		} else {
			o.Modules = strings.Join(in.Modules, ",")
		}
	}
	if len(fields) > 0 {
		return nil, errs.Validation("the settings are not valid", fields...)
	}
	defer s.forgetOrg(o.ID)
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Save(o).Error; err != nil {
			return err
		}
		return s.Audit(ctx, tx, AuditEntry{OrgOwned: store.OrgOwned{OrgID: o.ID}, Action: AuditOrgUpdated, ActorID: p.UserID, ActorEmail: p.Email, TargetType: "org", TargetID: o.ID})
	})
	return o, err
}

// Page is a page of a list.
type Page struct {
	Number int // from 1
	Size   int
}

func (p Page) limit() int {
	if p.Size <= 0 || p.Size > 200 {
		return 50
	}
	return p.Size
}

func (p Page) offset() int {
	if p.Number <= 1 {
		return 0
	}
	return (p.Number - 1) * p.limit()
}
