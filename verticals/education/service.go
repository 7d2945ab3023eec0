package education

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/experience/help"
	"github.com/portalkit/portalkit/core/experience/messages"
	"github.com/portalkit/portalkit/core/experience/quiz"
	"github.com/portalkit/portalkit/core/live"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/store"
)

// Service is the education module's logic. Every method that reads or
// writes a student's data checks the caller: the student, the staff of one
// of the student's courses, an admin or an integrator of the organisation;
// anyone else gets "not found".
type Service struct {
	st     *store.Store
	acc    *accounts.Service
	bus    *events.Bus
	notify *notify.Service
	quiz   *quiz.Service
	live   live.Publisher
	msgs   *messages.Service
	now    func() time.Time
	log    *slog.Logger
	// host names the portal in iCalendar UIDs.
	host string
	// baseURL is the portal's address: the homePage of xAPI actors and the
	// root of activity IDs.
	baseURL string
}

func (s *Service) db(ctx context.Context, orgID uint) *gorm.DB {
	return store.Org(s.st.DB.WithContext(ctx), orgID)
}

// --- who reaches whom ---

// GroupKind is the policy group of a course (core/accounts groups): its
// professors and TAs on the staff side, its students on the customer side.
// It opens the module's own data and secure messages, so course staff
// reach their students' education data and conversations, and nothing
// else of theirs (banking, health).
const GroupKind = ID + ".course"

func groupKind() accounts.GroupKind {
	return accounts.GroupKind{ID: GroupKind, Opens: []string{ID, "messages"}, Label: "Course"}
}

// courseGroup returns (creating it) the policy group of a course, in tx.
func (s *Service) courseGroup(ctx context.Context, tx *gorm.DB, c *Course) (*accounts.Group, error) {
	return s.acc.SaveGroup(ctx, tx, c.OrgID, GroupKind, strconv.FormatUint(uint64(c.ID), 10), c.Code+" "+c.Title)
}

// canSeeStudent is the policy check for a student's education data: the
// student, staff who reach them (a course group they share, or an
// assignment), admins, integrators (accounts.Reach of this module).
func (s *Service) canSeeStudent(ctx context.Context, p *accounts.Principal, studentID uint) error {
	return s.acc.Reach(ID).CanRead(ctx, p, p.OrgID, studentID)
}

// Course roles of a caller.
const (
	accessNone    = ""
	accessStudent = "student"
	accessStaff   = "staff" // professor or TA of the course
	accessAdmin   = "admin" // admin or integrator of the organisation
)

// courseAccess returns the course and how p reaches it; a course p does not
// reach is not found.
func (s *Service) courseAccess(ctx context.Context, p *accounts.Principal, courseID uint) (*Course, string, error) {
	var c Course
	if err := s.db(ctx, p.OrgID).First(&c, courseID).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, accessNone, errs.NotFoundf("no course %d", courseID)
	} else if err != nil {
		return nil, accessNone, err
	}
	switch p.Role {
	case accounts.Admin, accounts.Integrator:
		return &c, accessAdmin, nil
	case accounts.Staff:
		var n int64
		if err := s.db(ctx, p.OrgID).Model(&CourseStaff{}).Where("course_id = ? AND user_id = ?", c.ID, p.UserID).Count(&n).Error; err != nil {
			return nil, accessNone, err
		}
		if n > 0 {
			return &c, accessStaff, nil
		}
	case accounts.Customer:
		var n int64
		if err := s.db(ctx, p.OrgID).Model(&Enrolment{}).Where("course_id = ? AND student_id = ?", c.ID, p.UserID).Count(&n).Error; err != nil {
			return nil, accessNone, err
		}
		if n > 0 {
			return &c, accessStudent, nil
		}
	}
	return nil, accessNone, errs.NotFoundf("no course %d", courseID)
}

// teaching returns the course if p may change it (its staff, admins,
// integrators).
func (s *Service) teaching(ctx context.Context, p *accounts.Principal, courseID uint) (*Course, error) {
	c, access, err := s.courseAccess(ctx, p, courseID)
	if err != nil {
		return nil, err
	}
	if access == accessStudent {
		return nil, errs.Forbiddenf("only the course's staff can change it")
	}
	return c, nil
}

// Courses returns the courses p reaches, by code.
func (s *Service) Courses(ctx context.Context, p *accounts.Principal) ([]Course, error) {
	q := s.db(ctx, p.OrgID).Order("code")
	switch p.Role {
	case accounts.Admin, accounts.Integrator:
	case accounts.Staff:
		q = q.Where("id IN (?)", s.db(ctx, p.OrgID).Model(&CourseStaff{}).Select("course_id").Where("user_id = ?", p.UserID))
	default:
		q = q.Where("id IN (?)", s.db(ctx, p.OrgID).Model(&Enrolment{}).Select("course_id").Where("student_id = ?", p.UserID))
	}
	var out []Course
	return out, q.Find(&out).Error
}

// --- catalogue ---

var codePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,29}$`)

// NewCourse is a course to create.
type NewCourse struct {
	Code        string `json:"code" doc:"Unique per organisation, e.g. CS101"`
	Title       string `json:"title"`
	Term        string `json:"term" doc:"e.g. 2026 autumn"`
	Description string `json:"description,omitempty"`
	Professors  []uint `json:"professors,omitempty" doc:"User IDs of staff"`
	TAs         []uint `json:"tas,omitempty" doc:"User IDs of staff"`
}

// CreateCourse creates a course with its staff in tx.
func (s *Service) CreateCourse(ctx context.Context, tx *gorm.DB, orgID uint, in NewCourse) (*Course, error) {
	in.Code, in.Title, in.Term = strings.TrimSpace(in.Code), strings.TrimSpace(in.Title), strings.TrimSpace(in.Term)
	var fields []errs.FieldError
	if !codePattern.MatchString(in.Code) {
		fields = append(fields, errs.Field("code", "must be 1-30 letters, digits, '.', '_' or '-'"))
	}
	if in.Title == "" || len(in.Title) > 200 {
		fields = append(fields, errs.Field("title", "is required (at most 200 characters)"))
	}
	if in.Term == "" || len(in.Term) > 40 {
		fields = append(fields, errs.Field("term", "is required (at most 40 characters)"))
	}
	if len(fields) > 0 {
		return nil, errs.Validation("the course is not valid", fields...)
	}
	c := &Course{Code: in.Code, Title: in.Title, Term: in.Term, Description: in.Description}
	if err := store.Org(tx, orgID).Create(c).Error; err != nil {
		if store.IsUniqueViolation(err) {
			return nil, errs.InvalidField("code", "another course has this code")
		}
		return nil, err
	}
	if _, err := s.courseGroup(ctx, tx, c); err != nil {
		return nil, err
	}
	for role, ids := range map[string][]uint{RoleProfessor: in.Professors, RoleTA: in.TAs} {
		for _, id := range ids {
			if err := s.AddStaff(ctx, tx, orgID, c.ID, id, role); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// AddStaff makes a staff member a professor or TA of a course.
func (s *Service) AddStaff(ctx context.Context, tx *gorm.DB, orgID, courseID, userID uint, role string) error {
	var u accounts.User
	if err := store.Org(tx, orgID).First(&u, userID).Error; err != nil || (u.Role != accounts.Staff && u.Role != accounts.Admin) {
		return errs.InvalidField("staff", fmt.Sprintf("user %d is not a staff member of this organisation", userID))
	}
	var c Course
	if err := store.Org(tx, orgID).First(&c, courseID).Error; err != nil {
		return err
	}
	g, err := s.courseGroup(ctx, tx, &c)
	if err != nil {
		return err
	}
	if err := s.acc.AddGroupMember(ctx, tx, orgID, g.ID, userID, accounts.StaffSide, role); err != nil {
		return err
	}
	var n int64
	if err := store.Org(tx, orgID).Model(&CourseStaff{}).Where("course_id = ? AND user_id = ?", courseID, userID).Count(&n).Error; err != nil || n > 0 {
		return err
	}
	return store.Org(tx, orgID).Create(&CourseStaff{CourseID: courseID, UserID: userID, Role: role}).Error
}

// Staff returns a course's staff with their roles.
func (s *Service) Staff(ctx context.Context, orgID, courseID uint) ([]CourseStaff, error) {
	var out []CourseStaff
	return out, s.db(ctx, orgID).Where("course_id = ?", courseID).Order("role, user_id").Find(&out).Error
}

var topicKeyPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,59}$`)

