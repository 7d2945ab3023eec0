package cityworks

import (
	"time"

	"github.com/portalkit/portalkit/core/store"
)

// Department is a council department (roads, lighting, mobility). Its
// staff are the staff-side members of the policy group of kind
// KindDepartment whose ref is the department's code; citizens who report a
// problem to it join the group on the customer side, so its staff reach
// their reports (accounts.Reach(ID)).
type Department struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	Code    string `gorm:"size:40;not null" json:"code"`
	Name    string `gorm:"size:120;not null" json:"name"`
	GroupID uint   `gorm:"not null" json:"-"`
}

// TableName implements gorm's Tabler.
func (Department) TableName() string { return "cityworks_departments" }

// Segment is a stretch of street whose traffic a sensor counts, looked
// after by one department.
type Segment struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	Code         string `gorm:"size:40;not null" json:"code"`
	Name         string `gorm:"size:120;not null" json:"name"`
	DepartmentID uint   `gorm:"not null;index" json:"department_id"`
}

// TableName implements gorm's Tabler.
func (Segment) TableName() string { return "cityworks_segments" }

// Share lets the staff of another department read a segment's counts.
type Share struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	SegmentID    uint      `gorm:"not null" json:"segment_id"`
	DepartmentID uint      `gorm:"not null" json:"department_id"`
	CreatedBy    uint      `gorm:"not null" json:"-"`
	CreatedAt    time.Time `json:"created_at"`
}

// TableName implements gorm's Tabler.
func (Share) TableName() string { return "cityworks_shares" }

// TrafficCount is one interval counted by a sensor on a segment; TS is
// the interval's start. Unique per segment and TS, so a redelivered
// reading is counted once.
type TrafficCount struct {
	ID uint `gorm:"primaryKey" json:"-"`
	store.OrgOwned
	SegmentID   uint      `gorm:"not null" json:"segment_id"`
	DeviceID    string    `gorm:"size:32;not null" json:"device_id"`
	TS          time.Time `gorm:"not null" json:"ts"`
	Vehicles    int       `gorm:"not null" json:"vehicles"`
	Pedestrians int       `gorm:"not null" json:"pedestrians"`
	Minutes     int       `gorm:"not null" json:"minutes"`
}

// TableName implements gorm's Tabler.
func (TrafficCount) TableName() string { return "cityworks_counts" }

// Congestion is an episode of traffic above the usual level for the hour.
// OpenSegment is the segment's ID while the episode is open and NULL once
// closed: its unique index allows one open episode per segment.
type Congestion struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	SegmentID   uint       `gorm:"not null;index" json:"segment_id"`
	OpenSegment *uint      `json:"-"`
	OpenedAt    time.Time  `gorm:"not null" json:"opened_at"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
	PerHour     float64    `gorm:"not null" json:"vehicles_per_hour"`
	UsualPerH   float64    `gorm:"not null" json:"usual_per_hour"`
}

// TableName implements gorm's Tabler.
func (Congestion) TableName() string { return "cityworks_congestions" }

// Report statuses.
const (
	ReportOpen      = "open"
	ReportScheduled = "scheduled"
	ReportDone      = "done"
)

// Report is a problem a citizen reported.
type Report struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	// ReporterID is the citizen; 0 once their account was erased.
	ReporterID   uint      `gorm:"not null;index" json:"reporter_id"`
	Problem      string    `gorm:"size:30;not null" json:"problem"`
	Place        string    `gorm:"size:200;not null" json:"place"`
	Description  string    `gorm:"size:1000;not null" json:"description"`
	SegmentID    *uint     `json:"segment_id,omitempty"`
	DepartmentID uint      `gorm:"not null" json:"department_id"`
	Status       string    `gorm:"size:20;not null" json:"status"`
	CreatedAt    time.Time `json:"created_at"`
}

// TableName implements gorm's Tabler.
func (Report) TableName() string { return "cityworks_reports" }

// Job statuses, in order.
const (
	JobScheduled  = "scheduled"
	JobOnTheWay   = "on_the_way"
	JobInProgress = "in_progress"
	JobDone       = "done"
)

var jobOrder = map[string]int{JobScheduled: 0, JobOnTheWay: 1, JobInProgress: 2, JobDone: 3}

// Job is a work order: a crew member sent to fix a report on a day.
type Job struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	ReportID  uint       `gorm:"not null;index" json:"report_id"`
	CrewID    uint       `gorm:"not null;index" json:"crew_id"`
	PlannerID uint       `gorm:"not null" json:"planner_id"`
	On        time.Time  `gorm:"not null" json:"on"`
	Note      string     `gorm:"size:500;not null" json:"note"`
	Status    string     `gorm:"size:20;not null" json:"status"`
	Lat       *float64   `json:"lat,omitempty"`
	Lon       *float64   `json:"lon,omitempty"`
	SeenAt    *time.Time `json:"position_at,omitempty"`
	DoneAt    *time.Time `json:"done_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

// TableName implements gorm's Tabler.
func (Job) TableName() string { return "cityworks_jobs" }

var models = []any{&Department{}, &Segment{}, &Share{}, &TrafficCount{}, &Congestion{}, &Report{}, &Job{}}

var indexes = []string{
	`CREATE UNIQUE INDEX idx_cityworks_departments_code ON cityworks_departments (org_id, code)`,
	`CREATE UNIQUE INDEX idx_cityworks_segments_code ON cityworks_segments (org_id, code)`,
	`CREATE UNIQUE INDEX idx_cityworks_shares_pair ON cityworks_shares (org_id, segment_id, department_id)`,
	`CREATE UNIQUE INDEX idx_cityworks_counts_key ON cityworks_counts (org_id, segment_id, ts)`,
	`CREATE UNIQUE INDEX idx_cityworks_congestions_open ON cityworks_congestions (org_id, open_segment)`,
	`CREATE UNIQUE INDEX idx_cityworks_jobs_report ON cityworks_jobs (org_id, report_id)`,
}
