package schedule

import (
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/store"
)

// Status is the state of a run.
type Status string

// The states of a run. A run is claimed as running; it ends succeeded or
// failed. A run stopped by a shutdown is interrupted: any instance may take
// it over at once and resume it from its cursor. A running run whose
// heartbeat is older than the lease is taken over the same way.
const (
	StatusRunning     Status = "running"
	StatusSucceeded   Status = "succeeded"
	StatusFailed      Status = "failed"
	StatusInterrupted Status = "interrupted"
)

// How a run was started (RunRecord.Trigger).
const (
	TriggerSchedule = "schedule" // a cron tick
	TriggerCatchUp  = "catch-up" // a slot missed while every instance was down
	TriggerAdmin    = "admin"    // "run now" on the admin page or the API
	TriggerCLI      = "cli"      // portal jobs run
)

// RunRecord is one run of a job for one slot: the row in schedule_runs
// whose unique key (job, slot, manual) is what makes a slot run once.
type RunRecord struct {
	ID uint `gorm:"primaryKey" json:"id"`
	// Job is the job's name, "<module>.<name>".
	Job string `gorm:"size:100;not null;uniqueIndex:schedule_runs_slot,priority:1;index:schedule_runs_job_started,priority:1" json:"job"`
	// Slot is the activation time the run is for (UTC, whole seconds). For
	// a manual run it is the moment "run now" was asked for.
	Slot time.Time `gorm:"not null;uniqueIndex:schedule_runs_slot,priority:2" json:"slot"`
	// Manual marks a slot that is not on the schedule (run now). A
	// scheduled slot run by hand (`portal jobs run --slot`) is not manual:
	// it is the same row the schedule would have claimed.
	Manual bool `gorm:"not null;default:false;uniqueIndex:schedule_runs_slot,priority:3" json:"manual"`
	// Trigger says how the run was started: schedule, catch-up, admin, cli.
	Trigger string `gorm:"column:run_trigger;size:20;not null" json:"trigger"`
	// TriggeredBy is the user who asked for a manual run (0: the schedule).
	TriggeredBy uint   `gorm:"not null;default:0" json:"triggered_by,omitempty"`
	Status      Status `gorm:"size:20;not null;index" json:"status"`
	// Instance is the portal instance that runs (or last ran) the slot.
	Instance string `gorm:"size:100;not null" json:"instance"`
	// Attempt counts claims: 1 for the first runner, +1 for every takeover
	// or retry. Writes by a runner are fenced by it.
	Attempt     int        `gorm:"not null;default:1" json:"attempt"`
	StartedAt   time.Time  `gorm:"not null;index:schedule_runs_job_started,priority:2" json:"started_at"`
	HeartbeatAt time.Time  `gorm:"not null" json:"heartbeat_at"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	// DurationMS is from the first claim to the end, resumptions included.
	DurationMS    int64 `gorm:"not null;default:0" json:"duration_ms"`
	ProgressDone  int64 `gorm:"not null;default:0" json:"progress_done"`
	ProgressTotal int64 `gorm:"not null;default:0" json:"progress_total"`
	// Cursor is where a resumed run starts (the job's own format).
	Cursor string `gorm:"type:text;not null;default:''" json:"-"`
	// Error is the failure of a failed run.
	Error string `gorm:"type:text;not null;default:''" json:"error,omitempty"`
}

// TableName implements gorm's tabler.
func (RunRecord) TableName() string { return "schedule_runs" }

// Duration is how long the run took (zero while it runs).
func (r RunRecord) Duration() time.Duration { return time.Duration(r.DurationMS) * time.Millisecond }

// Percent is the progress in percent, or -1 when the job reported no total.
func (r RunRecord) Percent() int {
	if r.ProgressTotal <= 0 {
		return -1
	}
	p := r.ProgressDone * 100 / r.ProgressTotal
	if p > 100 {
		p = 100
	}
	return int(p)
}

// onceKey records a side effect done by a run: the row's unique key is what
// makes Run.Once answer "first" exactly once per (job, slot, key).
type onceKey struct {
	ID uint `gorm:"primaryKey"`
	// RunID is the run (one per job, slot and manual flag).
	RunID     uint      `gorm:"not null;uniqueIndex:schedule_keys_key,priority:1"`
	Key       string    `gorm:"size:200;not null;uniqueIndex:schedule_keys_key,priority:2"`
	Job       string    `gorm:"size:100;not null"`
	Slot      time.Time `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null"`
}

func (onceKey) TableName() string { return "schedule_keys" }

// Migrations are the scheduler's own tables, applied by the kernel before
// any module's migrations.
func Migrations() store.MigrationSet {
	return store.MigrationSet{Owner: "schedule", Migrations: []store.Migration{
		{ID: "0001_runs", Up: func(tx *gorm.DB) error {
			return tx.Migrator().CreateTable(&RunRecord{}, &onceKey{})
		}},
	}}
}
