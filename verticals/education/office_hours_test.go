package education_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/verticals/education"
)

// TestBookingRaceForTheLastPlace: two students racing for the only place
// of a slot — exactly one wins, the other is told it is full; after the
// winner cancels, the other books. The TA sees the booking with the
// student's note and weak topics.
func TestBookingRaceForTheLastPlace(t *testing.T) {
	ta, m := newApp(t)
	s := newSchool(t, ta)
	ada, adaID := s.student(t, "ada@uni.example")
	bob, _ := s.student(t, "bob@uni.example")
	tah := ta.As(t, "uni", "ta@uni.example", accounts.Staff)
	taUser := ta.User(t, "uni", "ta@uni.example", accounts.Staff)
	if err := ta.Store.Tx(t.Context(), func(tx *gorm.DB) error {
		return m.Service().AddStaff(t.Context(), tx, taUser.OrgID, s.course, taUser.ID, education.RoleTA)
	}); err != nil {
		t.Fatal(err)
	}
	var pub struct {
		Slots []education.Slot `json:"slots"`
	}
	start := fixedNow.Add(26 * time.Hour)
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/courses/%d/slots", s.course),
		map[string]any{"starts_at": start, "minutes": 20, "place": "Room B12", "capacity": 1, "weeks": 3}, tah, 201).JSON(t, &pub)
	if len(pub.Slots) != 3 || !pub.Slots[2].StartsAt.Equal(start.AddDate(0, 0, 14)) || pub.Slots[0].TAID != taUser.ID {
		t.Fatalf("weekly slots: %+v", pub.Slots)
	}
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/courses/%d/slots", s.course), map[string]any{"starts_at": start, "minutes": 20}, tah, 422)
	slot := pub.Slots[0].ID
	url := fmt.Sprintf("/api/v1/education/slots/%d/bookings", slot)

	// Ada's weak topic: every Recursion item wrong.
	var att education.AttemptView
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/modules/%d/attempts", s.module), nil, ada, 200).JSON(t, &att)
	answers := map[string][]string{}
	for _, q := range att.Questions {
		answers[q.ID] = []string{"true"}
		if strings.HasPrefix(q.Prompt, "recursion") {
			answers[q.ID] = []string{"false"}
		}
	}
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/attempts/%d/submit", att.ID), map[string]any{"answers": answers}, ada, 200)

	for round := range 3 {
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for i, h := range []map[string]string{ada, bob} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i] = ta.Do(t, "POST", url, map[string]any{"note": "Recursion, please"}, h).Status
			}()
		}
		wg.Wait()
		if !(codes[0] == 201 && codes[1] == 409 || codes[0] == 409 && codes[1] == 201) {
			t.Fatalf("round %d: statuses %v, want one 201 and one 409", round, codes)
		}
		var got struct {
			Slot     education.Slot          `json:"slot"`
			Bookings []education.BookingView `json:"bookings"`
		}
		do(t, ta, "GET", url, nil, tah, 200).JSON(t, &got)
		if got.Slot.Booked != 1 || len(got.Bookings) != 1 {
			t.Fatalf("round %d: %d booked, %d bookings", round, got.Slot.Booked, len(got.Bookings))
		}
		b := got.Bookings[0]
		winner, loser := ada, bob
		if codes[0] != 201 {
			winner, loser = bob, ada
		}
		// The winner cancels (26 h ahead: before the cut-off); the loser can book.
		do(t, ta, "POST", fmt.Sprintf("/api/v1/education/bookings/%d/cancel", b.ID), nil, loser, 404)
		do(t, ta, "POST", fmt.Sprintf("/api/v1/education/bookings/%d/cancel", b.ID), nil, winner, 204)
		do(t, ta, "POST", fmt.Sprintf("/api/v1/education/bookings/%d/cancel", b.ID), nil, winner, 409)
	}
	// The TA sees Ada's booking with her note and weak topic, on the API and the page.
	url2 := fmt.Sprintf("/api/v1/education/slots/%d/bookings", pub.Slots[1].ID)
	do(t, ta, "POST", url2, map[string]any{"note": "Recursion, please"}, ada, 201)
	var got struct {
		Bookings []education.BookingView `json:"bookings"`
	}
	do(t, ta, "GET", url2, nil, tah, 200).JSON(t, &got)
	if len(got.Bookings) != 1 || got.Bookings[0].StudentID != adaID || len(got.Bookings[0].WeakTopics) != 1 ||
		got.Bookings[0].WeakTopics[0].Mastery.Topic.Key != "recursion" || got.Bookings[0].Note != "Recursion, please" {
		t.Fatalf("the TA does not see Ada's weak topic: %+v", got.Bookings)
	}
	b := ta.Browser()
	b.SignIn(t, "uni", "ta@uni.example")
	page := b.Get(t, fmt.Sprintf("/m/education/slots/%d", pub.Slots[1].ID))
	if page.Status != 200 || !strings.Contains(page.Body, "Recursion, please") || !strings.Contains(page.Body, "Recursion (17% estimated)") {
		t.Fatalf("TA's slot page: %d\n%s", page.Status, page.Body)
	}
	// The booking comes with its calendar file, on the page and in the e-mail.
	bs := ta.Browser()
	bs.SignIn(t, "uni", "ada@uni.example")
	ics := bs.Get(t, fmt.Sprintf("/m/education/bookings/%d/calendar.ics", got.Bookings[0].ID))
	if ics.Status != 200 || !strings.Contains(ics.Body, "BEGIN:VEVENT") || !strings.Contains(ics.Body, "LOCATION:Room B12") {
		t.Fatalf("calendar file: %d %s", ics.Status, ics.Body)
	}
	bb := ta.Browser()
	bb.SignIn(t, "uni", "bob@uni.example")
	if r := bb.Get(t, fmt.Sprintf("/m/education/bookings/%d/calendar.ics", got.Bookings[0].ID)); r.Status != 404 {
		t.Fatalf("another student's calendar file: %d", r.Status)
	}
	var files int64
	ta.Store.DB.Table("notify_attachments").Where("name = ?", "office-hours.ics").Count(&files)
	if files == 0 {
		t.Fatal("the booking e-mail carries no calendar file")
	}
	// A student never sees the bookings.
	do(t, ta, "GET", url, nil, ada, 403)
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); c.now = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// TestOfficeHoursFeedbackAfterTheSlot: once a booked slot is over, the job
// asks the student for their satisfaction, once however often it runs;
// cancelling inside the cut-off is refused.
func TestOfficeHoursFeedbackAfterTheSlot(t *testing.T) {
	clk := &clock{now: fixedNow}
	ta := portaltest.New(t, []module.Module{&education.Module{Now: clk.Now}})
	s := newSchool(t, ta)
	ada, adaID := s.student(t, "ada@uni.example")
	var pub struct {
		Slots []education.Slot `json:"slots"`
	}
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/courses/%d/slots", s.course),
		map[string]any{"starts_at": fixedNow.Add(3 * time.Hour), "minutes": 30, "link": "https://meet.example/ta", "capacity": 1}, s.professor, 201).JSON(t, &pub)
	var b education.Booking
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/slots/%d/bookings", pub.Slots[0].ID), map[string]any{}, ada, 201).JSON(t, &b)
	clk.Add(90 * time.Minute) // 90 minutes before the slot: inside the two-hour cut-off
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/bookings/%d/cancel", b.ID), nil, ada, 409)

	asked := func() int64 {
		var n int64
		ta.Store.DB.Table("feedback_prompts").Where("customer_id = ? AND step_id = ?", adaID, education.StepOfficeHours).Count(&n)
		return n
	}
	ctx := t.Context()
	if _, err := ta.Schedule.RunNow(ctx, "education.office_hours_feedback", schedule.Request{}, nil); err != nil {
		t.Fatal(err)
	}
	if n := asked(); n != 0 {
		t.Fatalf("asked %d times before the slot", n)
	}
	clk.Add(2 * time.Hour) // the slot is over
	for range 2 {
		time.Sleep(1100 * time.Millisecond) // manual runs are keyed by the second
		if _, err := ta.Schedule.RunNow(ctx, "education.office_hours_feedback", schedule.Request{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := asked(); n != 1 {
		t.Fatalf("asked %d times after the slot, want once", n)
	}
}
