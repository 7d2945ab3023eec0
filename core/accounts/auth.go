package accounts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/store"
)

// Token prefixes say what a bearer secret is, so Authenticate looks in one
// table and a leaked token is recognisable in logs and scanners.
const (
	sessionPrefix = "pks_"
	apiPrefix     = "pka_"
)

// ErrBadCredentials is the one answer to a wrong e-mail, a wrong password,
// an unknown organisation or a disabled account: it reveals nothing.
var ErrBadCredentials = errs.Unauthenticatedf("wrong e-mail or password")

// LoginInput is a sign-in attempt.
type LoginInput struct {
	Org, Email, Password string
	IP, UserAgent        string
}

// LoginResult is a successful sign-in.
type LoginResult struct {
	User    *User
	Org     *Org
	Session *Session
	// Token is the session secret: the cookie value, and the bearer token
	// for API clients. It is not stored anywhere.
	Token string
}

// accountFailureFactor: an account is throttled from every source only
// after this many times login_max_failures failures (a guess spread over
// many addresses), and then not for a source that signed in before.
const accountFailureFactor = 10

// maxBackoff caps the doubling lockout of one account from one source.
const maxBackoff = 24 * time.Hour

// Login checks credentials, throttles failures in the database (so every
// instance agrees), and starts a new session. A previous session presented
// by the same client is ended (fixation).
//
// Throttling (ASVS 6.3) is keyed so that a guesser cannot lock the owner
// out: per account and source IP, login_max_failures failures lock that
// pair for login_lockout, doubling with every further failure (up to a
// day); per IP, login_ip_max_failures failures over any accounts lock the
// IP; per account from every source, accountFailureFactor ×
// login_max_failures failures lock the account for login_lockout except
// for an IP that signed in to it before. The right password from another
// IP still passes.
func (s *Service) Login(ctx context.Context, in LoginInput, previousToken string) (*LoginResult, error) {
	email := normalizeEmail(in.Email)
	orgSlug := strings.ToLower(strings.TrimSpace(in.Org))
	acctKey := "login:acct:" + orgSlug + ":" + email
	srcKey := "login:src:" + orgSlug + ":" + email + ":" + in.IP
	ipKey := "login:ip:" + in.IP
	throttled := func(retry time.Duration) (*LoginResult, error) {
		if org, err := s.OrgBySlug(ctx, orgSlug); err == nil {
			_ = s.Audit(ctx, nil, AuditEntry{OrgOwned: store.OrgOwned{OrgID: org.ID}, Action: AuditLoginThrottled, ActorEmail: email, IP: in.IP})
		}
		return nil, errs.RateLimitedf(retry, "too many sign-in attempts; try again in %s", roundUp(retry))
	}
	if retry, locked := s.throttled(ctx, srcKey, ipKey); locked {
		return throttled(retry)
	}
	acctRetry, acctLocked := s.throttled(ctx, acctKey)
	fail := func(org *Org, u *User) (*LoginResult, error) {
		s.recordFailure(ctx, srcKey, s.acfg.LoginMaxFailures, true)
		s.recordFailure(ctx, acctKey, accountFailureFactor*s.acfg.LoginMaxFailures, false)
		s.recordFailure(ctx, ipKey, s.acfg.LoginIPMaxFailures, false)
		if org != nil {
			var uid uint
			if u != nil {
				uid = u.ID
			}
			_ = s.Audit(ctx, nil, AuditEntry{OrgOwned: store.OrgOwned{OrgID: org.ID}, Action: AuditLoginFailed, ActorEmail: email, TargetType: "user", TargetID: uid, IP: in.IP})
		}
		return nil, ErrBadCredentials
	}
	org, err := s.OrgBySlug(ctx, orgSlug)
	if err != nil {
		VerifyPassword(in.Password, s.dummyHash)
		return fail(nil, nil)
	}
	u, err := s.UserByEmail(ctx, org.ID, email)
	if acctLocked && (err != nil || !s.signedInFrom(ctx, org.ID, u.ID, in.IP)) {
		return throttled(acctRetry)
	}
	if err != nil || u.PasswordHash == "" {
		VerifyPassword(in.Password, s.dummyHash)
		return fail(org, nil)
	}
	if !VerifyPassword(in.Password, u.PasswordHash) || !u.Active() {
		return fail(org, u)
	}
	s.resetThrottle(ctx, srcKey)
	s.resetThrottle(ctx, acctKey)

	res := &LoginResult{User: u, Org: org}
	if previousToken != "" {
		defer s.forgetToken(previousToken)
	}
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		if previousToken != "" {
			if err := store.AllOrgs(tx).Where("token_hash = ?", hashToken(previousToken)).Delete(&Session{}).Error; err != nil {
				return err
			}
		}
		now := s.now()
		token := sessionPrefix + randomToken(32)
		sess := &Session{TokenHash: hashToken(token), UserID: u.ID, IP: in.IP, UserAgent: truncateRunes(in.UserAgent, 300),
			CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.acfg.SessionMax)}
		if err := store.Org(tx, org.ID).Create(sess).Error; err != nil {
			return err
		}
		updates := map[string]any{"last_login_at": now}
		if NeedsRehash(u.PasswordHash, s.argon) {
			if h, err := HashPassword(in.Password, s.argon); err == nil {
				updates["password_hash"] = h
			}
		}
		if err := store.Org(tx, org.ID).Model(u).Updates(updates).Error; err != nil {
			return err
		}
		if err := s.Audit(ctx, tx, AuditEntry{OrgOwned: store.OrgOwned{OrgID: org.ID}, Action: AuditLoginOK, ActorID: u.ID, ActorEmail: u.Email, TargetType: "session", TargetID: sess.ID, IP: in.IP}); err != nil {
			return err
		}
		res.Session, res.Token = sess, token
		if s.bus == nil {
			return nil
		}
		// The summary puts the sign-in on the customer's timeline.
		return s.bus.Publish(ctx, events.Event{Name: EventUserSignedIn, OrgID: org.ID, ActorID: u.ID, SubjectID: u.ID, Tx: tx,
			Data: map[string]any{"ip": in.IP, "user_agent": sess.UserAgent}, Summary: "Signed in from %s", SummaryArgs: []any{in.IP}})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func roundUp(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d seconds", int(d.Seconds()+0.999))
	}
	return fmt.Sprintf("%d minutes", int(d.Minutes()+0.999))
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// throttled reports whether any key is locked, and for how long.
func (s *Service) throttled(ctx context.Context, keys ...string) (time.Duration, bool) {
	var rows []Throttle
	if err := s.st.DB.WithContext(ctx).Where("key IN ?", keys).Find(&rows).Error; err != nil {
		s.log.Warn("throttle check failed", "err", err)
		return 0, false
	}
	now := s.now()
	var longest time.Duration
	for _, r := range rows {
		if d := r.LockedUntil.Sub(now); d > longest {
			longest = d
		}
	}
	return longest, longest > 0
}

