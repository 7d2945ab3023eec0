package accounts

import (
	"context"
	"slices"

	"github.com/gofiber/fiber/v2"
)

// Principal is the authenticated caller of a request: a person signed in
// with a session (cookie or bearer), or an integrator's API token.
type Principal struct {
	UserID   uint // 0 for an API token
	OrgID    uint
	OrgSlug  string
	OrgName  string
	Role     Role
	Email    string
	Name     string
	Locale   string
	TimeZone string
	// Modules are the module IDs enabled for the organisation.
	Modules []string

	// SessionID is the session's row ID when signed in with a session.
	SessionID uint
	// TokenID and Scopes are set for API tokens.
	TokenID uint
	Scopes  []string
	// ViaCookie is true when the credentials came from the session cookie
	// (state-changing API calls then need the CSRF header).
	ViaCookie bool
}

// Is reports whether the principal has one of roles.
func (p *Principal) Is(roles ...Role) bool { return p != nil && slices.Contains(roles, p.Role) }

// ModuleEnabled reports whether module id is enabled for the principal's
// organisation.
func (p *Principal) ModuleEnabled(id string) bool { return p != nil && slices.Contains(p.Modules, id) }

// HasScope reports whether an API token principal holds scope (or "*"). A
// person's session holds every scope; their role limits them instead.
func (p *Principal) HasScope(scope string) bool {
	if p == nil {
		return false
	}
	if p.TokenID == 0 {
		return true
	}
	area, _, _ := cutScope(scope)
	for _, s := range p.Scopes {
		if s == "*" || s == scope || s == area+":*" {
			return true
		}
		// write implies read
		if a, lvl, _ := cutScope(s); a == area && lvl == "write" && scope == area+":read" {
			return true
		}
	}
	return false
}

func cutScope(s string) (area, level string, ok bool) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ':' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller of the request ctx belongs to.
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}

const localPrincipal = "portal.principal"

// PrincipalOf returns the caller of a Fiber request.
func PrincipalOf(c *fiber.Ctx) (*Principal, bool) {
	p, ok := c.Locals(localPrincipal).(*Principal)
	return p, ok && p != nil
}
