package education_test

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/verticals/education"
)

func notified(ta *portaltest.TestApp, userID uint, kind string) int64 {
	var n int64
	ta.Store.DB.Table("notify_notifications").Where("user_id = ? AND kind = ?", userID, kind).Count(&n)
	return n
}

type slotsOut struct {
	Slots []education.SlotView `json:"slots"`
}

func publish(t *testing.T, ta *portaltest.TestApp, s *school, start time.Time, capacity int) uint {
	t.Helper()
	var pub struct {
		Slots []education.Slot `json:"slots"`
	}
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/courses/%d/slots", s.course),
		map[string]any{"starts_at": start, "minutes": 30, "place": "Room B12", "capacity": capacity}, s.professor, 201).JSON(t, &pub)
	return pub.Slots[0].ID
}

// TestWaitlistOfferClaimAndExpiry: a full slot's waitlist; a cancellation
// offers the place to the first waiting student and holds it (nobody else
// can book it); two racing claims of the offer book once; an offer not
// claimed in time passes to the next student when the job runs, and the
// expired offer can no longer be claimed. The TA sees the waitlist.
func TestWaitlistOfferClaimAndExpiry(t *testing.T) {
	clk := &clock{now: fixedNow}
	ta := portaltest.New(t, []module.Module{&education.Module{Now: clk.Now}})
	s := newSchool(t, ta)
	ada, adaID := s.student(t, "ada@uni.example")
	bob, bobID := s.student(t, "bob@uni.example")
	carl, carlID := s.student(t, "carl@uni.example")
	dan, danID := s.student(t, "dan@uni.example")
	slot := publish(t, ta, s, fixedNow.Add(26*time.Hour), 1)
	api := "/api/v1/education"

	do(t, ta, "POST", fmt.Sprintf("%s/slots/%d/waitlist", api, slot), nil, bob, 409) // a free place: book it
	var booking education.Booking
	do(t, ta, "POST", fmt.Sprintf("%s/slots/%d/bookings", api, slot), map[string]any{}, ada, 201).JSON(t, &booking)
	do(t, ta, "POST", fmt.Sprintf("%s/slots/%d/waitlist", api, slot), nil, ada, 409) // booked it already
	entries := map[uint]education.WaitlistEntry{}
	for _, st := range []struct {
		h  map[string]string
		id uint
	}{{bob, bobID}, {carl, carlID}, {dan, danID}} {
		var e education.WaitlistEntry
		do(t, ta, "POST", fmt.Sprintf("%s/slots/%d/waitlist", api, slot), nil, st.h, 201).JSON(t, &e)
		entries[st.id] = e
		clk.Add(time.Second) // the queue's order
	}
	do(t, ta, "POST", fmt.Sprintf("%s/slots/%d/waitlist", api, slot), nil, bob, 409)

	// Ada cancels: the place is offered to Bob and held for him.
	do(t, ta, "POST", fmt.Sprintf("%s/bookings/%d/cancel", api, booking.ID), nil, ada, 204)
	if notified(ta, bobID, education.KindWaitlistOffer) != 1 || notified(ta, carlID, education.KindWaitlistOffer) != 0 {
		t.Fatal("the offer did not go to the first waiting student only")
	}
	if notified(ta, adaID, education.KindBookingCancelled) != 1 {
		t.Fatal("Ada is not told her booking is cancelled")
	}
	do(t, ta, "POST", fmt.Sprintf("%s/slots/%d/bookings", api, slot), map[string]any{}, ada, 409) // held for Bob
	var list slotsOut
	do(t, ta, "GET", fmt.Sprintf("%s/courses/%d/slots", api, s.course), nil, bob, 200).JSON(t, &list)
	if w := list.Slots[0].Waitlist; w == nil || w.Status != education.WaitOffered || w.OfferExpiresAt == nil ||
		!w.OfferExpiresAt.Equal(clk.Now().Add(education.OfferWindow)) {
		t.Fatalf("Bob's view of the offer: %+v", list.Slots[0].Waitlist)
	}
	do(t, ta, "POST", fmt.Sprintf("%s/waitlist/%d/claim", api, entries[carlID].ID), nil, carl, 409) // not offered to Carl
	do(t, ta, "POST", fmt.Sprintf("%s/waitlist/%d/claim", api, entries[bobID].ID), nil, carl, 404)  // not Carl's

	// Two racing claims of Bob's offer: one booking.
	codes := make([]int, 2)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = ta.Do(t, "POST", fmt.Sprintf("%s/waitlist/%d/claim", api, entries[bobID].ID), nil, bob).Status
		}()
	}
	wg.Wait()
	if !(codes[0] == 201 && codes[1] == 409 || codes[0] == 409 && codes[1] == 201) {
		t.Fatalf("racing claims: %v, want one 201 and one 409", codes)
	}
	var got struct {
		Slot     education.Slot           `json:"slot"`
		Bookings []education.BookingView  `json:"bookings"`
		Waitlist []education.WaitlistView `json:"waitlist"`
	}
	do(t, ta, "GET", fmt.Sprintf("%s/slots/%d/bookings", api, slot), nil, s.professor, 200).JSON(t, &got)
	if got.Slot.Booked != 1 || len(got.Bookings) != 1 || got.Bookings[0].StudentID != bobID || len(got.Waitlist) != 2 || got.Waitlist[0].StudentID != carlID {
		t.Fatalf("after Bob's claim: booked %d, bookings %+v, waitlist %+v", got.Slot.Booked, got.Bookings, got.Waitlist)
	}

	// Bob cancels: Carl is offered the place but lets it expire; the job
	// passes it to Dan.
	do(t, ta, "POST", fmt.Sprintf("%s/bookings/%d/cancel", api, got.Bookings[0].ID), nil, bob, 204)
	if notified(ta, carlID, education.KindWaitlistOffer) != 1 {
		t.Fatal("Carl was not offered the place")
	}
	ctx := t.Context()
	if _, err := ta.Schedule.RunNow(ctx, "education.waitlist_offers", schedule.Request{}, nil); err != nil {
		t.Fatal(err)
	}
	if notified(ta, danID, education.KindWaitlistOffer) != 0 {
		t.Fatal("the offer passed on before it expired")
	}
	clk.Add(education.OfferWindow + time.Minute)
	do(t, ta, "POST", fmt.Sprintf("%s/waitlist/%d/claim", api, entries[carlID].ID), nil, carl, 409) // expired
	time.Sleep(1100 * time.Millisecond)                                                             // manual runs are keyed by the second
	if _, err := ta.Schedule.RunNow(ctx, "education.waitlist_offers", schedule.Request{}, nil); err != nil {
		t.Fatal(err)
	}
	if notified(ta, danID, education.KindWaitlistOffer) != 1 {
		t.Fatal("the expired offer did not pass to Dan")
	}
	do(t, ta, "GET", fmt.Sprintf("%s/slots/%d/bookings", api, slot), nil, s.professor, 200).JSON(t, &got)
	if got.Slot.Booked != 1 || len(got.Waitlist) != 1 || got.Waitlist[0].StudentID != danID || got.Waitlist[0].Status != education.WaitOffered {
		t.Fatalf("after the expiry: booked %d, waitlist %+v", got.Slot.Booked, got.Waitlist)
	}

	// Dan claims on the page; the TA's slot page shows the waitlist.
	b := ta.Browser()
	b.SignIn(t, "uni", "dan@uni.example")
	page := b.Get(t, fmt.Sprintf("/m/education/courses/%d", s.course))
	if page.Status != 200 || !strings.Contains(page.Body, "Take the place") {
		t.Fatalf("Dan's course page: %d", page.Status)
	}
	if r := b.Post(t, fmt.Sprintf("/m/education/waitlist/%d/claim", entries[danID].ID), url.Values{}); r.Status != 303 || !strings.Contains(r.Header.Get("Location"), "msg=booked") {
		t.Fatalf("claiming on the page: %d %v", r.Status, r.Header)
	}
	// Bob waits again on the full slot; the TA sees him.
	do(t, ta, "POST", fmt.Sprintf("%s/slots/%d/waitlist", api, slot), nil, bob, 201)
	tb := ta.Browser()
	tb.SignIn(t, "uni", "prof@uni.example")
	sp := tb.Get(t, fmt.Sprintf("/m/education/slots/%d", slot))
	if sp.Status != 200 || !strings.Contains(sp.Body, "Waitlist") || !strings.Contains(sp.Body, "Waiting") {
		t.Fatalf("the TA's slot page: %d\n%s", sp.Status, sp.Body)
	}
}