// signedInFrom reports whether user signed in from ip before (the audit
// log's successful sign-ins): a source the account owner is known to use.
func (s *Service) signedInFrom(ctx context.Context, org, user uint, ip string) bool {
	var n int64
	err := store.Org(s.st.DB.WithContext(ctx), org).Model(&AuditEntry{}).Where("action = ? AND actor_id = ? AND ip = ?", AuditLoginOK, user, ip).Limit(1).Count(&n).Error
	return err == nil && n > 0
}

// recordFailure counts one failure for key in the current window and locks
// the key when max is reached: for login_lockout, or with backoff for
// login_lockout doubled by every failure past max (up to maxBackoff). One
// upsert: concurrent instances agree.
func (s *Service) recordFailure(ctx context.Context, key string, max int, backoff bool) {
	now := s.now()
	windowStart := now.Add(-s.acfg.LoginWindow)
	if backoff {
		// Failures keep counting across lockouts, so each one doubles.
		windowStart = now.Add(-maxBackoff)
	}
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		row := Throttle{Key: key, WindowStart: now, Failures: 1}
		err := tx.Clauses(clause.OnConflict{
			Columns: []clause.Column{{Name: "key"}},
			DoUpdates: clause.Set{
				{Column: clause.Column{Name: "failures"}, Value: gorm.Expr("CASE WHEN accounts_throttle.window_start < ? THEN 1 ELSE accounts_throttle.failures + 1 END", windowStart)},
				{Column: clause.Column{Name: "window_start"}, Value: gorm.Expr("CASE WHEN accounts_throttle.window_start < ? THEN ? ELSE accounts_throttle.window_start END", windowStart, now)},
			},
		}).Create(&row).Error
		if err != nil {
			return err
		}
		var t Throttle
		if err := tx.Where("key = ?", key).First(&t).Error; err != nil || t.Failures < max {
			return err
		}
		lock := s.acfg.LoginLockout
		for i := max; backoff && i < t.Failures && lock < maxBackoff; i++ {
			lock *= 2
		}
		return tx.Model(&Throttle{}).Where("key = ?", key).Update("locked_until", now.Add(min(lock, maxBackoff))).Error
	})
	if err != nil {
		s.log.Warn("throttle update failed", "key", key, "err", err)
	}
}

