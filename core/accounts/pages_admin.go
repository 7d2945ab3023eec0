package accounts

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/web"
)

// pager is the paging data list templates receive.
type pager struct {
	Page, Pages int
	Total       int64
	PrevURL     string
	NextURL     string
}

func newPager(c *fiber.Ctx, page Page, total int64) pager {
	size := int64(page.limit())
	pages := int((total + size - 1) / size)
	if pages < 1 {
		pages = 1
	}
	n := page.Number
	if n < 1 {
		n = 1
	}
	link := func(to int) string {
		q := url.Values{}
		for k, v := range c.Request().URI().QueryArgs().All() {
			q.Set(string(k), string(v))
		}
		q.Del("msg")
		q.Set("page", strconv.Itoa(to))
		return c.Path() + "?" + q.Encode()
	}
	pg := pager{Page: n, Pages: pages, Total: total}
	if n > 1 {
		pg.PrevURL = link(n - 1)
	}
	if n < pages {
		pg.NextURL = link(n + 1)
	}
	return pg
}

func (s *Service) mountAdminPages(app *fiber.App) {
	admin := app.Group("/admin", s.RequirePage(Admin))
	admin.Get("/users", s.usersPage)
	admin.Post("/users/invite", s.inviteSubmit)
	admin.Post("/users/:id/role", s.roleSubmit)
	admin.Post("/users/:id/assign", s.assignSubmit)
	admin.Post("/users/:id/unassign", s.unassignSubmit)
	admin.Get("/tokens", s.tokensPage)
	admin.Post("/tokens", s.tokenCreateSubmit)
	admin.Post("/tokens/:id/revoke", s.tokenRevokeSubmit)
	admin.Get("/audit", s.auditPage)
	admin.Get("/org", s.orgPage)
	admin.Post("/org", s.orgSubmit)

	platform := app.Group("/platform", s.RequirePage(PlatformAdmin))
	platform.Get("/orgs", s.orgsPage)
	platform.Post("/orgs", s.orgCreateSubmit)
}

// AdminNav is the navigation of the accounts admin pages.
func AdminNav() []web.NavItem {
	return []web.NavItem{
		{Label: "Users", Path: "/admin/users", Roles: []string{string(Admin)}, Order: 900, Group: "Administration"},
		{Label: "API tokens", Path: "/admin/tokens", Roles: []string{string(Admin)}, Order: 910, Group: "Administration"},
		{Label: "Audit log", Path: "/admin/audit", Roles: []string{string(Admin)}, Order: 920, Group: "Administration"},
		{Label: "Organisation", Path: "/admin/org", Roles: []string{string(Admin)}, Order: 930, Group: "Administration"},
		{Label: "Organisations", Path: "/platform/orgs", Roles: []string{string(PlatformAdmin)}, Order: 900, Group: "Administration"},
	}
}

func (s *Service) usersData(c *fiber.Ctx, invite *form) (map[string]any, error) {
	p, _ := PrincipalOf(c)
	page := Page{Number: atoiDefault(c.Query("page"), 1), Size: 25}
	filter := UserFilter{Role: Role(c.Query("role")), Query: c.Query("q")}
	users, total, err := s.ListUsers(c.UserContext(), p, filter, page)
	if err != nil {
		return nil, err
	}
	staff, _, err := s.ListUsers(c.UserContext(), p, UserFilter{Role: Staff}, Page{Size: 200})
	if err != nil {
		return nil, err
	}
	assigned := map[uint][]Assignment{}
	for _, u := range users {
		if u.Role == Customer {
			as, err := s.Assignments(c.UserContext(), p.OrgID, u.ID)
			if err != nil {
				return nil, err
			}
			assigned[u.ID] = as
		}
	}
	names := map[uint]string{}
	for _, st := range staff {
		names[st.ID] = st.Name
	}
	if invite == nil {
		invite = &form{Values: map[string]string{"role": "customer"}, Errors: map[string]string{}}
	}
	return map[string]any{"Users": users, "Staff": staff, "StaffNames": names, "Assigned": assigned,
		"Filter": map[string]string{"role": c.Query("role"), "q": c.Query("q")}, "Pager": newPager(c, page, total),
		"Invite": invite, "Roles": PersonRoles, "Me": p.UserID}, nil
}

func (s *Service) usersPage(c *fiber.Ctx) error {
	data, err := s.usersData(c, nil)
	if err != nil {
		return err
	}
	return render(c, "users", "Users and roles", data)
}

func (s *Service) inviteSubmit(c *fiber.Ctx) error {
	p, _ := PrincipalOf(c)
	f := newForm(c, "email", "name", "role")
	if _, err := s.Invite(c.UserContext(), p, f.Values["email"], f.Values["name"], Role(f.Values["role"])); err != nil {
		if ferr := f.fail(err); ferr != nil {
			return ferr
		}
		data, derr := s.usersData(c, f)
		if derr != nil {
			return derr
		}
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, "users", "Users and roles", data)
	}
	return redirectMsg(c, "/admin/users", "invited")
}

