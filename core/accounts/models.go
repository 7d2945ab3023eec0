// Package accounts knows who is asking, for which organisation, and what
// they may touch: organisations (tenants), users and roles, staff
// assignments, credentials (argon2id, password policy, login throttling),
// sessions, bearer and integrator API tokens, one-time links (verification,
// password reset, invitation), the audit log, and the one policy layer every
// handler uses.
//
// accounts imports config, errs, events, store and web; it never imports
// core/module or core/app.
package accounts

import (
	"strings"
	"time"

	"github.com/portalkit/portalkit/core/store"
)

// Role is what a user may do within their organisation.
type Role string

// The roles. PlatformAdmin users live in the reserved "platform"
// organisation and administer organisations; Integrator is the role of an
// API token, never of a person.
const (
	Customer      Role = "customer"
	Staff         Role = "staff"
	Admin         Role = "admin"
	PlatformAdmin Role = "platform_admin"
	Integrator    Role = "integrator"
)

// PersonRoles are the roles a user account may have within an organisation.
var PersonRoles = []Role{Customer, Staff, Admin}

// Valid reports whether r is a role a user can be given.
func (r Role) Valid() bool {
	switch r {
	case Customer, Staff, Admin, PlatformAdmin:
		return true
	}
	return false
}

// PlatformOrgSlug is the reserved organisation of platform admins.
const PlatformOrgSlug = "platform"

// Org is an organisation (tenant).
type Org struct {
	ID           uint   `gorm:"primaryKey" json:"id"`
	Slug         string `gorm:"size:40;not null;uniqueIndex" json:"slug"`
	Name         string `gorm:"size:120;not null" json:"name"`
	LogoURL      string `gorm:"size:500" json:"logo_url,omitempty"`
	PrimaryColor string `gorm:"size:7" json:"primary_color,omitempty"`
	Locale       string `gorm:"size:10;not null;default:en" json:"locale"`
	TimeZone     string `gorm:"size:64;not null;default:UTC" json:"time_zone"`
	// Modules is the comma-separated list of enabled module IDs.
	Modules string `gorm:"size:1000" json:"-"`
	// SelfSignup lets anyone create a customer account; otherwise users
	// join by invitation.
	SelfSignup bool `json:"self_signup"`
	// RetentionDays is how long a deleted account's data is kept before it
	// is anonymised (0: at once).
	RetentionDays int       `json:"retention_days"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// TableName keeps the table in the accounts namespace.
func (Org) TableName() string { return "accounts_orgs" }

// EnabledModules returns the IDs of the modules enabled for the org.
func (o *Org) EnabledModules() []string { return splitList(o.Modules) }

// ModuleEnabled reports whether module id is enabled for the org.
func (o *Org) ModuleEnabled(id string) bool {
	for _, m := range o.EnabledModules() {
		if m == id {
			return true
		}
	}
	return false
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// User is a person with an account in one organisation.
type User struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	Email        string `gorm:"size:254;not null" json:"email"` // lower case; unique per org (migration)
	Name         string `gorm:"size:120;not null" json:"name"`
	Role         Role   `gorm:"size:20;not null;index" json:"role"`
	PasswordHash string `gorm:"size:200" json:"-"`
	Locale       string `gorm:"size:10" json:"locale,omitempty"`
	TimeZone     string `gorm:"size:64" json:"time_zone,omitempty"`
	// EmailVerifiedAt is set when the user proved the address.
	EmailVerifiedAt *time.Time `json:"email_verified_at,omitempty"`
	// DisabledAt stops the user from signing in (deletion requested, or
	// disabled by an admin).
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
	// DeletionRequestedAt starts the org's retention period; the data is
	// anonymised when it ends.
	DeletionRequestedAt *time.Time `json:"deletion_requested_at,omitempty"`
	LastLoginAt         *time.Time `json:"last_login_at,omitempty"`
	CreatedAt           time.Time  `json:"created_at"`
	UpdatedAt           time.Time  `json:"updated_at"`
}

// TableName keeps the table in the accounts namespace.
func (User) TableName() string { return "accounts_users" }

// Active reports whether the user may sign in.
func (u *User) Active() bool { return u.DisabledAt == nil }

// Assignment links a staff member to a customer they look after (advisor,
// professor, clinician). Modules use it for "my customers".
type Assignment struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	StaffID    uint      `gorm:"not null;uniqueIndex:accounts_assignments_pair" json:"staff_id"`
	CustomerID uint      `gorm:"not null;uniqueIndex:accounts_assignments_pair;index" json:"customer_id"`
	Relation   string    `gorm:"size:40;not null" json:"relation"`
	CreatedAt  time.Time `json:"created_at"`
}

// TableName keeps the table in the accounts namespace.
func (Assignment) TableName() string { return "accounts_assignments" }

// Session is a signed-in browser or API client. The ID presented by the
// client is never stored: only its SHA-256.
type Session struct {
	ID uint `gorm:"primaryKey"`
	store.OrgOwned
	TokenHash  string    `gorm:"size:64;not null;uniqueIndex"`
	UserID     uint      `gorm:"not null;index"`
	IP         string    `gorm:"size:64"`
	UserAgent  string    `gorm:"size:300"`
	CreatedAt  time.Time `gorm:"not null"`
	LastSeenAt time.Time `gorm:"not null"`
	// ExpiresAt is the absolute end of the session.
	ExpiresAt time.Time `gorm:"not null;index"`
}

// TableName keeps the table in the accounts namespace.
func (Session) TableName() string { return "accounts_sessions" }

// APIToken is an integrator's token, created by an org admin.
type APIToken struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	Name       string     `gorm:"size:100;not null" json:"name"`
	TokenHash  string     `gorm:"size:64;not null;uniqueIndex" json:"-"`
	Prefix     string     `gorm:"size:16;not null" json:"prefix"`
	Scopes     string     `gorm:"size:500;not null" json:"-"`
	CreatedBy  uint       `gorm:"not null" json:"created_by"`
	ExpiresAt  time.Time  `gorm:"not null" json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

// TableName keeps the table in the accounts namespace.
func (APIToken) TableName() string { return "accounts_api_tokens" }

// ScopeList returns the token's scopes.
func (t *APIToken) ScopeList() []string { return splitList(t.Scopes) }

// Purpose says what a one-time link is for.
type Purpose string

// One-time link purposes.
const (
	PurposeVerify Purpose = "verify_email"
	PurposeReset  Purpose = "password_reset"
	PurposeInvite Purpose = "invitation"
)

// OneTimeToken is a single-use, expiring link sent by email.
type OneTimeToken struct {
	ID uint `gorm:"primaryKey"`
	store.OrgOwned
	UserID    uint      `gorm:"not null;index"`
	Purpose   Purpose   `gorm:"size:20;not null"`
	TokenHash string    `gorm:"size:64;not null;uniqueIndex"`
	ExpiresAt time.Time `gorm:"not null"`
	UsedAt    *time.Time
	CreatedAt time.Time
}

// TableName keeps the table in the accounts namespace.
func (OneTimeToken) TableName() string { return "accounts_one_time_tokens" }

// Throttle counts failures per key (account or IP) in a fixed window. It
// lives in the database so every instance sees the same counts.
type Throttle struct {
	Key         string    `gorm:"primaryKey;size:200"`
	WindowStart time.Time `gorm:"not null"`
	Failures    int       `gorm:"not null"`
	LockedUntil time.Time
}

// TableName keeps the table in the accounts namespace.
func (Throttle) TableName() string { return "accounts_throttle" }

// AuditEntry is one security event. The application only ever inserts
// them; database triggers refuse updates and deletes.
type AuditEntry struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	Action     string    `gorm:"size:40;not null;index" json:"action"`
	ActorID    uint      `gorm:"index" json:"actor_id,omitempty"`
	ActorEmail string    `gorm:"size:254" json:"actor_email,omitempty"`
	TargetType string    `gorm:"size:40" json:"target_type,omitempty"`
	TargetID   uint      `json:"target_id,omitempty"`
	IP         string    `gorm:"size:64" json:"ip,omitempty"`
	Detail     string    `gorm:"size:1000" json:"detail,omitempty"`
	CreatedAt  time.Time `gorm:"not null;index" json:"created_at"`
}

// TableName keeps the table in the accounts namespace.
func (AuditEntry) TableName() string { return "accounts_audit" }
