package cityworks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/live"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/store"
)

// Problems a citizen may report.
var problems = []string{"street_light", "pothole", "traffic_light", "sign", "other"}

// NewReport is what a citizen reports.
type NewReport struct {
	Problem     string `json:"problem" enum:"street_light,pothole,traffic_light,sign,other" doc:"What is wrong"`
	Place       string `json:"place" minLength:"1" maxLength:"200" doc:"Where: a street and number, a crossing, a landmark"`
	Description string `json:"description,omitempty" maxLength:"1000"`
	SegmentID   uint   `json:"segment_id,omitempty" doc:"The street segment, when known"`
}

func knownProblem(p string) bool {
	for _, x := range problems {
		if x == p {
			return true
		}
	}
	return false
}

// CreateReport records a citizen's report. It goes to the department of
// its segment, or to the department with code "works" (the council's
// general works department); the citizen joins that department's group
// on the customer side, so its staff reach the report.
func (m *Module) CreateReport(ctx context.Context, p *accounts.Principal, in NewReport) (*Report, error) {
	in.Place, in.Description = strings.TrimSpace(in.Place), strings.TrimSpace(in.Description)
	if !knownProblem(in.Problem) {
		return nil, errs.InvalidField("body.problem", "choose what is wrong")
	}
	if in.Place == "" {
		return nil, errs.InvalidField("body.place", "say where the problem is")
	}
	r := &Report{ReporterID: p.UserID, Problem: in.Problem, Place: in.Place, Description: in.Description, Status: ReportOpen, CreatedAt: m.now()}
	r.OrgID = p.OrgID
	err := m.st.Tx(ctx, func(tx *gorm.DB) error {
		db := store.Org(tx, p.OrgID)
		var dept Department
		if in.SegmentID != 0 {
			var seg Segment
			if err := db.Where("id = ?", in.SegmentID).Take(&seg).Error; errors.Is(err, gorm.ErrRecordNotFound) {
				return errs.InvalidField("body.segment_id", "no such street segment")
			} else if err != nil {
				return err
			}
			r.SegmentID = &seg.ID
			if err := db.Where("id = ?", seg.DepartmentID).Take(&dept).Error; err != nil {
				return err
			}
		} else if err := db.Where("code = ?", "works").Take(&dept).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return errs.Conflictf("the council has no works department to receive reports yet")
		} else if err != nil {
			return err
		}
		r.DepartmentID = dept.ID
		if err := tx.Create(r).Error; err != nil {
			return err
		}
		if err := m.acc.AddGroupMember(ctx, tx, p.OrgID, dept.GroupID, p.UserID, accounts.CustomerSide, "reporter"); err != nil {
			return err
		}
		return m.bus.Publish(ctx, events.Event{Name: "cityworks.reported", OrgID: p.OrgID, SubjectID: p.UserID, ActorID: p.UserID, Tx: tx,
			Summary: "Reported a problem at %s", SummaryArgs: []any{r.Place}, Link: "/m/cityworks/"})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// reportFor returns a report p may read: its reporter, staff who reach the
// reporter (the department's staff), admins. Anyone else gets 404.
func (m *Module) reportFor(ctx context.Context, tx *gorm.DB, p *accounts.Principal, id uint) (*Report, error) {
	var r Report
	err := store.Org(m.db(ctx, tx), p.OrgID).Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.NotFoundf("report %d not found", id)
	}
	if err != nil {
		return nil, err
	}
	if r.ReporterID == 0 {
		if !seesAll(p) {
			return nil, errs.NotFoundf("report %d not found", id)
		}
		return &r, nil
	}
	reach := m.acc.Reach(ID)
	if tx != nil {
		reach = reach.WithTx(tx)
	}
	if err := reach.CanRead(ctx, p, p.OrgID, r.ReporterID); err != nil {
		return nil, errs.NotFoundf("report %d not found", id)
	}
	return &r, nil
}

// Reports lists the reports p sees, newest first: a citizen their own,
// staff those of the citizens they reach, admins all.
func (m *Module) Reports(ctx context.Context, p *accounts.Principal, status string) ([]ReportView, error) {
	q := store.Org(m.st.DB.WithContext(ctx), p.OrgID).Model(&Report{})
	switch {
	case p.Is(accounts.Customer):
		q = q.Where("reporter_id = ?", p.UserID)
	case seesAll(p):
	default:
		var err error
		if q, err = m.acc.Reach(ID).WhereVisible(ctx, p, q, "reporter_id"); err != nil {
			return nil, err
		}
	}
	if status != "" {
		q = q.Where("status = ?", status)
	}
	var rs []Report
	if err := q.Order("id DESC").Limit(200).Find(&rs).Error; err != nil {
		return nil, err
	}
	return m.views(ctx, p.OrgID, rs)
}

// ReportView is a report with its job, as its reader sees it.
type ReportView struct {
	Report
	Job *Job `json:"job,omitempty"`
}

func (m *Module) views(ctx context.Context, orgID uint, rs []Report) ([]ReportView, error) {
	out := make([]ReportView, len(rs))
	ids := make([]uint, len(rs))
	for i, r := range rs {
		out[i].Report = r
		ids[i] = r.ID
	}
	if len(ids) == 0 {
		return out, nil
	}
	var jobs []Job
	if err := store.Org(m.st.DB.WithContext(ctx), orgID).Where("report_id IN ?", ids).Find(&jobs).Error; err != nil {
		return nil, err
	}
	by := map[uint]*Job{}
	for i := range jobs {
		by[jobs[i].ReportID] = &jobs[i]
	}
	for i := range out {
		out[i].Job = by[out[i].ID]
	}
	return out, nil
}

// NewJob schedules the work for a report.
type NewJob struct {
	CrewID uint   `json:"crew_id" minimum:"1" doc:"The staff member who does the work"`
	On     string `json:"on" pattern:"^\\d{4}-\\d{2}-\\d{2}$" doc:"The day, YYYY-MM-DD"`
	Note   string `json:"note,omitempty" maxLength:"500"`
}

// Schedule plans a report's work: the planner must be staff of the
// report's department (or an admin), the crew a staff member of it.
func (m *Module) Schedule(ctx context.Context, p *accounts.Principal, reportID uint, in NewJob) (*Job, error) {
	on, err := time.Parse("2006-01-02", in.On)
	if err != nil {
		return nil, errs.InvalidField("body.on", "must be a date, YYYY-MM-DD")
	}
	var j *Job
	err = m.st.Tx(ctx, func(tx *gorm.DB) error {
		r, err := m.reportFor(ctx, tx, p, reportID)
		if err != nil {
			return err
		}
		if !p.Is(accounts.Admin) {
			mine, err := m.departmentsOf(ctx, tx, p.OrgID, p.UserID)
			if err != nil {
				return err
			}
			if !containsID(mine, r.DepartmentID) {
				return errs.NotFoundf("report %d not found", reportID)
			}
		}
		if r.Status != ReportOpen {
			return errs.Conflictf("the report's work is already scheduled")
		}
		crew, err := m.departmentStaff(ctx, tx, p.OrgID, r.DepartmentID)
		if err != nil {
			return err
		}
		if !containsID(crew, in.CrewID) {
			return errs.InvalidField("body.crew_id", "is not a staff member of the report's department")
		}
		j = &Job{ReportID: r.ID, CrewID: in.CrewID, PlannerID: p.UserID, On: on, Note: strings.TrimSpace(in.Note), Status: JobScheduled, CreatedAt: m.now()}
		j.OrgID = p.OrgID
		if err := tx.Create(j).Error; err != nil {
			return err
		}
		if err := store.Org(tx, p.OrgID).Model(&Report{}).Where("id = ?", r.ID).Update("status", ReportScheduled).Error; err != nil {
			return err
		}
		return m.reportChanged(ctx, tx, r, j)
	})
	return j, err
}

func containsID(list []uint, id uint) bool {
	for _, x := range list {
		if x == id {
			return true
		}
	}
	return false
}

// reportChanged tells the reporter's open pages (and their dashboard)
// that their report moved.
func (m *Module) reportChanged(ctx context.Context, tx *gorm.DB, r *Report, j *Job) error {
	if r.ReporterID == 0 {
		return nil
	}
	if err := m.bus.Publish(ctx, events.Event{Name: "cityworks.report_updated", OrgID: r.OrgID, SubjectID: r.ReporterID, Tx: tx}); err != nil {
		return err
	}
	return m.live.Publish(ctx, tx, live.Event{OrgID: r.OrgID, Name: "report", Owner: r.ReporterID,
		Subject: fmt.Sprintf("report:%d", r.ID), Data: map[string]any{"report": r.ID, "status": j.Status}})
}

// JobUpdate is what a crew member sends from the phone page.
type JobUpdate struct {
	Status string   `json:"status,omitempty" enum:"on_the_way,in_progress,done" doc:"The next status; statuses only move forward"`
	Lat    *float64 `json:"lat,omitempty" minimum:"-90" maximum:"90"`
	Lon    *float64 `json:"lon,omitempty" minimum:"-180" maximum:"180"`
}

// jobFor returns a job p may update: its crew member, or an admin.
func (m *Module) jobFor(ctx context.Context, tx *gorm.DB, p *accounts.Principal, id uint) (*Job, error) {
	var j Job
	err := store.Org(m.db(ctx, tx), p.OrgID).Where("id = ?", id).Take(&j).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && !p.Is(accounts.Admin) && j.CrewID != p.UserID) {
		return nil, errs.NotFoundf("job %d not found", id)
	}
	return &j, err
}

