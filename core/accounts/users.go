package accounts

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// NewUser describes a user to create.
type NewUser struct {
	Email    string
	Name     string
	Role     Role
	Password string // empty: the user sets one through an invitation link
	Locale   string
	TimeZone string
	// Verified marks the e-mail as verified (admin-created and demo users).
	Verified bool
}

func validateEmail(e string) error {
	if e == "" {
		return errs.InvalidField("email", "is required")
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || !strings.Contains(e[strings.LastIndex(e, "@"):], ".") || len(e) > 254 {
		return errs.InvalidField("email", "is not a valid e-mail address")
	}
	return nil
}

// CreateUser creates a user in org inside tx (nil: its own transaction).
func (s *Service) CreateUser(ctx context.Context, tx *gorm.DB, orgID uint, in NewUser) (*User, error) {
	in.Email = normalizeEmail(in.Email)
	in.Name = strings.TrimSpace(in.Name)
	var fields []errs.FieldError
	if err := validateEmail(in.Email); err != nil {
		e, _ := errs.As(err)
		fields = append(fields, e.Fields...)
	}
	if in.Name == "" || len(in.Name) > 120 {
		fields = append(fields, errs.Field("name", "is required (at most 120 characters)"))
	}
	if !in.Role.Valid() {
		fields = append(fields, errs.Field("role", "must be customer, staff or admin"))
	}
	if in.Password != "" {
		if err := CheckPassword(in.Password, in.Email, in.Name); err != nil {
			e, _ := errs.As(err)
			fields = append(fields, e.Fields...)
		}
	}
	if err := validateLocaleTZ(in.Locale, in.TimeZone); err != nil {
		e, _ := errs.As(err)
		fields = append(fields, e.Fields...)
	}
	if len(fields) > 0 {
		return nil, errs.Validation("the account is not valid", fields...)
	}
	u := &User{Email: in.Email, Name: in.Name, Role: in.Role, Locale: in.Locale, TimeZone: in.TimeZone}
	if in.Password != "" {
		h, err := HashPassword(in.Password, s.argon)
		if err != nil {
			return nil, err
		}
		u.PasswordHash = h
	}
	if in.Verified {
		now := s.now()
		u.EmailVerifiedAt = &now
	}
	create := func(tx *gorm.DB) error {
		if err := store.Org(tx, orgID).Create(u).Error; err != nil {
			if store.IsUniqueViolation(err) {
				return errs.Validation("the account is not valid", errs.Field("email", "already has an account here"))
			}
			return err
		}
		return s.publish(ctx, tx, EventUserCreated, orgID, 0, u.ID, u)
	}
	var err error
	if tx != nil {
		err = create(tx.WithContext(ctx))
	} else {
		err = s.st.Tx(ctx, create)
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// UserByID returns a user of org.
func (s *Service) UserByID(ctx context.Context, orgID, id uint) (*User, error) {
	var u User
	err := store.Org(s.st.DB.WithContext(ctx), orgID).First(&u, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.NotFoundf("no user %d", id)
	}
	return &u, err
}

// UserByEmail returns the user of org with email.
func (s *Service) UserByEmail(ctx context.Context, orgID uint, email string) (*User, error) {
	var u User
	err := store.Org(s.st.DB.WithContext(ctx), orgID).Where("email = ?", normalizeEmail(email)).First(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.NotFoundf("no user %s", email)
	}
	return &u, err
}

// UserFilter narrows ListUsers.
type UserFilter struct {
	Role  Role
	Query string // matches name or e-mail
}

// ListUsers lists the users of the caller's organisation (admins; staff see
// the customers they reach, by assignment or through any group).
func (s *Service) ListUsers(ctx context.Context, p *Principal, f UserFilter, page Page) ([]User, int64, error) {
	q := store.Org(s.st.DB.WithContext(ctx), p.OrgID).Model(&User{})
	switch {
	case p.Is(Admin):
	case p.Is(Staff):
		q = q.Where("id IN (?)", s.ReachAny().Customers(ctx, p.OrgID, p.UserID))
	default:
		return nil, 0, errs.Forbiddenf("only staff and admins list users")
	}
	if f.Role != "" {
		q = q.Where("role = ?", f.Role)
	}
	if qs := strings.TrimSpace(f.Query); qs != "" {
		like := store.ContainsLike(strings.ToLower(qs))
		q = q.Where("(LOWER(name) LIKE ?"+store.LikeEscape+" OR email LIKE ?"+store.LikeEscape+")", like, like)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var out []User
	err := q.Order("name, id").Limit(page.limit()).Offset(page.offset()).Find(&out).Error
	return out, total, err
}

// SetRole changes a user's role (org admins). An admin cannot demote
// themselves, so an organisation never loses its last admin by accident.
func (s *Service) SetRole(ctx context.Context, p *Principal, userID uint, role Role) (*User, error) {
	if !p.Is(Admin) {
		return nil, errs.Forbiddenf("only admins change roles")
	}
	if role != Customer && role != Staff && role != Admin {
		return nil, errs.InvalidField("role", "must be customer, staff or admin")
	}
	if userID == p.UserID && role != Admin {
		return nil, errs.InvalidField("role", "you cannot remove your own admin role")
	}
	u, err := s.UserByID(ctx, p.OrgID, userID)
	if err != nil {
		return nil, err
	}
	old := u.Role
	defer s.forgetUser(p.OrgID, userID)
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		if err := store.Org(tx, p.OrgID).Model(u).Update("role", role).Error; err != nil {
			return err
		}
		if err := s.Audit(ctx, tx, AuditEntry{OrgOwned: store.OrgOwned{OrgID: p.OrgID}, Action: AuditRoleChanged, ActorID: p.UserID, ActorEmail: p.Email,
			TargetType: "user", TargetID: u.ID, Detail: fmt.Sprintf("%s -> %s", old, role)}); err != nil {
			return err
		}
		return s.publish(ctx, tx, EventRoleChanged, p.OrgID, p.UserID, u.ID, u)
	})
	u.Role = role
	return u, err
}

// Assign makes staffID look after customerID (org admins).
func (s *Service) Assign(ctx context.Context, p *Principal, staffID, customerID uint, relation string) error {
	if !p.Is(Admin) {
		return errs.Forbiddenf("only admins assign staff")
	}
	staff, err := s.UserByID(ctx, p.OrgID, staffID)
	if err != nil {
		return err
	}
	cust, err := s.UserByID(ctx, p.OrgID, customerID)
	if err != nil {
		return err
	}
	if staff.Role != Staff && staff.Role != Admin {
		return errs.InvalidField("staff_id", "is not a staff member")
	}
	if cust.Role != Customer {
		return errs.InvalidField("customer_id", "is not a customer")
	}
	relation = strings.TrimSpace(relation)
	if relation == "" {
		relation = "advisor"
	}
	return s.st.Tx(ctx, func(tx *gorm.DB) error {
		a := Assignment{StaffID: staffID, CustomerID: customerID, Relation: relation}
		if err := store.Org(tx, p.OrgID).Where("staff_id = ? AND customer_id = ?", staffID, customerID).FirstOrCreate(&a).Error; err != nil {
			return err
		}
		return s.Audit(ctx, tx, AuditEntry{OrgOwned: store.OrgOwned{OrgID: p.OrgID}, Action: AuditAssignment, ActorID: p.UserID, ActorEmail: p.Email,
			TargetType: "user", TargetID: customerID, Detail: fmt.Sprintf("assigned staff %d as %s", staffID, relation)})
	})
}

// Unassign removes an assignment (org admins).
func (s *Service) Unassign(ctx context.Context, p *Principal, staffID, customerID uint) error {
	if !p.Is(Admin) {
		return errs.Forbiddenf("only admins assign staff")
	}
	return s.st.Tx(ctx, func(tx *gorm.DB) error {
		res := store.Org(tx, p.OrgID).Where("staff_id = ? AND customer_id = ?", staffID, customerID).Delete(&Assignment{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.NotFoundf("no such assignment")
		}
		return s.Audit(ctx, tx, AuditEntry{OrgOwned: store.OrgOwned{OrgID: p.OrgID}, Action: AuditAssignment, ActorID: p.UserID, ActorEmail: p.Email,
			TargetType: "user", TargetID: customerID, Detail: fmt.Sprintf("unassigned staff %d", staffID)})
	})
}

// Assignments lists who looks after customerID.
func (s *Service) Assignments(ctx context.Context, orgID, customerID uint) ([]Assignment, error) {
	var out []Assignment
	err := store.Org(s.st.DB.WithContext(ctx), orgID).Where("customer_id = ?", customerID).Order("id").Find(&out).Error
	return out, err
}

// SignUp creates a customer account by self-service, where the org allows
// it, and e-mails a verification link.
func (s *Service) SignUp(ctx context.Context, orgSlug, email, name, password string) (*User, error) {
	org, err := s.OrgBySlug(ctx, orgSlug)
	if err != nil {
		return nil, errs.InvalidField("org", "no such organisation")
	}
	if !org.SelfSignup {
		return nil, errs.Forbiddenf("%s accepts new accounts by invitation only", org.Name)
	}
	if password == "" {
		return nil, errs.InvalidField("password", "is required")
	}
	var u *User
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		u, err = s.CreateUser(ctx, tx, org.ID, NewUser{Email: email, Name: name, Role: Customer, Password: password, Locale: org.Locale, TimeZone: org.TimeZone})
		if err != nil {
			return err
		}
		if err := s.Audit(ctx, tx, AuditEntry{OrgOwned: store.OrgOwned{OrgID: org.ID}, Action: AuditUserCreated, ActorID: u.ID, ActorEmail: u.Email, TargetType: "user", TargetID: u.ID, Detail: "self sign-up"}); err != nil {
			return err
		}
		return s.sendLink(ctx, tx, org, u, PurposeVerify)
	})
	return u, err
}

// Invite creates a user with no password and e-mails an invitation link
// (org admins).
func (s *Service) Invite(ctx context.Context, p *Principal, email, name string, role Role) (*User, error) {
	if !p.Is(Admin) {
		return nil, errs.Forbiddenf("only admins invite users")
	}
	org, err := s.OrgByID(ctx, p.OrgID)
	if err != nil {
		return nil, err
	}
	var u *User
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		u, err = s.CreateUser(ctx, tx, org.ID, NewUser{Email: email, Name: name, Role: role, Locale: org.Locale, TimeZone: org.TimeZone})
		if err != nil {
			return err
		}
		if err := s.Audit(ctx, tx, AuditEntry{OrgOwned: store.OrgOwned{OrgID: org.ID}, Action: AuditUserInvited, ActorID: p.UserID, ActorEmail: p.Email, TargetType: "user", TargetID: u.ID, Detail: string(role)}); err != nil {
			return err
		}
		return s.sendLink(ctx, tx, org, u, PurposeInvite)
	})
	return u, err
}