// TestRescheduleMovesTheBooking: a booking moves to another slot of the
// course in one transaction; the old place goes to the old slot's
// waitlist; moving into a full slot changes nothing.
func TestRescheduleMovesTheBooking(t *testing.T) {
	clk := &clock{now: fixedNow}
	ta := portaltest.New(t, []module.Module{&education.Module{Now: clk.Now}})
	s := newSchool(t, ta)
	ada, adaID := s.student(t, "ada@uni.example")
	bob, bobID := s.student(t, "bob@uni.example")
	carl, _ := s.student(t, "carl@uni.example")
	api := "/api/v1/education"
	a := publish(t, ta, s, fixedNow.Add(26*time.Hour), 1)
	b := publish(t, ta, s, fixedNow.Add(50*time.Hour), 1)
	full := publish(t, ta, s, fixedNow.Add(74*time.Hour), 1)
	do(t, ta, "POST", fmt.Sprintf("%s/slots/%d/bookings", api, full), map[string]any{}, carl, 201)
	var booking education.Booking
	do(t, ta, "POST", fmt.Sprintf("%s/slots/%d/bookings", api, a), map[string]any{"note": "Loops"}, ada, 201).JSON(t, &booking)
	do(t, ta, "POST", fmt.Sprintf("%s/slots/%d/waitlist", api, a), nil, bob, 201)

	do(t, ta, "POST", fmt.Sprintf("%s/bookings/%d/reschedule", api, booking.ID), map[string]any{"slot_id": full}, ada, 409)
	do(t, ta, "POST", fmt.Sprintf("%s/bookings/%d/reschedule", api, booking.ID), map[string]any{"slot_id": b}, bob, 404)
	var moved education.Booking
	do(t, ta, "POST", fmt.Sprintf("%s/bookings/%d/reschedule", api, booking.ID), map[string]any{"slot_id": b}, ada, 200).JSON(t, &moved)
	if moved.SlotID != b || moved.StudentID != adaID || moved.Note != "Loops" {
		t.Fatalf("moved booking: %+v", moved)
	}
	var list slotsOut
	do(t, ta, "GET", fmt.Sprintf("%s/courses/%d/slots", api, s.course), nil, ada, 200).JSON(t, &list)
	for _, sl := range list.Slots {
		if (sl.ID == b) != (sl.BookingID != 0) {
			t.Fatalf("Ada's bookings after the move: slot %d booking %d", sl.ID, sl.BookingID)
		}
		if sl.ID == b && sl.Free != 0 {
			t.Fatalf("the new slot still has %d free", sl.Free)
		}
	}
	if notified(ta, bobID, education.KindWaitlistOffer) != 1 {
		t.Fatal("the old place was not offered to the waitlist")
	}
	// The page offers the move too: back to a free time.
	br := ta.Browser()
	br.SignIn(t, "uni", "ada@uni.example")
	if page := br.Get(t, fmt.Sprintf("/m/education/courses/%d", s.course)); page.Status != 200 || !strings.Contains(page.Body, "Move to another time") {
		t.Fatalf("Ada's course page: %d", page.Status)
	}
	later := publish(t, ta, s, fixedNow.Add(98*time.Hour), 1)
	if r := br.Post(t, fmt.Sprintf("/m/education/bookings/%d/reschedule", moved.ID), url.Values{"slot_id": {fmt.Sprint(later)}}); r.Status != 303 || !strings.Contains(r.Header.Get("Location"), "msg=moved") {
		t.Fatalf("moving on the page: %d %v", r.Status, r.Header)
	}
	var after slotsOut
	do(t, ta, "GET", fmt.Sprintf("%s/courses/%d/slots", api, s.course), nil, ada, 200).JSON(t, &after)
	for _, sl := range after.Slots {
		if (sl.ID == later) != (sl.BookingID != 0) {
			t.Fatalf("after the move on the page: slot %d booking %d", sl.ID, sl.BookingID)
		}
		if sl.ID == later {
			moved.ID = sl.BookingID
		}
	}
	// Within the cut-off the booking stays where it is.
	last := publish(t, ta, s, fixedNow.Add(122*time.Hour), 1)
	clk.Set(fixedNow.Add(98*time.Hour - 90*time.Minute))
	res := do(t, ta, "POST", fmt.Sprintf("%s/bookings/%d/reschedule", api, moved.ID), map[string]any{"slot_id": last}, ada, 409)
	if !strings.Contains(res.Body, "two hours") {
		t.Fatalf("moving inside the cut-off: %s", res.Body)
	}
}

