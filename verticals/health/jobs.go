package health

import (
	"context"
	"strconv"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/core/store"
)

// Notification kinds of goals.
const (
	// KindGoalAchieved tells the patient a goal is achieved.
	KindGoalAchieved = "health.goal_achieved"
	// KindGoalWorsening tells the care team a goal is worsening.
	KindGoalWorsening = "health.goal_worsening"
	// KindDoseReminder reminds a patient of a dose.
	KindDoseReminder = "health.dose_reminder"
)

// goalChunk bounds the goals one transaction assesses.
var goalChunk = 500

// StallDays is how long a goal may show no change or worsen before a
// visit is suggested.
const StallDays = 14

func (s *Service) jobs() []schedule.Job {
	return []schedule.Job{
		{Name: "goal_status", Cron: "0 3 * * *", Description: "Assess every active goal's achievement for the day before (FHIR vocabulary); tell patients of achieved goals and care teams of worsening ones",
			Run: s.goalStatusJob},
		{Name: "dose_schedule", Cron: "50 * * * *", Description: "Create the coming day's doses of every active prescription at the patient's local times",
			Run: s.doseScheduleJob},
		{Name: "dose_reminders", Cron: "* * * * *", Description: "Remind patients of the doses due this minute (and those they put off)",
			Run: s.doseReminderJob},
	}
}

// goalStatusJob assesses, for the day before the slot, every goal not yet
// assessed for that day, in chunks by ID (the cursor).
func (s *Service) goalStatusJob(ctx context.Context, r *schedule.Run) error {
	day := dayOf(r.Slot).AddDate(0, 0, -1)
	after, _ := strconv.ParseUint(r.Cursor(), 10, 64)
	var total int64
	if err := store.AllOrgs(s.st.DB.WithContext(ctx)).Model(&Goal{}).
		Where("due_on >= ? AND (assessed_on IS NULL OR assessed_on < ?)", day.AddDate(0, 0, -7), day).Count(&total).Error; err != nil {
		return err
	}
	done := int64(0)
	for {
		var goals []Goal
		// Goals past due for more than a week are settled.
		if err := store.AllOrgs(s.st.DB.WithContext(ctx)).Where("id > ? AND due_on >= ? AND (assessed_on IS NULL OR assessed_on < ?)", after, day.AddDate(0, 0, -7), day).
			Order("id").Limit(goalChunk).Find(&goals).Error; err != nil {
			return err
		}
		if len(goals) == 0 {
			return nil
		}
		err := s.st.Tx(ctx, func(tx *gorm.DB) error {
			if err := s.assessGoals(ctx, tx, goals, day); err != nil {
				return err
			}
			return r.SaveCursor(tx, strconv.FormatUint(uint64(goals[len(goals)-1].ID), 10))
		})
		if err != nil {
			return err
		}
		after = uint64(goals[len(goals)-1].ID)
		done += int64(len(goals))
		r.Progress(done, total)
	}
}

// AssessGoals assesses the goals of one patient for day (tests and the
// "assess now" of the clinician's page use it too).
func (s *Service) AssessGoals(ctx context.Context, orgID, patientID uint, day time.Time) error {
	var goals []Goal
	if err := s.db(ctx, orgID).Where("patient_id = ?", patientID).Order("id").Find(&goals).Error; err != nil {
		return err
	}
	return s.st.Tx(ctx, func(tx *gorm.DB) error { return s.assessGoals(ctx, tx, goals, dayOf(day)) })
}