var linkPaths = map[Purpose]string{PurposeVerify: "/verify", PurposeReset: "/password/reset", PurposeInvite: "/invite"}
var linkKinds = map[Purpose]string{PurposeVerify: KindVerifyEmail, PurposeReset: KindPasswordReset, PurposeInvite: KindInvitation}

// sendLink creates a one-time token and e-mails its link, in tx.
func (s *Service) sendLink(ctx context.Context, tx *gorm.DB, org *Org, u *User, purpose Purpose) error {
	ttl := map[Purpose]time.Duration{PurposeVerify: s.acfg.VerifyTTL, PurposeReset: s.acfg.ResetTTL, PurposeInvite: s.acfg.InviteTTL}[purpose]
	// A new link ends every earlier open link of the same purpose.
	if err := s.endOpenLinks(tx, org.ID, u.ID, purpose); err != nil {
		return err
	}
	token := randomToken(32)
	ot := OneTimeToken{UserID: u.ID, Purpose: purpose, TokenHash: hashToken(token), ExpiresAt: s.now().Add(ttl), CreatedAt: s.now()}
	if err := store.Org(tx, org.ID).Create(&ot).Error; err != nil {
		return err
	}
	link := s.Link(linkPaths[purpose], url.Values{"token": {token}})
	return s.messenger.Send(ctx, tx, Message{OrgID: org.ID, UserID: u.ID, Kind: linkKinds[purpose], To: u.Email, Data: map[string]any{
		"Link": link, "Name": u.Name, "Org": org.Name, "ExpiresIn": ttl.String(), "Email": u.Email,
	}})
}

