package education

import (
	"strings"
	"testing"
	"time"
)

// TestBookingICS: the file is what RFC 5545 asks for — CRLF lines of at
// most 75 octets, escaped text, UTC times, a stable UID.
func TestBookingICS(t *testing.T) {
	start := time.Date(2026, 10, 6, 13, 0, 0, 0, time.UTC)
	sl := &Slot{StartsAt: start, EndsAt: start.Add(20 * time.Minute), Place: "Room B12, building 3"}
	b := &Booking{ID: 42, Note: "Ricorsione; il caso base è il problema, e anche la pila delle chiamate che non capisco bene"}
	got := string(BookingICS(b, sl, &Course{Code: "CS101"}, "Sam Staff", "portal.test", start.Add(-time.Hour)))
	for _, want := range []string{"BEGIN:VCALENDAR\r\n", "UID:booking-42@portal.test\r\n", "DTSTART:20261006T130000Z\r\n", "DTEND:20261006T132000Z\r\n",
		`LOCATION:Room B12\, building 3`, `DESCRIPTION:Ricorsione\; il caso base è il problema\, e anche la pila `, "STATUS:CONFIRMED", "END:VCALENDAR\r\n"} {
		if !strings.Contains(got, want) {
			t.Fatalf("missing %q in\n%s", want, got)
		}
	}
	for _, line := range strings.Split(strings.TrimSuffix(got, "\r\n"), "\r\n") {
		if len(line) > 75 {
			t.Fatalf("line of %d octets: %q", len(line), line)
		}
	}
	b.Status = BookingCancelled
	if c := string(BookingICS(b, sl, &Course{Code: "CS101"}, "Sam", "portal.test", start)); !strings.Contains(c, "STATUS:CANCELLED") || !strings.Contains(c, "SEQUENCE:1") {
		t.Fatalf("cancelled: %s", c)
	}
}