// assessGoals assesses goals for day in tx: one query for the readings of
// the chunk's patients, then each goal's status, notifications on the
// transitions to achieved (patient) and worsening (care team).
func (s *Service) assessGoals(ctx context.Context, tx *gorm.DB, goals []Goal, day time.Time) error {
	byOrg := map[uint][]Goal{}
	for _, g := range goals {
		byOrg[g.OrgID] = append(byOrg[g.OrgID], g)
	}
	for org, gs := range byOrg {
		db := store.Org(tx, org)
		patients := make([]uint, 0, len(gs))
		codes := map[string]bool{}
		for _, g := range gs {
			patients = append(patients, g.PatientID)
			codes[g.Code] = true
		}
		codeList := make([]string, 0, len(codes))
		for c := range codes {
			codeList = append(codeList, c)
		}
		// Fourteen days and a margin for time zones.
		var obs []Observation
		if err := db.Select("patient_id, code, at, value").
			Where("patient_id IN ? AND code IN ? AND duplicate_of = 0 AND at >= ? AND at < ?", patients, codeList, day.AddDate(0, 0, -15), day.AddDate(0, 0, 2)).
			Find(&obs).Error; err != nil {
			return err
		}
		type key struct {
			patient uint
			code    string
		}
		series := map[key][]Observation{}
		for _, o := range obs {
			k := key{o.PatientID, o.Code}
			series[k] = append(series[k], o)
		}
		zones, err := s.zones(tx, org, patients)
		if err != nil {
			return err
		}
		var sends []notify.Notification
		for _, g := range gs {
			if g.AssessedOn != nil && !dayOf(*g.AssessedOn).Before(day) {
				continue
			}
			m := measures[g.Measure]
			status, latest := Assess(Target{g.TargetLow, g.TargetHigh}, m.Tolerance, dailyValues(series[key{g.PatientID, g.Code}], zones[g.PatientID], m.DayMax), g.Achievement, day, g.DueOn)
			upd := map[string]any{"achievement": status, "assessed_on": day, "latest": latest}
			if status != g.Achievement {
				upd["achievement_since"] = day
			}
			if status == AchAchieved && g.AchievedAt == nil {
				upd["achieved_at"] = day
			}
			if err := db.Model(&Goal{}).Where("id = ?", g.ID).Updates(upd).Error; err != nil {
				return err
			}
			if status == g.Achievement || s.notify == nil {
				continue
			}
			link := map[string]any{"link": "/m/health/"}
			switch status {
			case AchAchieved:
				sends = append(sends, notify.Notification{OrgID: org, UserID: g.PatientID, Kind: KindGoalAchieved,
					DedupeKey: "goal_achieved:" + itoa(g.ID), Data: map[string]any{"measure": m.Label, "link": "/m/health/"}})
			case AchWorsening:
				staff, err := s.careTeamStaff(tx, org, g.PatientID)
				if err != nil {
					return err
				}
				link["link"] = "/m/health/patients/" + itoa(g.PatientID)
				for _, id := range staff {
					sends = append(sends, notify.Notification{OrgID: org, UserID: id, Kind: KindGoalWorsening,
						DedupeKey: "goal_worsening:" + itoa(g.ID) + ":" + day.Format("2006-01-02"), Data: link})
				}
			}
		}
		if len(sends) > 0 {
			if _, err := s.notify.SendMany(ctx, tx, sends); err != nil {
				return err
			}
		}
	}
	return nil
}

// careTeamStaff are the members of the patient's care team.
func (s *Service) careTeamStaff(tx *gorm.DB, orgID, patientID uint) ([]uint, error) {
	var staff []uint
	err := store.Org(tx, orgID).Model(&TeamMember{}).
		Where("team_id IN (?)", store.Org(tx, orgID).Model(&PatientTeam{}).Select("team_id").Where("patient_id = ? AND link = ?", patientID, LinkCare)).
		Distinct("staff_id").Pluck("staff_id", &staff).Error
	return staff, err
}

// zones returns each patient's time zone: theirs, else the organisation's,
// else UTC.
func (s *Service) zones(tx *gorm.DB, orgID uint, patients []uint) (map[uint]*time.Location, error) {
	var org accounts.Org
	if err := tx.Where("id = ?", orgID).Limit(1).Find(&org).Error; err != nil {
		return nil, err
	}
	var users []struct {
		ID       uint
		TimeZone string
	}
	if err := store.Org(tx, orgID).Model(&accounts.User{}).Select("id, time_zone").Where("id IN ?", patients).Scan(&users).Error; err != nil {
		return nil, err
	}
	out := map[uint]*time.Location{}
	for _, u := range users {
		out[u.ID] = loadZone(u.TimeZone, org.TimeZone)
	}
	return out, nil
}

func loadZone(names ...string) *time.Location {
	for _, n := range names {
		if n == "" {
			continue
		}
		if l, ok := zoneCache.Load(n); ok {
			return l.(*time.Location)
		}
		if l, err := time.LoadLocation(n); err == nil {
			zoneCache.Store(n, l) // bounded by the zone database's names
			return l
		}
	}
	return time.UTC
}

// zoneCache keeps loaded time zones: time.LoadLocation reads the zone
// database on every call, and the dashboard's doses widget asks on every load.
var zoneCache sync.Map // name -> *time.Location

// doseChunk bounds the prescriptions or doses one transaction handles.
var doseChunk = 1000

// ReminderWindow is how far back a reminder run looks, so a minute missed
// while the portal restarted is still reminded (once: the dedupe key).
const ReminderWindow = 5 * time.Minute

