package education

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/store"
)

// CancelCutoff is how long before a slot a booking can still be cancelled.
const CancelCutoff = 2 * time.Hour

// NewSlots publishes office hours: one slot, or the same slot every week
// for Weeks weeks.
type NewSlots struct {
	StartsAt time.Time `json:"starts_at"`
	Minutes  int       `json:"minutes" doc:"Length of the slot (5-480)"`
	Place    string    `json:"place,omitempty" doc:"A room; or give link"`
	Link     string    `json:"link,omitempty" doc:"An online meeting (https)"`
	Capacity int       `json:"capacity,omitempty" doc:"Students per slot (default 1)"`
	Weeks    int       `json:"weeks,omitempty" doc:"Repeat weekly this many times (default 1, at most 16)"`
	TAID     uint      `json:"ta_id,omitempty" doc:"Admins and integrators: the TA (staff of the course); staff publish their own"`
}

// PublishSlots creates office-hour slots of a course for a TA.
func (s *Service) PublishSlots(ctx context.Context, tx *gorm.DB, p *accounts.Principal, c *Course, in NewSlots) ([]Slot, error) {
	ta := in.TAID
	if p.Role == accounts.Staff {
		ta = p.UserID
	}
	var n int64
	if err := store.Org(tx, c.OrgID).Model(&CourseStaff{}).Where("course_id = ? AND user_id = ?", c.ID, ta).Count(&n).Error; err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, errs.InvalidField("ta_id", "must be a professor or TA of this course")
	}
	in.Place, in.Link = strings.TrimSpace(in.Place), strings.TrimSpace(in.Link)
	switch {
	case in.StartsAt.IsZero() || !in.StartsAt.After(s.now()):
		return nil, errs.InvalidField("starts_at", "must be in the future")
	case in.Minutes < 5 || in.Minutes > 480:
		return nil, errs.InvalidField("minutes", "must be between 5 and 480")
	case in.Place == "" && in.Link == "":
		return nil, errs.InvalidField("place", "give a place or an online link")
	case len(in.Place) > 200:
		return nil, errs.InvalidField("place", "is longer than 200 characters")
	case in.Capacity < 0 || in.Capacity > 50:
		return nil, errs.InvalidField("capacity", "must be between 1 and 50")
	case in.Weeks < 0 || in.Weeks > 16:
		return nil, errs.InvalidField("weeks", "must be between 1 and 16")
	}
	if in.Link != "" {
		u, err := url.Parse(in.Link)
		if err != nil || u.Scheme != "https" || u.Host == "" || len(in.Link) > 500 {
			return nil, errs.InvalidField("link", "must be an https address")
		}
	}
	in.Capacity, in.Weeks = max(in.Capacity, 1), max(in.Weeks, 1)
	out := make([]Slot, in.Weeks)
	for w := range in.Weeks {
		start := in.StartsAt.UTC().AddDate(0, 0, 7*w)
		out[w] = Slot{CourseID: c.ID, TAID: ta, StartsAt: start, EndsAt: start.Add(time.Duration(in.Minutes) * time.Minute), Place: in.Place, Link: in.Link, Capacity: in.Capacity}
	}
	return out, store.Org(tx, c.OrgID).Create(&out).Error
}

// SlotView is a slot with its TA's name and, for the student asking, their
// booking.
type SlotView struct {
	Slot
	TAName    string `json:"ta_name"`
	Free      int    `json:"free"`
	BookingID uint   `json:"booking_id,omitempty" doc:"The caller's booking of this slot"`
	// Waitlist is the caller's place in the slot's queue (waiting, or a
	// place offered until offer_expires_at).
	Waitlist *WaitlistEntry `json:"waitlist,omitempty" doc:"The caller's place on the slot's waitlist"`
}

// Slots returns a course's upcoming slots, soonest first.
func (s *Service) Slots(ctx context.Context, p *accounts.Principal, courseID uint) ([]SlotView, error) {
	var slots []Slot
	if err := s.db(ctx, p.OrgID).Where("course_id = ? AND starts_at > ? AND cancelled_at IS NULL", courseID, s.now()).Order("starts_at, id").Limit(200).Find(&slots).Error; err != nil {
		return nil, err
	}
	names := map[uint]string{}
	mine := map[uint]uint{}
	if len(slots) > 0 {
		var us []accounts.User
		ids := make([]uint, 0, len(slots))
		sids := make([]uint, 0, len(slots))
		for _, sl := range slots {
			ids = append(ids, sl.TAID)
			sids = append(sids, sl.ID)
		}
		if err := s.db(ctx, p.OrgID).Select("id, name").Where("id IN ?", ids).Find(&us).Error; err != nil {
			return nil, err
		}
		for _, u := range us {
			names[u.ID] = u.Name
		}
		var bs []Booking
		if err := s.db(ctx, p.OrgID).Where("slot_id IN ? AND student_id = ? AND status = ?", sids, p.UserID, BookingActive).Find(&bs).Error; err != nil {
			return nil, err
		}
		for _, b := range bs {
			mine[b.SlotID] = b.ID
		}
	}
	ids := make([]uint, len(slots))
	for i, sl := range slots {
		ids[i] = sl.ID
	}
	waits, err := s.myWaits(ctx, p, ids)
	if err != nil {
		return nil, err
	}
	out := make([]SlotView, len(slots))
	for i, sl := range slots {
		out[i] = SlotView{Slot: sl, TAName: names[sl.TAID], Free: sl.Capacity - sl.Booked, BookingID: mine[sl.ID]}
		if e, ok := waits[sl.ID]; ok {
			out[i].Waitlist = &e
		}
	}
	return out, nil
}

