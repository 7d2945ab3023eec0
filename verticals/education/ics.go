package education

import (
	"fmt"
	"strings"
	"time"
)

// icsEscape escapes a TEXT value (RFC 5545 §3.3.11).
func icsEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`).Replace(s)
}

// icsFold folds a content line at 75 octets (RFC 5545 §3.1), never inside
// a UTF-8 sequence.
func icsFold(line string) string {
	var b strings.Builder
	n := 0
	for _, r := range line {
		l := len(string(r))
		if n+l > 75 {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteRune(r)
		n += l
	}
	b.WriteString("\r\n")
	return b.String()
}

// BookingICS is an iCalendar file with one event: the booked slot. UID is
// stable per booking, so importing it again updates the same event;
// SEQUENCE follows the booking's state and a cancelled booking is a
// cancelled event.
func BookingICS(b *Booking, sl *Slot, course *Course, taName, host string, now time.Time) []byte {
	const stamp = "20060102T150405Z"
	where := sl.Place
	if where == "" {
		where = sl.Link
	}
	status, seq := "CONFIRMED", 0
	if b.Status == BookingCancelled {
		status, seq = "CANCELLED", 1
	}
	var out strings.Builder
	for _, l := range []string{
		"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//PortalKit//Education//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
		"BEGIN:VEVENT",
		fmt.Sprintf("UID:booking-%d@%s", b.ID, host),
		"DTSTAMP:" + now.UTC().Format(stamp),
		"DTSTART:" + sl.StartsAt.UTC().Format(stamp),
		"DTEND:" + sl.EndsAt.UTC().Format(stamp),
		"SUMMARY:" + icsEscape(fmt.Sprintf("Office hours %s — %s", course.Code, taName)),
		"LOCATION:" + icsEscape(where),
		"DESCRIPTION:" + icsEscape(b.Note),
		"STATUS:" + status,
		fmt.Sprintf("SEQUENCE:%d", seq),
		"END:VEVENT", "END:VCALENDAR",
	} {
		out.WriteString(icsFold(l))
	}
	return []byte(out.String())
}
