package config

import (
	"strings"
	"testing"
	"time"
)

func TestScheduleSection(t *testing.T) {
	cfg, err := Load("", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Schedule.Enabled || cfg.Schedule.Grace != 24*time.Hour || cfg.Schedule.Lease != 2*time.Minute || cfg.Schedule.Retention != 90*24*time.Hour {
		t.Fatalf("defaults: %+v", cfg.Schedule)
	}

	p := writeFile(t, "schedule:\n  grace: 1h\n  overrides:\n    banking.monthly_report: \"0 7 1 * *\"\n    health.reminders: \"off\"\n")
	cfg, err = Load(p, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Schedule.Grace != time.Hour || cfg.Schedule.Overrides["banking.monthly_report"] != "0 7 1 * *" || cfg.Schedule.Overrides["health.reminders"] != "off" {
		t.Fatalf("from file: %+v", cfg.Schedule)
	}

	// The environment replaces the whole map; specs keep their commas.
	cfg, err = Load(p, false, []string{"PORTAL_SCHEDULE_OVERRIDES=a.b=0 6,18 * * * ; c.d = off", "PORTAL_SCHEDULE_ENABLED=false"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Schedule.Enabled {
		t.Error("PORTAL_SCHEDULE_ENABLED=false ignored")
	}
	if len(cfg.Schedule.Overrides) != 2 || cfg.Schedule.Overrides["a.b"] != "0 6,18 * * *" || cfg.Schedule.Overrides["c.d"] != "off" {
		t.Fatalf("from env: %#v", cfg.Schedule.Overrides)
	}
	var b strings.Builder
	cfg.Print(&b)
	if !strings.Contains(b.String(), "a.b=0 6,18 * * *;c.d=off") || !strings.Contains(b.String(), "PORTAL_SCHEDULE_OVERRIDES") {
		t.Fatalf("print:\n%s", b.String())
	}

	for _, tc := range []struct {
		env  []string
		want string
	}{
		{[]string{"PORTAL_SCHEDULE_OVERRIDES=a.b"}, "schedule.overrides"},
		{[]string{"PORTAL_SCHEDULE_OVERRIDES=a.b="}, "schedule.overrides: job \"a.b\": empty value"},
		{[]string{"PORTAL_SCHEDULE_LEASE=10ms"}, "schedule.lease"},
		{[]string{"PORTAL_SCHEDULE_GRACE=-1h"}, "schedule.grace"},
		{[]string{"PORTAL_SCHEDULE_RETENTION=-1h"}, "schedule.retention"},
		{[]string{"PORTAL_SCHEDULE_RETENTION=1h", "PORTAL_SCHEDULE_GRACE=2h"}, "schedule.retention: 1h0m0s is shorter than schedule.grace"},
	} {
		_, err := Load("", false, tc.env)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: error %v, want one line naming %q", tc.env, err, tc.want)
		}
	}
}