// endOpenLinks marks every unused link of purpose for the user used, so
// that only the newest link ever works.
func (s *Service) endOpenLinks(tx *gorm.DB, orgID, userID uint, purpose Purpose) error {
	return store.Org(tx, orgID).Model(&OneTimeToken{}).
		Where("user_id = ? AND purpose = ? AND used_at IS NULL", userID, purpose).
		Update("used_at", s.now()).Error
}

// consumeLink marks a one-time token used and returns its user. A used,
// expired or unknown token is the same error, so links reveal nothing.
func (s *Service) consumeLink(ctx context.Context, tx *gorm.DB, token string, purpose Purpose) (*User, error) {
	invalid := errs.InvalidField("token", "this link is invalid or has expired; ask for a new one")
	if token == "" {
		return nil, invalid
	}
	var ot OneTimeToken
	err := store.AllOrgs(tx).Where("token_hash = ? AND purpose = ?", hashToken(token), purpose).First(&ot).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, invalid
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if ot.UsedAt != nil || now.After(ot.ExpiresAt) {
		return nil, invalid
	}
	// Mark used only if still unused: two concurrent uses, one winner.
	res := store.Org(tx, ot.OrgID).Model(&OneTimeToken{}).Where("id = ? AND used_at IS NULL", ot.ID).Update("used_at", now)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected != 1 {
		return nil, invalid
	}
	// Using a link ends every other open link of the same purpose.
	if err := s.endOpenLinks(tx, ot.OrgID, ot.UserID, purpose); err != nil {
		return nil, err
	}
	var u User
	if err := store.Org(tx, ot.OrgID).First(&u, ot.UserID).Error; err != nil {
		return nil, invalid
	}
	if !u.Active() {
		return nil, invalid
	}
	return &u, nil
}

