package devices_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/portaltest"
)

func TestSecretHashIsMosquittoFormat(t *testing.T) {
	h, err := devices.HashSecret("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$7$101$") || strings.Count(h, "$") != 4 {
		t.Fatalf("hash %q is not in mosquitto $7$ format", h)
	}
	if ok, _ := devices.VerifySecret(h, "s3cret"); !ok {
		t.Error("the right secret does not verify")
	}
	if ok, _ := devices.VerifySecret(h, "s3cres"); ok {
		t.Error("a wrong secret verifies")
	}
	// A hash written by mosquitto_passwd 2.0 for the password "password".
	const mosq = "$7$101$QbqA7dqO1Y2ELmrc$0tqtj6hs3fE1S/Ys66dvD+SQ1zSVV8Xi9wB4gf7Sdq1BdEwROkT5Xh5kmBbrBnL8xVs6USvmsNs0lkPuISyPnA=="
	if _, err := devices.VerifySecret(mosq, "password"); err != nil {
		t.Errorf("mosquitto hash not parsed: %v", err)
	}
}

func TestDevicesAPI(t *testing.T) {
	ta := newApp(t)
	ta.Org(t, "acme")
	cust := ta.User(t, "acme", "carla@acme.example", accounts.Customer)
	ta.User(t, "acme", "other@acme.example", accounts.Customer)
	admin := ta.As(t, "acme", "boss@acme.example", accounts.Admin)
	carla := portaltest.Bearer(ta.Login(t, "acme", "carla@acme.example"))
	other := portaltest.Bearer(ta.Login(t, "acme", "other@acme.example"))

	res := ta.Do(t, http.MethodPost, "/api/v1/devices", map[string]any{"owner_id": cust.ID, "module": "gauges", "name": "Boiler"}, admin)
	if res.Status != 201 {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	var cr struct {
		ID, Username, Secret string
		Topics               devices.Topics
	}
	res.JSON(t, &cr)
	if cr.ID == "" || cr.Username != cr.ID || len(cr.Secret) < 20 || cr.Topics.Publish != "t/acme/d/"+cr.ID+"/gauges" || cr.Topics.Commands != "t/acme/d/"+cr.ID+"/cmd/#" {
		t.Fatalf("credentials: %+v", cr)
	}
	if strings.Contains(ta.Do(t, http.MethodGet, "/api/v1/devices/"+cr.ID, nil, admin).Body, cr.Secret) {
		t.Error("the secret is shown again after creation")
	}

	// Bad input names the field; nothing is written.
	bad := ta.Do(t, http.MethodPost, "/api/v1/devices", map[string]any{"owner_id": cust.ID, "module": "nope", "name": "X"}, admin)
	if bad.Status != 422 || !strings.Contains(bad.Body, "module") {
		t.Errorf("unknown module: %d %s", bad.Status, bad.Body)
	}
	if bad := ta.Do(t, http.MethodPost, "/api/v1/devices", map[string]any{"module": "gauges", "name": "X"}, admin); bad.Status != 422 || !strings.Contains(bad.Body, "owner_id") {
		t.Errorf("missing owner: %d %s", bad.Status, bad.Body)
	}

	// The owner sees it; another customer does not.
	if r := ta.Do(t, http.MethodGet, "/api/v1/devices", nil, carla); !strings.Contains(r.Body, cr.ID) {
		t.Errorf("owner's list lacks the device: %s", r.Body)
	}
	if r := ta.Do(t, http.MethodGet, "/api/v1/devices", nil, other); strings.Contains(r.Body, cr.ID) {
		t.Errorf("another customer lists the device: %s", r.Body)
	}
	if r := ta.Do(t, http.MethodGet, "/api/v1/devices/"+cr.ID, nil, other); r.Status != 404 {
		t.Errorf("another customer reads the device: %d", r.Status)
	}
	// The owner may disable, not rotate.
	if r := ta.Do(t, http.MethodPost, "/api/v1/devices/"+cr.ID+"/rotate", nil, carla); r.Status != 403 {
		t.Errorf("customer rotates: %d %s", r.Status, r.Body)
	}
	if r := ta.Do(t, http.MethodPost, "/api/v1/devices/"+cr.ID+"/disable", nil, carla); r.Status != 200 || !strings.Contains(r.Body, `"disabled"`) {
		t.Errorf("owner disables: %d %s", r.Status, r.Body)
	}
	// Rotation gives a new secret.
	var rot struct{ Secret string }
	r := ta.Do(t, http.MethodPost, "/api/v1/devices/"+cr.ID+"/rotate", nil, admin)
	r.JSON(t, &rot)
	if r.Status != 200 || rot.Secret == "" || rot.Secret == cr.Secret {
		t.Errorf("rotate: %d %s", r.Status, r.Body)
	}
	if r := ta.Do(t, http.MethodDelete, "/api/v1/devices/"+cr.ID, nil, admin); r.Status != 204 {
		t.Errorf("delete: %d %s", r.Status, r.Body)
	}
	if r := ta.Do(t, http.MethodGet, "/api/v1/devices/"+cr.ID, nil, admin); r.Status != 404 {
		t.Errorf("deleted device still readable: %d", r.Status)
	}
}

func TestDevicesPages(t *testing.T) {
	ta := newApp(t)
	ta.User(t, "acme", "carla@acme.example", accounts.Customer)
	ta.User(t, "acme", "boss@acme.example", accounts.Admin)
	b := ta.Browser()
	b.SignIn(t, "acme", "boss@acme.example")
	page := b.Get(t, "/devices")
	if page.Status != 200 || !strings.Contains(page.Body, "Register a device") {
		t.Fatalf("devices page: %d", page.Status)
	}
	res := b.Post(t, "/devices", map[string][]string{"owner": {"carla@acme.example"}, "module": {"gauges"}, "name": {"Boiler"}})
	if res.Status != 200 || !strings.Contains(res.Body, "it will not be shown again") {
		t.Fatalf("create page: %d %s", res.Status, res.Body)
	}
	bad := b.Post(t, "/devices", map[string][]string{"owner": {"nobody@acme.example"}, "module": {"gauges"}, "name": {"Boiler"}})
	if bad.Status != 422 || !strings.Contains(bad.Body, "no customer with this e-mail address") {
		t.Errorf("bad owner: %d", bad.Status)
	}
	list, _ := ta.Devices.List(context.Background(), devices.Actor{OrgID: ta.Org(t, "acme").ID, UserID: 1, Role: "admin"}, devices.ListFilter{})
	if len(list) != 1 {
		t.Fatalf("devices after the page form: %d", len(list))
	}
	id := list[0].ID

	// The owner sees the device page and can disable it; a form without
	// the CSRF token is refused.
	c := ta.Browser()
	c.SignIn(t, "acme", "carla@acme.example")
	if p := c.Get(t, "/devices/"+id); p.Status != 200 || !strings.Contains(p.Body, "Reject log") || strings.Contains(p.Body, "Rotate secret") {
		t.Errorf("owner's device page: %d", p.Status)
	}
	if r := c.Post(t, "/devices/"+id+"/disable", nil); r.Status >= 400 {
		t.Errorf("owner disables: %d", r.Status)
	}
	d, _ := ta.Devices.Get(context.Background(), devices.Actor{OrgID: list[0].OrgID, UserID: list[0].OwnerID, Role: "customer"}, id)
	if d.Status != devices.StatusDisabled {
		t.Errorf("status after disable: %s", d.Status)
	}
}

func TestDevicesAuthorizationMatrix(t *testing.T) {
	ta := newApp(t)
	portaltest.AuthorizationMatrix(t, ta)
}

func TestRetentionRollsUpOldReadings(t *testing.T) {
	ta := newApp(t, portaltest.WithConfig(func(c *config.Config) { c.Devices.Retention = 24 * time.Hour }))
	cr := provision(t, ta, "acme", "carla@acme.example")
	now := time.Date(2026, 3, 10, 12, 30, 0, 0, time.UTC)
	old := now.Add(-48 * time.Hour).Truncate(time.Hour)
	for i, v := range []float64{10, 20, 30} {
		insertReading(t, ta, cr.Device, old.Add(time.Duration(i)*time.Minute), v, i)
	}
	insertReading(t, ta, cr.Device, now.Add(-time.Hour), 99, 9)
	n, err := ta.Devices.Retain(context.Background(), now)
	if err != nil || n != 3 {
		t.Fatalf("retain: %d %v", n, err)
	}
	if got := countReadings(t, ta, cr.ID); got != 1 {
		t.Errorf("raw readings left: %d, want 1", got)
	}
	var ru devices.Rollup
	if err := ta.Store.DB.Raw("SELECT * FROM device_rollups WHERE device_id = ?", cr.ID).Scan(&ru).Error; err != nil {
		t.Fatal(err)
	}
	if ru.Count != 3 || ru.Sum != 60 || ru.Min == nil || *ru.Min != 10 || *ru.Max != 30 || !ru.Hour.Equal(old) {
		t.Errorf("rollup: %+v", ru)
	}
	// A rerun finds nothing more.
	if n, err := ta.Devices.Retain(context.Background(), now); err != nil || n != 0 {
		t.Errorf("second retain: %d %v", n, err)
	}
}

func insertReading(t testing.TB, ta *portaltest.TestApp, d *devices.Device, ts time.Time, v float64, seq int) {
	t.Helper()
	err := ta.Store.DB.Exec(`INSERT INTO device_readings (org_id, device_id, key, module, stream, ts, received_at, value, payload) VALUES (?,?,?,?,?,?,?,?,?)`,
		d.OrgID, d.ID, "k"+gaugeJSON(seq, v), "gauges", "temp", ts, ts, v, gaugeJSON(seq, v)).Error
	if err != nil {
		t.Fatal(err)
	}
}

// The owner's activity timeline shows each change to their device, who
// made it, in order; another customer's shows none of it.
func TestDeviceChangesAppearOnTheOwnersTimeline(t *testing.T) {
	ta := newApp(t)
	ta.Org(t, "acme")
	cust := ta.User(t, "acme", "carla@acme.example", accounts.Customer)
	ta.User(t, "acme", "other@acme.example", accounts.Customer)
	boss := ta.User(t, "acme", "boss@acme.example", accounts.Admin)
	admin := portaltest.Bearer(ta.Login(t, "acme", "boss@acme.example"))
	carla := portaltest.Bearer(ta.Login(t, "acme", "carla@acme.example"))
	other := portaltest.Bearer(ta.Login(t, "acme", "other@acme.example"))

	res := ta.Do(t, http.MethodPost, "/api/v1/devices", map[string]any{"owner_id": cust.ID, "module": "gauges", "name": "Boiler"}, admin)
	if res.Status != 201 {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	var cr struct{ ID string }
	res.JSON(t, &cr)
	steps := []struct {
		method, path string
		as           map[string]string
		status       int
	}{
		{http.MethodPost, "/disable", carla, 200},
		{http.MethodPost, "/disable", carla, 200}, // already disabled: nothing new to say
		{http.MethodPost, "/enable", admin, 200},
		{http.MethodPost, "/rotate", admin, 200},
		{http.MethodDelete, "", admin, 204},
	}
	for _, s := range steps {
		if r := ta.Do(t, s.method, "/api/v1/devices/"+cr.ID+s.path, nil, s.as); r.Status != s.status {
			t.Fatalf("%s %s: %d %s", s.method, s.path, r.Status, r.Body)
		}
	}

	var page struct {
		Items []struct {
			Event, Summary, Link string
			ActorID              uint `json:"actor_id"`
		}
	}
	ta.Do(t, http.MethodGet, "/api/v1/me/activity?module=devices", nil, carla).JSON(t, &page)
	want := []string{
		"devices.deleted: Device “Boiler” deleted",
		"devices.secret_rotated: New secret for device “Boiler”",
		"devices.enabled: Device “Boiler” enabled again",
		"devices.disabled: Device “Boiler” disabled",
		"devices.created: Device “Boiler” registered",
	}
	var got []string
	for _, it := range page.Items {
		got = append(got, it.Event+": "+it.Summary)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("carla's activity:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if a := page.Items[3]; a.ActorID != cust.ID || a.Link != "/devices/"+cr.ID {
		t.Errorf("the disable should name carla and link the device: %+v", a)
	}
	if a := page.Items[0]; a.ActorID != boss.ID || a.Link != "" {
		t.Errorf("the delete should name the admin and link nowhere: %+v", a)
	}
	if r := ta.Do(t, http.MethodGet, "/api/v1/me/activity?module=devices&lang=it", nil, carla); !strings.Contains(r.Body, "Dispositivo “Boiler” disattivato") {
		t.Errorf("the summaries are not in Italian: %s", r.Body)
	}
	if r := ta.Do(t, http.MethodGet, "/api/v1/me/activity", nil, other); r.Status != 200 || strings.Contains(r.Body, "Boiler") {
		t.Errorf("another customer's activity: %d %s", r.Status, r.Body)
	}
}

// Concurrent disables (a double-clicked form, the owner and an admin at
// once) announce the change once; concurrent deletes delete once and the
// others answer 404.
func TestConcurrentChangesAnnounceOnce(t *testing.T) {
	ta := newApp(t)
	ctx := context.Background()
	x := provision(t, ta, "acme", "carla@acme.example")
	admin := devices.Actor{OrgID: x.Device.OrgID, UserID: 1, Role: "admin"}
	count := func(event string) int64 {
		var n int64
		if err := ta.App.Store.DB.Table("timeline_entries").Where("event = ?", event).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	run := func(n int, f func() error) []error {
		errc := make(chan error, n)
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() { defer wg.Done(); errc <- f() }()
		}
		wg.Wait()
		close(errc)
		var out []error
		for err := range errc {
			out = append(out, err)
		}
		return out
	}
	for _, err := range run(4, func() error { _, err := ta.Devices.Disable(ctx, admin, x.ID); return err }) {
		if err != nil {
			t.Fatalf("disable: %v", err)
		}
	}
	if n := count(devices.EventDeviceDisabled); n != 1 {
		t.Errorf("four concurrent disables announced %d times, want once", n)
	}
	deleted, notFound := 0, 0
	for _, err := range run(3, func() error { return ta.Devices.Delete(ctx, admin, x.ID) }) {
		if e, ok := errs.As(err); err == nil {
			deleted++
		} else if ok && e.Kind == errs.NotFound {
			notFound++
		} else {
			t.Errorf("delete: %v", err)
		}
	}
	if deleted != 1 || notFound != 2 || count(devices.EventDeviceDeleted) != 1 {
		t.Errorf("three concurrent deletes: %d deleted, %d not found, %d announced; want 1, 2, 1", deleted, notFound, count(devices.EventDeviceDeleted))
	}
}
