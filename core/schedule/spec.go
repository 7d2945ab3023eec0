package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	// Time zones come with the binary, so a job's TimeZone works on hosts
	// and containers without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// parser reads standard five-field specs ("min hour dom month dow") and
// descriptors (@hourly, @daily, @weekly, @monthly, @yearly, @every <d>).
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// parseSpec turns a job's spec and time zone into a schedule. A spec may
// start with CRON_TZ=<zone> (or TZ=<zone>); it must then agree with tz when
// both are given. Without either the spec is read in UTC (robfig/cron alone
// would read it in the host's local zone).
func parseSpec(spec, tz string) (cron.Schedule, *time.Location, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, nil, errors.New("empty cron spec")
	}
	zone := strings.TrimSpace(tz)
	if strings.HasPrefix(spec, "CRON_TZ=") || strings.HasPrefix(spec, "TZ=") {
		prefix, rest, ok := strings.Cut(spec, " ")
		if !ok || strings.TrimSpace(rest) == "" {
			return nil, nil, fmt.Errorf("cron spec %q: a time zone but no schedule", spec)
		}
		_, specZone, _ := strings.Cut(prefix, "=")
		if zone != "" && specZone != zone {
			return nil, nil, fmt.Errorf("cron spec %q: its time zone %s differs from the job's TimeZone %s", spec, specZone, zone)
		}
		zone, spec = specZone, strings.TrimSpace(rest)
	}
	if zone == "" {
		zone = "UTC"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, nil, fmt.Errorf("unknown time zone %q", zone)
	}
	if d, ok := strings.CutPrefix(spec, "@every "); ok {
		every, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil || every < time.Second || every%time.Second != 0 {
			return nil, nil, fmt.Errorf("cron spec %q: want @every with whole seconds, at least 1s", spec)
		}
		return everySchedule{every}, loc, nil
	}
	sched, err := parser.Parse("CRON_TZ=" + zone + " " + spec)
	if err != nil {
		return nil, nil, fmt.Errorf("cron spec %q: %v", spec, err)
	}
	return sched, loc, nil
}

// everySchedule is "@every d" anchored to the Unix epoch: its slots are the
// multiples of d since 1970-01-01 UTC, the same in every instance however
// late each started. (robfig/cron's own @every counts from whenever the
// process started, which would give each instance different slots.)
type everySchedule struct{ every time.Duration }

// Next implements cron.Schedule.
func (e everySchedule) Next(t time.Time) time.Time {
	step := int64(e.every / time.Second)
	sec := t.Unix()
	next := (sec/step + 1) * step
	if sec < 0 && sec%step != 0 {
		next -= step
	}
	return time.Unix(next, 0).UTC()
}

// maxLookBack bounds the search for a schedule's previous slot; a spec with
// no activation in that long (30 February) has no slots.
const maxLookBack = 10 * 366 * 24 * time.Hour

// prevSlot returns the latest activation of sched at or before t, or the
// zero time when there is none within maxLookBack.
func prevSlot(sched cron.Schedule, t time.Time) time.Time {
	t = t.UTC()
	if e, ok := sched.(everySchedule); ok {
		step := int64(e.every / time.Second)
		sec := t.Unix()
		slot := sec / step * step
		if sec < 0 && sec%step != 0 {
			slot -= step
		}
		return time.Unix(slot, 0).UTC()
	}
	// Widen a window back from t until it holds an activation, then walk
	// forward to the last activation not after t.
	for back := time.Minute; back <= maxLookBack; back *= 2 {
		x := sched.Next(t.Add(-back))
		if x.IsZero() || x.After(t) {
			continue
		}
		for {
			n := sched.Next(x)
			if n.IsZero() || n.After(t) {
				return x.UTC()
			}
			x = n
		}
	}
	return time.Time{}
}

// nextSlot returns the first activation of sched after t (zero if none).
func nextSlot(sched cron.Schedule, t time.Time) time.Time {
	n := sched.Next(t)
	if n.IsZero() {
		return n
	}
	return n.UTC()
}

// normSlot is the form in which slots are stored and compared: UTC, whole
// seconds.
func normSlot(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }
