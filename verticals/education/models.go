package education

import (
	"time"

	"github.com/portalkit/portalkit/core/store"
)

// Course is one course of a term.
type Course struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	// Code is unique per organisation ("CS101").
	Code        string    `gorm:"size:30;not null" json:"code"`
	Title       string    `gorm:"size:200;not null" json:"title"`
	Term        string    `gorm:"size:40;not null" json:"term"`
	Description string    `gorm:"type:text;not null;default:''" json:"description"`
	CreatedAt   time.Time `json:"created_at"`
}

// TableName keeps the table in the module's namespace.
func (Course) TableName() string { return "education_courses" }

// Staff roles on a course.
const (
	RoleProfessor = "professor"
	RoleTA        = "ta"
)

// CourseStaff links a professor or teaching assistant to a course. Course
// staff reach the students enrolled in their courses (staffReaches).
type CourseStaff struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	CourseID uint   `gorm:"not null" json:"course_id"`
	UserID   uint   `gorm:"not null;index" json:"user_id"`
	Role     string `gorm:"size:10;not null" json:"role" enum:"professor,ta"`
}

// TableName keeps the table in the module's namespace.
func (CourseStaff) TableName() string { return "education_course_staff" }

// Enrolment puts a student on a course. ExternalID is the student
// information system's key, unique per course, so an integrator's batch can
// be sent again without enrolling anyone twice.
type Enrolment struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	CourseID   uint      `gorm:"not null" json:"course_id"`
	StudentID  uint      `gorm:"not null;index" json:"student_id"`
	ExternalID *string   `gorm:"size:100" json:"external_id,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// TableName keeps the table in the module's namespace.
func (Enrolment) TableName() string { return "education_enrolments" }

// Topic is one subject of a course that lessons and quiz items exercise
// ("Recursion"); mastery is estimated per student and topic.
type Topic struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	CourseID uint   `gorm:"not null" json:"course_id"`
	Key      string `gorm:"column:topic_key;size:60;not null" json:"key"`
	Name     string `gorm:"size:120;not null" json:"name"`
}

// TableName keeps the table in the module's namespace.
func (Topic) TableName() string { return "education_topics" }

// CourseModule is one ordered part of a course, ending with a quiz drawn
// from the course's bank over the module's topics.
type CourseModule struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	CourseID uint       `gorm:"not null;index" json:"course_id"`
	Position int        `gorm:"not null" json:"position"`
	Title    string     `gorm:"size:200;not null" json:"title"`
	DueAt    *time.Time `json:"due_at,omitempty"`
	// The end-of-module quiz: how many items, the time limit in minutes (0:
	// none), attempts (0: unlimited), grading method and the pass mark.
	QuizItems    int     `gorm:"not null;default:10" json:"quiz_items"`
	QuizMinutes  int     `gorm:"not null;default:0" json:"quiz_minutes"`
	QuizAttempts int     `gorm:"not null;default:0" json:"quiz_attempts"`
	QuizMethod   string  `gorm:"size:10;not null;default:'highest'" json:"quiz_method" enum:"highest,average,first,last"`
	PassFraction float64 `gorm:"not null;default:0.6" json:"pass_fraction"`
}

// TableName keeps the table in the module's namespace.
func (CourseModule) TableName() string { return "education_modules" }

// Lesson is Markdown (rendered and sanitised as the help centre does) with
// an optional video or external link.
type Lesson struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	CourseID uint   `gorm:"not null;index" json:"course_id"`
	ModuleID uint   `gorm:"not null;index" json:"module_id"`
	Position int    `gorm:"not null" json:"position"`
	Title    string `gorm:"size:200;not null" json:"title"`
	Body     string `gorm:"type:text;not null" json:"body"`
	HTML     string `gorm:"type:text;not null" json:"-"`
	LinkURL  string `gorm:"size:500;not null;default:''" json:"link_url,omitempty"`
}

// TableName keeps the table in the module's namespace.
func (Lesson) TableName() string { return "education_lessons" }

// LessonTopic tags a lesson with a topic.
type LessonTopic struct {
	store.OrgOwned
	LessonID uint `gorm:"primaryKey;autoIncrement:false" json:"lesson_id"`
	TopicID  uint `gorm:"primaryKey;autoIncrement:false;index" json:"topic_id"`
}

// TableName keeps the table in the module's namespace.
func (LessonTopic) TableName() string { return "education_lesson_topics" }

// BankItem is a question of a course's bank: a quiz.Item stored as JSON
// with its topics beside it.
type BankItem struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	CourseID   uint      `gorm:"not null;index" json:"course_id"`
	ExternalID *string   `gorm:"size:100" json:"external_id,omitempty"`
	Kind       string    `gorm:"size:12;not null" json:"kind"`
	Data       string    `gorm:"type:text;not null" json:"-"`
	CreatedAt  time.Time `json:"created_at"`
}

// TableName keeps the table in the module's namespace.
func (BankItem) TableName() string { return "education_items" }

// ItemTopic tags a bank item with a topic.
type ItemTopic struct {
	store.OrgOwned
	ItemID  uint `gorm:"primaryKey;autoIncrement:false" json:"item_id"`
	TopicID uint `gorm:"primaryKey;autoIncrement:false;index" json:"topic_id"`
}

// TableName keeps the table in the module's namespace.
func (ItemTopic) TableName() string { return "education_item_topics" }

// Progress is one student's use of one lesson.
type Progress struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	StudentID   uint       `gorm:"not null" json:"student_id"`
	CourseID    uint       `gorm:"not null" json:"course_id"`
	LessonID    uint       `gorm:"not null" json:"lesson_id"`
	OpenedAt    time.Time  `gorm:"not null" json:"opened_at"`
	LastSeenAt  time.Time  `gorm:"not null" json:"last_seen_at"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
}

