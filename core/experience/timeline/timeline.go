// Package timeline is the customer 360° view: every event about a customer
// — sign-ins, notifications and their channel, messages, feedback, device
// alerts, any module's events — in one time-ordered, filterable, paged list
// for the customer ("My activity"), the staff assigned to them and admins.
//
// Nothing module-specific lives here. An event joins the timeline when it
// carries a subject (events.Event.SubjectID, the customer) and a summary
// (events.Event.Summary, an English format key translated for each viewer,
// with SummaryArgs). The timeline subscribes to every event and writes the
// entry in the event's transaction, so an operation that rolls back leaves
// nothing behind.
//
// timeline imports accounts, errs, events, i18n, store and web; never
// core/module or core/app.
package timeline

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/i18n"
	"github.com/portalkit/portalkit/core/store"
)

// Entry is one event on a customer's timeline.
type Entry struct {
	ID uint `gorm:"primaryKey"`
	store.OrgOwned
	CustomerID uint   `gorm:"not null"`
	ActorID    uint   `gorm:"not null;default:0"`
	Event      string `gorm:"size:100;not null"`
	// Module is the event name's area ("accounts", "notify", "banking").
	Module  string `gorm:"size:50;not null"`
	Summary string `gorm:"size:300;not null"`
	// Args are the summary's values as a JSON array.
	Args string    `gorm:"type:text;not null"`
	Link string    `gorm:"size:300;not null;default:''"`
	At   time.Time `gorm:"not null"`
}

// TableName is timeline_entries.
func (Entry) TableName() string { return "timeline_entries" }

// Options builds a Service.
type Options struct {
	Store    *store.Store
	Accounts *accounts.Service
	Events   *events.Bus
	Catalog  *i18n.Catalog
	Log      *slog.Logger
}

// Service records and reads timelines.
type Service struct {
	st  *store.Store
	acc *accounts.Service
	cat *i18n.Catalog
	log *slog.Logger
}

// New returns the timeline service, subscribed to every event of bus.
func New(o Options) *Service {
	s := &Service{st: o.Store, acc: o.Accounts, cat: o.Catalog, log: o.Log}
	if s.log == nil {
		s.log = slog.Default()
	}
	if o.Events != nil {
		o.Events.SubscribeBatch("*", s.record)
	}
	return s
}

// Migrations are the timeline table and its keyset index.
func (s *Service) Migrations() []store.Migration {
	return []store.Migration{{ID: "0001_tables", Up: func(tx *gorm.DB) error {
		if err := tx.Migrator().AutoMigrate(&Entry{}); err != nil {
			return err
		}
		return tx.Exec("CREATE INDEX timeline_entries_customer_at ON timeline_entries (org_id, customer_id, at DESC, id DESC)").Error
	}}}
}

// record writes the timeline entries of the events that have a subject
// and a summary, in the events' transaction: one multi-row insert per
// organisation, however many events one operation published together.
func (s *Service) record(ctx context.Context, es []events.Event) error {
	byOrg := map[uint][]Entry{}
	var orgs []uint
	var db *gorm.DB
	for _, e := range es {
		if e.SubjectID == 0 || e.Summary == "" || e.OrgID == 0 {
			continue
		}
		args := e.SummaryArgs
		if args == nil {
			args = []any{}
		}
		raw, err := json.Marshal(args)
		if err != nil {
			return fmt.Errorf("timeline: summary args of %s: %w", e.Name, err)
		}
		module, _, _ := strings.Cut(e.Name, ".")
		if _, ok := byOrg[e.OrgID]; !ok {
			orgs = append(orgs, e.OrgID)
		}
		byOrg[e.OrgID] = append(byOrg[e.OrgID], Entry{CustomerID: e.SubjectID, ActorID: e.ActorID, Event: trunc(e.Name, 100), Module: trunc(module, 50),
			Summary: trunc(e.Summary, 300), Args: string(raw), Link: trunc(e.Link, 300), At: e.Time.UTC()})
		if db == nil {
			db = e.Tx // PublishMany's events share one transaction
		}
	}
	if len(orgs) == 0 {
		return nil
	}
	if db == nil {
		db = s.st.DB
	}
	for _, org := range orgs {
		if err := store.Org(db.WithContext(ctx), org).CreateInBatches(byOrg[org], 500).Error; err != nil {
			return err
		}
	}
	return nil
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Filter narrows a timeline.
type Filter struct {
	Module string
	Event  string
	From   time.Time // inclusive; zero for no bound
	To     time.Time // exclusive; zero for no bound
	// Cursor is the previous page's NextCursor; empty for the first page.
	Cursor string
	Limit  int
}

// Item is an entry as a viewer reads it.
type Item struct {
	ID      uint      `json:"id"`
	At      time.Time `json:"at"`
	Event   string    `json:"event"`
	Module  string    `json:"module"`
	Summary string    `json:"summary" doc:"In the viewer's language"`
	Link    string    `json:"link,omitempty"`
	ActorID uint      `json:"actor_id,omitempty"`
}

// Page is one page of a timeline.
type Page struct {
	Items []Item `json:"items"`
	// NextCursor fetches the next (older) page; empty on the last one.
	NextCursor string `json:"next_cursor,omitempty"`
}

func encodeCursor(at time.Time, id uint) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixNano(), 10) + ":" + strconv.FormatUint(uint64(id), 10)))
}

var errCursor = errs.InvalidField("cursor", "is not a cursor this list returned")

func decodeCursor(c string) (time.Time, uint, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, 0, errCursor
	}
	a, b2, ok := strings.Cut(string(b), ":")
	ns, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseUint(b2, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return time.Time{}, 0, errCursor
	}
	return time.Unix(0, ns).UTC(), uint(id), nil
}

