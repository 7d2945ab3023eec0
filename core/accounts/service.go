package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/store"
)

// Events published by accounts. Data is the *User (or *Org) concerned.
const (
	EventUserCreated    = "accounts.user_created"
	EventUserSignedIn   = "accounts.user_signed_in"
	EventUserDeleted    = "accounts.user_deleted" // data anonymised: modules purge theirs
	EventOrgCreated     = "accounts.org_created"
	EventRoleChanged    = "accounts.role_changed"
	EventPasswordChange = "accounts.password_changed"
)

// Message is an e-mail accounts needs delivered: a verification link, a
// password reset, an invitation, a security notice.
type Message struct {
	OrgID  uint
	UserID uint
	// Kind is the notification kind, e.g. "accounts.password_reset".
	Kind string
	To   string
	Data map[string]any
}

// Message kinds.
const (
	KindVerifyEmail     = "accounts.verify_email"
	KindPasswordReset   = "accounts.password_reset"
	KindInvitation      = "accounts.invitation"
	KindPasswordChanged = "accounts.password_changed"
)

// Messenger delivers account e-mails inside the caller's transaction (the
// notification outbox), so a link is sent if and only if its token exists.
type Messenger interface {
	Send(ctx context.Context, tx *gorm.DB, m Message) error
}

// Options builds a Service.
type Options struct {
	Store     *store.Store
	Config    config.Config
	Log       *slog.Logger
	Events    *events.Bus
	Messenger Messenger
	// Modules lists the IDs of the modules loaded in this deployment; new
	// organisations get them all enabled.
	Modules func() []string
	// Argon2 overrides the password hashing cost (tests lower it).
	Argon2 *Argon2Params
	// Now overrides the clock (tests).
	Now func() time.Time
}

// Service is the accounts service.
type Service struct {
	st        *store.Store
	cfg       config.Config
	acfg      config.Accounts
	log       *slog.Logger
	bus       *events.Bus
	messenger Messenger
	modules   func() []string
	argon     Argon2Params
	now       func() time.Time
	dummyHash string
	baseURL   string

	// principals caches authenticated sessions (nil when
	// accounts.principal_cache_ttl is 0); touching holds the IDs of
	// sessions whose last-seen time is being written.
	principals *principalCache
	touching   sync.Map
	// sessions reads the sessions of requests that arrive together in one
	// query (a reconnect storm after a restart).
	sessions *store.Loader[string, sessionRow]

	// groups holds the declared policy group kinds (groups.go).
	groups groupKinds
}

