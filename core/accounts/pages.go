package accounts

import (
	"embed"
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/web"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed i18n/*.json
var translationFS embed.FS

//go:embed mail/*
var mailFS embed.FS

// MailTemplates returns the account e-mails' templates, named
// "<kind>.<locale>.subject|txt|html" (the notification service's format).
func MailTemplates() fs.FS {
	sub, _ := fs.Sub(mailFS, "mail")
	return sub
}

// MessageKinds are the account e-mails with their titles (for
// notification preferences); all are security notices that cannot be muted.
var MessageKinds = []struct{ ID, Title string }{
	{KindVerifyEmail, "E-mail address verification"},
	{KindPasswordReset, "Password reset"},
	{KindInvitation, "Invitation"},
	{KindPasswordChanged, "Password changed"},
}

// Translations returns the accounts translations ("<locale>.json").
func Translations() fs.FS {
	sub, _ := fs.Sub(translationFS, "i18n")
	return sub
}

// Templates returns the accounts page templates (registered under the
// "accounts" prefix).
func Templates() fs.FS {
	sub, _ := fs.Sub(templateFS, "templates")
	return sub
}

// form is what every page form template receives: the values the user
// typed (kept on error), an error per field, and a general error.
type form struct {
	Values map[string]string
	Errors map[string]string
	Error  string
}

func newForm(c *fiber.Ctx, fields ...string) *form {
	f := &form{Values: map[string]string{}, Errors: map[string]string{}}
	for _, k := range fields {
		f.Values[k] = c.FormValue(k)
	}
	return f
}

// fail records err on the form: field errors inline, anything else as the
// general message. Internal errors are returned to the caller unchanged
// (they become the friendly 500 page).
func (f *form) fail(err error) error {
	e, ok := errs.As(err)
	if !ok || e.Kind == errs.Internal {
		return err
	}
	for _, fe := range e.Fields {
		name := strings.TrimPrefix(fe.Field, "body.")
		if _, exists := f.Errors[name]; !exists {
			f.Errors[name] = fe.Message
		}
	}
	if len(e.Fields) == 0 || e.Kind != errs.Invalid {
		f.Error = e.Message
	} else {
		f.Error = "Please correct the fields marked below."
	}
	return nil
}

// flashes maps the keys pages redirect with to the message shown; pages
// never reflect text from the query string.
var flashes = map[string]string{
	"signed_out":       "You have signed out.",
	"signed_up":        "Your account is ready. We sent you an e-mail to verify your address.",
	"verified":         "Thank you: your e-mail address is verified.",
	"reset_sent":       "If an account exists for that address, we have e-mailed a link to reset the password. It works once and expires in an hour. Only the newest link works, and we send only a few per hour: if none arrives, use the newest one you have or try again in an hour.",
	"password_set":     "Your password is set. Please sign in.",
	"profile_saved":    "Your profile is saved.",
	"password_changed": "Your password is changed. Your other sessions have been signed out.",
	"session_revoked":  "That session is signed out.",
	"others_revoked":   "All your other sessions are signed out.",
	"deleted":          "Your account is closed. Its data will be removed after the retention period.",
	"invited":          "The invitation is sent.",
	"role_changed":     "The role is changed.",
	"assigned":         "The assignment is saved.",
	"unassigned":       "The assignment is removed.",
	"token_revoked":    "The token is revoked.",
	"org_saved":        "The organisation's settings are saved.",
	"org_created":      "The organisation is created.",
}

func render(c *fiber.Ctx, name, title string, data map[string]any) error {
	page := &web.Page{Title: title, Data: data}
	if msg, ok := flashes[c.Query("msg")]; ok {
		page.Flash, page.FlashKind = msg, "ok"
	}
	return web.RenderPage(c, "accounts/"+name, page)
}

// safeNext keeps post-login redirects on this portal.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func redirectMsg(c *fiber.Ctx, path, msg string) error {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return c.Redirect(path+sep+"msg="+msg, fiber.StatusSeeOther)
}

func atoiDefault(s string, d int) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return d
	}
	return n
}

