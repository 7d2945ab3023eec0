package cityworks_test

import (
	"context"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"

	"example.com/portal-examples/cityworks"
)

func expectPage(t *testing.T, name string, res *portaltest.Response, status int, texts ...string) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("%s: status %d, want %d: %.400s", name, res.Status, status, res.Body)
	}
	for _, s := range texts {
		if !strings.Contains(res.Body, s) {
			t.Errorf("%s: the page lacks %q", name, s)
		}
	}
}

// TestPagesInItalian: the citizen's, planner's, crew's and public pages in
// Italian, with no text left untranslated; statuses as words.
func TestPagesInItalian(t *testing.T) {
	ta, m := newApp(t)
	c := newCouncil(t, ta, m)
	c.history(t, time.Now().UTC())
	var mu sync.Mutex
	missing := map[string]bool{}
	ta.Web.Catalog().OnMissing(func(_, key string) {
		mu.Lock()
		missing[key] = true
		mu.Unlock()
	})
	store.AllOrgs(ta.Store.DB).Model(&accounts.User{}).Where("email LIKE ?", "%@council.example").Update("locale", "it")

	a := ta.Browser()
	a.SignIn(t, "council", "anna@council.example")
	expectPage(t, "citizen", a.Get(t, "/m/cityworks/"), 200, "Segnala un problema", "Lampione guasto", "Dove si trova?", "Non hai ancora segnalato alcun problema.")
	expectPage(t, "citizen error", a.Post(t, "/m/cityworks/reports", url.Values{"problem": {"pothole"}, "place": {" "}}), 422, "indica dove si trova il problema")
	res := a.Post(t, "/m/cityworks/reports", url.Values{"problem": {"street_light"}, "place": {"Via Roma 12"}})
	if res.Status != 303 {
		t.Fatalf("report form: %d %s", res.Status, res.Body)
	}
	expectPage(t, "my reports", a.Get(t, "/m/cityworks/?msg=reported"), 200, "Grazie: la tua segnalazione è stata ricevuta.", "Via Roma 12", "Ricevuta")

	r := ta.Browser()
	r.SignIn(t, "council", "rossi@council.example")
	expectPage(t, "traffic", r.Get(t, "/m/cityworks/"), 200, "Traffico", "Via Roma", "Nessuna congestione sui tuoi tratti.")
	if _, err := m.Record(context.Background(), c.org, "dvtest", cityworks.Count{TS: time.Now().UTC().Truncate(5 * time.Minute), Segment: "via-roma-1", Vehicles: 200, Minutes: 5}); err != nil {
		t.Fatal(err)
	}
	expectPage(t, "traffic congested", r.Get(t, "/m/cityworks/"), 200, "Congestionato ora", "2.400", "Veicoli all&#39;ora")
	expectPage(t, "segment", r.Get(t, "/m/cityworks/segments/"+itoa(c.roma)), 200, "Oggi rispetto al livello abituale", "Veicoli all&#39;ora: questo giorno e il livello abituale",
		"2.400 veicoli all&#39;ora contro i 600 abituali")
	expectPage(t, "staff dashboard", r.Get(t, "/"), 200, "1 tratto congestionato ora")
	expectPage(t, "planner", r.Get(t, "/m/cityworks/planner"), 200, "Pianificatore lavori", "Lampione guasto", "Programma il lavoro")
	var reps []cityworks.ReportView
	c.must(t, "GET", "/api/v1/cityworks/reports", nil, c.anna, 200).JSON(t, &reps)
	if res := r.Post(t, "/m/cityworks/planner/"+itoa(reps[0].ID), url.Values{"crew_id": {itoa(c.crewID)}, "on": {time.Now().UTC().Format("2006-01-02")}}); res.Status != 303 {
		t.Fatalf("schedule form: %d %s", res.Status, res.Body)
	}
	expectPage(t, "planner after", r.Get(t, "/m/cityworks/planner?msg=scheduled"), 200, "Il lavoro è programmato.", "Programmato")

	w := ta.Browser()
	w.SignIn(t, "council", "crew@council.example")
	expectPage(t, "crew", w.Get(t, "/m/cityworks/crew"), 200, "I miei interventi", "Segna come: In viaggio", "Invia la mia posizione")
	jobs := func() []cityworks.Job {
		var js []cityworks.Job
		c.must(t, "GET", "/api/v1/cityworks/jobs", nil, c.crew, 200).JSON(t, &js)
		return js
	}
	jid := itoa(jobs()[0].ID)
	expectPage(t, "crew bad position", w.Post(t, "/m/cityworks/crew/"+jid, url.Values{"lat": {"north"}, "lon": {"7"}}), 422, "scrivi una latitudine e una longitudine")
	for _, st := range []string{"on_the_way", "in_progress", "done"} {
		if res := w.Post(t, "/m/cityworks/crew/"+jid, url.Values{"status": {st}, "lat": {"45,07"}, "lon": {"7,68"}}); res.Status != 303 {
			t.Fatalf("crew form %s: %d %s", st, res.Status, res.Body)
		}
	}
	if j := jobs()[0]; j.Status != cityworks.JobDone || j.Lat == nil || *j.Lat != 45.07 {
		t.Fatalf("the job after the crew's forms: %+v", j)
	}
	expectPage(t, "my reports done", a.Get(t, "/m/cityworks/"), 200, "Risolta")
	expectPage(t, "planner with the crew's position", r.Get(t, "/m/cityworks/planner"), 200, "45.07000, 7.68000 alle", "Concluso")
	expectPage(t, "public", ta.Browser().Get(t, "/m/cityworks/works/council"), 200, "Via Roma 12")
	expectPage(t, "dashboard", a.Get(t, "/"), 200, "Le mie segnalazioni")

	mu.Lock()
	defer mu.Unlock()
	var keys []string
	for k := range missing {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Errorf("a page showed %q untranslated", k)
	}
}

// TestDemo: the demo data is created twice without duplicates, and the
// demo staff member's pages show it.
func TestDemo(t *testing.T) {
	ta, _ := newApp(t)
	ta.Demo(t)
	ta.Demo(t)
	var segs, reports, devices int64
	store.AllOrgs(ta.Store.DB).Model(&cityworks.Segment{}).Count(&segs)
	store.AllOrgs(ta.Store.DB).Model(&cityworks.Report{}).Count(&reports)
	ta.Store.DB.Raw("SELECT COUNT(*) FROM devices WHERE id = ?", cityworks.DemoSensorID).Scan(&devices)
	if segs != 2 || reports != 1 || devices != 1 {
		t.Fatalf("demo: %d segments, %d reports, %d sensors", segs, reports, devices)
	}
	s := ta.Browser()
	s.SignIn(t, "demo", "staff@demo.example")
	expectPage(t, "demo traffic", s.Get(t, "/m/cityworks/"), 200, "Via Roma")
	expectPage(t, "demo crew", s.Get(t, "/m/cityworks/crew"), 200, "Via Roma 12")
	cu := ta.Browser()
	cu.SignIn(t, "demo", "customer@demo.example")
	expectPage(t, "demo citizen", cu.Get(t, "/m/cityworks/"), 200, "Via Roma 12", "Work planned")
}
