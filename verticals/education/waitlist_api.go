package education

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// waitlistFixture is a full slot of the owner's course with the owner on
// its waitlist in status (offered: a place held for them).
func (s *Service) waitlistFixture(status string) accounts.Fixture {
	return func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
		sl, err := s.slotFixture(ctx, tx, owner)
		if err != nil {
			return nil, nil, err
		}
		if err := store.Org(tx, owner.OrgID).Model(sl).Update("booked", sl.Capacity).Error; err != nil {
			return nil, nil, err
		}
		e := &WaitlistEntry{SlotID: sl.ID, StudentID: owner.UserID, Status: status, QueuedAt: s.now()}
		if status == WaitOffered {
			now, until := s.now(), s.now().Add(OfferWindow)
			e.OfferedAt, e.OfferExpiresAt = &now, &until
		}
		if err := store.Org(tx, owner.OrgID).Create(e).Error; err != nil {
			return nil, nil, err
		}
		return idParam(e.ID), nil, nil
	}
}

func (s *Service) registerWaitlistAPI(api huma.API) {
	accounts.Register(api, huma.Operation{OperationID: "education-waitlist-join", Method: http.MethodPost, Path: "/slots/{id}/waitlist", DefaultStatus: 201,
		Summary: "Join a full slot's waitlist (students)",
		Description: "When a place frees, the first waiting student is offered it (notification education.waitlist_offer) and it is held for them " +
			"for two hours, never past the slot's start. 409 when the slot has a free place, has started, or you booked or wait already."},
		func(ctx context.Context, in *idIn) (*struct{ Body *WaitlistEntry }, error) {
			e, err := s.JoinWaitlist(ctx, principal(ctx), in.ID)
			return &struct{ Body *WaitlistEntry }{e}, err
		}, accounts.Allow(students...), accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			sl, err := s.slotFixture(ctx, tx, owner)
			if err != nil {
				return nil, nil, err
			}
			return idParam(sl.ID), nil, store.Org(tx, owner.OrgID).Model(sl).Update("booked", sl.Capacity).Error
		}))

	accounts.Register(api, huma.Operation{OperationID: "education-waitlist-claim", Method: http.MethodPost, Path: "/waitlist/{id}/claim", DefaultStatus: 201,
		Summary:     "Claim the place offered to you from a waitlist (students)",
		Description: "Books the held place; 409 when the offer has expired or was already claimed (two claims: one booking)."},
		func(ctx context.Context, in *idIn) (*struct{ Body *Booking }, error) {
			b, err := s.Claim(ctx, principal(ctx), in.ID)
			return &struct{ Body *Booking }{b}, err
		}, accounts.Allow(students...), accounts.Matrix(s.waitlistFixture(WaitOffered)), web.Idempotent())

	accounts.Register(api, huma.Operation{OperationID: "education-waitlist-leave", Method: http.MethodPost, Path: "/waitlist/{id}/leave", DefaultStatus: 204,
		Summary: "Leave a slot's waitlist (students); a place offered to you passes to the next"},
		func(ctx context.Context, in *idIn) (*struct{}, error) {
			return nil, s.LeaveWaitlist(ctx, principal(ctx), in.ID)
		}, accounts.Allow(students...), accounts.Matrix(s.waitlistFixture(WaitWaiting)))

	accounts.Register(api, huma.Operation{OperationID: "education-booking-reschedule", Method: http.MethodPost, Path: "/bookings/{id}/reschedule",
		Summary: "Move your booking to another slot of the course (students; up to two hours before)",
		Description: "In one transaction: the new place is claimed (409 when full), the old booking cancelled and its place offered to the old slot's waitlist. " +
			"The booking returned is the one of the new slot."},
		func(ctx context.Context, in *struct {
			ID   uint `path:"id"`
			Body struct {
				SlotID uint `json:"slot_id" doc:"The slot to move to"`
			}
		}) (*struct{ Body *Booking }, error) {
			b, err := s.Reschedule(ctx, principal(ctx), in.ID, in.Body.SlotID)
			return &struct{ Body *Booking }{b}, err
		}, accounts.Allow(students...), accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			sl, err := s.slotFixture(ctx, tx, owner)
			if err != nil {
				return nil, nil, err
			}
			b := &Booking{SlotID: sl.ID, StudentID: owner.UserID, Status: BookingActive}
			if err := store.Org(tx, owner.OrgID).Create(b).Error; err != nil {
				return nil, nil, err
			}
			if err := store.Org(tx, owner.OrgID).Model(sl).Update("booked", 1).Error; err != nil {
				return nil, nil, err
			}
			start := sl.StartsAt.Add(24 * time.Hour)
			to := &Slot{CourseID: sl.CourseID, TAID: sl.TAID, StartsAt: start, EndsAt: start.Add(30 * time.Minute), Place: "Room 2", Capacity: 2}
			if err := store.Org(tx, owner.OrgID).Create(to).Error; err != nil {
				return nil, nil, err
			}
			return idParam(b.ID), map[string]any{"slot_id": to.ID}, nil
		}))

	accounts.Register(api, huma.Operation{OperationID: "education-slot-cancel", Method: http.MethodPost, Path: "/slots/{id}/cancel", DefaultStatus: 204,
		Summary: "Cancel a slot (the course's staff, admins, integrators): its bookings are cancelled and the students told"},
		func(ctx context.Context, in *idIn) (*struct{}, error) {
			return nil, s.CancelSlot(ctx, principal(ctx), in.ID)
		}, accounts.Allow(teachers...), accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			sl, err := s.slotFixture(ctx, tx, owner)
			if err != nil {
				return nil, nil, err
			}
			return idParam(sl.ID), nil, nil
		}))
}