func (s *Service) resetThrottle(ctx context.Context, key string) {
	if err := s.st.DB.WithContext(ctx).Where("key = ?", key).Delete(&Throttle{}).Error; err != nil {
		s.log.Warn("throttle reset failed", "err", err)
	}
}

// Authenticate resolves a bearer or cookie secret into a principal. Expired,
// idle, revoked or unknown secrets are ErrUnauthenticated.
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, error) {
	switch {
	case strings.HasPrefix(token, sessionPrefix):
		return s.authSession(ctx, token)
	case strings.HasPrefix(token, apiPrefix):
		return s.authAPIToken(ctx, token)
	}
	return nil, errUnauthenticated
}

var errUnauthenticated = errs.Unauthenticatedf("your session has ended or the token is not valid; sign in again")

// sessionRow is one query's worth of session, user and organisation.
type sessionRow struct {
	TokenHash  string
	SessionID  uint
	OrgID      uint
	UserID     uint
	LastSeenAt time.Time
	ExpiresAt  time.Time
	Email      string
	Name       string
	Role       Role
	Locale     string
	TimeZone   string
	DisabledAt *time.Time
	OrgSlug    string
	OrgName    string
	OrgLocale  string
	OrgTZ      string
	Modules    string
}

func (s *Service) authSession(ctx context.Context, token string) (*Principal, error) {
	key := hashToken(token)
	now := s.now()
	if e, ok := s.principals.get(key, now); ok && !now.After(e.expiresAt) && now.Sub(e.lastSeen) <= s.acfg.SessionIdle {
		s.touchSession(ctx, e.p.OrgID, e.p.SessionID, key, e.lastSeen, now)
		p := e.p
		return &p, nil
	}
	gen := s.principals.generation()
	// One indexed query per request, shared by the requests that arrive
	// while it runs (fetchSessions).
	r, found, err := s.sessions.Load(ctx, key)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errUnauthenticated
	}
	if now.After(r.ExpiresAt) || now.Sub(r.LastSeenAt) > s.acfg.SessionIdle || r.DisabledAt != nil {
		_ = store.Org(s.st.DB.WithContext(ctx), r.OrgID).Delete(&Session{}, r.SessionID).Error
		s.forgetSession(r.OrgID, r.SessionID)
		return nil, errUnauthenticated
	}
	lastSeen := s.touchSession(ctx, r.OrgID, r.SessionID, "", r.LastSeenAt, now)
	p := &Principal{UserID: r.UserID, OrgID: r.OrgID, OrgSlug: r.OrgSlug, OrgName: r.OrgName, Role: r.Role,
		Email: r.Email, Name: r.Name, Locale: r.Locale, TimeZone: r.TimeZone, Modules: splitList(r.Modules), SessionID: r.SessionID}
	if p.Locale == "" {
		p.Locale = r.OrgLocale
	}
	if p.TimeZone == "" {
		p.TimeZone = r.OrgTZ
	}
	s.principals.put(key, cachedSession{p: *p, lastSeen: lastSeen, expiresAt: r.ExpiresAt}, gen, now)
	return p, nil
}