// Customer is a customer a viewer may open the timeline of.
type Customer struct {
	ID          uint       `json:"id"`
	Name        string     `json:"name"`
	Email       string     `json:"email"`
	LastLoginAt *time.Time `json:"last_login_at,omitempty"`
}

// Customers lists the customers p may see (staff: assigned; admins: all),
// by name, at most limit from offset.
func (s *Service) Customers(ctx context.Context, p *accounts.Principal, q string, offset, limit int) ([]Customer, error) {
	db, err := s.acc.Reach(Area).WhereVisible(ctx, p, store.Org(s.st.DB.WithContext(ctx), p.OrgID).Model(&accounts.User{}).Where("role = ?", accounts.Customer), "id")
	if err != nil {
		return nil, err
	}
	if q = strings.TrimSpace(q); q != "" {
		like := store.ContainsLike(strings.ToLower(q))
		db = db.Where("(LOWER(name) LIKE ?"+store.LikeEscape+" OR email LIKE ?"+store.LikeEscape+")", like, like)
	}
	var users []accounts.User
	if err := db.Order("name, id").Offset(offset).Limit(limit).Find(&users).Error; err != nil {
		return nil, err
	}
	out := make([]Customer, 0, len(users))
	for _, u := range users {
		out = append(out, Customer{ID: u.ID, Name: u.Name, Email: u.Email, LastLoginAt: u.LastLoginAt})
	}
	return out, nil
}

// CustomerFor returns customer id if p may read their timeline: the
// customer themselves, assigned staff, admins and API tokens (the
// customers:read scope); a not-found error for anyone else.
func (s *Service) CustomerFor(ctx context.Context, p *accounts.Principal, id uint) (*Customer, error) {
	if p == nil {
		return nil, errs.NotFoundf("not found")
	}
	if err := s.acc.Reach(Area).CanRead(ctx, p, p.OrgID, id); err != nil {
		return nil, err
	}
	var u accounts.User
	err := store.Org(s.st.DB.WithContext(ctx), p.OrgID).Where("id = ? AND role = ?", id, accounts.Customer).First(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.NotFoundf("not found")
	}
	if err != nil {
		return nil, err
	}
	return &Customer{ID: u.ID, Name: u.Name, Email: u.Email, LastLoginAt: u.LastLoginAt}, nil
}

// MaxLimit bounds a page.
const MaxLimit = 200

// List returns a page of customer id's timeline for p, newest first, with
// summaries in lang. Paging is by keyset (at, id), so a deep page costs as
// much as the first.
func (s *Service) List(ctx context.Context, p *accounts.Principal, customerID uint, f Filter, lang string) (*Page, error) {
	if _, err := s.CustomerFor(ctx, p, customerID); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > MaxLimit {
		f.Limit = 50
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return nil, errs.InvalidField("to", "must be after from")
	}
	db := store.Org(s.st.DB.WithContext(ctx), p.OrgID).Where("customer_id = ?", customerID)
	if f.Module != "" {
		db = db.Where("module = ?", f.Module)
	}
	if f.Event != "" {
		db = db.Where("event = ?", f.Event)
	}
	if !f.From.IsZero() {
		db = db.Where("at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		db = db.Where("at < ?", f.To.UTC())
	}
	if f.Cursor != "" {
		at, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		db = db.Where("(at, id) < (?, ?)", at, id)
	}
	var ents []Entry
	if err := db.Order("at DESC, id DESC").Limit(f.Limit + 1).Find(&ents).Error; err != nil {
		return nil, err
	}
	out := &Page{Items: make([]Item, 0, min(len(ents), f.Limit))}
	for i, e := range ents {
		if i == f.Limit {
			last := ents[i-1]
			out.NextCursor = encodeCursor(last.At, last.ID)
			break
		}
		out.Items = append(out.Items, Item{ID: e.ID, At: e.At, Event: e.Event, Module: e.Module, Summary: s.translate(e, lang), Link: e.Link, ActorID: e.ActorID})
	}
	return out, nil
}

// Modules returns the areas present on a customer's timeline (the module
// filter's choices).
func (s *Service) Modules(ctx context.Context, orgID, customerID uint) ([]string, error) {
	var mods []string
	err := store.Org(s.st.DB.WithContext(ctx), orgID).Model(&Entry{}).Where("customer_id = ?", customerID).
		Distinct("module").Order("module").Pluck("module", &mods).Error
	return mods, err
}

// translate renders an entry's summary in lang: the module's own
// translations first, then the shared catalog.
func (s *Service) translate(e Entry, lang string) string {
	args, err := decodeArgs(e.Args)
	if err != nil {
		return e.Summary
	}
	if s.cat == nil {
		return fmt.Sprintf(e.Summary, args...)
	}
	return s.cat.TIn(e.Module, lang, e.Summary, args...)
}

// decodeArgs reads the JSON args back, whole numbers as int64 so %d works.
func decodeArgs(raw string) ([]any, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.UseNumber()
	var args []any
	if err := dec.Decode(&args); err != nil {
		return nil, err
	}
	for i, a := range args {
		if n, ok := a.(json.Number); ok {
			if v, err := n.Int64(); err == nil {
				args[i] = v
			} else if f, err := n.Float64(); err == nil {
				args[i] = f
			}
		}
	}
	return args, nil
}

// CursorAfter returns the cursor of the page that follows entry e (tools
// and benchmarks that start a walk in the middle).
func CursorAfter(e Entry) string { return encodeCursor(e.At, e.ID) }
