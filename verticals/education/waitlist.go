package education

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// OfferWindow is how long a student offered a freed place has to claim
// it (never past the slot's start).
const OfferWindow = 2 * time.Hour

// Waitlist statuses.
const (
	WaitWaiting = "waiting" // in the queue
	WaitOffered = "offered" // a place is held for them until OfferExpiresAt
	WaitClaimed = "claimed" // they took the place: a booking exists
	WaitExpired = "expired" // the offer passed unclaimed to the next
	WaitLeft    = "left"    // they left the queue, or the slot was cancelled
)

// waitStatusLabels show the statuses to people.
var waitStatusLabels = web.Labels{
	WaitWaiting: {Text: "Waiting", Tone: "info"},
	WaitOffered: {Text: "Place offered", Tone: "warn"},
	WaitClaimed: {Text: "Booked", Tone: "ok"},
	WaitExpired: {Text: "Offer expired"},
	WaitLeft:    {Text: "Left the waitlist"},
}

// WaitlistEntry is a student's place in the queue of a full slot. A
// freed place is offered to the first waiting student and held for them
// (the slot's Booked keeps counting it) until they claim it or the offer
// expires.
type WaitlistEntry struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	SlotID         uint       `gorm:"not null;index" json:"slot_id"`
	StudentID      uint       `gorm:"not null;index" json:"student_id"`
	Status         string     `gorm:"size:10;not null" json:"status"`
	QueuedAt       time.Time  `gorm:"not null" json:"queued_at"`
	OfferedAt      *time.Time `json:"offered_at,omitempty"`
	OfferExpiresAt *time.Time `gorm:"index" json:"offer_expires_at,omitempty"`
}

// TableName keeps the table in the module's namespace.
func (WaitlistEntry) TableName() string { return "education_waitlist" }

// waitlistMigration adds the waitlist and cancelled slots (a database
// made before them).
var waitlistMigration = store.Migration{ID: "0002_office_hours_waitlist", Up: func(tx *gorm.DB) error {
	if !tx.Migrator().HasColumn(&Slot{}, "CancelledAt") {
		if err := tx.Migrator().AddColumn(&Slot{}, "CancelledAt"); err != nil {
			return err
		}
	}
	if !tx.Migrator().HasTable(&WaitlistEntry{}) {
		if err := store.CreateTables(&WaitlistEntry{})(tx); err != nil {
			return err
		}
	}
	return tx.Exec("CREATE UNIQUE INDEX IF NOT EXISTS education_waitlist_one ON education_waitlist (slot_id, student_id)").Error
}}

// JoinWaitlist puts the student in the queue of a full slot (409 when the
// slot has a free place, has started, or they booked it or wait already).
func (s *Service) JoinWaitlist(ctx context.Context, p *accounts.Principal, slotID uint) (*WaitlistEntry, error) {
	sl, access, err := s.slot(ctx, p, slotID)
	if err != nil {
		return nil, err
	}
	if access != accessStudent {
		return nil, errs.Forbiddenf("only the course's students join a waitlist")
	}
	if !sl.StartsAt.After(s.now()) {
		return nil, errs.Conflictf("this slot has already started")
	}
	if sl.CancelledAt != nil {
		return nil, errs.Conflictf("this slot is cancelled")
	}
	if sl.Booked < sl.Capacity {
		return nil, errs.Conflictf("this slot has a free place: book it")
	}
	var e WaitlistEntry
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := store.Org(tx, p.OrgID).Model(&Booking{}).Where("slot_id = ? AND student_id = ? AND status = ?", sl.ID, p.UserID, BookingActive).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return errs.Conflictf("you have already booked this slot")
		}
		q := store.Org(tx, p.OrgID).Where("slot_id = ? AND student_id = ?", sl.ID, p.UserID).Limit(1).Find(&e)
		if q.Error != nil {
			return q.Error
		}
		if q.RowsAffected > 0 {
			if e.Status == WaitWaiting || e.Status == WaitOffered {
				return errs.Conflictf("you are already on this slot's waitlist")
			}
			e.Status, e.QueuedAt, e.OfferedAt, e.OfferExpiresAt = WaitWaiting, s.now(), nil, nil
			return store.Org(tx, p.OrgID).Model(&e).Select("status", "queued_at", "offered_at", "offer_expires_at").Updates(&e).Error
		}
		e = WaitlistEntry{SlotID: sl.ID, StudentID: p.UserID, Status: WaitWaiting, QueuedAt: s.now()}
		return store.Org(tx, p.OrgID).Create(&e).Error
	})
	if store.IsUniqueViolation(err) {
		return nil, errs.Conflictf("you are already on this slot's waitlist")
	}
	return &e, err
}