// fetchSessions reads the sessions of token hashes, each joined with its
// user and organisation, in one indexed query. Sessions span tenants by
// design here: the token identifies the tenant.
func (s *Service) fetchSessions(ctx context.Context, keys []string) (map[string]sessionRow, error) {
	var rows []sessionRow
	err := store.AllOrgs(s.st.DB.WithContext(ctx)).Table("accounts_sessions AS s").
		Select(`s.token_hash, s.id AS session_id, s.org_id, s.user_id, s.last_seen_at, s.expires_at,
			u.email, u.name, u.role, u.locale, u.time_zone, u.disabled_at,
			o.slug AS org_slug, o.name AS org_name, o.locale AS org_locale, o.time_zone AS org_tz, o.modules`).
		Joins("JOIN accounts_users u ON u.id = s.user_id AND u.org_id = s.org_id").
		Joins("JOIN accounts_orgs o ON o.id = s.org_id").
		Where("s.token_hash IN ?", keys).Find(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make(map[string]sessionRow, len(rows))
	for _, r := range rows {
		out[r.TokenHash] = r
	}
	return out, nil
}

// sessionTouchInterval is how stale a session's last-seen time may get:
// idle expiry needs it, and a write per request would cost more than the
// request.
const sessionTouchInterval = time.Minute

// touchSession moves a session's last-seen time to now when it is older
// than sessionTouchInterval, and returns the last-seen time as it now
// stands. Concurrent requests of one session write once (one request per
// instance tries; the conditional UPDATE lets one instance win); the touch
// is skipped while the database writer is busy — the next request tries
// again — and a failure is logged, never returned: the request goes on.
func (s *Service) touchSession(ctx context.Context, orgID, sessionID uint, key string, lastSeen, now time.Time) time.Time {
	if now.Sub(lastSeen) <= sessionTouchInterval {
		return lastSeen
	}
	if _, inFlight := s.touching.LoadOrStore(sessionID, struct{}{}); inFlight {
		return lastSeen
	}
	defer s.touching.Delete(sessionID)
	if s.st.WriterBusy() {
		return lastSeen
	}
	err := store.Org(s.st.DB.WithContext(ctx), orgID).Model(&Session{}).
		Where("id = ? AND last_seen_at < ?", sessionID, now.Add(-sessionTouchInterval)).
		Update("last_seen_at", now).Error
	if err != nil {
		s.log.Warn("session touch failed", "err", err)
		return lastSeen
	}
	if key != "" {
		s.principals.seen(key, now)
	}
	return now
}

func (s *Service) authAPIToken(ctx context.Context, token string) (*Principal, error) {
	var t APIToken
	err := store.AllOrgs(s.st.DB.WithContext(ctx)).Where("token_hash = ?", hashToken(token)).Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if t.RevokedAt != nil || now.After(t.ExpiresAt) {
		return nil, errUnauthenticated
	}
	org, err := s.OrgByID(ctx, t.OrgID)
	if err != nil {
		return nil, errUnauthenticated
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > time.Minute {
		_ = store.Org(s.st.DB.WithContext(ctx), t.OrgID).Model(&APIToken{}).Where("id = ?", t.ID).Update("last_used_at", now).Error
	}
	return &Principal{OrgID: t.OrgID, OrgSlug: org.Slug, OrgName: org.Name, Role: Integrator, Name: "API token " + t.Name,
		Locale: org.Locale, TimeZone: org.TimeZone, Modules: org.EnabledModules(), TokenID: t.ID, Scopes: t.ScopeList()}, nil
}

// Logout ends the session behind token.
func (s *Service) Logout(ctx context.Context, p *Principal, ip string) error {
	if p == nil || p.SessionID == 0 {
		return nil
	}
	defer s.forgetSession(p.OrgID, p.SessionID)
	return s.st.Tx(ctx, func(tx *gorm.DB) error {
		if err := store.Org(tx, p.OrgID).Delete(&Session{}, p.SessionID).Error; err != nil {
			return err
		}
		return s.Audit(ctx, tx, AuditEntry{OrgOwned: store.OrgOwned{OrgID: p.OrgID}, Action: AuditLogout, ActorID: p.UserID, ActorEmail: p.Email, TargetType: "session", TargetID: p.SessionID, IP: ip})
	})
}

// Sessions lists the caller's active sessions, most recent first.
func (s *Service) Sessions(ctx context.Context, p *Principal) ([]Session, error) {
	var out []Session
	cutoffIdle := s.now().Add(-s.acfg.SessionIdle)
	err := store.Org(s.st.DB.WithContext(ctx), p.OrgID).
		Where("user_id = ? AND expires_at > ? AND last_seen_at > ?", p.UserID, s.now(), cutoffIdle).
		Order("last_seen_at DESC").Find(&out).Error
	return out, err
}

// RevokeSession ends one of the caller's sessions.
func (s *Service) RevokeSession(ctx context.Context, p *Principal, sessionID uint, ip string) error {
	defer s.forgetSession(p.OrgID, sessionID)
	return s.st.Tx(ctx, func(tx *gorm.DB) error {
		res := store.Org(tx, p.OrgID).Where("id = ? AND user_id = ?", sessionID, p.UserID).Delete(&Session{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.NotFoundf("no session %d", sessionID)
		}
		return s.Audit(ctx, tx, AuditEntry{OrgOwned: store.OrgOwned{OrgID: p.OrgID}, Action: AuditSessionRevoked, ActorID: p.UserID, ActorEmail: p.Email, TargetType: "session", TargetID: sessionID, IP: ip})
	})
}

// RevokeOtherSessions ends every session of the caller but the current one.
func (s *Service) RevokeOtherSessions(ctx context.Context, p *Principal, ip string) (int64, error) {
	var n int64
	defer s.forgetUser(p.OrgID, p.UserID)
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		res := store.Org(tx, p.OrgID).Where("user_id = ? AND id <> ?", p.UserID, p.SessionID).Delete(&Session{})
		if res.Error != nil {
			return res.Error
		}
		n = res.RowsAffected
		return s.Audit(ctx, tx, AuditEntry{OrgOwned: store.OrgOwned{OrgID: p.OrgID}, Action: AuditSessionRevoked, ActorID: p.UserID, ActorEmail: p.Email, TargetType: "session", IP: ip, Detail: fmt.Sprintf("signed out %d other sessions", n)})
	})
	return n, err
}

// NewToken describes an integrator API token.
type NewToken struct {
	Name      string
	Scopes    []string // "<area>:read", "<area>:write", "<area>:*" or "*"
	ExpiresIn time.Duration
}

// CreatedToken is a new token; Secret is shown once and never again.
type CreatedToken struct {
	Token  APIToken
	Secret string
}

// CreateToken creates an integrator token (org admins).
func (s *Service) CreateToken(ctx context.Context, p *Principal, in NewToken, ip string) (*CreatedToken, error) {
	if !p.Is(Admin) {
		return nil, errs.Forbiddenf("only admins create API tokens")
	}
	in.Name = strings.TrimSpace(in.Name)
	var fields []errs.FieldError
	if in.Name == "" || len(in.Name) > 100 {
		fields = append(fields, errs.Field("name", "is required (at most 100 characters)"))
	}
	if len(in.Scopes) == 0 {
		fields = append(fields, errs.Field("scopes", "at least one scope, such as banking:write or *"))
	}
	for _, sc := range in.Scopes {
		area, level, ok := cutScope(sc)
		if sc == "*" {
			continue
		}
		if !ok || area == "" || !slices.Contains([]string{"read", "write", "*"}, level) {
			fields = append(fields, errs.Field("scopes", fmt.Sprintf("%q is not <area>:read, <area>:write, <area>:* or *", sc)))
		}
	}
	if in.ExpiresIn <= 0 || in.ExpiresIn > 366*24*time.Hour {
		fields = append(fields, errs.Field("expires_in_days", "must be between 1 and 366 days"))
	}
	if len(fields) > 0 {
		return nil, errs.Validation("the token is not valid", fields...)
	}
	secret := apiPrefix + randomToken(32)
	t := APIToken{Name: in.Name, TokenHash: hashToken(secret), Prefix: secret[:10], Scopes: strings.Join(in.Scopes, ","),
		CreatedBy: p.UserID, ExpiresAt: s.now().Add(in.ExpiresIn)}
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		if err := store.Org(tx, p.OrgID).Create(&t).Error; err != nil {
			return err
		}
		return s.Audit(ctx, tx, AuditEntry{OrgOwned: store.OrgOwned{OrgID: p.OrgID}, Action: AuditTokenCreated, ActorID: p.UserID, ActorEmail: p.Email, TargetType: "token", TargetID: t.ID, IP: ip,
			Detail: t.Name + " [" + t.Scopes + "]"})
	})
	if err != nil {
		return nil, err
	}
	return &CreatedToken{Token: t, Secret: secret}, nil
}

