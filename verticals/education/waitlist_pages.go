package education

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/web"
)

// Pages of the waitlist, rescheduling and cancelled slots: each form
// answers with the course page and a message (flash, flashErr).

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
		return c.Redirect(courseURL(sl.CourseID)+"?err=waitlist#office-hours", fiber.StatusSeeOther)
	} else if err != nil {
		return err
	}
	return c.Redirect(courseURL(sl.CourseID)+"?msg=waiting#office-hours", fiber.StatusSeeOther)
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
		return c.Redirect(courseURL(sl.CourseID)+"?err=offer#office-hours", fiber.StatusSeeOther)
	} else if err != nil {
		return err
	}
	return c.Redirect(courseURL(sl.CourseID)+"?msg=booked#office-hours", fiber.StatusSeeOther)
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
	return c.Redirect(courseURL(sl.CourseID)+"?msg=left#office-hours", fiber.StatusSeeOther)
}

func (s *Service) rescheduleSubmit(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), me(c)
	id, err := web.PathID(c, "id")
	if err != nil {
		return err
	}
	var b Booking
	if err := s.db(ctx, p.OrgID).First(&b, id).Error; err != nil || b.StudentID != p.UserID {
		return errs.NotFoundf("no booking %d", id)
	}
	from, _, err := s.slot(ctx, p, b.SlotID)
	if err != nil {
		return err
	}
	to, _ := strconv.ParseUint(c.FormValue("slot_id"), 10, 64)
	_, err = s.Reschedule(ctx, p, id, uint(to))
	switch {
	case errs.Is(err, errs.Conflict), errs.Is(err, errs.Invalid):
		return c.Redirect(courseURL(from.CourseID)+"?err=move#office-hours", fiber.StatusSeeOther)
	case err != nil:
		return err
	}
	return c.Redirect(courseURL(from.CourseID)+"?msg=moved#office-hours", fiber.StatusSeeOther)
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
	return c.Redirect(courseURL(sl.CourseID)+"?msg=slot_cancelled#office-hours", fiber.StatusSeeOther)
}
