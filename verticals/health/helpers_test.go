package health_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/verticals/health"
)

// fixedNow is the tests' clock, so readings never depend on today.
var fixedNow = time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)

func newApp(t *testing.T) (*portaltest.TestApp, *health.Module) {
	t.Helper()
	m := &health.Module{Now: func() time.Time { return fixedNow }}
	return portaltest.New(t, []module.Module{m}), m
}

// clinic is an organisation with an admin, a care team "Cardiology" with
// the clinician dr.rossi, another team "Nutrition" with dr.bianchi, a
// patient in Cardiology's care, and a nurse in no team.
type clinic struct {
	ta                    *portaltest.TestApp
	admin, rossi, bianchi map[string]string
	nurse, patient, other map[string]string
	patientID, otherID    uint
	cardiology, nutrition uint
	rossiID, bianchiID    uint
	nurseID               uint
}

func newClinic(t *testing.T, ta *portaltest.TestApp) *clinic {
	t.Helper()
	c := &clinic{ta: ta}
	c.admin = ta.As(t, "clinic", "admin@clinic.example", accounts.Admin)
	c.rossi = ta.As(t, "clinic", "dr.rossi@clinic.example", accounts.Staff)
	c.bianchi = ta.As(t, "clinic", "dr.bianchi@clinic.example", accounts.Staff)
	c.nurse = ta.As(t, "clinic", "nurse@clinic.example", accounts.Staff)
	c.patient = ta.As(t, "clinic", "anna@clinic.example", accounts.Customer)
	c.other = ta.As(t, "clinic", "bruno@clinic.example", accounts.Customer)
	c.rossiID, c.bianchiID, c.nurseID = uid(t, ta, c.rossi), uid(t, ta, c.bianchi), uid(t, ta, c.nurse)
	c.patientID, c.otherID = uid(t, ta, c.patient), uid(t, ta, c.other)
	c.cardiology = c.team(t, "Cardiology", c.rossiID)
	c.nutrition = c.team(t, "Nutrition", c.bianchiID)
	c.must(t, "PUT", fmt.Sprintf("/api/v1/health/patients/%d/care-team", c.patientID), map[string]any{"team_id": c.cardiology}, c.admin, 204)
	return c
}

func uid(t *testing.T, ta *portaltest.TestApp, h map[string]string) uint {
	return ta.Principal(t, h["Authorization"][len("Bearer "):]).UserID
}

func (c *clinic) team(t *testing.T, name string, members ...uint) uint {
	t.Helper()
	var tm health.Team
	c.must(t, "POST", "/api/v1/health/teams", map[string]any{"name": name}, c.admin, 201).JSON(t, &tm)
	for _, m := range members {
		c.must(t, "POST", fmt.Sprintf("/api/v1/health/teams/%d/members", tm.ID), map[string]any{"staff_id": m, "role": "GP"}, c.admin, 204)
	}
	return tm.ID
}

func (c *clinic) must(t *testing.T, method, url string, body any, h map[string]string, want int) *portaltest.Response {
	t.Helper()
	res := c.ta.Do(t, method, url, body, h)
	if res.Status != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, url, res.Status, want, res.Body)
	}
	return res
}

func (c *clinic) obsURL() string {
	return fmt.Sprintf("/api/v1/health/patients/%d/observations", c.patientID)
}

func (c *clinic) accessLog(t *testing.T) []health.AccessEntry {
	t.Helper()
	var l []health.AccessEntry
	c.must(t, "GET", fmt.Sprintf("/api/v1/health/patients/%d/access-log", c.patientID), nil, c.patient, 200).JSON(t, &l)
	return l
}

func strconvU(n uint64) string { return strconv.FormatUint(n, 10) }
