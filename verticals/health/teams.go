package health

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// TeamView is a care team with its members.
type TeamView struct {
	ID      uint         `json:"id"`
	Name    string       `json:"name"`
	Members []MemberView `json:"members"`
}

// MemberView is one member of a team.
type MemberView struct {
	StaffID uint   `json:"staff_id"`
	Name    string `json:"name"`
	Role    string `json:"role"`
}

// Teams lists the organisation's care teams. Patients see names only (to
// choose whom to share with); staff and admins see the members too.
func (s *Service) Teams(ctx context.Context, p *accounts.Principal) ([]TeamView, error) {
	var teams []Team
	if err := s.db(ctx, p.OrgID).Order("name, id").Find(&teams).Error; err != nil {
		return nil, err
	}
	out := make([]TeamView, 0, len(teams))
	byID := map[uint]int{}
	for i, t := range teams {
		out = append(out, TeamView{ID: t.ID, Name: t.Name, Members: []MemberView{}})
		byID[t.ID] = i
	}
	if p.Role == accounts.Customer || len(teams) == 0 {
		return out, nil
	}
	var ms []struct {
		TeamID  uint
		StaffID uint
		Name    string
		Role    string
	}
	err := s.db(ctx, p.OrgID).Table("health_team_members AS m").Select("m.team_id, m.staff_id, u.name, m.role").
		Joins("JOIN accounts_users u ON u.id = m.staff_id AND u.org_id = m.org_id").
		Where("m.org_id = ?", p.OrgID).Order("u.name").Scan(&ms).Error
	for _, m := range ms {
		if i, ok := byID[m.TeamID]; ok {
			out[i].Members = append(out[i].Members, MemberView{StaffID: m.StaffID, Name: m.Name, Role: m.Role})
		}
	}
	return out, err
}

func (s *Service) team(ctx context.Context, orgID, id uint) (*Team, error) {
	var t Team
	err := s.db(ctx, orgID).First(&t, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.NotFoundf("care team not found")
	}
	return &t, err
}

// CreateTeam adds a care team (admins).
func (s *Service) CreateTeam(ctx context.Context, p *accounts.Principal, name string) (*Team, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 120 {
		return nil, errs.InvalidField("body.name", "Give the team a name of at most 120 characters.")
	}
	t := Team{Name: name}
	return &t, s.db(ctx, p.OrgID).Create(&t).Error
}

// AddMember puts a staff member or admin into a team (admins).
func (s *Service) AddMember(ctx context.Context, p *accounts.Principal, teamID, staffID uint, role string) error {
	if _, err := s.team(ctx, p.OrgID, teamID); err != nil {
		return err
	}
	var n int64
	if err := s.db(ctx, p.OrgID).Model(&accounts.User{}).Where("id = ? AND role IN ?", staffID, []accounts.Role{accounts.Staff, accounts.Admin}).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return errs.InvalidField("body.staff_id", "Choose a staff member of this organisation.")
	}
	if utf8.RuneCountInString(role) > 40 {
		return errs.InvalidField("body.role", "A role has at most 40 characters.")
	}
	return s.db(ctx, p.OrgID).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&TeamMember{TeamID: teamID, StaffID: staffID, Role: strings.TrimSpace(role)}).Error
}

// RemoveMember takes a staff member out of a team (admins).
func (s *Service) RemoveMember(ctx context.Context, p *accounts.Principal, teamID, staffID uint) error {
	if _, err := s.team(ctx, p.OrgID, teamID); err != nil {
		return err
	}
	return s.db(ctx, p.OrgID).Where("team_id = ? AND staff_id = ?", teamID, staffID).Delete(&TeamMember{}).Error
}

// SetCareTeam makes teamID the patient's care team, replacing the previous
// one (admins).
func (s *Service) SetCareTeam(ctx context.Context, p *accounts.Principal, patientID, teamID uint) error {
	if _, err := s.patient(ctx, p, patientID); err != nil {
		return err
	}
	if _, err := s.team(ctx, p.OrgID, teamID); err != nil {
		return errs.InvalidField("body.team_id", "Choose one of the organisation's care teams.")
	}
	return s.st.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		db := store.Org(tx, p.OrgID)
		if err := db.Where("patient_id = ? AND (link = ? OR team_id = ?)", patientID, LinkCare, teamID).Delete(&PatientTeam{}).Error; err != nil {
			return err
		}
		return db.Create(&PatientTeam{PatientID: patientID, TeamID: teamID, Link: LinkCare}).Error
	})
}

