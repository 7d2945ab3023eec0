package schedule

import (
	"strings"
	"testing"
	"time"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSlots(t *testing.T) {
	cases := []struct {
		spec, tz, at, prev, next string
	}{
		// Five-field specs are read in UTC, not the host's zone.
		{"0 6 1 * *", "", "2025-06-15T12:00:00Z", "2025-06-01T06:00:00Z", "2025-07-01T06:00:00Z"},
		// An activation exactly at t is t's slot.
		{"*/10 * * * *", "", "2025-03-01T10:10:00Z", "2025-03-01T10:10:00Z", "2025-03-01T10:20:00Z"},
		{"*/10 * * * *", "", "2025-03-01T10:19:59Z", "2025-03-01T10:10:00Z", "2025-03-01T10:20:00Z"},
		// 08:00 in Rome is 07:00 UTC in winter and 06:00 UTC in summer.
		{"0 8 * * *", "Europe/Rome", "2025-01-10T07:30:00Z", "2025-01-10T07:00:00Z", "2025-01-11T07:00:00Z"},
		{"0 8 * * *", "Europe/Rome", "2025-07-10T05:59:00Z", "2025-07-09T06:00:00Z", "2025-07-10T06:00:00Z"},
		{"CRON_TZ=America/New_York 0 9 * * 1", "", "2025-03-05T00:00:00Z", "2025-03-03T14:00:00Z", "2025-03-10T13:00:00Z"},
		{"@monthly", "", "2025-02-14T00:00:00Z", "2025-02-01T00:00:00Z", "2025-03-01T00:00:00Z"},
		// @every is anchored to the Unix epoch, the same for every instance.
		{"@every 1h", "", "2025-03-01T10:59:59Z", "2025-03-01T10:00:00Z", "2025-03-01T11:00:00Z"},
		{"@every 90m", "", "2025-03-01T10:00:00Z", "2025-03-01T09:00:00Z", "2025-03-01T10:30:00Z"},
		// Rare specs: the previous 29 February is years back.
		{"0 0 29 2 *", "", "2027-06-01T00:00:00Z", "2024-02-29T00:00:00Z", "2028-02-29T00:00:00Z"},
	}
	for _, tc := range cases {
		sched, _, err := parseSpec(tc.spec, tc.tz)
		if err != nil {
			t.Fatalf("%s: %v", tc.spec, err)
		}
		at := mustTime(t, tc.at)
		if got := prevSlot(sched, at); !got.Equal(mustTime(t, tc.prev)) {
			t.Errorf("%s (%s) at %s: previous slot %s, want %s", tc.spec, tc.tz, tc.at, got.Format(time.RFC3339), tc.prev)
		}
		if got := nextSlot(sched, at); !got.Equal(mustTime(t, tc.next)) {
			t.Errorf("%s (%s) at %s: next slot %s, want %s", tc.spec, tc.tz, tc.at, got.Format(time.RFC3339), tc.next)
		}
	}
	never, _, err := parseSpec("0 0 30 2 *", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := prevSlot(never, mustTime(t, "2025-01-01T00:00:00Z")); !got.IsZero() {
		t.Errorf("30 February has no slot, got %s", got)
	}
}

func TestBadSpecs(t *testing.T) {
	for _, tc := range []struct{ spec, tz, want string }{
		{"", "", "empty"},
		{"* * *", "", "expected exactly 5 fields"},
		{"0 25 * * *", "", "above maximum"},
		{"0 6 * * *", "Mars/Olympus", "Mars/Olympus"},
		{"CRON_TZ=UTC", "", "no schedule"},
		{"CRON_TZ=Europe/Rome 0 6 * * *", "Europe/Paris", "differs"},
		{"@every 500ms", "", "whole seconds"},
		{"@every soon", "", "whole seconds"},
		{"* * * * * *", "", "expected exactly 5 fields"},
	} {
		_, _, err := parseSpec(tc.spec, tc.tz)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q (%s): error %v, want %q", tc.spec, tc.tz, err, tc.want)
		}
	}
}

func TestJobNames(t *testing.T) {
	for _, ok := range []string{"banking.monthly_report", "notify.digest", "ab.c"} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"digest", "Banking.report", "banking.", ".x", "a.b", "banking.monthly-report", "banking.x.y"} {
		if ValidateName(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