// NewTopic is a topic of a course.
type NewTopic struct {
	Key  string `json:"key" doc:"Lowercase letters, digits, '_' and '-', unique per course"`
	Name string `json:"name"`
}

// AddTopic adds (or renames) a topic of a course.
func (s *Service) AddTopic(ctx context.Context, tx *gorm.DB, orgID, courseID uint, in NewTopic) (*Topic, error) {
	in.Name = strings.TrimSpace(in.Name)
	if !topicKeyPattern.MatchString(in.Key) {
		return nil, errs.InvalidField("key", "must be lowercase letters, digits, '_' or '-' (at most 60)")
	}
	if in.Name == "" || len(in.Name) > 120 {
		return nil, errs.InvalidField("name", "is required (at most 120 characters)")
	}
	var t Topic
	q := store.Org(tx, orgID).Where("course_id = ? AND topic_key = ?", courseID, in.Key).Limit(1).Find(&t)
	if q.Error != nil {
		return nil, q.Error
	}
	if q.RowsAffected > 0 {
		t.Name = in.Name
		return &t, store.Org(tx, orgID).Model(&t).Update("name", in.Name).Error
	}
	t = Topic{CourseID: courseID, Key: in.Key, Name: in.Name}
	return &t, store.Org(tx, orgID).Create(&t).Error
}

// Topics returns a course's topics by name.
func (s *Service) Topics(ctx context.Context, orgID, courseID uint) ([]Topic, error) {
	var out []Topic
	return out, s.db(ctx, orgID).Where("course_id = ?", courseID).Order("name").Find(&out).Error
}