// TestBookingRemindersAndCancelledSlot: the reminder job sends the
// 24-hour reminder once however often it runs, then the one-hour one; a
// slot the TA cancels cancels its booking and tells the student.
func TestBookingRemindersAndCancelledSlot(t *testing.T) {
	clk := &clock{now: fixedNow}
	ta := portaltest.New(t, []module.Module{&education.Module{Now: clk.Now}})
	s := newSchool(t, ta)
	ada, adaID := s.student(t, "ada@uni.example")
	start := fixedNow.Add(30 * time.Hour)
	slot := publish(t, ta, s, start, 2)
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/slots/%d/bookings", slot), map[string]any{}, ada, 201)
	ctx := t.Context()
	run := func() {
		t.Helper()
		time.Sleep(1100 * time.Millisecond) // manual runs are keyed by the second
		if _, err := ta.Schedule.RunNow(ctx, "education.booking_reminders", schedule.Request{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	reminded := func() int64 { return notified(ta, adaID, education.KindBookingReminder) }
	run()
	if n := reminded(); n != 0 {
		t.Fatalf("%d reminders 30 hours before", n)
	}
	clk.Set(start.Add(-23 * time.Hour))
	run()
	run()
	if n := reminded(); n != 1 {
		t.Fatalf("%d reminders 23 hours before, want the 24-hour one once", n)
	}
	clk.Set(start.Add(-50 * time.Minute))
	run()
	run()
	if n := reminded(); n != 2 {
		t.Fatalf("%d reminders 50 minutes before, want 2", n)
	}
	// The TA cancels the slot: Ada is told, the slot disappears.
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/slots/%d/cancel", slot), nil, ada, 403)
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/slots/%d/cancel", slot), nil, s.professor, 204)
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/slots/%d/cancel", slot), nil, s.professor, 409)
	if notified(ta, adaID, education.KindBookingCancelled) != 1 {
		t.Fatal("Ada was not told her slot is cancelled")
	}
	var list slotsOut
	do(t, ta, "GET", fmt.Sprintf("/api/v1/education/courses/%d/slots", s.course), nil, ada, 200).JSON(t, &list)
	if len(list.Slots) != 0 {
		t.Fatalf("a cancelled slot is listed: %+v", list.Slots)
	}
	do(t, ta, "POST", fmt.Sprintf("/api/v1/education/slots/%d/bookings", slot), map[string]any{}, ada, 409)
}