// slot returns a slot p reaches through its course.
func (s *Service) slot(ctx context.Context, p *accounts.Principal, id uint) (*Slot, string, error) {
	var sl Slot
	if err := s.db(ctx, p.OrgID).First(&sl, id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, "", errs.NotFoundf("no slot %d", id)
	} else if err != nil {
		return nil, "", err
	}
	if _, access, err := s.courseAccess(ctx, p, sl.CourseID); err != nil {
		return nil, "", errs.NotFoundf("no slot %d", id)
	} else {
		return &sl, access, nil
	}
}

// Book takes a place in a slot for the student. One conditional update
// claims the place (booked < capacity), so concurrent requests for the last
// place leave exactly one winner; the loser gets a conflict.
func (s *Service) Book(ctx context.Context, p *accounts.Principal, slotID uint, note string) (*Booking, error) {
	sl, access, err := s.slot(ctx, p, slotID)
	if err != nil {
		return nil, err
	}
	if access != accessStudent {
		return nil, errs.Forbiddenf("only the course's students book office hours")
	}
	note = strings.TrimSpace(note)
	if len(note) > 1000 {
		return nil, errs.InvalidField("note", "is longer than 1000 characters")
	}
	if !sl.StartsAt.After(s.now()) {
		return nil, errs.Conflictf("this slot has already started")
	}
	var b Booking
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		var old Booking
		q := store.Org(tx, p.OrgID).Where("slot_id = ? AND student_id = ?", sl.ID, p.UserID).Limit(1).Find(&old)
		if q.Error != nil {
			return q.Error
		}
		if q.RowsAffected > 0 && old.Status == BookingActive {
			return errs.Conflictf("you have already booked this slot")
		}
		if err := claimPlace(tx, p.OrgID, sl.ID); err != nil {
			return err
		}
		nb, err := s.placeBooking(ctx, tx, p.OrgID, p.UserID, sl, note)
		if nb != nil {
			b = *nb
		}
		return err
	})
	if store.IsUniqueViolation(err) {
		return nil, errs.Conflictf("you have already booked this slot")
	}
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// claimPlace takes one place of a slot with one conditional update, so
// concurrent claims of the last place leave exactly one winner.
func claimPlace(tx *gorm.DB, orgID, slotID uint) error {
	res := store.Org(tx, orgID).Model(&Slot{}).Where("id = ? AND booked < capacity AND cancelled_at IS NULL", slotID).Update("booked", gorm.Expr("booked + 1"))
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errs.Conflictf("this slot is full")
	}
	return nil
}

// placeBooking writes the student's booking of sl (reviving a cancelled
// one: one row per slot and student) for a place already claimed, and
// sends the confirmation with its calendar file, in tx.
func (s *Service) placeBooking(ctx context.Context, tx *gorm.DB, orgID, studentID uint, sl *Slot, note string) (*Booking, error) {
	var old Booking
	q := store.Org(tx, orgID).Where("slot_id = ? AND student_id = ?", sl.ID, studentID).Limit(1).Find(&old)
	if q.Error != nil {
		return nil, q.Error
	}
	var b Booking
	if q.RowsAffected > 0 {
		if old.Status == BookingActive {
			return nil, errs.Conflictf("you have already booked this slot")
		}
		b = old
		b.Status, b.Note = BookingActive, note
		if err := store.Org(tx, orgID).Model(&b).Updates(map[string]any{"status": BookingActive, "note": note}).Error; err != nil {
			return nil, err
		}
	} else {
		b = Booking{SlotID: sl.ID, StudentID: studentID, Note: note, Status: BookingActive}
		if err := store.Org(tx, orgID).Create(&b).Error; err != nil {
			return nil, err
		}
	}
	var course Course
	if err := store.Org(tx, orgID).First(&course, sl.CourseID).Error; err != nil {
		return nil, err
	}
	var ta accounts.User
	if err := store.Org(tx, orgID).Select("name").First(&ta, sl.TAID).Error; err != nil {
		return nil, err
	}
	_, err := s.notify.Send(ctx, tx, notify.Notification{OrgID: orgID, UserID: studentID, Kind: KindBookingConfirmed,
		DedupeKey: fmt.Sprintf("booking:%d:%d", b.ID, s.now().Unix()),
		Data:      map[string]any{"starts_at": sl.StartsAt, "where": slotWhere(sl), "link": courseURL(sl.CourseID) + "#office-hours"},
		Attachments: []notify.Attachment{{Name: "office-hours.ics", ContentType: "text/calendar; charset=utf-8",
			Content: BookingICS(&b, sl, &course, ta.Name, s.host, s.now())}}})
	return &b, err
}