// UpdateJob moves a job on and records the crew's position. Done
// publishes the work: the public feed shows it, the organisation's
// webhook endpoints receive cityworks.work_done, and the reporter is
// told.
func (m *Module) UpdateJob(ctx context.Context, p *accounts.Principal, id uint, in JobUpdate) (*Job, error) {
	if (in.Lat == nil) != (in.Lon == nil) {
		return nil, errs.InvalidField("body.lon", "give both latitude and longitude")
	}
	if in.Status == "" && in.Lat == nil {
		return nil, errs.InvalidField("body.status", "give a status or a position")
	}
	var j *Job
	err := m.st.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		if j, err = m.jobFor(ctx, tx, p, id); err != nil {
			return err
		}
		now := m.now()
		set := map[string]any{}
		if in.Lat != nil {
			j.Lat, j.Lon, j.SeenAt = in.Lat, in.Lon, &now
			set["lat"], set["lon"], set["seen_at"] = *in.Lat, *in.Lon, now
		}
		done := false
		if in.Status != "" && in.Status != j.Status {
			if jobOrder[in.Status] <= jobOrder[j.Status] {
				return errs.InvalidField("body.status", "a job's status only moves forward")
			}
			j.Status, set["status"] = in.Status, in.Status
			if in.Status == JobDone {
				j.DoneAt, set["done_at"] = &now, now
				done = true
			}
		}
		if len(set) == 0 {
			return nil
		}
		if err := store.Org(tx, p.OrgID).Model(&Job{}).Where("id = ?", j.ID).Updates(set).Error; err != nil {
			return err
		}
		var r Report
		if err := store.Org(tx, p.OrgID).Where("id = ?", j.ReportID).Take(&r).Error; err != nil {
			return err
		}
		if done {
			if err := m.publishDone(ctx, tx, &r, j); err != nil {
				return err
			}
		}
		if _, ok := set["status"]; ok {
			return m.reportChanged(ctx, tx, &r, j)
		}
		return nil
	})
	return j, err
}

