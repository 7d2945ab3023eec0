package health

import (
	"time"

	"github.com/portalkit/portalkit/core/store"
)

// Team is a care team: clinicians and nurses who look after patients
// together. Until policy groups land in core/accounts it lives here, read
// through careTeamsOf only.
type Team struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	Name      string    `gorm:"size:120;not null" json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// TableName keeps the table in the module's namespace.
func (Team) TableName() string { return "health_teams" }

// TeamMember is a staff member (or admin acting as a clinician) of a team.
type TeamMember struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	TeamID  uint   `gorm:"not null;uniqueIndex:health_team_members_u" json:"team_id"`
	StaffID uint   `gorm:"not null;uniqueIndex:health_team_members_u;index" json:"staff_id"`
	Role    string `gorm:"size:40;not null;default:''" json:"role"`
}

// TableName keeps the table in the module's namespace.
func (TeamMember) TableName() string { return "health_team_members" }

// How a team reaches a patient.
const (
	LinkCare   = "care"   // the patient's care team, set by an admin
	LinkShared = "shared" // an additional team the patient chose to share with
)

// PatientTeam says that a team reaches a patient.
type PatientTeam struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	PatientID uint      `gorm:"not null;uniqueIndex:health_patient_teams_u;index" json:"patient_id"`
	TeamID    uint      `gorm:"not null;uniqueIndex:health_patient_teams_u;index" json:"team_id"`
	Link      string    `gorm:"size:10;not null" json:"link" enum:"care,shared"`
	CreatedAt time.Time `json:"created_at"`
}

// TableName keeps the table in the module's namespace.
func (PatientTeam) TableName() string { return "health_patient_teams" }

// Reasons a read was allowed, as recorded in the access log.
const (
	ViaCareTeam    = "care_team"
	ViaSharedTeam  = "shared_team"
	ViaBreakGlass  = "break_glass"
	ViaIntegration = "integration"
)

// AccessEntry is one read of a patient's health data by someone other
// than the patient. Rows are only ever inserted (and erased with the
// patient's health data).
type AccessEntry struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	PatientID uint      `gorm:"not null;index:health_access_patient_at" json:"patient_id"`
	At        time.Time `gorm:"not null;index:health_access_patient_at" json:"at"`
	ActorID   uint      `gorm:"not null;default:0" json:"actor_id"`
	TokenID   uint      `gorm:"not null;default:0" json:"token_id,omitempty"`
	ActorName string    `gorm:"size:160;not null" json:"actor_name"`
	ActorRole string    `gorm:"size:20;not null" json:"actor_role"`
	// What names the data read ("vital signs", "access log").
	What string `gorm:"size:80;not null" json:"what"`
	// Via is how the read was allowed; Why is the team's name or the
	// break-glass reason.
	Via     string `gorm:"size:20;not null" json:"via" enum:"care_team,shared_team,break_glass,integration"`
	Why     string `gorm:"size:500;not null" json:"why"`
	Flagged bool   `gorm:"not null;default:false" json:"flagged"`
}

// TableName keeps the table in the module's namespace.
func (AccessEntry) TableName() string { return "health_access_log" }

// BreakGlass is an emergency access to one patient by a staff member
// outside the patient's teams, with the reason they stated.
type BreakGlass struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	PatientID uint      `gorm:"not null;index" json:"patient_id"`
	StaffID   uint      `gorm:"not null;index" json:"staff_id"`
	Reason    string    `gorm:"size:500;not null" json:"reason"`
	OpenedAt  time.Time `gorm:"not null" json:"opened_at"`
	ExpiresAt time.Time `gorm:"not null" json:"expires_at"`
}

// TableName keeps the table in the module's namespace.
func (BreakGlass) TableName() string { return "health_break_glass" }

// Sources of an observation.
const (
	SourcePatient   = "patient"
	SourceDevice    = "device"
	SourceClinician = "clinician"
	// SourceImport is a reading imported from a FHIR bundle.
	SourceImport = "import"
)

// Observation is one measured value: a vital sign (or a component of the
// blood-pressure panel) with its LOINC code, its value in the code's UCUM
// unit, when it was measured and who reported it.
type Observation struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	PatientID uint      `gorm:"not null;index:health_obs_patient_code_at" json:"patient_id"`
	Code      string    `gorm:"size:16;not null;index:health_obs_patient_code_at" json:"code"`
	At        time.Time `gorm:"not null;index:health_obs_patient_code_at" json:"at"`
	Value     float64   `gorm:"not null" json:"value"`
	Unit      string    `gorm:"size:16;not null" json:"unit"`
	// Panel is the panel code a component belongs to (85354-9 for blood
	// pressure); Group ties the components of one panel reading together.
	Panel string `gorm:"size:16;not null;default:''" json:"panel,omitempty"`
	Group string `gorm:"size:40;not null;default:''" json:"group,omitempty"`
	// Source is who reported it; DeviceID and EnteredBy say which device or
	// person.
	Source    string `gorm:"size:10;not null" json:"source" enum:"patient,device,clinician,import"`
	DeviceID  string `gorm:"size:32;not null;default:''" json:"device_id,omitempty"`
	EnteredBy uint   `gorm:"not null;default:0" json:"entered_by,omitempty"`
	// Flag is "low" or "high" when outside the normal range, else "".
	Flag string `gorm:"size:4;not null;default:''" json:"flag,omitempty"`
	// DuplicateOf is the earlier observation of the same reading from
	// another source: kept (nothing sent is lost) but counted once.
	DuplicateOf uint      `gorm:"not null;default:0;index" json:"duplicate_of,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// TableName keeps the table in the module's namespace.
func (Observation) TableName() string { return "health_observations" }

// Alert is one out-of-range episode of a patient's vital sign: opened by
// the first flagged reading (the care team is notified once), kept open by
// the next ones, closed by a reading back in range.
type Alert struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	PatientID uint `gorm:"not null;index:health_alerts_open" json:"patient_id"`
	// Code is the vital's LOINC code, or the panel's (85354-9) for blood
	// pressure, so one episode covers both numbers.
	Code     string     `gorm:"size:16;not null;index:health_alerts_open" json:"code"`
	Flag     string     `gorm:"size:4;not null" json:"flag"`
	OpenedAt time.Time  `gorm:"not null" json:"opened_at"`
	LastAt   time.Time  `gorm:"not null" json:"last_at"`
	Readings int        `gorm:"not null;default:1" json:"readings"`
	ClosedAt *time.Time `json:"closed_at,omitempty"`
}

// TableName keeps the table in the module's namespace.
func (Alert) TableName() string { return "health_alerts" }

var models = []any{&Team{}, &TeamMember{}, &PatientTeam{}, &AccessEntry{}, &BreakGlass{}, &Observation{}, &Alert{}, &Visit{}, &Goal{}, &Prescription{}, &Dose{}, &Meal{}, &ExerciseSession{}}

// uniqueIndexes are created by the first migration. A device's reading is
// stored once per (device, code, time), whatever redelivers it.
// obsPatientAt serves a patient's latest readings (the dashboard's "My
// latest readings", the readings page): the newest few rows of the index,
// not every reading of the patient sorted. It leads with org_id so that
// SQLite prefers it over the org_id index without statistics.
const obsPatientAt = `CREATE INDEX health_obs_patient_at ON health_observations (org_id, patient_id, at, id)`

var uniqueIndexes = []string{
	`CREATE UNIQUE INDEX health_obs_device_code_at ON health_observations (org_id, device_id, code, at) WHERE device_id <> ''`,
}
