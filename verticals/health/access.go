package health

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/store"
)

// BreakGlassFor is how long a break-glass access lasts.
const BreakGlassFor = time.Hour

// Grant is why the caller may reach a patient's health data.
type Grant struct {
	// Self is true for the patient reading their own data (not logged).
	Self    bool
	Via     string
	Why     string
	Flagged bool
}

// careTeamsOf returns the IDs of the care teams staffID belongs to. It is
// the one place that knows where care-team membership lives.
func (s *Service) careTeamsOf(ctx context.Context, orgID, staffID uint) ([]uint, error) {
	var ids []uint
	err := s.db(ctx, orgID).Model(&TeamMember{}).Where("staff_id = ?", staffID).Pluck("team_id", &ids).Error
	return ids, err
}

// patient returns the customer patientID of p's organisation, or not found.
func (s *Service) patient(ctx context.Context, p *accounts.Principal, patientID uint) (*accounts.User, error) {
	if p == nil || patientID == 0 {
		return nil, errs.NotFoundf("patient not found")
	}
	var u accounts.User
	err := s.db(ctx, p.OrgID).Where("id = ? AND role = ?", patientID, accounts.Customer).First(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.NotFoundf("patient not found")
	}
	return &u, err
}

// reach decides whether p may reach patientID's health data: the patient
// themself; staff and admins through a team that reaches the patient or an
// open break-glass; integrator tokens. Anyone else gets not found, so IDs
// do not reveal who is a patient.
func (s *Service) reach(ctx context.Context, p *accounts.Principal, patientID uint) (*Grant, error) {
	if self(p, patientID) {
		// The signed-in customer is the patient: their principal already
		// says who and what they are (the dashboard's widgets ask this on
		// every load, so it costs no read).
		return &Grant{Self: true}, nil
	}
	if _, err := s.patient(ctx, p, patientID); err != nil {
		return nil, err
	}
	switch p.Role {
	case accounts.Customer:
		if p.UserID == patientID {
			return &Grant{Self: true}, nil
		}
	case accounts.Integrator:
		return &Grant{Via: ViaIntegration, Why: "API token #" + itoa(p.TokenID)}, nil
	case accounts.Staff, accounts.Admin:
		teams, err := s.careTeamsOf(ctx, p.OrgID, p.UserID)
		if err != nil {
			return nil, err
		}
		if len(teams) > 0 {
			var link struct {
				Link string
				Name string
			}
			err := s.db(ctx, p.OrgID).Table("health_patient_teams AS pt").Select("pt.link, t.name").
				Joins("JOIN health_teams t ON t.id = pt.team_id AND t.org_id = pt.org_id").
				Where("pt.org_id = ? AND pt.patient_id = ? AND pt.team_id IN ?", p.OrgID, patientID, teams).
				Order("pt.link ASC, t.name ASC").Limit(1).Scan(&link).Error
			if err != nil {
				return nil, err
			}
			switch link.Link {
			case LinkCare:
				return &Grant{Via: ViaCareTeam, Why: link.Name}, nil
			case LinkShared:
				return &Grant{Via: ViaSharedTeam, Why: link.Name}, nil
			}
		}
		var bg BreakGlass
		err = s.db(ctx, p.OrgID).Where("patient_id = ? AND staff_id = ? AND expires_at > ?", patientID, p.UserID, s.now()).
			Order("opened_at DESC").Limit(1).Find(&bg).Error
		if err != nil {
			return nil, err
		}
		if bg.ID != 0 {
			return &Grant{Via: ViaBreakGlass, Why: bg.Reason, Flagged: true}, nil
		}
	}
	return nil, errs.NotFoundf("patient not found")
}

// read is reach for reading: every read by someone other than the patient
// is written to the patient's access log, naming what was read.
func (s *Service) read(ctx context.Context, p *accounts.Principal, patientID uint, what string) (*Grant, error) {
	g, err := s.reach(ctx, p, patientID)
	if err != nil || g.Self {
		return g, err
	}
	return g, s.logAccess(s.db(ctx, p.OrgID), p, patientID, what, g)
}

// self reports whether p is the customer patientID themself.
func self(p *accounts.Principal, patientID uint) bool {
	return p != nil && patientID != 0 && p.Role == accounts.Customer && p.UserID == patientID
}

// write is reach for changes. Break-glass is for reading in an
// emergency; changing a patient's record needs their team.
func (s *Service) write(ctx context.Context, p *accounts.Principal, patientID uint) (*Grant, error) {
	g, err := s.reach(ctx, p, patientID)
	if err != nil {
		return nil, err
	}
	if g.Via == ViaBreakGlass {
		return nil, errs.Forbiddenf("break-glass access is read-only; ask the patient's care team to make changes")
	}
	return g, nil
}

