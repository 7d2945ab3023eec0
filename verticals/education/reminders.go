package education

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/core/store"
)

// reminders are when students are reminded of a booked slot: a day and an
// hour before. A booking made inside a window gets that window's reminder
// only if no nearer one is due (a booking made 30 minutes ahead gets the
// one-hour reminder, not both).
var reminders = []struct {
	name   string
	before time.Duration
}{{"1h", time.Hour}, {"24h", 24 * time.Hour}}

// bookingReminders sends each active booking its 24-hour and 1-hour
// reminders. The notification's dedupe key (booking and reminder) makes
// each reminder go once however often the job runs; r.Once skips what a
// retried attempt of the same run already did.
func (s *Service) bookingReminders(ctx context.Context, r *schedule.Run) error {
	now := s.now()
	sent := 0
	nearer := time.Duration(0)
	for _, rm := range reminders {
		var due []struct {
			ID        uint
			OrgID     uint
			StudentID uint
			SlotID    uint
		}
		// Every organisation, deliberately: the job walks them all.
		err := store.AllOrgs(s.st.DB.WithContext(ctx)).Table("education_bookings AS b").Select("b.id, b.org_id, b.student_id, b.slot_id").
			Joins("JOIN education_slots sl ON sl.id = b.slot_id").
			Where("b.status = ? AND sl.starts_at > ? AND sl.starts_at <= ?", BookingActive, now.Add(nearer), now.Add(rm.before)).
			Order("b.id").Limit(5000).Scan(&due).Error
		if err != nil {
			return err
		}
		nearer = rm.before
		err = s.st.Tx(ctx, func(tx *gorm.DB) error {
			for _, b := range due {
				first, err := r.Once(tx, fmt.Sprintf("booking/%d/%s", b.ID, rm.name))
				if err != nil {
					return err
				}
				if !first {
					continue
				}
				var sl Slot
				if err := store.Org(tx, b.OrgID).First(&sl, b.SlotID).Error; err != nil {
					return err
				}
				isNew, err := s.notify.Send(ctx, tx, notify.Notification{OrgID: b.OrgID, UserID: b.StudentID, Kind: KindBookingReminder,
					DedupeKey: fmt.Sprintf("booking_reminder:%d:%s:%d", b.ID, rm.name, sl.StartsAt.Unix()),
					Data: map[string]any{"starts_at": sl.StartsAt, "where": slotWhere(&sl), "before": rm.name,
						"link": courseURL(sl.CourseID) + "#office-hours"}})
				if err != nil {
					return err
				}
				if isNew {
					sent++
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	r.Log.Info("reminded students of office hours", "sent", sent)
	return nil
}

// CancelSlot cancels a slot (its TA, the course's staff, admins): every
// booking is cancelled and its student told, and the waitlist closed.
func (s *Service) CancelSlot(ctx context.Context, p *accounts.Principal, slotID uint) error {
	sl, access, err := s.slot(ctx, p, slotID)
	if err != nil {
		return err
	}
	if access == accessStudent {
		return errs.Forbiddenf("only the course's staff cancel office hours")
	}
	if !sl.StartsAt.After(s.now()) {
		return errs.Conflictf("this slot has already started")
	}
	return s.st.Tx(ctx, func(tx *gorm.DB) error {
		res := store.Org(tx, p.OrgID).Model(&Slot{}).Where("id = ? AND cancelled_at IS NULL", sl.ID).Updates(map[string]any{"cancelled_at": s.now(), "booked": 0})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.Conflictf("this slot is already cancelled")
		}
		var bs []Booking
		if err := store.Org(tx, p.OrgID).Where("slot_id = ? AND status = ?", sl.ID, BookingActive).Order("id").Find(&bs).Error; err != nil {
			return err
		}
		for i := range bs {
			if err := s.cancelBooking(ctx, tx, &bs[i], sl, "staff"); err != nil {
				return err
			}
		}
		return store.Org(tx, p.OrgID).Model(&WaitlistEntry{}).Where("slot_id = ? AND status IN ?", sl.ID, []string{WaitWaiting, WaitOffered}).
			Update("status", WaitLeft).Error
	})
}

// Reschedule moves the student's booking to another slot of the same
// course, up to the cancellation cut-off, in one transaction: the new
// place is claimed (the same conditional update as a booking), the booking
// there written, the old booking cancelled and its place passed to the old
// slot's waitlist.
func (s *Service) Reschedule(ctx context.Context, p *accounts.Principal, bookingID, toSlotID uint) (*Booking, error) {
	var b Booking
	if err := s.db(ctx, p.OrgID).First(&b, bookingID).Error; err != nil || b.StudentID != p.UserID {
		return nil, errs.NotFoundf("no booking %d", bookingID)
	}
	from, _, err := s.slot(ctx, p, b.SlotID)
	if err != nil {
		return nil, err
	}
	to, _, err := s.slot(ctx, p, toSlotID)
	if err != nil {
		return nil, errs.InvalidField("slot_id", "is not a slot of your course")
	}
	switch {
	case b.Status != BookingActive:
		return nil, errs.Conflictf("this booking is already cancelled")
	case to.CourseID != from.CourseID:
		return nil, errs.InvalidField("slot_id", "must be a slot of the same course")
	case to.ID == from.ID:
		return nil, errs.InvalidField("slot_id", "is the slot you have booked")
	case from.StartsAt.Sub(s.now()) < CancelCutoff:
		return nil, errs.Conflictf("bookings can be moved up to two hours before the slot")
	case !to.StartsAt.After(s.now()):
		return nil, errs.Conflictf("this slot has already started")
	}
	var nb *Booking
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := store.Org(tx, p.OrgID).Model(&Booking{}).Where("slot_id = ? AND student_id = ? AND status = ?", to.ID, p.UserID, BookingActive).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return errs.Conflictf("you have already booked this slot")
		}
		if err := claimPlace(tx, p.OrgID, to.ID); err != nil {
			return err
		}
		var err error
		if nb, err = s.placeBooking(ctx, tx, p.OrgID, p.UserID, to, b.Note); err != nil {
			return err
		}
		res := store.Org(tx, p.OrgID).Model(&Booking{}).Where("id = ? AND status = ?", b.ID, BookingActive).Update("status", BookingCancelled)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.Conflictf("this booking is already cancelled")
		}
		return s.passPlace(ctx, tx, from)
	})
	if store.IsUniqueViolation(err) {
		return nil, errs.Conflictf("you have already booked this slot")
	}
	return nb, err
}
