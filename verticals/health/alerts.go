package health

import (
	"context"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/store"
)

// KindVitalAlert tells a patient's care team that a vital sign went out of
// its normal range (once per episode).
const KindVitalAlert = "health.vital_alert"

// episodeKey groups the codes of one episode: both blood-pressure numbers
// are one.
func episodeKey(o Observation) string {
	if o.Panel != "" {
		return o.Panel
	}
	return o.Code
}

// track opens, extends and closes out-of-range episodes for the readings
// just stored, in tx. The first flagged reading of an episode notifies the
// patient's care team; more flagged readings only extend it; a reading back
// in range closes it. Duplicates and vitals without a normal range are
// ignored.
func (s *Service) track(ctx context.Context, tx *gorm.DB, orgID, patientID uint, stored []Observation) error {
	type point struct {
		key     string
		flag    string
		o       Observation
		flagged bool
	}
	byKey := map[string]*point{}
	var order []*point
	sort.SliceStable(stored, func(i, j int) bool { return stored[i].At.Before(stored[j].At) })
	for _, o := range stored {
		v := Vitals[o.Code]
		if o.DuplicateOf != 0 || (v.Low == 0 && v.High == 0) {
			continue
		}
		k := episodeKey(o)
		// A batch may carry several readings of one vital: each is a point
		// in time, but a panel's two numbers are one point.
		if p, ok := byKey[k]; ok && p.o.At.Equal(o.At) {
			if o.Flag != "" && !p.flagged {
				p.flagged, p.flag = true, o.Flag
			}
			continue
		}
		p := &point{key: k, o: o, flagged: o.Flag != "", flag: o.Flag}
		byKey[k] = p
		order = append(order, p)
	}
	db := store.Org(tx, orgID)
	for _, p := range order {
		var open Alert
		if err := db.Where("patient_id = ? AND code = ? AND closed_at IS NULL", patientID, p.key).Limit(1).Find(&open).Error; err != nil {
			return err
		}
		switch {
		case p.flagged && open.ID == 0:
			a := Alert{PatientID: patientID, Code: p.key, Flag: p.flag, OpenedAt: p.o.At, LastAt: p.o.At, Readings: 1}
			if err := db.Create(&a).Error; err != nil {
				return err
			}
			if err := s.alertTeam(ctx, tx, orgID, patientID, a); err != nil {
				return err
			}
		case p.flagged && p.o.At.After(open.LastAt):
			if err := db.Model(&Alert{}).Where("id = ?", open.ID).Updates(map[string]any{"last_at": p.o.At, "readings": gorm.Expr("readings + 1")}).Error; err != nil {
				return err
			}
		case !p.flagged && open.ID != 0 && p.o.At.After(open.LastAt):
			at := p.o.At
			if err := db.Model(&Alert{}).Where("id = ?", open.ID).Update("closed_at", &at).Error; err != nil {
				return err
			}
		}
	}
	return nil
}

// alertTeam notifies the members of the patient's care team. The message
// carries no health values: it links to the patient's page, whose reading
// is logged.
func (s *Service) alertTeam(ctx context.Context, tx *gorm.DB, orgID, patientID uint, a Alert) error {
	if s.notify == nil {
		return nil
	}
	staff, err := s.careTeamStaff(tx, orgID, patientID)
	if err != nil || len(staff) == 0 {
		return err
	}
	batch := make([]notify.Notification, 0, len(staff))
	for _, id := range staff {
		batch = append(batch, notify.Notification{OrgID: orgID, UserID: id, Kind: KindVitalAlert, DedupeKey: "vital_alert:" + itoa(a.ID),
			Data: map[string]any{"link": "/m/health/patients/" + itoa(patientID)}})
	}
	_, err = s.notify.SendMany(ctx, tx, batch)
	return err
}

// AlertView is an open alert on the clinician's panel.
type AlertView struct {
	ID          uint      `json:"id"`
	PatientID   uint      `json:"patient_id"`
	PatientName string    `json:"patient_name"`
	Code        string    `json:"code"`
	Flag        string    `json:"flag" enum:"high,low"`
	OpenedAt    time.Time `json:"opened_at"`
	LastAt      time.Time `json:"last_at"`
	Readings    int       `json:"readings"`
}

// Label is the English name of the alert's vital.
func (a AlertView) Label() string {
	if a.Code == CodeBPPanel {
		return "Blood pressure"
	}
	return Vitals[a.Code].Name
}

// OpenAlerts lists the open out-of-range episodes of the patients p's
// teams reach, newest first (staff and admins).
func (s *Service) OpenAlerts(ctx context.Context, p *accounts.Principal) ([]AlertView, error) {
	out := []AlertView{}
	teams, err := s.careTeamsOf(ctx, p.OrgID, p.UserID)
	if err != nil || len(teams) == 0 {
		return out, err
	}
	err = s.db(ctx, p.OrgID).Table("health_alerts AS a").
		Select("a.id, a.patient_id, u.name AS patient_name, a.code, a.flag, a.opened_at, a.last_at, a.readings").
		Joins("JOIN accounts_users u ON u.id = a.patient_id AND u.org_id = a.org_id").
		Where("a.org_id = ? AND a.closed_at IS NULL AND a.patient_id IN (?)", p.OrgID,
			s.db(ctx, p.OrgID).Model(&PatientTeam{}).Select("patient_id").Where("team_id IN ?", teams)).
		Order("a.opened_at DESC").Limit(200).Scan(&out).Error
	return out, err
}