func (s *Service) roleSubmit(c *fiber.Ctx) error {
	p, _ := PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.SetRole(c.UserContext(), p, id, Role(c.FormValue("role"))); err != nil {
		return err
	}
	return redirectMsg(c, "/admin/users", "role_changed")
}

func (s *Service) assignSubmit(c *fiber.Ctx) error {
	p, _ := PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	staffID, err := strconv.ParseUint(c.FormValue("staff_id"), 10, 64)
	if err != nil {
		return errs.InvalidField("staff_id", "choose a staff member")
	}
	if err := s.Assign(c.UserContext(), p, uint(staffID), id, c.FormValue("relation")); err != nil {
		return err
	}
	return redirectMsg(c, "/admin/users", "assigned")
}

func (s *Service) unassignSubmit(c *fiber.Ctx) error {
	p, _ := PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	staffID, err := strconv.ParseUint(c.FormValue("staff_id"), 10, 64)
	if err != nil {
		return errs.InvalidField("staff_id", "choose a staff member")
	}
	if err := s.Unassign(c.UserContext(), p, uint(staffID), id); err != nil {
		return err
	}
	return redirectMsg(c, "/admin/users", "unassigned")
}

func (s *Service) tokensData(c *fiber.Ctx, f *form, created *CreatedToken) (map[string]any, error) {
	p, _ := PrincipalOf(c)
	list, err := s.Tokens(c.UserContext(), p)
	if err != nil {
		return nil, err
	}
	if f == nil {
		f = &form{Values: map[string]string{"expires_in_days": "90", "scopes": "*"}, Errors: map[string]string{}}
	}
	return map[string]any{"Tokens": list, "Form": f, "Created": created, "Now": s.now()}, nil
}

func (s *Service) tokensPage(c *fiber.Ctx) error {
	data, err := s.tokensData(c, nil, nil)
	if err != nil {
		return err
	}
	return render(c, "tokens", "API tokens", data)
}

func (s *Service) tokenCreateSubmit(c *fiber.Ctx) error {
	p, _ := PrincipalOf(c)
	f := newForm(c, "name", "scopes", "expires_in_days")
	days, convErr := strconv.Atoi(strings.TrimSpace(f.Values["expires_in_days"]))
	var created *CreatedToken
	var err error
	if convErr != nil {
		err = errs.InvalidField("expires_in_days", "must be a whole number of days")
	} else {
		var scopes []string
		for _, sc := range strings.FieldsFunc(f.Values["scopes"], func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
			scopes = append(scopes, strings.TrimSpace(sc))
		}
		created, err = s.CreateToken(c.UserContext(), p, NewToken{Name: f.Values["name"], Scopes: scopes, ExpiresIn: time.Duration(days) * 24 * time.Hour}, c.IP())
	}
	if err != nil {
		if ferr := f.fail(err); ferr != nil {
			return ferr
		}
		c.Status(fiber.StatusUnprocessableEntity)
		data, derr := s.tokensData(c, f, nil)
		if derr != nil {
			return derr
		}
		return render(c, "tokens", "API tokens", data)
	}
	// The secret is shown in this response only; it is never stored.
	c.Set(fiber.HeaderCacheControl, "no-store")
	data, err := s.tokensData(c, nil, created)
	if err != nil {
		return err
	}
	return render(c, "tokens", "API tokens", data)
}

func (s *Service) tokenRevokeSubmit(c *fiber.Ctx) error {
	p, _ := PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.RevokeToken(c.UserContext(), p, id, c.IP()); err != nil {
		return err
	}
	return redirectMsg(c, "/admin/tokens", "token_revoked")
}

// AuditActions lists the actions the audit log records, for filters.
var AuditActions = []string{AuditLoginOK, AuditLoginFailed, AuditLoginThrottled, AuditLogout, AuditPasswordChanged, AuditPasswordReset,
	AuditResetRequested, AuditSessionRevoked, AuditRoleChanged, AuditTokenCreated, AuditTokenRevoked, AuditUserCreated,
	AuditUserInvited, AuditUserDisabled, AuditDeletionReq, AuditDataExport, AuditOrgCreated, AuditOrgUpdated, AuditEmailVerified, AuditAssignment}