// Share lets an additional team reach the patient's data (the patient).
func (s *Service) Share(ctx context.Context, p *accounts.Principal, patientID, teamID uint) error {
	if p.Role != accounts.Customer || p.UserID != patientID {
		return errs.NotFoundf("patient not found")
	}
	if _, err := s.team(ctx, p.OrgID, teamID); err != nil {
		return errs.InvalidField("body.team_id", "Choose one of the care teams listed.")
	}
	return s.db(ctx, p.OrgID).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&PatientTeam{PatientID: patientID, TeamID: teamID, Link: LinkShared}).Error
}

// Withdraw stops a team the patient shared with from reaching their data
// (the patient). The care team cannot be withdrawn this way.
func (s *Service) Withdraw(ctx context.Context, p *accounts.Principal, patientID, teamID uint) error {
	if p.Role != accounts.Customer || p.UserID != patientID {
		return errs.NotFoundf("patient not found")
	}
	res := s.db(ctx, p.OrgID).Where("patient_id = ? AND team_id = ? AND link = ?", patientID, teamID, LinkShared).Delete(&PatientTeam{})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errs.NotFoundf("you do not share your data with this team")
	}
	return nil
}

// PatientTeamView is a team that reaches a patient.
type PatientTeamView struct {
	TeamID uint   `json:"team_id"`
	Name   string `json:"name"`
	Link   string `json:"link" enum:"care,shared"`
}

// TeamsOfPatient lists the teams that reach patientID (the patient, their
// teams' staff and admins).
func (s *Service) TeamsOfPatient(ctx context.Context, p *accounts.Principal, patientID uint) ([]PatientTeamView, error) {
	if _, err := s.reach(ctx, p, patientID); err != nil && p.Role != accounts.Admin {
		return nil, err
	} else if err != nil {
		if _, err := s.patient(ctx, p, patientID); err != nil {
			return nil, err
		}
	}
	out := []PatientTeamView{}
	err := s.db(ctx, p.OrgID).Table("health_patient_teams AS pt").Select("pt.team_id, t.name, pt.link").
		Joins("JOIN health_teams t ON t.id = pt.team_id AND t.org_id = pt.org_id").
		Where("pt.org_id = ? AND pt.patient_id = ?", p.OrgID, patientID).Order("pt.link, t.name").Scan(&out).Error
	return out, err
}

// PatientView is a patient as their clinicians list them.
type PatientView struct {
	ID    uint   `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Team  string `json:"team"`
	Link  string `json:"link"`
}

// Patients lists the patients p's teams reach (staff and admins), by name.
func (s *Service) Patients(ctx context.Context, p *accounts.Principal) ([]PatientView, error) {
	out := []PatientView{}
	teams, err := s.careTeamsOf(ctx, p.OrgID, p.UserID)
	if err != nil || len(teams) == 0 {
		return out, err
	}
	err = s.db(ctx, p.OrgID).Table("health_patient_teams AS pt").
		Select("u.id, u.name, u.email, t.name AS team, pt.link").
		Joins("JOIN accounts_users u ON u.id = pt.patient_id AND u.org_id = pt.org_id").
		Joins("JOIN health_teams t ON t.id = pt.team_id AND t.org_id = pt.org_id").
		Where("pt.org_id = ? AND pt.team_id IN ? AND u.deletion_requested_at IS NULL", p.OrgID, teams).
		Order("u.name, u.id, pt.link").Scan(&out).Error
	// One row per patient: the first (care before shared).
	seen := map[uint]bool{}
	uniq := out[:0]
	for _, v := range out {
		if !seen[v.ID] {
			seen[v.ID] = true
			uniq = append(uniq, v)
		}
	}
	return uniq, err
}