// MountPages adds the accounts pages: sign-in and sign-up, verification,
// password reset and invitations, the account pages, and the admin and
// platform pages.
func (s *Service) MountPages(app *fiber.App) {
	app.Get("/branding/:slug", s.brandingCSS)
	app.Get("/login", s.loginPage)
	app.Post("/login", s.loginSubmit)
	app.Post("/logout", s.logoutSubmit)
	app.Get("/signup", s.signupPage)
	app.Post("/signup", s.signupSubmit)
	app.Get("/verify", s.verifyPage)
	app.Get("/password/forgot", s.forgotPage)
	app.Post("/password/forgot", s.forgotSubmit)
	app.Get("/password/reset", s.resetPage(PurposeReset))
	app.Post("/password/reset", s.resetSubmit(PurposeReset))
	app.Get("/invite", s.resetPage(PurposeInvite))
	app.Post("/invite", s.resetSubmit(PurposeInvite))

	me := app.Group("/account", s.RequirePage(Customer, Staff, Admin, PlatformAdmin))
	me.Get("/", s.accountPage)
	me.Post("/profile", s.profileSubmit)
	me.Post("/password", s.passwordSubmit)
	me.Get("/sessions", s.sessionsPage)
	me.Post("/sessions/revoke-others", s.revokeOthersSubmit)
	me.Post("/sessions/:id/revoke", s.revokeSubmit)
	me.Get("/delete", s.deletePage)
	me.Post("/delete", s.deleteSubmit)

	s.mountAdminPages(app)
}

func (s *Service) loginPage(c *fiber.Ctx) error {
	if p, ok := PrincipalOf(c); ok && !p.Is(PlatformAdmin) {
		return c.Redirect(safeNext(c.Query("next")), fiber.StatusSeeOther)
	}
	f := &form{Values: map[string]string{"org": c.Query("org", c.Cookies(OrgCookie)), "next": c.Query("next")}, Errors: map[string]string{}}
	return render(c, "login", "Sign in", map[string]any{"Form": f})
}

func (s *Service) loginSubmit(c *fiber.Ctx) error {
	f := newForm(c, "org", "email", "next")
	res, err := s.Login(c.UserContext(), LoginInput{Org: f.Values["org"], Email: f.Values["email"], Password: c.FormValue("password"),
		IP: c.IP(), UserAgent: c.Get(fiber.HeaderUserAgent)}, c.Cookies(SessionCookie))
	if err != nil {
		if e, ok := errs.As(err); ok && e.Kind == errs.RateLimited {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(e.RetryAfter.Seconds()+0.999)))
			c.Status(fiber.StatusTooManyRequests)
		} else if ok && e.Kind == errs.Unauthenticated {
			c.Status(fiber.StatusUnauthorized)
		}
		if ferr := f.fail(err); ferr != nil {
			return ferr
		}
		return render(c, "login", "Sign in", map[string]any{"Form": f})
	}
	s.SetSessionCookie(c, res.Token)
	c.Cookie(&fiber.Cookie{Name: OrgCookie, Value: res.Org.Slug, Path: "/", SameSite: "Lax", Expires: s.now().Add(365 * 24 * time.Hour), Secure: s.secureCookies(c)})
	next := safeNext(f.Values["next"])
	if res.User.Role == PlatformAdmin && next == "/" {
		next = "/platform/orgs"
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

func (s *Service) logoutSubmit(c *fiber.Ctx) error {
	if p, ok := PrincipalOf(c); ok {
		if err := s.Logout(c.UserContext(), p, c.IP()); err != nil {
			return err
		}
	}
	s.clearSessionCookie(c)
	return redirectMsg(c, "/login", "signed_out")
}

func (s *Service) signupPage(c *fiber.Ctx) error {
	f := &form{Values: map[string]string{"org": c.Query("org", c.Cookies(OrgCookie))}, Errors: map[string]string{}}
	return render(c, "signup", "Create an account", map[string]any{"Form": f})
}

func (s *Service) signupSubmit(c *fiber.Ctx) error {
	f := newForm(c, "org", "email", "name")
	if c.FormValue("terms") != "on" {
		f.Errors["terms"] = "Please accept the terms to continue."
		f.Error = "Please correct the fields marked below."
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, "signup", "Create an account", map[string]any{"Form": f})
	}
	if _, err := s.SignUp(c.UserContext(), f.Values["org"], f.Values["email"], f.Values["name"], c.FormValue("password")); err != nil {
		if ferr := f.fail(err); ferr != nil {
			return ferr
		}
		c.Status(errs.KindOf(err).Status())
		return render(c, "signup", "Create an account", map[string]any{"Form": f})
	}
	return redirectMsg(c, "/login?org="+url.QueryEscape(f.Values["org"]), "signed_up")
}