// Tokens lists the organisation's API tokens (org admins).
func (s *Service) Tokens(ctx context.Context, p *Principal) ([]APIToken, error) {
	if !p.Is(Admin) {
		return nil, errs.Forbiddenf("only admins see API tokens")
	}
	var out []APIToken
	err := store.Org(s.st.DB.WithContext(ctx), p.OrgID).Order("id DESC").Find(&out).Error
	return out, err
}

// RevokeToken revokes an API token (org admins).
func (s *Service) RevokeToken(ctx context.Context, p *Principal, id uint, ip string) error {
	if !p.Is(Admin) {
		return errs.Forbiddenf("only admins revoke API tokens")
	}
	return s.st.Tx(ctx, func(tx *gorm.DB) error {
		res := store.Org(tx, p.OrgID).Model(&APIToken{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", s.now())
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.NotFoundf("no active token %d", id)
		}
		return s.Audit(ctx, tx, AuditEntry{OrgOwned: store.OrgOwned{OrgID: p.OrgID}, Action: AuditTokenRevoked, ActorID: p.UserID, ActorEmail: p.Email, TargetType: "token", TargetID: id, IP: ip})
	})
}

// AuditFilter narrows the audit log.
type AuditFilter struct {
	Action  string
	ActorID uint
	Since   time.Time
	Until   time.Time
}

// AuditLog reads the organisation's audit log, newest first (org admins).
func (s *Service) AuditLog(ctx context.Context, p *Principal, f AuditFilter, page Page) ([]AuditEntry, int64, error) {
	if !p.Is(Admin) {
		return nil, 0, errs.Forbiddenf("only admins read the audit log")
	}
	q := store.Org(s.st.DB.WithContext(ctx), p.OrgID).Model(&AuditEntry{})
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.ActorID != 0 {
		q = q.Where("actor_id = ?", f.ActorID)
	}
	if !f.Since.IsZero() {
		q = q.Where("created_at >= ?", f.Since)
	}
	if !f.Until.IsZero() {
		q = q.Where("created_at < ?", f.Until)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var out []AuditEntry
	err := q.Order("id DESC").Limit(page.limit()).Offset(page.offset()).Find(&out).Error
	return out, total, err
}