// LeaveWaitlist takes the student out of the queue; a place held for
// them passes to the next.
func (s *Service) LeaveWaitlist(ctx context.Context, p *accounts.Principal, entryID uint) error {
	e, sl, err := s.myEntry(ctx, p, entryID)
	if err != nil {
		return err
	}
	return s.st.Tx(ctx, func(tx *gorm.DB) error {
		res := store.Org(tx, p.OrgID).Model(&WaitlistEntry{}).Where("id = ? AND status IN ?", e.ID, []string{WaitWaiting, WaitOffered}).
			Update("status", WaitLeft)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.Conflictf("you are no longer on this slot's waitlist")
		}
		if e.Status == WaitOffered {
			return s.passPlace(ctx, tx, sl)
		}
		return nil
	})
}

func (s *Service) myEntry(ctx context.Context, p *accounts.Principal, entryID uint) (*WaitlistEntry, *Slot, error) {
	var e WaitlistEntry
	if err := s.db(ctx, p.OrgID).First(&e, entryID).Error; err != nil || e.StudentID != p.UserID {
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, nil, err
		}
		return nil, nil, errs.NotFoundf("no waitlist entry %d", entryID)
	}
	sl, _, err := s.slot(ctx, p, e.SlotID)
	if err != nil {
		return nil, nil, errs.NotFoundf("no waitlist entry %d", entryID)
	}
	return &e, sl, nil
}

// Claim books the place offered to the student. One conditional update
// (offered and not expired → claimed) decides, so two claims of the same
// offer leave one booking and an expired offer cannot be claimed.
func (s *Service) Claim(ctx context.Context, p *accounts.Principal, entryID uint) (*Booking, error) {
	e, sl, err := s.myEntry(ctx, p, entryID)
	if err != nil {
		return nil, err
	}
	var b *Booking
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		res := store.Org(tx, p.OrgID).Model(&WaitlistEntry{}).
			Where("id = ? AND status = ? AND offer_expires_at > ?", e.ID, WaitOffered, s.now()).Update("status", WaitClaimed)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.Conflictf("this offer has expired or was already taken")
		}
		// The place was held for this offer: Booked already counts it.
		var err error
		b, err = s.placeBooking(ctx, tx, p.OrgID, p.UserID, sl, "")
		return err
	})
	return b, err
}

// cancelBooking cancels b in tx, tells the student (by names who: "" the
// student themselves, "staff" the slot's TA) and passes the place on.
func (s *Service) cancelBooking(ctx context.Context, tx *gorm.DB, b *Booking, sl *Slot, by string) error {
	res := store.Org(tx, b.OrgID).Model(&Booking{}).Where("id = ? AND status = ?", b.ID, BookingActive).Update("status", BookingCancelled)
	if res.Error != nil || res.RowsAffected == 0 {
		return res.Error
	}
	if _, err := s.notify.Send(ctx, tx, notify.Notification{OrgID: b.OrgID, UserID: b.StudentID, Kind: KindBookingCancelled,
		DedupeKey: fmt.Sprintf("booking_cancelled:%d:%d", b.ID, s.now().UnixNano()),
		Data: map[string]any{"starts_at": sl.StartsAt, "where": slotWhere(sl), "by_staff": by == "staff",
			"link": courseURL(sl.CourseID) + "#office-hours"}}); err != nil {
		return err
	}
	if by == "staff" {
		return nil // the slot itself is cancelled: no place to pass on
	}
	return s.passPlace(ctx, tx, sl)
}

