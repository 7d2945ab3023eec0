package devices_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/devices"
)

// TestWhoMayDoWhatWithDevices proves the rules of docs/devices.md ("Who may
// do what"): staff manage the devices of the customers they reach (by
// assignment or through a group opening "devices") but never rotate nor
// delete; staff who reach nobody see nothing; integrator tokens act like
// admins within their organisation.
func TestWhoMayDoWhatWithDevices(t *testing.T) {
	ta := newApp(t)
	ctx := context.Background()
	org := ta.Org(t, "acme")
	carla := ta.User(t, "acme", "carla@acme.example", accounts.Customer)
	dino := ta.User(t, "acme", "dino@acme.example", accounts.Customer)
	ta.User(t, "acme", "boss@acme.example", accounts.Admin)
	ta.User(t, "acme", "adv@acme.example", accounts.Staff)
	ta.User(t, "acme", "fleet@acme.example", accounts.Staff)
	ta.User(t, "acme", "idle@acme.example", accounts.Staff)
	tok := func(email string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + ta.Login(t, "acme", email)}
	}
	admin, adv, fleet, idle := tok("boss@acme.example"), tok("adv@acme.example"), tok("fleet@acme.example"), tok("idle@acme.example")
	bossP := ta.Principal(t, strings.TrimPrefix(admin["Authorization"], "Bearer "))

	// adv is assigned to carla; fleet reaches dino through a group whose
	// kind opens "devices"; idle reaches nobody.
	if err := ta.Accounts.Assign(ctx, bossP, ta.Principal(t, strings.TrimPrefix(adv["Authorization"], "Bearer ")).UserID, carla.ID, "advisor"); err != nil {
		t.Fatal(err)
	}
	if err := ta.Accounts.DeclareGroupKind(accounts.GroupKind{ID: "gauges.fleet", Opens: []string{devices.Area}}); err != nil {
		t.Fatal(err)
	}
	g, err := ta.Accounts.SaveGroup(ctx, nil, org.ID, "gauges.fleet", "north", "North fleet")
	if err != nil {
		t.Fatal(err)
	}
	fleetP := ta.Principal(t, strings.TrimPrefix(fleet["Authorization"], "Bearer "))
	for _, m := range []struct {
		id   uint
		side accounts.Side
	}{{fleetP.UserID, accounts.StaffSide}, {dino.ID, accounts.CustomerSide}} {
		if err := ta.Accounts.AddGroupMember(ctx, nil, org.ID, g.ID, m.id, m.side, ""); err != nil {
			t.Fatal(err)
		}
	}

	create := func(who map[string]string, owner uint) (int, string) {
		res := ta.Do(t, http.MethodPost, "/api/v1/devices", map[string]any{"owner_id": owner, "module": "gauges", "name": "Boiler"}, who)
		var cr struct{ ID string }
		if res.Status == 201 {
			res.JSON(t, &cr)
		} else if res.Status != 422 || !strings.Contains(res.Body, "owner_id") {
			t.Errorf("create for %d: %d %s", owner, res.Status, res.Body)
		}
		return res.Status, cr.ID
	}
	// Staff register devices for the customers they reach only.
	if st, _ := create(adv, dino.ID); st != 422 {
		t.Errorf("advisor registers for a customer they do not reach: %d", st)
	}
	if st, _ := create(idle, carla.ID); st != 422 {
		t.Errorf("idle staff register: %d", st)
	}
	_, carlaDev := create(adv, carla.ID)
	_, dinoDev := create(fleet, dino.ID)
	if carlaDev == "" || dinoDev == "" {
		t.Fatal("staff could not register devices for their customers")
	}

	status := func(method, path string, who map[string]string) int { return ta.Do(t, method, path, nil, who).Status }
	for _, c := range []struct {
		who  map[string]string
		name string
		dev  string
		want map[string]int
	}{
		{adv, "assigned staff, own customer", carlaDev, map[string]int{"get": 200, "disable": 200, "enable": 200, "rotate": 403, "delete": 403}},
		{fleet, "group staff, own customer", dinoDev, map[string]int{"get": 200, "disable": 200, "enable": 200, "rotate": 403, "delete": 403}},
		{adv, "assigned staff, someone else's device", dinoDev, map[string]int{"get": 404, "disable": 404, "enable": 404, "rotate": 403, "delete": 403}},
		{idle, "staff reaching nobody", carlaDev, map[string]int{"get": 404, "disable": 404, "enable": 404, "rotate": 403, "delete": 403}},
	} {
		base := "/api/v1/devices/" + c.dev
		got := map[string]int{"get": status(http.MethodGet, base, c.who), "disable": status(http.MethodPost, base+"/disable", c.who),
			"enable": status(http.MethodPost, base+"/enable", c.who), "rotate": status(http.MethodPost, base+"/rotate", c.who),
			"delete": status(http.MethodDelete, base, c.who)}
		for k, w := range c.want {
			if got[k] != w {
				t.Errorf("%s: %s answered %d, want %d", c.name, k, got[k], w)
			}
		}
	}
	// Lists follow the same reach.
	for who, want := range map[string]struct {
		h    map[string]string
		sees string
		not  string
	}{"advisor": {adv, carlaDev, dinoDev}, "fleet": {fleet, dinoDev, carlaDev}} {
		body := ta.Do(t, http.MethodGet, "/api/v1/devices", nil, want.h).Body
		if !strings.Contains(body, want.sees) || strings.Contains(body, want.not) {
			t.Errorf("%s's device list: %s", who, body)
		}
	}
	if body := ta.Do(t, http.MethodGet, "/api/v1/devices", nil, idle).Body; strings.Contains(body, carlaDev) || strings.Contains(body, dinoDev) {
		t.Errorf("idle staff list devices: %s", body)
	}

	// Leaving the group ends the fleet member's reach at once.
	if err := ta.Accounts.RemoveGroupMember(ctx, nil, org.ID, g.ID, fleetP.UserID); err != nil {
		t.Fatal(err)
	}
	if st := status(http.MethodGet, "/api/v1/devices/"+dinoDev, fleet); st != 404 {
		t.Errorf("after leaving the group: %d", st)
	}

	// An integrator token (devices:write) rotates and deletes like an admin;
	// one with devices:read only may not.
	ct, err := ta.Accounts.CreateToken(ctx, bossP, accounts.NewToken{Name: "provisioning", Scopes: []string{"devices:write"}, ExpiresIn: time.Hour}, "")
	if err != nil {
		t.Fatal(err)
	}
	rt, err := ta.Accounts.CreateToken(ctx, bossP, accounts.NewToken{Name: "reporting", Scopes: []string{"devices:read"}, ExpiresIn: time.Hour}, "")
	if err != nil {
		t.Fatal(err)
	}
	integ, reader := map[string]string{"Authorization": "Bearer " + ct.Secret}, map[string]string{"Authorization": "Bearer " + rt.Secret}
	if st := status(http.MethodGet, "/api/v1/devices/"+carlaDev, reader); st != 200 {
		t.Errorf("read-only token reads: %d", st)
	}
	if st := status(http.MethodPost, "/api/v1/devices/"+carlaDev+"/rotate", reader); st != 403 {
		t.Errorf("read-only token rotates: %d", st)
	}
	if st := status(http.MethodPost, "/api/v1/devices/"+carlaDev+"/rotate", integ); st != 200 {
		t.Errorf("integrator rotates: %d", st)
	}
	if st := status(http.MethodDelete, "/api/v1/devices/"+carlaDev, integ); st != 204 {
		t.Errorf("integrator deletes: %d", st)
	}
	if st, _ := create(integ, dino.ID); st != 201 {
		t.Errorf("integrator registers: %d", st)
	}
}
