package accounts

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// DemoUser is one account of the demo data.
type DemoUser struct {
	Org, Email, Name string
	Role             Role
}

// DemoUsers are the demo accounts, all with the demo password.
var DemoUsers = []DemoUser{
	{"demo", "admin@demo.example", "Alessandra Admin", Admin},
	{"demo", "staff@demo.example", "Sam Staff", Staff},
	{"demo", "customer@demo.example", "Chiara Customer", Customer},
	{"demo", "customer2@demo.example", "Carlo Customer", Customer},
	{"other", "customer@other.example", "Oscar Other", Customer},
	{PlatformOrgSlug, "platform@portal.example", "Pat Platform", PlatformAdmin},
}

// Demo creates, idempotently, the organisations "demo" (self sign-up open)
// and "other", the platform organisation, and DemoUsers with password;
// staff@demo.example is assigned to customer@demo.example. It returns the
// IDs by slug and by e-mail.
func (s *Service) Demo(ctx context.Context, tx *gorm.DB, password string) (map[string]uint, map[string]uint, error) {
	orgs := map[string]uint{}
	users := map[string]uint{}
	for _, o := range []NewOrg{
		{Slug: "demo", Name: "Demo Motors & Bank", Locale: "en", TimeZone: "Europe/Rome", SelfSignup: true},
		{Slug: "other", Name: "Other Company", Locale: "it", TimeZone: "Europe/Rome"},
		{Slug: PlatformOrgSlug, Name: "Platform administration", Locale: "en", TimeZone: "UTC", Modules: []string{}},
	} {
		var org Org
		err := tx.Where("slug = ?", o.Slug).First(&org).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			mods := o.Modules
			if mods == nil {
				mods = s.modules()
			}
			org = Org{Slug: o.Slug, Name: o.Name, Locale: o.Locale, TimeZone: o.TimeZone, SelfSignup: o.SelfSignup, RetentionDays: 30,
				Modules: joinList(mods), PrimaryColor: map[string]string{"demo": "#0b5cad", "other": "#7a2e8c"}[o.Slug]}
			if err := tx.Create(&org).Error; err != nil {
				return nil, nil, err
			}
		} else if err != nil {
			return nil, nil, err
		}
		orgs[org.Slug] = org.ID
	}
	for _, du := range DemoUsers {
		orgID := orgs[du.Org]
		var u User
		err := store.Org(tx, orgID).Where("email = ?", du.Email).First(&u).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			created, cerr := s.CreateUser(ctx, tx, orgID, NewUser{Email: du.Email, Name: du.Name, Role: du.Role, Password: password, Verified: true})
			if cerr != nil {
				if e, ok := errs.As(cerr); ok && e.Kind == errs.Invalid {
					return nil, nil, errors.New("demo password rejected by the password policy: " + e.Error())
				}
				return nil, nil, cerr
			}
			u = *created
		} else if err != nil {
			return nil, nil, err
		} else {
			// Rerunning the demo with a new password resets it.
			h, herr := HashPassword(password, s.argon)
			if herr != nil {
				return nil, nil, herr
			}
			if err := store.Org(tx, orgID).Model(&u).Updates(map[string]any{"password_hash": h, "disabled_at": nil}).Error; err != nil {
				return nil, nil, err
			}
		}
		users[du.Email] = u.ID
	}
	a := Assignment{StaffID: users["staff@demo.example"], CustomerID: users["customer@demo.example"], Relation: "advisor"}
	if err := store.Org(tx, orgs["demo"]).Where("staff_id = ? AND customer_id = ?", a.StaffID, a.CustomerID).FirstOrCreate(&a).Error; err != nil {
		return nil, nil, err
	}
	return orgs, users, nil
}

func joinList(items []string) string {
	out := ""
	for i, it := range items {
		if i > 0 {
			out += ","
		}
		out += it
	}
	return out
}