// passPlace hands a freed place of sl to the first waiting student (an
// offer, the place held) or, with nobody waiting or the slot started,
// gives it back. Concurrent callers each offer to a different student: the
// offer is a conditional update of one waiting entry.
func (s *Service) passPlace(ctx context.Context, tx *gorm.DB, sl *Slot) error {
	now := s.now()
	if sl.StartsAt.After(now) {
		until := now.Add(OfferWindow)
		if sl.StartsAt.Before(until) {
			until = sl.StartsAt
		}
		for range 20 {
			var e WaitlistEntry
			q := store.Org(tx, sl.OrgID).Where("slot_id = ? AND status = ?", sl.ID, WaitWaiting).Order("queued_at, id").Limit(1).Find(&e)
			if q.Error != nil {
				return q.Error
			}
			if q.RowsAffected == 0 {
				break
			}
			res := store.Org(tx, sl.OrgID).Model(&WaitlistEntry{}).Where("id = ? AND status = ?", e.ID, WaitWaiting).
				Updates(map[string]any{"status": WaitOffered, "offered_at": now, "offer_expires_at": until})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				continue // taken by a concurrent offer: the next one
			}
			_, err := s.notify.Send(ctx, tx, notify.Notification{OrgID: sl.OrgID, UserID: e.StudentID, Kind: KindWaitlistOffer,
				DedupeKey: fmt.Sprintf("waitlist_offer:%d:%d", e.ID, now.UnixNano()),
				Data: map[string]any{"starts_at": sl.StartsAt, "where": slotWhere(sl), "until": until,
					"link": courseURL(sl.CourseID) + "#office-hours"}})
			return err
		}
	}
	return store.Org(tx, sl.OrgID).Model(&Slot{}).Where("id = ? AND booked > 0", sl.ID).Update("booked", gorm.Expr("booked - 1")).Error
}

// expireOffers passes every offer not claimed in time to the next student
// on the slot's waitlist (or gives the place back). The conditional update
// offered → expired makes a rerun, or a claim at the same moment, act once.
func (s *Service) expireOffers(ctx context.Context, r *schedule.Run) error {
	var due []WaitlistEntry
	// Every organisation, deliberately: the job walks them all.
	if err := store.AllOrgs(s.st.DB.WithContext(ctx)).Where("status = ? AND offer_expires_at <= ?", WaitOffered, s.now()).
		Order("offer_expires_at, id").Limit(1000).Find(&due).Error; err != nil {
		return err
	}
	passed := 0
	for _, e := range due {
		err := s.st.Tx(ctx, func(tx *gorm.DB) error {
			res := store.Org(tx, e.OrgID).Model(&WaitlistEntry{}).Where("id = ? AND status = ?", e.ID, WaitOffered).Update("status", WaitExpired)
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error
			}
			var sl Slot
			if err := store.Org(tx, e.OrgID).First(&sl, e.SlotID).Error; err != nil {
				return err
			}
			passed++
			return s.passPlace(ctx, tx, &sl)
		})
		if err != nil {
			return err
		}
	}
	r.Log.Info("passed expired waitlist offers on", "offers", passed)
	return nil
}

// Waitlist returns a slot's waiting and offered students, first first
// (the slot's staff).
func (s *Service) Waitlist(ctx context.Context, orgID, slotID uint) ([]WaitlistView, error) {
	var es []WaitlistEntry
	if err := s.db(ctx, orgID).Where("slot_id = ? AND status IN ?", slotID, []string{WaitWaiting, WaitOffered}).Order("queued_at, id").Find(&es).Error; err != nil {
		return nil, err
	}
	out := make([]WaitlistView, len(es))
	for i, e := range es {
		u, err := s.acc.UserByID(ctx, orgID, e.StudentID)
		if err != nil {
			return nil, err
		}
		out[i] = WaitlistView{WaitlistEntry: e, StudentName: u.Name}
	}
	return out, nil
}

// WaitlistView is a waitlist entry with the student's name.
type WaitlistView struct {
	WaitlistEntry
	StudentName string `json:"student_name"`
}

// myWaits returns the caller's open waitlist entries by slot.
func (s *Service) myWaits(ctx context.Context, p *accounts.Principal, slotIDs []uint) (map[uint]WaitlistEntry, error) {
	out := map[uint]WaitlistEntry{}
	if len(slotIDs) == 0 || p.Role != accounts.Customer {
		return out, nil
	}
	var es []WaitlistEntry
	if err := s.db(ctx, p.OrgID).Where("slot_id IN ? AND student_id = ? AND status IN ?", slotIDs, p.UserID, []string{WaitWaiting, WaitOffered}).
		Find(&es).Error; err != nil {
		return nil, err
	}
	for _, e := range es {
		out[e.SlotID] = e
	}
	return out, nil
}
