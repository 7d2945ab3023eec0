package cityworks

import (
	"context"
	"fmt"
	"math"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/chart"
	"github.com/portalkit/portalkit/core/store"
)

// DayView is a segment's traffic of one day (UTC) against the usual level,
// in vehicles per hour, hour by hour (null where unknown).
type DayView struct {
	Segment Segment     `json:"segment"`
	Day     string      `json:"day"`
	Today   []*float64  `json:"today"`
	Usual   []*float64  `json:"usual"`
	Chart   chart.Chart `json:"-"`
}

// Day computes a segment's day against the usual level.
func (m *Module) Day(ctx context.Context, s *Segment, day time.Time) (*DayView, error) {
	start := day.UTC().Truncate(24 * time.Hour)
	db := m.st.DB.WithContext(ctx)
	var rows []TrafficCount
	if err := store.Org(db, s.OrgID).Where("segment_id = ? AND ts >= ? AND ts < ?", s.ID, start, start.Add(24*time.Hour)).Find(&rows).Error; err != nil {
		return nil, err
	}
	var veh, mins [24]int
	for _, r := range rows {
		h := r.TS.UTC().Hour()
		veh[h] += r.Vehicles
		mins[h] += r.Minutes
	}
	v := &DayView{Segment: *s, Day: start.Format("2006-01-02"), Today: make([]*float64, 24), Usual: make([]*float64, 24)}
	labels := make([]string, 24)
	today, usual := make([]float64, 24), make([]float64, 24)
	for h := 0; h < 24; h++ {
		labels[h] = fmt.Sprintf("%02d", h)
		today[h], usual[h] = math.NaN(), math.NaN()
		if mins[h] > 0 {
			x := math.Round(perHour(veh[h], mins[h]))
			today[h], v.Today[h] = x, &x
		}
		u, ok, err := Usual(db, s.OrgID, s.ID, start.Add(time.Duration(h)*time.Hour))
		if err != nil {
			return nil, err
		}
		if ok {
			x := math.Round(u)
			usual[h], v.Usual[h] = x, &x
		}
	}
	v.Chart = chart.Chart{Kind: chart.Line, Title: "Vehicles per hour: this day and the usual level", LabelHeader: "Hour (UTC)", ValueName: "Vehicles per hour", Labels: labels,
		Series: []chart.Series{{Name: "This day", Values: today}, {Name: "Usual", Values: usual}}}
	return v, nil
}

// CongestionView is an episode with its segment's name.
type CongestionView struct {
	Congestion
	Segment string `json:"segment"`
}

// Congestions lists the episodes of the segments p reads.
func (m *Module) Congestions(ctx context.Context, p *accounts.Principal, open bool, limit int) ([]CongestionView, error) {
	segs, err := m.visibleSegments(ctx, p, store.Org(m.st.DB.WithContext(ctx), p.OrgID).Model(&Segment{}).Select("cityworks_segments.id"))
	if err != nil {
		return nil, err
	}
	q := store.Org(m.st.DB.WithContext(ctx), p.OrgID).Where("segment_id IN (?)", segs)
	if open {
		q = q.Where("closed_at IS NULL")
	}
	var cs []Congestion
	if err := q.Order("opened_at DESC, id DESC").Limit(limit).Find(&cs).Error; err != nil {
		return nil, err
	}
	names := map[uint]string{}
	var all []Segment
	if err := store.Org(m.st.DB.WithContext(ctx), p.OrgID).Find(&all).Error; err != nil {
		return nil, err
	}
	for _, s := range all {
		names[s.ID] = s.Name
	}
	out := make([]CongestionView, len(cs))
	for i, c := range cs {
		out[i] = CongestionView{Congestion: c, Segment: names[c.SegmentID]}
	}
	return out, nil
}

// JobView is a job with what the crew needs to know of its report, and
// the crew's last position for the planner.
type JobView struct {
	Job
	Problem    string    `json:"problem"`
	Place      string    `json:"place"`
	Position   string    `json:"-"`
	PositionAt time.Time `json:"-"`
}

// Jobs lists p's jobs: a crew member's own and those of their
// departments' reports (own only with crewOnly); admins every job.
func (m *Module) Jobs(ctx context.Context, p *accounts.Principal, crewOnly bool) ([]Job, error) {
	db := store.Org(m.st.DB.WithContext(ctx), p.OrgID)
	q := db
	if !p.Is(accounts.Admin) || crewOnly {
		depts, err := m.departmentsOf(ctx, nil, p.OrgID, p.UserID)
		if err != nil {
			return nil, err
		}
		if crewOnly || len(depts) == 0 {
			q = q.Where("crew_id = ?", p.UserID)
		} else {
			reports := m.st.DB.WithContext(ctx).Session(&gorm.Session{NewDB: true}).Table("cityworks_reports").Select("id").Where("org_id = ? AND department_id IN ?", p.OrgID, depts)
			q = q.Where("crew_id = ? OR report_id IN (?)", p.UserID, reports)
		}
	}
	out := []Job{}
	return out, q.Order("\"on\", id").Limit(200).Find(&out).Error
}

// jobViews adds the report's problem and place to jobs.
func (m *Module) jobViews(ctx context.Context, orgID uint, jobs []Job) ([]JobView, error) {
	out := make([]JobView, len(jobs))
	ids := make([]uint, len(jobs))
	for i, j := range jobs {
		out[i].Job = j
		ids[i] = j.ReportID
		if j.Lat != nil && j.Lon != nil && j.SeenAt != nil {
			out[i].Position, out[i].PositionAt = fmt.Sprintf("%.5f, %.5f", *j.Lat, *j.Lon), *j.SeenAt
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	var rs []Report
	if err := store.Org(m.st.DB.WithContext(ctx), orgID).Where("id IN ?", ids).Find(&rs).Error; err != nil {
		return nil, err
	}
	by := map[uint]Report{}
	for _, r := range rs {
		by[r.ID] = r
	}
	for i := range out {
		out[i].Problem, out[i].Place = by[out[i].ReportID].Problem, by[out[i].ReportID].Place
	}
	return out, nil
}
