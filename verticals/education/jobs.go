package education

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/experience/feedback"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/core/store"
)

// Journey steps: how easy a quiz was (CES, asked when it is graded) and how
// satisfied a student is with office hours (CSAT, asked once the slot is
// over).
const (
	StepQuiz        = ID + ".quiz_taken"
	StepOfficeHours = ID + ".office_hours"
)

func steps() []feedback.Step {
	return []feedback.Step{
		{ID: StepQuiz, Kind: feedback.CES, Question: "The quiz was easy to take."},
		{ID: StepOfficeHours, Kind: feedback.CSAT, Question: "How satisfied are you with your office-hours appointment?"},
	}
}

func (s *Service) jobs() []schedule.Job {
	return []schedule.Job{{Name: "office_hours_feedback", Cron: "*/15 * * * *",
		Description: "Ask students how their office-hours appointment went, once the slot is over",
		Run:         s.officeHoursFeedback},
		{Name: "waitlist_offers", Cron: "*/5 * * * *",
			Description: "Pass office-hours places offered from a waitlist and not claimed in time to the next student",
			Run:         s.expireOffers},
		{Name: "booking_reminders", Cron: "*/5 * * * *",
			Description: "Remind students of their office hours 24 hours and 1 hour before",
			Run:         s.bookingReminders},
	}
}

// officeHoursFeedback asks every student with a booking of a slot that
// ended in the last day for their satisfaction; feedback.Ask asks once per
// booking, so a rerun asks nobody twice.
func (s *Service) officeHoursFeedback(ctx context.Context, r *schedule.Run) error {
	now := s.now()
	var due []struct {
		ID        uint
		OrgID     uint
		StudentID uint
	}
	// Every organisation, deliberately: the job walks them all.
	err := store.AllOrgs(s.st.DB.WithContext(ctx)).Table("education_bookings AS b").Select("b.id, b.org_id, b.student_id").
		Joins("JOIN education_slots sl ON sl.id = b.slot_id").
		Where("b.status = ? AND sl.ends_at <= ? AND sl.ends_at > ?", BookingActive, now, now.AddDate(0, 0, -1)).
		Order("b.id").Limit(5000).Scan(&due).Error
	if err != nil {
		return err
	}
	asked := 0
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		for _, b := range due {
			ok, err := feedback.Ask(ctx, tx, b.OrgID, b.StudentID, StepOfficeHours, fmt.Sprintf("booking:%d", b.ID))
			if err != nil {
				return err
			}
			if ok {
				asked++
			}
		}
		return nil
	})
	r.Log.Info("asked about office hours", "bookings", len(due), "asked", asked)
	return err
}