// doseScheduleJob creates, for every prescription active in the next
// day, the dose rows of the patient's local days from the slot to 26 hours
// later, in chunks by prescription ID.
func (s *Service) doseScheduleJob(ctx context.Context, r *schedule.Run) error {
	after, _ := strconv.ParseUint(r.Cursor(), 10, 64)
	from := r.Slot
	for {
		var rxs []Prescription
		if err := store.AllOrgs(s.st.DB.WithContext(ctx)).
			Where("id > ? AND start_on <= ? AND (end_on IS NULL OR end_on >= ?) AND (stopped_on IS NULL OR stopped_on >= ?)", after, from.Add(50*time.Hour), from.AddDate(0, 0, -2), from.AddDate(0, 0, -2)).
			Order("id").Limit(doseChunk).Find(&rxs).Error; err != nil {
			return err
		}
		if len(rxs) == 0 {
			return nil
		}
		err := s.st.Tx(ctx, func(tx *gorm.DB) error {
			if err := s.scheduleDoses(tx, rxs, from, from.Add(26*time.Hour)); err != nil {
				return err
			}
			return r.SaveCursor(tx, strconv.FormatUint(uint64(rxs[len(rxs)-1].ID), 10))
		})
		if err != nil {
			return err
		}
		after = uint64(rxs[len(rxs)-1].ID)
	}
}

// scheduleDoses creates the doses of rxs on the patients' local days that
// touch [from, to].
func (s *Service) scheduleDoses(tx *gorm.DB, rxs []Prescription, from, to time.Time) error {
	type key struct{ org, patient uint }
	groups := map[key][]Prescription{}
	byOrg := map[uint][]uint{}
	for _, rx := range rxs {
		k := key{rx.OrgID, rx.PatientID}
		if groups[k] == nil {
			byOrg[rx.OrgID] = append(byOrg[rx.OrgID], rx.PatientID)
		}
		groups[k] = append(groups[k], rx)
	}
	for org, patients := range byOrg {
		zones, err := s.zones(tx, org, patients)
		if err != nil {
			return err
		}
		for _, pid := range patients {
			loc := zones[pid]
			for d := dayOf(from.In(loc)); !d.After(dayOf(to.In(loc))); d = d.AddDate(0, 0, 1) {
				if err := s.ensureDoses(tx, org, groups[key{org, pid}], d, loc); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// doseReminderJob reminds the doses whose reminder time falls in the
// window before the slot and that are still due or put off, in chunks.
func (s *Service) doseReminderJob(ctx context.Context, r *schedule.Run) error {
	after, _ := strconv.ParseUint(r.Cursor(), 10, 64)
	for {
		var doses []Dose
		if err := store.AllOrgs(s.st.DB.WithContext(ctx)).
			Where("id > ? AND remind_at > ? AND remind_at <= ? AND status IN ?", after, r.Slot.Add(-ReminderWindow), r.Slot, []string{DoseDue, DoseLater}).
			Order("id").Limit(doseChunk).Find(&doses).Error; err != nil {
			return err
		}
		if len(doses) == 0 {
			return nil
		}
		err := s.st.Tx(ctx, func(tx *gorm.DB) error {
			if err := s.remind(ctx, tx, doses, r.Slot); err != nil {
				return err
			}
			return r.SaveCursor(tx, strconv.FormatUint(uint64(doses[len(doses)-1].ID), 10))
		})
		if err != nil {
			return err
		}
		after = uint64(doses[len(doses)-1].ID)
	}
}

func (s *Service) remind(ctx context.Context, tx *gorm.DB, doses []Dose, now time.Time) error {
	byOrg := map[uint][]Dose{}
	for _, d := range doses {
		byOrg[d.OrgID] = append(byOrg[d.OrgID], d)
	}
	for org, ds := range byOrg {
		patients := make([]uint, 0, len(ds))
		ids := make([]uint, 0, len(ds))
		for _, d := range ds {
			patients = append(patients, d.PatientID)
			ids = append(ids, d.ID)
		}
		zones, err := s.zones(tx, org, patients)
		if err != nil {
			return err
		}
		if s.notify != nil {
			batch := make([]notify.Notification, 0, len(ds))
			for _, d := range ds {
				batch = append(batch, notify.Notification{OrgID: org, UserID: d.PatientID, Kind: KindDoseReminder,
					DedupeKey: "dose:" + itoa(d.ID) + ":" + strconv.FormatInt(d.RemindAt.Unix(), 10),
					Data:      map[string]any{"time": d.DueAt.In(zones[d.PatientID]).Format("15:04"), "link": "/m/health/doses/" + itoa(d.ID)}})
			}
			if _, err := s.notify.SendMany(ctx, tx, batch); err != nil {
				return err
			}
		}
		if err := store.Org(tx, org).Model(&Dose{}).Where("id IN ?", ids).Update("reminded_at", now).Error; err != nil {
			return err
		}
	}
	return nil
}
