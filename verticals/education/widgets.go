package education

import (
	"context"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/chart"
	"github.com/portalkit/portalkit/core/dashboard"
	"github.com/portalkit/portalkit/core/notify"
)

// Notification kinds.
const (
	KindQuizGraded       = ID + ".quiz_graded"
	KindBookingConfirmed = ID + ".booking_confirmed"
	KindWaitlistOffer    = ID + ".waitlist_offer"
	KindBookingReminder  = ID + ".booking_reminder"
	KindBookingCancelled = ID + ".booking_cancelled"
)

func (s *Service) kinds() []notify.Kind {
	return []notify.Kind{
		{ID: KindQuizGraded, Title: "Quiz graded", DefaultChannels: []string{notify.ChannelInApp}, Mutable: true, Templates: mailTemplates()},
		{ID: KindBookingConfirmed, Title: "Office hours booked", DefaultChannels: []string{notify.ChannelInApp, notify.ChannelEmail}, Mutable: true, Templates: mailTemplates()},
		{ID: KindWaitlistOffer, Title: "A place at office hours is offered to you", DefaultChannels: []string{notify.ChannelInApp, notify.ChannelEmail}, Mutable: true, Templates: mailTemplates()},
		{ID: KindBookingReminder, Title: "Office hours reminder", DefaultChannels: []string{notify.ChannelInApp, notify.ChannelEmail}, Mutable: true, Templates: mailTemplates()},
		{ID: KindBookingCancelled, Title: "Office hours booking cancelled", DefaultChannels: []string{notify.ChannelInApp, notify.ChannelEmail}, Mutable: true, Templates: mailTemplates()},
	}
}

// CoursesWidget is a student's courses with progress, where to continue
// and the first suggestion of each.
type CoursesWidget struct {
	Courses []CourseSummary `json:"courses"`
}

// CourseSummary is one course on the student's dashboard.
type CourseSummary struct {
	Course     Course      `json:"course"`
	Percent    int         `json:"percent"`
	Continue   *Lesson     `json:"continue,omitempty"`
	Suggestion *Suggestion `json:"suggestion,omitempty"`
	Chart      chart.Chart `json:"chart"`
}

// OfficeHoursWidget is a TA's upcoming office hours.
type OfficeHoursWidget struct {
	Slots []Slot `json:"slots"`
}

func (s *Service) widgets() []dashboard.Widget {
	return []dashboard.Widget{
		{ID: "courses", Title: "My courses", Roles: []accounts.Role{accounts.Customer}, Size: dashboard.Medium, Order: 30, Template: "widget_courses", LiveOn: []string{"education.graded"},
			Data: func(ctx context.Context, p *accounts.Principal) (any, error) {
				cs, err := s.Courses(ctx, p)
				if err != nil {
					return nil, err
				}
				w := CoursesWidget{Courses: []CourseSummary{}}
				for i := range cs {
					pr, err := s.Progress(ctx, p.OrgID, p.UserID, &cs[i])
					if err != nil {
						return nil, err
					}
					sg, err := s.Suggestions(ctx, p.OrgID, p.UserID, cs[i].ID)
					if err != nil {
						return nil, err
					}
					sum := CourseSummary{Course: cs[i], Percent: pr.Percent, Continue: pr.Continue, Chart: progressChart(pr)}
					if len(sg) > 0 {
						sum.Suggestion = &sg[0]
					}
					w.Courses = append(w.Courses, sum)
				}
				return w, nil
			}},
		{ID: "office_hours", Title: "My office hours", Roles: []accounts.Role{accounts.Staff}, Size: dashboard.Small, Order: 30, Template: "widget_office_hours",
			Data: func(ctx context.Context, p *accounts.Principal) (any, error) {
				sl, err := s.MySlots(ctx, p)
				if len(sl) > 5 {
					sl = sl[:5]
				}
				return OfficeHoursWidget{Slots: append([]Slot{}, sl...)}, err
			}},
	}
}
