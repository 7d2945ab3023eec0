package accounts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/web"
)

// Cookie, header and form names.
const (
	SessionCookie = "portal_session"
	CSRFCookie    = "portal_csrf"
	OrgCookie     = "portal_org"
	CSRFHeader    = "X-CSRF-Token"
	CSRFField     = "_csrf"
)

// Middleware resolves the caller of every request from a bearer token or
// the session cookie, and enforces CSRF on state-changing requests that
// rely on the cookie (every portal form, and API calls made with the
// cookie). A bad bearer token is a 401 at once; a stale cookie is dropped
// and the request continues anonymously.
func (s *Service) Middleware() fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Locals(localIP, c.IP())
		c.Locals(localUA, c.Get(fiber.HeaderUserAgent))
		c.Locals(localSecureCookies, s.secureCookies(c))
		var p *Principal
		bearer := false
		if auth := c.Get(fiber.HeaderAuthorization); auth != "" {
			scheme, token, ok := strings.Cut(auth, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
				return errs.Unauthenticatedf("the Authorization header must be \"Bearer <token>\"")
			}
			var err error
			if p, err = s.Authenticate(c.UserContext(), strings.TrimSpace(token)); err != nil {
				return err
			}
			bearer = true
		} else if token := c.Cookies(SessionCookie); token != "" {
			var err error
			p, err = s.Authenticate(c.UserContext(), token)
			switch {
			case err == nil:
				p.ViaCookie = true
			case errs.Is(err, errs.Unauthenticated):
				s.clearSessionCookie(c)
				p = nil
			default:
				return err
			}
		}
		if p != nil {
			c.Locals(localPrincipal, p)
			c.SetUserContext(WithPrincipal(c.UserContext(), p))
			// What a signed-in person sees is theirs: no browser or proxy
			// keeps a copy (a handler may still choose otherwise).
			c.Set(fiber.HeaderCacheControl, "no-store")
		}
		if !bearer && unsafeMethod(c.Method()) && s.needsCSRF(c, p) {
			if err := s.checkOrigin(c); err != nil {
				return err
			}
			if err := s.checkCSRF(c, p); err != nil {
				return err
			}
		}
		return c.Next()
	}
}

var errCrossSite = errs.Forbiddenf("this request came from another site; open the portal itself and try again")

// checkOrigin is a second layer to the CSRF token on state-changing
// requests that carry the cookies: a browser that says the request comes
// from another site (Sec-Fetch-Site: cross-site), or names an Origin whose
// host is neither the request's nor http.base_url's, is refused. Clients
// that send neither header (older browsers, scripts) rely on the token.
func (s *Service) checkOrigin(c *fiber.Ctx) error {
	switch c.Get("Sec-Fetch-Site") {
	case "cross-site":
		return errCrossSite
	case "same-origin", "none":
		return nil
	}
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return errCrossSite // "null" (a sandboxed frame, a redirect across sites) or garbage
	}
	// The host only: behind a TLS-terminating proxy that is not trusted
	// the request looks like http while the page was https.
	if strings.EqualFold(u.Host, c.Hostname()) {
		return nil
	}
	if b, err := url.Parse(s.cfg.HTTP.BaseURL); err == nil && b.Host != "" && strings.EqualFold(u.Host, b.Host) {
		return nil
	}
	return errCrossSite
}

func unsafeMethod(m string) bool {
	switch m {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return false
	}
	return true
}

// needsCSRF: every portal form, and API calls authenticated by the cookie.
// An API call with no credentials at all (sign-in from an app) has no
// ambient authority to abuse.
func (s *Service) needsCSRF(c *fiber.Ctx, p *Principal) bool {
	if strings.HasPrefix(c.Path(), "/api/") {
		return p != nil && p.ViaCookie
	}
	return true
}

var errCSRF = errs.Forbiddenf("this form has expired or did not come from this portal; reload the page and try again")

func (s *Service) checkCSRF(c *fiber.Ctx, p *Principal) error {
	sent := c.Get(CSRFHeader)
	if sent == "" {
		sent = c.FormValue(CSRFField)
	}
	if sent == "" {
		return errCSRF
	}
	want := s.csrfFor(c, p, false)
	if want == "" || !hmac.Equal([]byte(sent), []byte(want)) {
		return errCSRF
	}
	return nil
}

// CSRFToken returns the token forms of this request must carry, setting
// the anonymous CSRF cookie when needed.
func (s *Service) CSRFToken(c *fiber.Ctx) string {
	p, _ := PrincipalOf(c)
	return s.csrfFor(c, p, true)
}