// PublicWork is a finished work as the public feed shows it: what, where
// and when, never who reported it or who did it.
type PublicWork struct {
	ID      uint      `json:"id"`
	Problem string    `json:"problem"`
	Place   string    `json:"place"`
	Segment string    `json:"segment,omitempty"`
	DoneAt  time.Time `json:"done_at"`
}

func (m *Module) publishDone(ctx context.Context, tx *gorm.DB, r *Report, j *Job) error {
	if err := store.Org(tx, r.OrgID).Model(&Report{}).Where("id = ?", r.ID).Update("status", ReportDone).Error; err != nil {
		return err
	}
	r.Status = ReportDone
	w, err := m.publicWork(tx, r, j)
	if err != nil {
		return err
	}
	data := map[string]any{"id": w.ID, "problem": w.Problem, "place": w.Place, "segment": w.Segment, "done_at": w.DoneAt.Format(time.RFC3339)}
	if _, err := m.notify.SendOrgWebhook(ctx, tx, notify.OrgEvent{OrgID: r.OrgID, Kind: KindWorkDone, Data: data,
		DedupeKey: fmt.Sprintf("work_done:%d", j.ID)}); err != nil {
		return err
	}
	if r.ReporterID == 0 {
		return nil
	}
	_, err = m.notify.Send(ctx, tx, notify.Notification{OrgID: r.OrgID, UserID: r.ReporterID, Kind: KindReportDone,
		Data:      map[string]any{"place": r.Place, "problem": problemText[r.Problem], "link": "/m/cityworks/"},
		DedupeKey: fmt.Sprintf("report_done:%d", r.ID)})
	return err
}