func (s *Service) verifyPage(c *fiber.Ctx) error {
	if _, err := s.VerifyEmail(c.UserContext(), c.Query("token")); err != nil {
		if !errs.Is(err, errs.Invalid) {
			return err
		}
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, "message", "Link not valid", map[string]any{"Heading": "This link is not valid",
			"Text": "It may have been used already or have expired. Sign in to ask for a new one."})
	}
	return redirectMsg(c, "/login", "verified")
}

func (s *Service) forgotPage(c *fiber.Ctx) error {
	f := &form{Values: map[string]string{"org": c.Query("org", c.Cookies(OrgCookie))}, Errors: map[string]string{}}
	return render(c, "forgot", "Forgot password", map[string]any{"Form": f})
}

func (s *Service) forgotSubmit(c *fiber.Ctx) error {
	f := newForm(c, "org", "email")
	if retry, locked := s.throttled(c.UserContext(), "reset:ip:"+c.IP()); locked {
		return errs.RateLimitedf(retry, "too many reset requests; try again later")
	}
	s.recordFailure(c.UserContext(), "reset:ip:"+c.IP(), s.acfg.LoginIPMaxFailures, false)
	if err := s.RequestPasswordReset(c.UserContext(), f.Values["org"], f.Values["email"], c.IP()); err != nil {
		return err
	}
	return redirectMsg(c, "/login?org="+url.QueryEscape(f.Values["org"]), "reset_sent")
}

func (s *Service) resetPage(purpose Purpose) fiber.Handler {
	title := map[Purpose]string{PurposeReset: "Choose a new password", PurposeInvite: "Accept your invitation"}[purpose]
	return func(c *fiber.Ctx) error {
		f := &form{Values: map[string]string{"token": c.Query("token")}, Errors: map[string]string{}}
		return render(c, "reset", title, map[string]any{"Form": f, "Action": c.Path(), "Invite": purpose == PurposeInvite})
	}
}

func (s *Service) resetSubmit(purpose Purpose) fiber.Handler {
	title := map[Purpose]string{PurposeReset: "Choose a new password", PurposeInvite: "Accept your invitation"}[purpose]
	return func(c *fiber.Ctx) error {
		f := newForm(c, "token")
		pw := c.FormValue("password")
		if pw != c.FormValue("password_confirm") {
			f.Errors["password_confirm"] = "does not match the password"
			f.Error = "Please correct the fields marked below."
		} else if u, err := s.ResetPassword(c.UserContext(), f.Values["token"], pw, purpose, c.IP()); err != nil {
			if ferr := f.fail(err); ferr != nil {
				return ferr
			}
		} else {
			org, _ := s.OrgByID(c.UserContext(), u.OrgID)
			target := "/login"
			if org != nil {
				target += "?org=" + url.QueryEscape(org.Slug)
			}
			return redirectMsg(c, target, "password_set")
		}
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, "reset", title, map[string]any{"Form": f, "Action": c.Path(), "Invite": purpose == PurposeInvite})
	}
}

func (s *Service) accountPage(c *fiber.Ctx) error {
	p, _ := PrincipalOf(c)
	u, err := s.UserByID(c.UserContext(), p.OrgID, p.UserID)
	if err != nil {
		return err
	}
	f := &form{Values: map[string]string{"name": u.Name, "locale": u.Locale, "time_zone": u.TimeZone}, Errors: map[string]string{}}
	return render(c, "account", "Your account", map[string]any{"User": u, "Form": f, "PasswordForm": &form{Errors: map[string]string{}}, "Locales": SupportedLocales})
}