// VerifyEmail consumes a verification link.
func (s *Service) VerifyEmail(ctx context.Context, token string) (*User, error) {
	var u *User
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		if u, err = s.consumeLink(ctx, tx, token, PurposeVerify); err != nil {
			return err
		}
		now := s.now()
		u.EmailVerifiedAt = &now
		if err := store.Org(tx, u.OrgID).Model(u).Update("email_verified_at", now).Error; err != nil {
			return err
		}
		return s.Audit(ctx, tx, AuditEntry{OrgOwned: store.OrgOwned{OrgID: u.OrgID}, Action: AuditEmailVerified, ActorID: u.ID, ActorEmail: u.Email, TargetType: "user", TargetID: u.ID})
	})
	return u, err
}

// RequestPasswordReset e-mails a reset link if the account exists and has
// not had accounts.reset_max_per_hour links in the last hour. It returns
// nil in every case, so the answer reveals nothing about the account.
func (s *Service) RequestPasswordReset(ctx context.Context, orgSlug, email, ip string) error {
	org, err := s.OrgBySlug(ctx, orgSlug)
	if err != nil {
		return nil
	}
	u, err := s.UserByEmail(ctx, org.ID, email)
	if err != nil || !u.Active() {
		return nil
	}
	return s.st.Tx(ctx, func(tx *gorm.DB) error {
		var sent int64
		if err := store.Org(tx, org.ID).Model(&OneTimeToken{}).
			Where("user_id = ? AND purpose = ? AND created_at > ?", u.ID, PurposeReset, s.now().Add(-time.Hour)).
			Count(&sent).Error; err != nil {
			return err
		}
		if sent >= int64(s.acfg.ResetMaxPerHour) {
			s.log.Info("password reset e-mail capped", "org", org.ID, "user", u.ID, "sent_last_hour", sent)
			return nil
		}
		if err := s.Audit(ctx, tx, AuditEntry{OrgOwned: store.OrgOwned{OrgID: org.ID}, Action: AuditResetRequested, ActorEmail: u.Email, TargetType: "user", TargetID: u.ID, IP: ip}); err != nil {
			return err
		}
		return s.sendLink(ctx, tx, org, u, PurposeReset)
	})
}

