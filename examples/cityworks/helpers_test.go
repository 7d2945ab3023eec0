package cityworks_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"

	"example.com/portal-examples/cityworks"
)

func newApp(t *testing.T) (*portaltest.TestApp, *cityworks.Module) {
	t.Helper()
	m := cityworks.New()
	ta := portaltest.New(t, []module.Module{m}, portaltest.WithConfig(func(c *config.Config) {
		c.Notify.PollInterval = 20 * time.Millisecond
		c.Notify.RetryBase = 20 * time.Millisecond
		c.Notify.RetryMax = 100 * time.Millisecond
	}))
	return ta, m
}

// council is an organisation "council" with an admin; departments works
// (rossi, planner, and crew), mobility (bianchi) and parks (verdi); the
// segment via-roma-1 of works; citizens anna and bruno. "other" is another
// council with its own admin.
type council struct {
	ta                                  *portaltest.TestApp
	m                                   *cityworks.Module
	org                                 uint
	admin, rossi, crew, bianchi, verdi  map[string]string
	anna, bruno, otherAdmin             map[string]string
	rossiID, crewID, bianchiID, verdiID uint
	annaID                              uint
	works, mobility, parks              uint
	roma                                uint
}

func newCouncil(t *testing.T, ta *portaltest.TestApp, m *cityworks.Module) *council {
	t.Helper()
	c := &council{ta: ta, m: m}
	c.admin = ta.As(t, "council", "admin@council.example", accounts.Admin)
	c.org = ta.Org(t, "council").ID
	c.rossi = ta.As(t, "council", "rossi@council.example", accounts.Staff)
	c.crew = ta.As(t, "council", "crew@council.example", accounts.Staff)
	c.bianchi = ta.As(t, "council", "bianchi@council.example", accounts.Staff)
	c.verdi = ta.As(t, "council", "verdi@council.example", accounts.Staff)
	c.anna = ta.As(t, "council", "anna@council.example", accounts.Customer)
	c.bruno = ta.As(t, "council", "bruno@council.example", accounts.Customer)
	c.otherAdmin = ta.As(t, "other", "admin@other.example", accounts.Admin)
	c.rossiID, c.crewID, c.bianchiID, c.verdiID = uid(t, ta, c.rossi), uid(t, ta, c.crew), uid(t, ta, c.bianchi), uid(t, ta, c.verdi)
	c.annaID = uid(t, ta, c.anna)
	c.works = c.dept(t, "works", "Public works", c.rossiID, c.crewID)
	c.mobility = c.dept(t, "mobility", "Mobility", c.bianchiID)
	c.parks = c.dept(t, "parks", "Parks", c.verdiID)
	var s cityworks.Segment
	c.must(t, "POST", "/api/v1/cityworks/segments", map[string]any{"code": "via-roma-1", "name": "Via Roma", "department_id": c.works}, c.admin, 201).JSON(t, &s)
	c.roma = s.ID
	return c
}

func (c *council) dept(t *testing.T, code, name string, staff ...uint) uint {
	t.Helper()
	var d cityworks.Department
	c.must(t, "POST", "/api/v1/cityworks/departments", map[string]any{"code": code, "name": name}, c.admin, 201).JSON(t, &d)
	for _, u := range staff {
		c.must(t, "POST", fmt.Sprintf("/api/v1/cityworks/departments/%d/staff", d.ID), map[string]any{"user_id": u}, c.admin, 204)
	}
	return d.ID
}

func uid(t *testing.T, ta *portaltest.TestApp, h map[string]string) uint {
	return ta.Principal(t, h["Authorization"][len("Bearer "):]).UserID
}

func (c *council) must(t *testing.T, method, url string, body any, h map[string]string, want int) *portaltest.Response {
	t.Helper()
	res := c.ta.Do(t, method, url, body, h)
	if res.Status != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, url, res.Status, want, res.Body)
	}
	return res
}

// history stores MinWeeks+1 weeks of counts at the same hour as at: 50
// vehicles every 5 minutes (600 an hour), the usual level.
func (c *council) history(t *testing.T, at time.Time) {
	t.Helper()
	for w := 1; w <= cityworks.MinWeeks+1; w++ {
		for i := 0; i < 12; i++ {
			ts := at.AddDate(0, 0, -7*w).Truncate(time.Hour).Add(time.Duration(i*5) * time.Minute)
			if _, err := c.m.Record(context.Background(), c.org, "dvtest", cityworks.Count{TS: ts, Segment: "via-roma-1", Vehicles: 50, Pedestrians: 10, Minutes: 5}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func itoa(n uint) string { return strconv.FormatUint(uint64(n), 10) }

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