// csrfFor binds the token to the session when signed in, and to a random
// cookie otherwise (double submit, signed with the secret key).
func (s *Service) csrfFor(c *fiber.Ctx, p *Principal, create bool) string {
	var material string
	if p != nil && p.SessionID != 0 {
		material = "session|" + strconv.FormatUint(uint64(p.SessionID), 10)
	} else {
		anon := c.Cookies(CSRFCookie)
		if anon == "" {
			if !create {
				return ""
			}
			anon = randomToken(18)
			c.Cookie(&fiber.Cookie{Name: CSRFCookie, Value: anon, Path: "/", HTTPOnly: true, SameSite: "Lax", Secure: s.secureCookies(c)})
		}
		material = "anon|" + anon
	}
	mac := hmac.New(sha256.New, []byte(s.cfg.SecretKey))
	mac.Write([]byte("csrf|" + material))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// CSRFTokenForSession returns the CSRF token of a signed-in session (tests
// and tools that call the portal with the session cookie).
func (s *Service) CSRFTokenForSession(sessionID uint) string {
	mac := hmac.New(sha256.New, []byte(s.cfg.SecretKey))
	mac.Write([]byte("csrf|session|" + strconv.FormatUint(uint64(sessionID), 10)))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// SetSessionCookie sets the session cookie for a fresh sign-in.
func (s *Service) SetSessionCookie(c *fiber.Ctx, token string) {
	c.Cookie(&fiber.Cookie{
		Name: SessionCookie, Value: token, Path: "/", HTTPOnly: true, SameSite: "Lax",
		Secure:  s.secureCookies(c),
		Expires: s.now().Add(s.acfg.SessionMax),
	})
}

func (s *Service) clearSessionCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{Name: SessionCookie, Value: "", Path: "/", HTTPOnly: true, SameSite: "Lax",
		Secure: s.secureCookies(c), Expires: time.Unix(0, 0), MaxAge: -1})
}

// localSecureCookies holds, for the API's handlers, whether the request's
// cookies get Secure.
const localSecureCookies = "portal.secure_cookies"

// secureCookies reports whether the cookies set on c carry Secure: over
// HTTPS, and in production mode always unless http.insecure_cookies
// (behind a TLS-terminating proxy not listed in http.trusted_proxies the
// request looks like plain HTTP).
func (s *Service) secureCookies(c *fiber.Ctx) bool {
	return c.Protocol() == "https" || s.cfg.SecureCookies()
}

// APIGuard enforces each operation's declared Access and, for API tokens,
// their scopes. Add it to the API with api.UseMiddleware.
func (s *Service) APIGuard(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		op := ctx.Operation()
		acc := AccessOf(op)
		if acc.Public {
			next(ctx)
			return
		}
		p, ok := PrincipalFrom(ctx.Context())
		if !ok {
			_ = huma.WriteErr(api, ctx, 401, "", errs.Unauthenticatedf("sign in or send an API token (Authorization: Bearer ...)"))
			return
		}
		if !roleAllowed(acc, p.Role) {
			if p.TokenID != 0 {
				_ = huma.WriteErr(api, ctx, 403, "", errs.Forbiddenf("API tokens cannot call %s %s", op.Method, op.Path))
			} else {
				_ = huma.WriteErr(api, ctx, 403, "", errs.Forbiddenf("your role (%s) cannot do this", p.Role))
			}
			return
		}
		if scope := ScopeFor(op.Method, op.Path); !p.HasScope(scope) {
			_ = huma.WriteErr(api, ctx, 403, "", errs.Forbiddenf("this API token lacks the scope %q", scope))
			return
		}
		next(ctx)
	}
}

// RequireModule hides a module's operations (404) from organisations that
// have not enabled it.
func RequireModule(api huma.API, id string) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		if p, ok := PrincipalFrom(ctx.Context()); ok && !p.ModuleEnabled(id) && !p.Is(PlatformAdmin) {
			_ = huma.WriteErr(api, ctx, 404, "", errs.NotFoundf("not found"))
			return
		}
		next(ctx)
	}
}

// RequireModulePages is RequireModule for portal pages.
func RequireModulePages(id string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if p, ok := PrincipalOf(c); ok && !p.ModuleEnabled(id) && !p.Is(PlatformAdmin) {
			return errs.NotFoundf("not found")
		}
		return c.Next()
	}
}

// RequirePage sends anonymous visitors to the sign-in page and refuses
// signed-in visitors whose role is not in roles (any person role when
// empty).
func (s *Service) RequirePage(roles ...Role) fiber.Handler {
	if len(roles) == 0 {
		roles = PersonRoles
	}
	return func(c *fiber.Ctx) error {
		p, ok := PrincipalOf(c)
		if !ok {
			return c.Redirect("/login?next="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
		}
		if !p.Is(roles...) {
			// English here and on the API; the error page translates it
			// by its format key, role names included (docs/i18n.md).
			if len(roles) == 1 {
				return errs.Forbiddenf("This page is for %s only.", roleNames(roles))
			}
			return errs.Forbiddenf("This page is only for these roles: %s.", roleNames(roles))
		}
		return c.Next()
	}
}

func roleNames(roles []Role) string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = strings.ReplaceAll(string(r), "_", " ")
	}
	return strings.Join(names, ", ")
}