func (s *Service) logAccess(tx *gorm.DB, p *accounts.Principal, patientID uint, what string, g *Grant) error {
	name := p.Name
	if name == "" {
		name = p.Email
	}
	if p.TokenID != 0 {
		name = "API token #" + itoa(p.TokenID)
	}
	e := AccessEntry{PatientID: patientID, At: s.now(), ActorID: p.UserID, TokenID: p.TokenID, ActorName: name,
		ActorRole: string(p.Role), What: what, Via: g.Via, Why: g.Why, Flagged: g.Flagged}
	return store.Org(tx, p.OrgID).Create(&e).Error
}

// AccessLog returns the reads of patientID's health data, newest first:
// the patient's own view (and admins', who oversee access).
func (s *Service) AccessLog(ctx context.Context, p *accounts.Principal, patientID uint, limit int) ([]AccessEntry, error) {
	if _, err := s.patient(ctx, p, patientID); err != nil {
		return nil, err
	}
	if !(p.Role == accounts.Customer && p.UserID == patientID) && p.Role != accounts.Admin {
		return nil, errs.NotFoundf("patient not found")
	}
	if limit <= 0 || limit > 500 {
		limit = 200
	}
	out := []AccessEntry{}
	err := s.db(ctx, p.OrgID).Where("patient_id = ?", patientID).Order("at DESC, id DESC").Limit(limit).Find(&out).Error
	return out, err
}

// OpenBreakGlass gives staff member p read access to a patient outside
// their teams for BreakGlassFor, with a stated reason. It is logged
// (flagged) where the patient sees it, and every admin of the organisation
// and the patient are notified.
func (s *Service) OpenBreakGlass(ctx context.Context, p *accounts.Principal, patientID uint, reason string) (*BreakGlass, error) {
	if !p.Is(accounts.Staff, accounts.Admin) {
		return nil, errs.NotFoundf("patient not found")
	}
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n < 10 || n > 500 {
		return nil, errs.InvalidField("body.reason", "State why you need this patient's data (10 to 500 characters).")
	}
	if _, err := s.patient(ctx, p, patientID); err != nil {
		return nil, err
	}
	if g, err := s.reach(ctx, p, patientID); err == nil && !g.Flagged {
		return nil, errs.Conflictf("you already reach this patient through their team %q", g.Why)
	}
	now := s.now()
	bg := BreakGlass{PatientID: patientID, StaffID: p.UserID, Reason: reason, OpenedAt: now, ExpiresAt: now.Add(BreakGlassFor)}
	err := s.st.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := store.Org(tx, p.OrgID).Create(&bg).Error; err != nil {
			return err
		}
		if err := s.logAccess(tx, p, patientID, "break-glass access opened", &Grant{Via: ViaBreakGlass, Why: reason, Flagged: true}); err != nil {
			return err
		}
		if s.notify == nil {
			return nil
		}
		var admins []uint
		if err := store.Org(tx, p.OrgID).Model(&accounts.User{}).Where("role = ? AND disabled_at IS NULL", accounts.Admin).Pluck("id", &admins).Error; err != nil {
			return err
		}
		key := "break_glass:" + itoa(bg.ID)
		batch := []notify.Notification{{OrgID: p.OrgID, UserID: patientID, Kind: KindAccessAlert, DedupeKey: key,
			Data: map[string]any{"staff": p.Name, "link": "/m/health/access"}}}
		for _, a := range admins {
			batch = append(batch, notify.Notification{OrgID: p.OrgID, UserID: a, Kind: KindBreakGlass, DedupeKey: key,
				Data: map[string]any{"staff": p.Name, "reason": reason, "link": "/m/health/admin"}})
		}
		_, err := s.notify.SendMany(ctx, tx, batch)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &bg, nil
}

// BreakGlassView is a break-glass access as admins review it.
type BreakGlassView struct {
	ID          uint      `json:"id"`
	PatientID   uint      `json:"patient_id"`
	StaffID     uint      `json:"staff_id"`
	Reason      string    `json:"reason"`
	OpenedAt    time.Time `json:"opened_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	StaffName   string    `json:"staff_name"`
	PatientName string    `json:"patient_name"`
}

// BreakGlasses lists the organisation's break-glass accesses, newest first
// (admins).
func (s *Service) BreakGlasses(ctx context.Context, p *accounts.Principal, limit int) ([]BreakGlassView, error) {
	if !p.Is(accounts.Admin) {
		return nil, errs.Forbiddenf("only admins review break-glass access")
	}
	out := []BreakGlassView{}
	err := s.db(ctx, p.OrgID).Table("health_break_glass AS b").
		Select("b.id, b.patient_id, b.staff_id, b.reason, b.opened_at, b.expires_at, s.name AS staff_name, c.name AS patient_name").
		Joins("JOIN accounts_users s ON s.id = b.staff_id").Joins("JOIN accounts_users c ON c.id = b.patient_id").
		Where("b.org_id = ?", p.OrgID).Order("b.opened_at DESC").Limit(limit).Scan(&out).Error
	return out, err
}