// topicIDs resolves topic keys of a course, naming the field of an unknown
// one.
func topicIDs(tx *gorm.DB, orgID, courseID uint, keys []string, field string) ([]uint, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var ts []Topic
	if err := store.Org(tx, orgID).Where("course_id = ? AND topic_key IN ?", courseID, keys).Find(&ts).Error; err != nil {
		return nil, err
	}
	byKey := map[string]uint{}
	for _, t := range ts {
		byKey[t.Key] = t.ID
	}
	out := make([]uint, 0, len(keys))
	for _, k := range keys {
		id, ok := byKey[k]
		if !ok {
			return nil, errs.InvalidField(field, fmt.Sprintf("the course has no topic %q", k))
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// NewModule is a module of a course.
type NewModule struct {
	Title        string     `json:"title"`
	Position     int        `json:"position,omitempty" doc:"Order in the course; default: after the last"`
	DueAt        *time.Time `json:"due_at,omitempty"`
	QuizItems    int        `json:"quiz_items,omitempty" doc:"Items per quiz attempt (default 10)"`
	QuizMinutes  int        `json:"quiz_minutes,omitempty" doc:"Time limit in minutes (0: none)"`
	QuizAttempts int        `json:"quiz_attempts,omitempty" doc:"Attempts allowed (0: unlimited)"`
	QuizMethod   string     `json:"quiz_method,omitempty" enum:"highest,average,first,last,"`
	PassFraction float64    `json:"pass_fraction,omitempty" doc:"Share of the points that passes (default 0.6)"`
}

// AddModule adds a module to a course.
func (s *Service) AddModule(ctx context.Context, tx *gorm.DB, orgID, courseID uint, in NewModule) (*CourseModule, error) {
	in.Title = strings.TrimSpace(in.Title)
	switch {
	case in.Title == "" || len(in.Title) > 200:
		return nil, errs.InvalidField("title", "is required (at most 200 characters)")
	case in.QuizItems < 0 || in.QuizItems > 100:
		return nil, errs.InvalidField("quiz_items", "must be between 1 and 100")
	case in.QuizMinutes < 0 || in.QuizMinutes > 600:
		return nil, errs.InvalidField("quiz_minutes", "must be between 0 and 600")
	case in.QuizAttempts < 0 || in.QuizAttempts > 100:
		return nil, errs.InvalidField("quiz_attempts", "must be between 0 and 100")
	case in.QuizMethod != "" && !quiz.Method(in.QuizMethod).Valid():
		return nil, errs.InvalidField("quiz_method", "must be highest, average, first or last")
	case in.PassFraction < 0 || in.PassFraction > 1:
		return nil, errs.InvalidField("pass_fraction", "must be between 0 and 1")
	}
	m := &CourseModule{CourseID: courseID, Title: in.Title, Position: in.Position, DueAt: in.DueAt, QuizItems: in.QuizItems,
		QuizMinutes: in.QuizMinutes, QuizAttempts: in.QuizAttempts, QuizMethod: in.QuizMethod, PassFraction: in.PassFraction}
	if m.QuizItems == 0 {
		m.QuizItems = 10
	}
	if m.QuizMethod == "" {
		m.QuizMethod = string(quiz.Highest)
	}
	if m.PassFraction == 0 {
		m.PassFraction = 0.6
	}
	if m.Position == 0 {
		var last int
		if err := store.Org(tx, orgID).Model(&CourseModule{}).Where("course_id = ?", courseID).Select("COALESCE(MAX(position), 0)").Scan(&last).Error; err != nil {
			return nil, err
		}
		m.Position = last + 1
	}
	return m, store.Org(tx, orgID).Create(m).Error
}

// NewLesson is a lesson of a module.
type NewLesson struct {
	Title    string   `json:"title"`
	Body     string   `json:"body" doc:"Markdown"`
	LinkURL  string   `json:"link_url,omitempty" doc:"A video or external page (http or https)"`
	Position int      `json:"position,omitempty"`
	Topics   []string `json:"topics,omitempty" doc:"Topic keys of the course"`
}

// AddLesson adds a lesson to a module; its Markdown is rendered and
// sanitised as help articles are.
func (s *Service) AddLesson(ctx context.Context, tx *gorm.DB, orgID uint, mod *CourseModule, in NewLesson) (*Lesson, error) {
	in.Title = strings.TrimSpace(in.Title)
	if in.Title == "" || len(in.Title) > 200 {
		return nil, errs.InvalidField("title", "is required (at most 200 characters)")
	}
	if len(in.Body) > 200_000 {
		return nil, errs.InvalidField("body", "is longer than 200 000 characters")
	}
	if in.LinkURL != "" {
		u, err := url.Parse(in.LinkURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(in.LinkURL) > 500 {
			return nil, errs.InvalidField("link_url", "must be an http or https address")
		}
	}
	topics, err := topicIDs(tx, orgID, mod.CourseID, in.Topics, "topics")
	if err != nil {
		return nil, err
	}
	r, err := help.Render(in.Body)
	if err != nil {
		return nil, errs.InvalidField("body", "is not valid Markdown")
	}
	l := &Lesson{CourseID: mod.CourseID, ModuleID: mod.ID, Position: in.Position, Title: in.Title, Body: in.Body, HTML: string(r.HTML), LinkURL: in.LinkURL}
	if l.Position == 0 {
		var last int
		if err := store.Org(tx, orgID).Model(&Lesson{}).Where("module_id = ?", mod.ID).Select("COALESCE(MAX(position), 0)").Scan(&last).Error; err != nil {
			return nil, err
		}
		l.Position = last + 1
	}
	if err := store.Org(tx, orgID).Create(l).Error; err != nil {
		return nil, err
	}
	for _, t := range topics {
		if err := store.Org(tx, orgID).Create(&LessonTopic{LessonID: l.ID, TopicID: t}).Error; err != nil {
			return nil, err
		}
	}
	return l, nil
}

// BankQuestion is a quiz.Item as the API takes it (its own name in the
// OpenAPI document).
type BankQuestion quiz.Item

// NewItem is a question of a course's bank: a quiz item with topic keys.
type NewItem struct {
	ExternalID string       `json:"external_id,omitempty" doc:"The integrator's key; sending it again updates nothing"`
	Topics     []string     `json:"topics" doc:"Topic keys of the course (at least one)"`
	Item       BankQuestion `json:"item" doc:"The question; its id is assigned by the bank"`
}

// AddItem adds a question to a course's bank, idempotent by external ID.
func (s *Service) AddItem(ctx context.Context, tx *gorm.DB, orgID, courseID uint, in NewItem) (*BankItem, error) {
	if len(in.Topics) == 0 {
		return nil, errs.InvalidField("topics", "an item needs at least one topic")
	}
	topics, err := topicIDs(tx, orgID, courseID, in.Topics, "topics")
	if err != nil {
		return nil, err
	}
	item := quiz.Item(in.Item)
	item.ID = "new"
	if err := item.Validate(); err != nil {
		if e, ok := errs.As(err); ok && len(e.Fields) > 0 {
			return nil, errs.InvalidField("item."+e.Fields[0].Field, e.Fields[0].Message)
		}
		return nil, err
	}
	var ext *string
	if in.ExternalID != "" {
		ext = &in.ExternalID
		var old BankItem
		if q := store.Org(tx, orgID).Where("course_id = ? AND external_id = ?", courseID, in.ExternalID).Limit(1).Find(&old); q.Error != nil {
			return nil, q.Error
		} else if q.RowsAffected > 0 {
			return &old, nil
		}
	}
	item.ID, item.Topics = "", nil
	raw, _ := json.Marshal(item)
	b := &BankItem{CourseID: courseID, ExternalID: ext, Kind: string(item.Kind), Data: string(raw)}
	if err := store.Org(tx, orgID).Create(b).Error; err != nil {
		return nil, err
	}
	for _, t := range topics {
		if err := store.Org(tx, orgID).Create(&ItemTopic{ItemID: b.ID, TopicID: t}).Error; err != nil {
			return nil, err
		}
	}
	return b, nil
}

// bank returns a course's items as quiz items, their IDs the bank rows' and
// their topics the topic IDs (as strings).
func (s *Service) bank(ctx context.Context, orgID, courseID uint) ([]quiz.Item, error) {
	var rows []BankItem
	if err := s.db(ctx, orgID).Where("course_id = ?", courseID).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	var tags []ItemTopic
	if err := s.db(ctx, orgID).Where("item_id IN (?)", s.db(ctx, orgID).Model(&BankItem{}).Select("id").Where("course_id = ?", courseID)).
		Order("item_id, topic_id").Find(&tags).Error; err != nil {
		return nil, err
	}
	topics := map[uint][]string{}
	for _, t := range tags {
		topics[t.ItemID] = append(topics[t.ItemID], strconv.FormatUint(uint64(t.TopicID), 10))
	}
	out := make([]quiz.Item, 0, len(rows))
	for _, r := range rows {
		var it quiz.Item
		if err := json.Unmarshal([]byte(r.Data), &it); err != nil {
			return nil, fmt.Errorf("bank item %d: %w", r.ID, err)
		}
		it.ID = strconv.FormatUint(uint64(r.ID), 10)
		it.Topics = topics[r.ID]
		out = append(out, it)
	}
	return out, nil
}

// --- enrolment ---

// EnrolLine is one student to enrol: by user ID or e-mail address.
type EnrolLine struct {
	StudentID  uint   `json:"student_id,omitempty"`
	Email      string `json:"email,omitempty"`
	ExternalID string `json:"external_id,omitempty" doc:"The student information system's key: the same line sent twice enrols once"`
}

// EnrolResult counts what a batch did.
type EnrolResult struct {
	Enrolled  int `json:"enrolled"`
	Unchanged int `json:"unchanged"`
}

// Enrol enrols students in a course, all or nothing: a bad line (unknown
// student, not a customer, an external ID already used for someone else)
// refuses the whole batch, naming the line. Lines already enrolled are
// unchanged, so a batch can be sent again.
func (s *Service) Enrol(ctx context.Context, tx *gorm.DB, orgID, courseID uint, lines []EnrolLine) (EnrolResult, error) {
	var res EnrolResult
	if len(lines) == 0 || len(lines) > 5000 {
		return res, errs.InvalidField("students", "send between 1 and 5000 lines")
	}
	var c Course
	if err := store.Org(tx, orgID).First(&c, courseID).Error; err != nil {
		return res, err
	}
	g, err := s.courseGroup(ctx, tx, &c)
	if err != nil {
		return res, err
	}
	for i, l := range lines {
		field := fmt.Sprintf("students[%d]", i)
		var u accounts.User
		q := store.Org(tx, orgID)
		switch {
		case l.StudentID != 0:
			q = q.Where("id = ?", l.StudentID)
		case strings.TrimSpace(l.Email) != "":
			q = q.Where("email = ?", strings.ToLower(strings.TrimSpace(l.Email)))
		default:
			return res, errs.InvalidField(field, "needs student_id or email")
		}
		if r := q.Limit(1).Find(&u); r.Error != nil {
			return res, r.Error
		} else if r.RowsAffected == 0 || u.Role != accounts.Customer {
			return res, errs.InvalidField(field, "is not a student of this organisation")
		}
		var ext *string
		if l.ExternalID != "" {
			if len(l.ExternalID) > 100 {
				return res, errs.InvalidField(field+".external_id", "is longer than 100 characters")
			}
			ext = &l.ExternalID
			var other Enrolment
			if r := store.Org(tx, orgID).Where("course_id = ? AND external_id = ?", courseID, l.ExternalID).Limit(1).Find(&other); r.Error != nil {
				return res, r.Error
			} else if r.RowsAffected > 0 && other.StudentID != u.ID {
				return res, errs.InvalidField(field+".external_id", "is already used for another student of this course")
			}
		}
		var e Enrolment
		r := store.Org(tx, orgID).Where("course_id = ? AND student_id = ?", courseID, u.ID).Limit(1).Find(&e)
		if r.Error != nil {
			return res, r.Error
		}
		if r.RowsAffected > 0 {
			if ext != nil && e.ExternalID == nil {
				if err := store.Org(tx, orgID).Model(&e).Update("external_id", *ext).Error; err != nil {
					return res, err
				}
			}
			res.Unchanged++
			continue
		}
		if err := store.Org(tx, orgID).Create(&Enrolment{CourseID: courseID, StudentID: u.ID, ExternalID: ext}).Error; err != nil {
			return res, err
		}
		if err := s.acc.AddGroupMember(ctx, tx, orgID, g.ID, u.ID, accounts.CustomerSide, "student"); err != nil {
			return res, err
		}
		res.Enrolled++
	}
	return res, nil
}

// Student is an enrolled student as staff see them.
type Student struct {
	ID    uint   `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Roster returns a course's students by name.
func (s *Service) Roster(ctx context.Context, orgID, courseID uint) ([]Student, error) {
	var out []Student
	err := s.db(ctx, orgID).Model(&accounts.User{}).Select("id, name, email").
		Where("id IN (?)", s.db(ctx, orgID).Model(&Enrolment{}).Select("student_id").Where("course_id = ?", courseID)).
		Order("name, id").Scan(&out).Error
	return out, err
}
