package health

import (
	"context"
	"math"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
)

// PanelGoal is a goal that needs the team's attention.
type PanelGoal struct {
	PatientID   uint      `json:"patient_id"`
	PatientName string    `json:"patient_name"`
	Measure     string    `json:"measure"`
	Achievement string    `json:"achievement"`
	Since       time.Time `json:"since"`
	Stalled     bool      `json:"stalled"`
}

// Label is the goal's measure in English.
func (g PanelGoal) Label() string { return measures[g.Measure].Label }

// Status is the achievement as people read it (English).
func (g PanelGoal) Status() string { return achievementLabels[g.Achievement] }

// PanelAdherence is a patient whose adherence is low.
type PanelAdherence struct {
	PatientID   uint    `json:"patient_id"`
	PatientName string  `json:"patient_name"`
	Days        int     `json:"days"`
	PDC         float64 `json:"pdc"`
}

// Percent is the PDC as a percentage (pages).
func (a PanelAdherence) Percent() float64 { return a.PDC * 100 }

// Panel is the clinician's view of the team's patients that need attention.
type Panel struct {
	Alerts       []AlertView      `json:"alerts"`
	Goals        []PanelGoal      `json:"goals" doc:"worsening goals, and goals with no change for two weeks"`
	LowAdherence []PanelAdherence `json:"low_adherence" doc:"PDC below 0.8 over the last 30 days"`
}

// myPatients is the subquery of the patients p's teams reach.
func (s *Service) myPatients(ctx context.Context, p *accounts.Principal) (*gorm.DB, bool, error) {
	teams, err := s.careTeamsOf(ctx, p.OrgID, p.UserID)
	if err != nil || len(teams) == 0 {
		return nil, false, err
	}
	return s.db(ctx, p.OrgID).Model(&PatientTeam{}).Select("patient_id").Where("team_id IN ?", teams), true, nil
}

// PanelOf returns what needs the attention of p's teams: open alerts,
// worsening or stalled goals, and low adherence.
func (s *Service) PanelOf(ctx context.Context, p *accounts.Principal) (*Panel, error) {
	out := &Panel{Alerts: []AlertView{}, Goals: []PanelGoal{}, LowAdherence: []PanelAdherence{}}
	var err error
	if out.Alerts, err = s.OpenAlerts(ctx, p); err != nil {
		return nil, err
	}
	mine, ok, err := s.myPatients(ctx, p)
	if err != nil || !ok {
		return out, err
	}
	stall := dayOf(s.now()).AddDate(0, 0, -StallDays)
	if err := s.db(ctx, p.OrgID).Table("health_goals AS g").
		Select("g.patient_id, u.name AS patient_name, g.measure, g.achievement, g.achievement_since AS since").
		Joins("JOIN accounts_users u ON u.id = g.patient_id AND u.org_id = g.org_id").
		Where("g.org_id = ? AND g.patient_id IN (?) AND (g.achievement = ? OR (g.achievement = ? AND g.achievement_since <= ?))",
			p.OrgID, mine, AchWorsening, AchNoChange, stall).
		Order("g.achievement_since").Limit(200).Scan(&out.Goals).Error; err != nil {
		return nil, err
	}
	for i := range out.Goals {
		out.Goals[i].Stalled = !out.Goals[i].Since.After(stall)
	}
	today := dayOf(s.now())
	var rows []struct {
		PatientID uint
		Name      string
		Day       time.Time
		Scheduled int
		Taken     int
	}
	if err := s.db(ctx, p.OrgID).Table("health_doses AS d").
		Select("d.patient_id, u.name, d.day, COUNT(*) AS scheduled, SUM(CASE WHEN d.status = 'taken' THEN 1 ELSE 0 END) AS taken").
		Joins("JOIN accounts_users u ON u.id = d.patient_id AND u.org_id = d.org_id").
		Where("d.org_id = ? AND d.patient_id IN (?) AND d.day >= ? AND d.day < ?", p.OrgID, mine, today.AddDate(0, 0, -30), today).
		Group("d.patient_id, u.name, d.day").Scan(&rows).Error; err != nil {
		return nil, err
	}
	per := map[uint]*PanelAdherence{}
	covered := map[uint]int{}
	for _, r := range rows {
		a := per[r.PatientID]
		if a == nil {
			a = &PanelAdherence{PatientID: r.PatientID, PatientName: r.Name}
			per[r.PatientID] = a
		}
		a.Days++
		if r.Taken >= r.Scheduled {
			covered[r.PatientID]++
		}
	}
	for id, a := range per {
		a.PDC = math.Round(float64(covered[id])/float64(a.Days)*1000) / 1000
		if a.PDC < 0.8 {
			out.LowAdherence = append(out.LowAdherence, *a)
		}
	}
	sort.Slice(out.LowAdherence, func(i, j int) bool { return out.LowAdherence[i].PDC < out.LowAdherence[j].PDC })
	return out, nil
}