// TableName keeps the table in the module's namespace.
func (Progress) TableName() string { return "education_progress" }

// Mastery is the estimate of one student's knowledge of one topic
// (Bayesian Knowledge Tracing, mastery.go).
type Mastery struct {
	ID uint `gorm:"primaryKey" json:"-"`
	store.OrgOwned
	StudentID uint      `gorm:"not null" json:"student_id"`
	CourseID  uint      `gorm:"not null;index" json:"course_id"`
	TopicID   uint      `gorm:"not null" json:"topic_id"`
	PKnown    float64   `gorm:"not null" json:"p_known"`
	Responses int       `gorm:"not null" json:"responses"`
	Correct   int       `gorm:"not null" json:"correct"`
	LastAt    time.Time `gorm:"not null" json:"last_at"`
}

// TableName keeps the table in the module's namespace.
func (Mastery) TableName() string { return "education_mastery" }

// SuggestionOpen records a student opening a suggestion, so professors see
// whether suggestions help.
type SuggestionOpen struct {
	ID uint `gorm:"primaryKey"`
	store.OrgOwned
	StudentID uint      `gorm:"not null"`
	TopicID   uint      `gorm:"not null"`
	LessonID  uint      `gorm:"not null"`
	PKnown    float64   `gorm:"not null"`
	At        time.Time `gorm:"not null"`
}

// TableName keeps the table in the module's namespace.
func (SuggestionOpen) TableName() string { return "education_suggestion_opens" }

// Slot is a teaching assistant's office hour: Capacity students may book
// it; Booked counts them, raised by one conditional update per booking so
// that concurrent bookings never exceed it.
type Slot struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	CourseID uint      `gorm:"not null;index" json:"course_id"`
	TAID     uint      `gorm:"not null;index" json:"ta_id"`
	StartsAt time.Time `gorm:"not null" json:"starts_at"`
	EndsAt   time.Time `gorm:"not null" json:"ends_at"`
	Place    string    `gorm:"size:200;not null;default:''" json:"place,omitempty"`
	Link     string    `gorm:"size:500;not null;default:''" json:"link,omitempty"`
	Capacity int       `gorm:"not null" json:"capacity"`
	Booked   int       `gorm:"not null;default:0" json:"booked"`
	// CancelledAt is set when the course's staff cancel the slot.
	CancelledAt *time.Time `json:"cancelled_at,omitempty"`
}

// TableName keeps the table in the module's namespace.
func (Slot) TableName() string { return "education_slots" }

// Booking statuses.
const (
	BookingActive    = "booked"
	BookingCancelled = "cancelled"
)

// Booking is a student's place in a slot.
type Booking struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	SlotID    uint      `gorm:"not null;index" json:"slot_id"`
	StudentID uint      `gorm:"not null;index" json:"student_id"`
	Note      string    `gorm:"size:1000;not null;default:''" json:"note,omitempty"`
	Status    string    `gorm:"size:10;not null" json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

// TableName keeps the table in the module's namespace.
func (Booking) TableName() string { return "education_bookings" }

var models = []any{&Course{}, &CourseStaff{}, &Enrolment{}, &Topic{}, &CourseModule{}, &Lesson{}, &LessonTopic{},
	&BankItem{}, &ItemTopic{}, &Progress{}, &Mastery{}, &SuggestionOpen{}, &Slot{}, &Booking{}}

var indexes = []string{
	"CREATE UNIQUE INDEX education_courses_code ON education_courses (org_id, code)",
	"CREATE UNIQUE INDEX education_course_staff_user ON education_course_staff (course_id, user_id)",
	"CREATE UNIQUE INDEX education_enrolments_student ON education_enrolments (course_id, student_id)",
	"CREATE UNIQUE INDEX education_enrolments_external ON education_enrolments (course_id, external_id)",
	"CREATE UNIQUE INDEX education_topics_key ON education_topics (course_id, topic_key)",
	"CREATE UNIQUE INDEX education_items_external ON education_items (course_id, external_id)",
	"CREATE UNIQUE INDEX education_progress_lesson ON education_progress (org_id, student_id, lesson_id)",
	"CREATE INDEX education_progress_recent ON education_progress (org_id, student_id, last_seen_at)",
	"CREATE UNIQUE INDEX education_mastery_topic ON education_mastery (org_id, student_id, topic_id)",
	"CREATE UNIQUE INDEX education_bookings_one ON education_bookings (slot_id, student_id)",
}