// slotWhere is a slot's place, else its meeting link.
func slotWhere(sl *Slot) string {
	if sl.Place != "" {
		return sl.Place
	}
	return sl.Link
}

// Cancel cancels the student's booking up to CancelCutoff before the slot
// and frees the place: offered to the first student on the waitlist, if
// any, else given back.
func (s *Service) Cancel(ctx context.Context, p *accounts.Principal, bookingID uint) error {
	var b Booking
	if err := s.db(ctx, p.OrgID).First(&b, bookingID).Error; err != nil || b.StudentID != p.UserID {
		return errs.NotFoundf("no booking %d", bookingID)
	}
	sl, _, err := s.slot(ctx, p, b.SlotID)
	if err != nil {
		return err
	}
	if b.Status != BookingActive {
		return errs.Conflictf("this booking is already cancelled")
	}
	if sl.StartsAt.Sub(s.now()) < CancelCutoff {
		return errs.Conflictf("bookings can be cancelled up to two hours before the slot")
	}
	return s.st.Tx(ctx, func(tx *gorm.DB) error {
		return s.cancelBooking(ctx, tx, &b, sl, "")
	})
}

// BookingView is a booking as the TA sees it: the student, their note and
// their weak topics in the slot's course.
type BookingView struct {
	Booking
	StudentName string       `json:"student_name"`
	WeakTopics  []Suggestion `json:"weak_topics"`
}

// SlotBookings returns a slot's active bookings for its course staff.
func (s *Service) SlotBookings(ctx context.Context, p *accounts.Principal, slotID uint) (*Slot, []BookingView, error) {
	sl, access, err := s.slot(ctx, p, slotID)
	if err != nil {
		return nil, nil, err
	}
	if access == accessStudent {
		return nil, nil, errs.Forbiddenf("only the course's staff see a slot's bookings")
	}
	var bs []Booking
	if err := s.db(ctx, p.OrgID).Where("slot_id = ? AND status = ?", sl.ID, BookingActive).Order("created_at, id").Find(&bs).Error; err != nil {
		return nil, nil, err
	}
	out := make([]BookingView, len(bs))
	for i, b := range bs {
		u, err := s.acc.UserByID(ctx, p.OrgID, b.StudentID)
		if err != nil {
			return nil, nil, err
		}
		weak, err := s.Suggestions(ctx, p.OrgID, b.StudentID, sl.CourseID)
		if err != nil {
			return nil, nil, err
		}
		out[i] = BookingView{Booking: b, StudentName: u.Name, WeakTopics: append([]Suggestion{}, weak...)}
	}
	return sl, out, nil
}

// MySlots returns the upcoming slots a TA holds, across their courses.
func (s *Service) MySlots(ctx context.Context, p *accounts.Principal) ([]Slot, error) {
	var out []Slot
	return out, s.db(ctx, p.OrgID).Where("ta_id = ? AND ends_at > ? AND cancelled_at IS NULL", p.UserID, s.now()).Order("starts_at, id").Limit(100).Find(&out).Error
}

// Calendar returns the iCalendar file of the student's booking.
func (s *Service) Calendar(ctx context.Context, p *accounts.Principal, bookingID uint) ([]byte, error) {
	var b Booking
	if err := s.db(ctx, p.OrgID).First(&b, bookingID).Error; err != nil || b.StudentID != p.UserID {
		return nil, errs.NotFoundf("no booking %d", bookingID)
	}
	sl, _, err := s.slot(ctx, p, b.SlotID)
	if err != nil {
		return nil, err
	}
	var course Course
	if err := s.db(ctx, p.OrgID).First(&course, sl.CourseID).Error; err != nil {
		return nil, err
	}
	ta, err := s.acc.UserByID(ctx, p.OrgID, sl.TAID)
	if err != nil {
		return nil, err
	}
	return BookingICS(&b, sl, &course, ta.Name, s.host, s.now()), nil
}
