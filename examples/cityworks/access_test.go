package cityworks_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/store"
	"gorm.io/gorm"

	"example.com/portal-examples/cityworks"
)

// TestDepartmentsAndSharing: a department's staff read its segments;
// staff of other departments get 404 until the segment is shared with
// their department, and again once the share is withdrawn; only the
// owning department shares; another council sees nothing.
func TestDepartmentsAndSharing(t *testing.T) {
	ta, m := newApp(t)
	c := newCouncil(t, ta, m)
	day := fmt.Sprintf("/api/v1/cityworks/segments/%d/day", c.roma)
	c.must(t, "GET", day, nil, c.rossi, 200)
	c.must(t, "GET", day, nil, c.admin, 200)
	c.must(t, "GET", day, nil, c.bianchi, 404)
	c.must(t, "GET", day, nil, c.verdi, 404)
	c.must(t, "GET", day, nil, c.anna, 403)
	c.must(t, "GET", day, nil, c.otherAdmin, 404)
	segs := func(h map[string]string) int {
		var s []cityworks.Segment
		c.must(t, "GET", "/api/v1/cityworks/segments", nil, h, 200).JSON(t, &s)
		return len(s)
	}
	if segs(c.rossi) != 1 || segs(c.bianchi) != 0 || segs(c.otherAdmin) != 0 {
		t.Fatalf("segment lists: rossi %d, bianchi %d, other council %d", segs(c.rossi), segs(c.bianchi), segs(c.otherAdmin))
	}
	// Mobility cannot share what is not theirs (they do not even see it).
	c.must(t, "POST", day[:len(day)-4]+"/shares", map[string]any{"department_id": c.mobility}, c.bianchi, 404)
	var sh cityworks.Share
	c.must(t, "POST", day[:len(day)-4]+"/shares", map[string]any{"department_id": c.mobility}, c.rossi, 201).JSON(t, &sh)
	c.must(t, "GET", day, nil, c.bianchi, 200)
	c.must(t, "GET", day, nil, c.verdi, 404)
	if segs(c.bianchi) != 1 {
		t.Fatal("the shared segment is not in mobility's list")
	}
	// Mobility reads it but may not share it on, nor withdraw the share.
	c.must(t, "POST", day[:len(day)-4]+"/shares", map[string]any{"department_id": c.parks}, c.bianchi, 403)
	c.must(t, "DELETE", "/api/v1/cityworks/shares/"+itoa(sh.ID), nil, c.bianchi, 404)
	c.must(t, "DELETE", "/api/v1/cityworks/shares/"+itoa(sh.ID), nil, c.otherAdmin, 404)
	c.must(t, "DELETE", "/api/v1/cityworks/shares/"+itoa(sh.ID), nil, c.rossi, 204)
	c.must(t, "GET", day, nil, c.bianchi, 404)
	// Leaving the department ends the reach at once.
	var d cityworks.Department
	if err := store.Org(ta.Store.DB, c.org).Where("id = ?", c.works).Take(&d).Error; err != nil {
		t.Fatal(err)
	}
	if err := ta.Accounts.RemoveGroupMember(context.Background(), nil, c.org, d.GroupID, c.rossiID); err != nil {
		t.Fatal(err)
	}
	c.must(t, "GET", day, nil, c.rossi, 404)
}

// TestEraseCitizen: when a citizen's account is purged their reports stay
// as the council's record of the work, without the reporter or the free
// text.
func TestEraseCitizen(t *testing.T) {
	ta, m := newApp(t)
	c := newCouncil(t, ta, m)
	var rep cityworks.Report
	c.must(t, "POST", "/api/v1/cityworks/reports", map[string]any{"problem": "pothole", "place": "Via Po 3", "description": "My name is Anna"}, c.anna, 201).JSON(t, &rep)
	err := ta.Store.Tx(context.Background(), func(tx *gorm.DB) error {
		return ta.App.Events.Publish(context.Background(), events.Event{Name: accounts.EventUserDeleted, OrgID: c.org, SubjectID: c.annaID, Tx: tx})
	})
	if err != nil {
		t.Fatal(err)
	}
	var got cityworks.Report
	if err := store.Org(ta.Store.DB, c.org).Where("id = ?", rep.ID).Take(&got).Error; err != nil {
		t.Fatal(err)
	}
	if got.ReporterID != 0 || got.Description != "" || got.Place != "Via Po 3" {
		t.Fatalf("after erasure: %+v", got)
	}
	c.must(t, "GET", "/api/v1/cityworks/reports/"+itoa(rep.ID), nil, c.rossi, 404)
	c.must(t, "GET", "/api/v1/cityworks/reports/"+itoa(rep.ID), nil, c.admin, 200)
}