func (m *Module) publicWork(db *gorm.DB, r *Report, j *Job) (PublicWork, error) {
	w := PublicWork{ID: j.ID, Problem: r.Problem, Place: r.Place}
	if j.DoneAt != nil {
		w.DoneAt = j.DoneAt.UTC()
	}
	if r.SegmentID != nil {
		var s Segment
		if err := store.Org(db, r.OrgID).Where("id = ?", *r.SegmentID).Take(&s).Error; err == nil {
			w.Segment = s.Name
		}
	}
	return w, nil
}

// PublicWorks is the organisation's feed of finished works, newest first.
func (m *Module) PublicWorks(ctx context.Context, orgID uint, limit int) ([]PublicWork, error) {
	db := store.Org(m.st.DB.WithContext(ctx), orgID)
	var jobs []Job
	if err := db.Where("status = ?", JobDone).Order("done_at DESC, id DESC").Limit(limit).Find(&jobs).Error; err != nil {
		return nil, err
	}
	ids := make([]uint, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ReportID
	}
	var reports []Report
	var segs []Segment
	if err := db.Where("id IN ?", append(ids, 0)).Find(&reports).Error; err != nil {
		return nil, err
	}
	if err := db.Find(&segs).Error; err != nil {
		return nil, err
	}
	byID, names := map[uint]Report{}, map[uint]string{}
	for _, r := range reports {
		byID[r.ID] = r
	}
	for _, s := range segs {
		names[s.ID] = s.Name
	}
	out := make([]PublicWork, 0, len(jobs))
	for _, j := range jobs {
		r := byID[j.ReportID]
		w := PublicWork{ID: j.ID, Problem: r.Problem, Place: r.Place}
		if j.DoneAt != nil {
			w.DoneAt = j.DoneAt.UTC()
		}
		if r.SegmentID != nil {
			w.Segment = names[*r.SegmentID]
		}
		out = append(out, w)
	}
	return out, nil
}

// problemText is the English name of each problem (for mail data; pages
// use the label set).
var problemText = map[string]string{
	"street_light": "Broken street light", "pothole": "Pothole", "traffic_light": "Traffic light out of order",
	"sign": "Damaged sign", "other": "Other problem",
}
