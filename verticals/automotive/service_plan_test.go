package automotive

import (
	"testing"
	"time"
)

func TestNextService(t *testing.T) {
	plan := ServicePlan{IntervalKm: 15000, IntervalMonths: 12}
	last := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	day := func(m, d int) time.Time { return time.Date(2026, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	cases := []struct {
		name       string
		odo        int
		now        time.Time
		state, why string
		kmLeft     int
	}{
		{"fresh", 32000, day(3, 1), "ok", "", 13000},
		{"close on distance", 44100, day(6, 1), "due", "distance", 900},
		{"over the distance", 45000, day(6, 1), "overdue", "distance", 0},
		{"close on time", 35000, day(12, 20), "due", "time", 10000},
		{"over the time", 35000, time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC), "overdue", "time", 10000},
	}
	for _, c := range cases {
		s := NextService(plan, 30000, last, c.odo, c.now)
		if s.State != c.state || s.Reason != c.why || s.KmLeft != c.kmLeft {
			t.Errorf("%s: %+v", c.name, s)
		}
	}
	if s := NextService(plan, 30000, last, 0, day(2, 1)); !s.DueAt.Equal(time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)) || s.DueKm != 45000 {
		t.Errorf("due point: %+v", s)
	}
}