// ResetPassword consumes a reset or invitation link and sets the password.
// Every session of the user ends.
func (s *Service) ResetPassword(ctx context.Context, token, password string, purpose Purpose, ip string) (*User, error) {
	var u *User
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		if u, err = s.consumeLink(ctx, tx, token, purpose); err != nil {
			return err
		}
		if err := CheckPassword(password, u.Email, u.Name); err != nil {
			return err
		}
		if err := s.setPassword(ctx, tx, u, password, 0); err != nil {
			return err
		}
		if purpose == PurposeInvite && u.EmailVerifiedAt == nil {
			now := s.now()
			if err := store.Org(tx, u.OrgID).Model(u).Update("email_verified_at", now).Error; err != nil {
				return err
			}
		}
		return s.Audit(ctx, tx, AuditEntry{OrgOwned: store.OrgOwned{OrgID: u.OrgID}, Action: AuditPasswordReset, ActorID: u.ID, ActorEmail: u.Email, TargetType: "user", TargetID: u.ID, IP: ip, Detail: string(purpose)})
	})
	if u != nil {
		s.forgetUser(u.OrgID, u.ID)
	}
	return u, err
}

// setPassword stores a new hash and ends every session of u except keep.
func (s *Service) setPassword(ctx context.Context, tx *gorm.DB, u *User, password string, keepSession uint) error {
	h, err := HashPassword(password, s.argon)
	if err != nil {
		return err
	}
	if err := store.Org(tx, u.OrgID).Model(u).Update("password_hash", h).Error; err != nil {
		return err
	}
	q := store.Org(tx, u.OrgID).Where("user_id = ?", u.ID)
	if keepSession != 0 {
		q = q.Where("id <> ?", keepSession)
	}
	if err := q.Delete(&Session{}).Error; err != nil {
		return err
	}
	return s.publish(ctx, tx, EventPasswordChange, u.OrgID, u.ID, u.ID, u)
}

// ChangePassword checks the current password and sets a new one; every
// other session of the user ends.
func (s *Service) ChangePassword(ctx context.Context, p *Principal, current, next, ip string) error {
	u, err := s.UserByID(ctx, p.OrgID, p.UserID)
	if err != nil {
		return err
	}
	if !VerifyPassword(current, u.PasswordHash) {
		return errs.InvalidField("current_password", "is not your current password")
	}
	if err := CheckPassword(next, u.Email, u.Name); err != nil {
		return err
	}
	org, err := s.OrgByID(ctx, p.OrgID)
	if err != nil {
		return err
	}
	defer s.forgetUser(p.OrgID, p.UserID)
	return s.st.Tx(ctx, func(tx *gorm.DB) error {
		if err := s.setPassword(ctx, tx, u, next, p.SessionID); err != nil {
			return err
		}
		if err := s.Audit(ctx, tx, AuditEntry{OrgOwned: store.OrgOwned{OrgID: p.OrgID}, Action: AuditPasswordChanged, ActorID: u.ID, ActorEmail: u.Email, TargetType: "user", TargetID: u.ID, IP: ip}); err != nil {
			return err
		}
		return s.messenger.Send(ctx, tx, Message{OrgID: p.OrgID, UserID: u.ID, Kind: KindPasswordChanged, To: u.Email,
			Data: map[string]any{"Name": u.Name, "Org": org.Name, "IP": ip, "Link": s.Link("/password/forgot", url.Values{"org": {org.Slug}})}})
	})
}

// Profile is what a user may change about themselves.
type Profile struct {
	Name     *string
	Locale   *string
	TimeZone *string
}

// UpdateProfile changes the caller's own name, locale or time zone.
func (s *Service) UpdateProfile(ctx context.Context, p *Principal, in Profile) (*User, error) {
	u, err := s.UserByID(ctx, p.OrgID, p.UserID)
	if err != nil {
		return nil, err
	}
	updates := map[string]any{}
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		if n == "" || len(n) > 120 {
			return nil, errs.InvalidField("name", "is required (at most 120 characters)")
		}
		updates["name"], u.Name = n, n
	}
	if in.Locale != nil {
		if err := validateLocaleTZ(*in.Locale, ""); err != nil {
			return nil, err
		}
		updates["locale"], u.Locale = *in.Locale, *in.Locale
	}
	if in.TimeZone != nil {
		if err := validateLocaleTZ("", *in.TimeZone); err != nil {
			return nil, err
		}
		updates["time_zone"], u.TimeZone = *in.TimeZone, *in.TimeZone
	}
	if len(updates) == 0 {
		return u, nil
	}
	err = store.Org(s.st.DB.WithContext(ctx), p.OrgID).Model(u).Updates(updates).Error
	s.forgetUser(p.OrgID, p.UserID)
	return u, err
}