// New returns the accounts service.
func New(o Options) (*Service, error) {
	s := &Service{
		st: o.Store, cfg: o.Config, acfg: o.Config.Accounts, log: o.Log, bus: o.Events,
		messenger: o.Messenger, modules: o.Modules, argon: DefaultArgon2, now: o.Now,
	}
	s.sessions = &store.Loader[string, sessionRow]{Fetch: s.fetchSessions, Max: 500, Parallel: 4}
	if o.Argon2 != nil {
		s.argon = *o.Argon2
	}
	s.principals = newPrincipalCache(o.Config.Accounts.PrincipalCacheTTL, principalCacheMax)
	if s.now == nil {
		s.now = func() time.Time { return time.Now().UTC() }
	}
	if s.modules == nil {
		s.modules = func() []string { return nil }
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.messenger == nil {
		s.messenger = LogMessenger{Log: s.log}
	}
	// Unknown accounts still cost one hash, so timing does not reveal
	// which accounts exist.
	h, err := HashPassword("not-a-real-password-"+randomToken(8), s.argon)
	if err != nil {
		return nil, err
	}
	s.dummyHash = h
	s.baseURL = strings.TrimRight(o.Config.HTTP.BaseURL, "/")
	return s, nil
}

// SetMessenger replaces the messenger (the kernel wires notifications).
func (s *Service) SetMessenger(m Messenger) { s.messenger = m }

// Now returns the service's clock reading.
func (s *Service) Now() time.Time { return s.now() }

// Store returns the store the service uses.
func (s *Service) Store() *store.Store { return s.st }

// LogMessenger logs account e-mails instead of sending them. It is the
// default until the notification service is wired.
type LogMessenger struct{ Log *slog.Logger }

// Send implements Messenger.
func (l LogMessenger) Send(ctx context.Context, _ *gorm.DB, m Message) error {
	l.Log.InfoContext(ctx, "account e-mail (no notification service wired)", "kind", m.Kind, "to", m.To, "link", m.Data["Link"])
	return nil
}

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("accounts: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is how every bearer secret is stored: SHA-256, hex. The secrets
// carry 256 bits of randomness, so a fast hash is enough; a leaked table
// yields no usable token.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Link builds an absolute portal URL for path with query values.
func (s *Service) Link(path string, q url.Values) string {
	u := s.baseURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

func (s *Service) publish(ctx context.Context, tx *gorm.DB, name string, orgID, actorID, subjectID uint, data any) error {
	if s.bus == nil {
		return nil
	}
	return s.bus.Publish(ctx, events.Event{Name: name, OrgID: orgID, ActorID: actorID, SubjectID: subjectID, Data: data, Tx: tx})
}

func normalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// Migrations are the accounts tables.
func (s *Service) Migrations() []store.Migration {
	return []store.Migration{
		{ID: "0001_tables", Up: func(tx *gorm.DB) error {
			if err := tx.Migrator().AutoMigrate(&Org{}, &User{}, &Assignment{}, &Session{}, &APIToken{},
				&OneTimeToken{}, &Throttle{}, &AuditEntry{}); err != nil {
				return err
			}
			return tx.Exec("CREATE UNIQUE INDEX accounts_users_org_email ON accounts_users (org_id, email)").Error
		}},
		{ID: "0002_audit_append_only", Up: func(tx *gorm.DB) error {
			// The application only inserts audit entries; the database refuses
			// anything else, so a bug or an injected query cannot rewrite history.
			if s.st.Dialect == store.Postgres {
				return tx.Exec(`
CREATE FUNCTION accounts_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'accounts_audit is append-only'; END $$;
CREATE TRIGGER accounts_audit_no_update BEFORE UPDATE OR DELETE ON accounts_audit
FOR EACH ROW EXECUTE FUNCTION accounts_audit_append_only();`).Error
			}
			if err := tx.Exec(`CREATE TRIGGER accounts_audit_no_update BEFORE UPDATE ON accounts_audit
BEGIN SELECT RAISE(ABORT, 'accounts_audit is append-only'); END`).Error; err != nil {
				return err
			}
			return tx.Exec(`CREATE TRIGGER accounts_audit_no_delete BEFORE DELETE ON accounts_audit
BEGIN SELECT RAISE(ABORT, 'accounts_audit is append-only'); END`).Error
		}},
		{ID: "0003_audit_actor_index", Up: func(tx *gorm.DB) error {
			// The dashboard's "Your account" widget reads one person's
			// sign-ins of the last 30 days on every dashboard load.
			return tx.Exec("CREATE INDEX accounts_audit_actor ON accounts_audit (org_id, actor_id, action, created_at)").Error
		}},
		{ID: "0004_groups", Up: migrateGroups},
	}
}

// Audit records a security event. It is part of the caller's transaction
// when tx is not nil.
func (s *Service) Audit(ctx context.Context, tx *gorm.DB, e AuditEntry) error {
	if tx == nil {
		tx = s.st.DB
	}
	if e.OrgID == 0 {
		return fmt.Errorf("audit %s: no organisation", e.Action)
	}
	e.ID = 0
	e.CreatedAt = s.now()
	if len(e.Detail) > 1000 {
		e.Detail = e.Detail[:1000]
	}
	return store.Org(tx.WithContext(ctx), e.OrgID).Create(&e).Error
}

// Audit actions.
const (
	AuditLoginOK         = "login_ok"
	AuditLoginFailed     = "login_failed"
	AuditLoginThrottled  = "login_throttled"
	AuditLogout          = "logout"
	AuditPasswordChanged = "password_changed"
	AuditPasswordReset   = "password_reset"
	AuditResetRequested  = "password_reset_requested"
	AuditSessionRevoked  = "session_revoked"
	AuditRoleChanged     = "role_changed"
	AuditTokenCreated    = "token_created"
	AuditTokenRevoked    = "token_revoked"
	AuditUserCreated     = "user_created"
	AuditUserInvited     = "user_invited"
	AuditUserDisabled    = "user_disabled"
	AuditDeletionReq     = "deletion_requested"
	AuditDataExport      = "data_export"
	AuditOrgCreated      = "org_created"
	AuditOrgUpdated      = "org_updated"
	AuditEmailVerified   = "email_verified"
	AuditAssignment      = "assignment_changed"
)

// SetClock replaces the service's clock (tests of expiry and throttling).
func (s *Service) SetClock(now func() time.Time) { s.now = now }