func (s *Service) profileSubmit(c *fiber.Ctx) error {
	p, _ := PrincipalOf(c)
	f := newForm(c, "name", "locale", "time_zone")
	name, loc, tz := f.Values["name"], f.Values["locale"], f.Values["time_zone"]
	u, err := s.UpdateProfile(c.UserContext(), p, Profile{Name: &name, Locale: &loc, TimeZone: &tz})
	if err != nil {
		if ferr := f.fail(err); ferr != nil {
			return ferr
		}
		u, _ = s.UserByID(c.UserContext(), p.OrgID, p.UserID)
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, "account", "Your account", map[string]any{"User": u, "Form": f, "PasswordForm": &form{Errors: map[string]string{}}, "Locales": SupportedLocales})
	}
	_ = u
	return redirectMsg(c, "/account", "profile_saved")
}

func (s *Service) passwordSubmit(c *fiber.Ctx) error {
	p, _ := PrincipalOf(c)
	pf := &form{Values: map[string]string{}, Errors: map[string]string{}}
	next := c.FormValue("new_password")
	var err error
	if next != c.FormValue("new_password_confirm") {
		err = errs.InvalidField("new_password_confirm", "does not match the new password")
	} else {
		err = s.ChangePassword(c.UserContext(), p, c.FormValue("current_password"), next, c.IP())
		if e, ok := errs.As(err); ok {
			for i := range e.Fields {
				if e.Fields[i].Field == "password" {
					e.Fields[i].Field = "new_password"
				}
			}
		}
	}
	if err != nil {
		if ferr := pf.fail(err); ferr != nil {
			return ferr
		}
		u, _ := s.UserByID(c.UserContext(), p.OrgID, p.UserID)
		f := &form{Values: map[string]string{"name": u.Name, "locale": u.Locale, "time_zone": u.TimeZone}, Errors: map[string]string{}}
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, "account", "Your account", map[string]any{"User": u, "Form": f, "PasswordForm": pf, "Locales": SupportedLocales})
	}
	return redirectMsg(c, "/account", "password_changed")
}

func (s *Service) sessionsPage(c *fiber.Ctx) error {
	p, _ := PrincipalOf(c)
	list, err := s.Sessions(c.UserContext(), p)
	if err != nil {
		return err
	}
	return render(c, "sessions", "Your sessions", map[string]any{"Sessions": list, "Current": p.SessionID})
}

func (s *Service) revokeSubmit(c *fiber.Ctx) error {
	p, _ := PrincipalOf(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return errs.NotFoundf("no such session")
	}
	if err := s.RevokeSession(c.UserContext(), p, id, c.IP()); err != nil {
		return err
	}
	if uint(id) == p.SessionID {
		s.clearSessionCookie(c)
		return redirectMsg(c, "/login", "signed_out")
	}
	return redirectMsg(c, "/account/sessions", "session_revoked")
}

func (s *Service) revokeOthersSubmit(c *fiber.Ctx) error {
	p, _ := PrincipalOf(c)
	if _, err := s.RevokeOtherSessions(c.UserContext(), p, c.IP()); err != nil {
		return err
	}
	return redirectMsg(c, "/account/sessions", "others_revoked")
}

func (s *Service) deletePage(c *fiber.Ctx) error {
	p, _ := PrincipalOf(c)
	org, err := s.OrgByID(c.UserContext(), p.OrgID)
	if err != nil {
		return err
	}
	return render(c, "delete", "Close your account", map[string]any{"Form": &form{Errors: map[string]string{}}, "Org": org})
}

func (s *Service) deleteSubmit(c *fiber.Ctx) error {
	p, _ := PrincipalOf(c)
	f := &form{Values: map[string]string{}, Errors: map[string]string{}}
	if err := s.RequestDeletion(c.UserContext(), p, c.FormValue("password"), c.IP()); err != nil {
		if ferr := f.fail(err); ferr != nil {
			return ferr
		}
		org, _ := s.OrgByID(c.UserContext(), p.OrgID)
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, "delete", "Close your account", map[string]any{"Form": f, "Org": org})
	}
	s.clearSessionCookie(c)
	return redirectMsg(c, "/login", "deleted")
}