// Decorate fills the layout of every page: the viewer, the organisation's
// branding, navigation filtered by role and enabled modules, the CSRF
// token, and the account links.
func (s *Service) Decorate(srv *web.Server) func(*fiber.Ctx, *web.Page) {
	return func(c *fiber.Ctx, page *web.Page) {
		page.CSRF = s.CSRFToken(c)
		if page.Extra == nil {
			page.Extra = map[string]any{}
		}
		p, signedIn := PrincipalOf(c)
		slug := ""
		if signedIn {
			slug = p.OrgSlug
			page.Viewer = &web.Viewer{ID: p.UserID, Name: p.Name, Email: p.Email, Role: string(p.Role)}
			if p.Locale != "" {
				page.Lang = p.Locale
			}
			if loc, err := time.LoadLocation(p.TimeZone); err == nil && p.TimeZone != "" {
				page.TimeZone = loc
			}
			page.Extra["AccountLinks"] = template.HTML(fmt.Sprintf(
				`<a href="/account">%s</a><form method="post" action="/logout"><input type="hidden" name="_csrf" value="%s"><button type="submit">%s</button></form>`,
				template.HTMLEscapeString(page.T("Account")), template.HTMLEscapeString(page.CSRF), template.HTMLEscapeString(page.T("Sign out"))))
		} else {
			slug = c.Query("org", c.Cookies(OrgCookie))
			page.Lang = preferredLocale(c.Get(fiber.HeaderAcceptLanguage), "")
		}
		if slug != "" && slugPattern.MatchString(slug) {
			if org, err := s.OrgBySlug(c.UserContext(), slug); err == nil {
				if !signedIn {
					page.Lang = preferredLocale(c.Get(fiber.HeaderAcceptLanguage), org.Locale)
					if loc, err := time.LoadLocation(org.TimeZone); err == nil {
						page.TimeZone = loc
					}
				}
				page.Brand = web.Branding{Name: org.Name, LogoURL: org.LogoURL, PrimaryColor: org.PrimaryColor}
				if org.PrimaryColor != "" {
					page.Brand.StyleURL = "/branding/" + org.Slug + ".css?v=" + strings.TrimPrefix(org.PrimaryColor, "#")
				}
			}
		}
		if !signedIn {
			page.Extra["SignInLink"] = template.HTML(`<a class="button" href="/login">` + template.HTMLEscapeString(page.T("Sign in")) + `</a>`)
		}
		nav := []web.NavItem{} // never nil: nil would mean "not computed" to the layout
		for _, it := range srv.Nav() {
			switch {
			case it.Public:
			case !signedIn:
				continue
			case it.Module != "" && !p.ModuleEnabled(it.Module):
				continue
			case len(it.Roles) > 0 && !roleIn(it.Roles, p.Role):
				continue
			}
			nav = append(nav, it)
		}
		web.SortNav(nav)
		page.Nav = nav
	}
}

func roleIn(roles []string, r Role) bool {
	for _, x := range roles {
		if x == string(r) {
			return true
		}
	}
	return false
}

// brandingCSS serves the organisation's colours as a stylesheet, so the
// layout needs no inline style (the CSP forbids it).
func (s *Service) brandingCSS(c *fiber.Ctx) error {
	slug := strings.TrimSuffix(c.Params("slug"), ".css")
	org, err := s.OrgBySlug(c.UserContext(), slug)
	if err != nil || org.PrimaryColor == "" {
		return errs.NotFoundf("no branding")
	}
	c.Type("css", "utf-8")
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.SendString(fmt.Sprintf(":root{--brand:%s;--brand-contrast:%s}\n", org.PrimaryColor, contrastOn(org.PrimaryColor)))
}

// contrastOn picks black or white text for a background colour (WCAG
// relative luminance).
func contrastOn(hex string) string {
	if len(hex) != 7 {
		return "#ffffff"
	}
	v, err := strconv.ParseUint(hex[1:], 16, 32)
	if err != nil {
		return "#ffffff"
	}
	lin := func(c uint64) float64 {
		x := float64(c) / 255
		if x <= 0.03928 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	l := 0.2126*lin(v>>16&0xff) + 0.7152*lin(v>>8&0xff) + 0.0722*lin(v&0xff)
	if l > 0.45 {
		return "#111111"
	}
	return "#ffffff"
}

// preferredLocale picks a supported locale from an Accept-Language header,
// else fallback, else English.
func preferredLocale(header, fallback string) string {
	best, bestQ := "", -1.0
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		lang, _, _ := strings.Cut(strings.ToLower(tag), "-")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if slices.Contains(SupportedLocales, lang) && q > bestQ {
			best, bestQ = lang, q
		}
	}
	switch {
	case best != "":
		return best
	case fallback != "":
		return fallback
	}
	return "en"
}