func (s *Service) auditPage(c *fiber.Ctx) error {
	p, _ := PrincipalOf(c)
	page := Page{Number: atoiDefault(c.Query("page"), 1), Size: 50}
	f := AuditFilter{Action: c.Query("action")}
	if id, err := strconv.ParseUint(c.Query("actor_id"), 10, 64); err == nil {
		f.ActorID = uint(id)
	}
	var bad []string
	if v := c.Query("since"); v != "" {
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			bad = append(bad, "From must be a date such as 2026-01-31.")
		}
		f.Since = t
	}
	if v := c.Query("until"); v != "" {
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			bad = append(bad, "To must be a date such as 2026-01-31.")
		}
		f.Until = t.Add(24 * time.Hour)
	}
	entries, total, err := s.AuditLog(c.UserContext(), p, f, page)
	if err != nil {
		return err
	}
	return render(c, "audit", "Audit log", map[string]any{"Entries": entries, "Pager": newPager(c, page, total), "Actions": AuditActions,
		"Filter":   map[string]string{"action": c.Query("action"), "actor_id": c.Query("actor_id"), "since": c.Query("since"), "until": c.Query("until")},
		"Problems": bad})
}

func (s *Service) orgPage(c *fiber.Ctx) error {
	p, _ := PrincipalOf(c)
	org, err := s.OrgByID(c.UserContext(), p.OrgID)
	if err != nil {
		return err
	}
	return render(c, "org", "Organisation settings", s.orgData(org, nil))
}

func (s *Service) orgData(org *Org, f *form) map[string]any {
	if f == nil {
		f = &form{Values: map[string]string{"name": org.Name, "logo_url": org.LogoURL, "primary_color": org.PrimaryColor,
			"locale": org.Locale, "time_zone": org.TimeZone, "retention_days": strconv.Itoa(org.RetentionDays)}, Errors: map[string]string{}}
		if org.SelfSignup {
			f.Values["self_signup"] = "on"
		}
	}
	enabled := map[string]bool{}
	for _, m := range org.EnabledModules() {
		enabled[m] = true
	}
	return map[string]any{"Org": org, "Form": f, "Modules": s.modules(), "Enabled": enabled, "Locales": SupportedLocales}
}

func (s *Service) orgSubmit(c *fiber.Ctx) error {
	p, _ := PrincipalOf(c)
	f := newForm(c, "name", "logo_url", "primary_color", "locale", "time_zone", "retention_days", "self_signup")
	in := OrgSettings{Name: ptr(f.Values["name"]), LogoURL: ptr(f.Values["logo_url"]), PrimaryColor: ptr(f.Values["primary_color"]),
		Locale: ptr(f.Values["locale"]), TimeZone: ptr(f.Values["time_zone"])}
	self := f.Values["self_signup"] == "on"
	in.SelfSignup = &self
	var err error
	if days, convErr := strconv.Atoi(strings.TrimSpace(f.Values["retention_days"])); convErr != nil {
		err = errs.InvalidField("retention_days", "must be a whole number of days")
	} else {
		in.RetentionDays = &days
	}
	mods := []string{}
	for k, v := range c.Request().PostArgs().All() {
		if string(k) == "modules" {
			mods = append(mods, string(v))
		}
	}
	in.Modules = mods
	if err == nil {
		_, err = s.UpdateOrg(c.UserContext(), p, p.OrgID, in)
	}
	if err != nil {
		if ferr := f.fail(err); ferr != nil {
			return ferr
		}
		org, oerr := s.OrgByID(c.UserContext(), p.OrgID)
		if oerr != nil {
			return oerr
		}
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, "org", "Organisation settings", s.orgData(org, f))
	}
	return redirectMsg(c, "/admin/org", "org_saved")
}

func ptr[T any](v T) *T { return &v }

func (s *Service) orgsPage(c *fiber.Ctx) error {
	return s.renderOrgs(c, nil)
}

func (s *Service) renderOrgs(c *fiber.Ctx, f *form) error {
	p, _ := PrincipalOf(c)
	page := Page{Number: atoiDefault(c.Query("page"), 1), Size: 50}
	orgs, total, err := s.ListOrgs(c.UserContext(), p, page)
	if err != nil {
		return err
	}
	if f == nil {
		f = &form{Values: map[string]string{"locale": "en", "time_zone": "UTC"}, Errors: map[string]string{}}
	}
	return render(c, "orgs", "Organisations", map[string]any{"Orgs": orgs, "Pager": newPager(c, page, total), "Form": f, "Locales": SupportedLocales})
}

func (s *Service) orgCreateSubmit(c *fiber.Ctx) error {
	f := newForm(c, "slug", "name", "locale", "time_zone", "self_signup")
	_, err := s.CreateOrg(c.UserContext(), NewOrg{Slug: f.Values["slug"], Name: f.Values["name"], Locale: f.Values["locale"],
		TimeZone: f.Values["time_zone"], SelfSignup: f.Values["self_signup"] == "on"})
	if err != nil {
		if ferr := f.fail(err); ferr != nil {
			return ferr
		}
		c.Status(fiber.StatusUnprocessableEntity)
		return s.renderOrgs(c, f)
	}
	return redirectMsg(c, "/platform/orgs", "org_created")
}
