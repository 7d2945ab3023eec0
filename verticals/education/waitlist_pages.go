package education

import (
	"context"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/web"
)

// Pages of the waitlist, rescheduling and cancelled slots: each form
// answers with the course page and a message (flash, flashErr).

// toOfficeHours answers a form with the course page's office hours and a
// message: query is "msg=<flash key>" or "err=<flashErr key>".
func toOfficeHours(c *fiber.Ctx, courseID uint, query string) error {
	return c.Redirect(courseURL(courseID)+"?"+query+"#office-hours", fiber.StatusSeeOther)
}

// myBooking is one of the student's own bookings; anyone else's is not
// found.
func (s *Service) myBooking(ctx context.Context, p *accounts.Principal, id uint) (Booking, error) {
	var b Booking
	if err := s.db(ctx, p.OrgID).First(&b, id).Error; err != nil || b.StudentID != p.UserID {
		return Booking{}, errs.NotFoundf("no booking %d", id)
	}
	return b, nil
}

func (s *Service) waitlistJoinSubmit(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), me(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	sl, _, err := s.slot(ctx, p, id)
	if err != nil {
		return err
	}
	_, err = s.JoinWaitlist(ctx, p, id)
	if errs.Is(err, errs.Conflict) {
		return toOfficeHours(c, sl.CourseID, "err=waitlist")
	} else if err != nil {
		return err
	}
	return toOfficeHours(c, sl.CourseID, "msg=waiting")
}

func (s *Service) claimSubmit(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), me(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	_, sl, err := s.myEntry(ctx, p, id)
	if err != nil {
		return err
	}
	_, err = s.Claim(ctx, p, id)
	if errs.Is(err, errs.Conflict) {
		return toOfficeHours(c, sl.CourseID, "err=offer")
	} else if err != nil {
		return err
	}
	return toOfficeHours(c, sl.CourseID, "msg=booked")
}

func (s *Service) leaveSubmit(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), me(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	_, sl, err := s.myEntry(ctx, p, id)
	if err != nil {
		return err
	}
	if err := s.LeaveWaitlist(ctx, p, id); err != nil && !errs.Is(err, errs.Conflict) {
		return err
	}
	return toOfficeHours(c, sl.CourseID, "msg=left")
}

func (s *Service) rescheduleSubmit(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), me(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	b, err := s.myBooking(ctx, p, id)
	if err != nil {
		return err
	}
	from, _, err := s.slot(ctx, p, b.SlotID)
	if err != nil {
		return err
	}
	to, _ := strconv.ParseUint(c.FormValue("slot_id"), 10, 64)
	_, err = s.Reschedule(ctx, p, id, uint(to))
	switch {
	case errs.Is(err, errs.Conflict), errs.Is(err, errs.Invalid):
		return toOfficeHours(c, from.CourseID, "err=move")
	case err != nil:
		return err
	}
	return toOfficeHours(c, from.CourseID, "msg=moved")
}

func (s *Service) slotCancelSubmit(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), me(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	sl, _, err := s.slot(ctx, p, id)
	if err != nil {
		return err
	}
	if err := s.CancelSlot(ctx, p, id); err != nil && !errs.Is(err, errs.Conflict) {
		return err
	}
	return toOfficeHours(c, sl.CourseID, "msg=slot_cancelled")
}