// RequestDeletion disables the caller's account at once, ends its sessions,
// and schedules its anonymisation after the organisation's retention
// period (PurgeDeleted does it).
func (s *Service) RequestDeletion(ctx context.Context, p *Principal, password, ip string) error {
	u, err := s.UserByID(ctx, p.OrgID, p.UserID)
	if err != nil {
		return err
	}
	if !VerifyPassword(password, u.PasswordHash) {
		return errs.InvalidField("password", "is not your current password")
	}
	now := s.now()
	defer s.forgetUser(p.OrgID, u.ID)
	return s.st.Tx(ctx, func(tx *gorm.DB) error {
		if err := store.Org(tx, p.OrgID).Model(u).Updates(map[string]any{"disabled_at": now, "deletion_requested_at": now}).Error; err != nil {
			return err
		}
		if err := store.Org(tx, p.OrgID).Where("user_id = ?", u.ID).Delete(&Session{}).Error; err != nil {
			return err
		}
		return s.Audit(ctx, tx, AuditEntry{OrgOwned: store.OrgOwned{OrgID: p.OrgID}, Action: AuditDeletionReq, ActorID: u.ID, ActorEmail: u.Email, TargetType: "user", TargetID: u.ID, IP: ip})
	})
}

// PurgeDeleted anonymises accounts whose deletion was requested longer ago
// than their organisation's retention period, publishing
// accounts.user_deleted so modules purge their own data in the same
// transaction. It returns how many accounts it purged.
func (s *Service) PurgeDeleted(ctx context.Context, now time.Time) (int, error) {
	var orgs []Org
	if err := s.st.DB.WithContext(ctx).Find(&orgs).Error; err != nil {
		return 0, err
	}
	n := 0
	for _, org := range orgs {
		cutoff := now.Add(-time.Duration(org.RetentionDays) * 24 * time.Hour)
		var users []User
		if err := store.Org(s.st.DB.WithContext(ctx), org.ID).
			Where("deletion_requested_at IS NOT NULL AND deletion_requested_at <= ? AND email NOT LIKE ?", cutoff, "deleted-%@invalid").
			Find(&users).Error; err != nil {
			return n, err
		}
		for i := range users {
			u := &users[i]
			err := s.st.Tx(ctx, func(tx *gorm.DB) error {
				if err := s.publish(ctx, tx, EventUserDeleted, org.ID, u.ID, u.ID, u); err != nil {
					return err
				}
				if err := store.Org(tx, org.ID).Where("customer_id = ? OR staff_id = ?", u.ID, u.ID).Delete(&Assignment{}).Error; err != nil {
					return err
				}
				if err := store.Org(tx, org.ID).Where("user_id = ?", u.ID).Delete(&GroupMember{}).Error; err != nil {
					return err
				}
				if err := store.Org(tx, org.ID).Where("user_id = ?", u.ID).Delete(&OneTimeToken{}).Error; err != nil {
					return err
				}
				// RequestDeletion ended the sessions; none can have started since
				// (the account is disabled), but a purge leaves no doubt.
				if err := store.Org(tx, org.ID).Where("user_id = ?", u.ID).Delete(&Session{}).Error; err != nil {
					return err
				}
				return store.Org(tx, org.ID).Model(u).Updates(map[string]any{
					"email": fmt.Sprintf("deleted-%d@invalid", u.ID), "name": "Deleted user", "password_hash": "",
				}).Error
			})
			s.forgetUser(org.ID, u.ID)
			if err != nil {
				return n, fmt.Errorf("purging user %d: %w", u.ID, err)
			}
			n++
		}
	}
	return n, nil
}
