package help_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/app"
	"github.com/portalkit/portalkit/core/experience/help"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// vehicleModule is a module that ships two default articles (English and
// Italian) and a page linking to them.
type vehicleModule struct{ articles fstest.MapFS }

var _ module.Module = (*vehicleModule)(nil)

func (*vehicleModule) Info() module.Info {
	return module.Info{ID: "vehicles", Name: "Vehicles", Version: "1.0.0", Description: "Test vehicles."}
}

func (m *vehicleModule) Init(h module.Host) error {
	h.HelpArticles(m.articles)
	h.Templates(fstest.MapFS{"page.html": {Data: []byte(`{{define "content"}}<h1>Your vehicle</h1>{{.Extra.Help.For "vehicles.detail"}}{{end}}`)}})
	h.Pages(func(r fiber.Router) {
		r.Get("/", func(c *fiber.Ctx) error { return web.Render(c, "vehicles/page", "Vehicle", nil) })
	})
	return nil
}

func vehicleArticles(enBody string) fstest.MapFS {
	return fstest.MapFS{
		"help/vehicle.en.md": {Data: []byte("---\ntitle: Looking after your vehicle\nslug: vehicle-care\nlocale: en\ncategory: Vehicles\ncontext: [vehicles.detail]\n---\n" + enBody + "\n")},
		"help/vehicle.it.md": {Data: []byte("---\ntitle: Prendersi cura del veicolo\nslug: vehicle-care\nlocale: it\ncategory: Veicoli\ncontext: [vehicles.detail]\n---\nControlla l'olio ogni mese.\n")},
	}
}

type fixture struct {
	ta                  *portaltest.TestApp
	staff, cust, custIT string // tokens
	staffP              *accounts.Principal
	other, otherStaff   string
	admin               string
	ids                 map[string]uint
	vehicles            *vehicleModule
}

// newFixture builds an app with the vehicles module, the organisations
// "acme" and "other", and search fixtures in both.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{vehicles: &vehicleModule{articles: vehicleArticles("Check the oil every month.")}, ids: map[string]uint{}}
	f.ta = portaltest.New(t, []module.Module{f.vehicles})
	ta := f.ta
	ta.User(t, "acme", "staff@acme.example", accounts.Staff)
	ta.User(t, "acme", "cust@acme.example", accounts.Customer)
	ta.User(t, "acme", "admin@acme.example", accounts.Admin)
	u := ta.User(t, "acme", "cliente@acme.example", accounts.Customer)
	f.staff, f.cust, f.admin = ta.Login(t, "acme", "staff@acme.example"), ta.Login(t, "acme", "cust@acme.example"), ta.Login(t, "acme", "admin@acme.example")
	f.custIT = ta.Login(t, "acme", "cliente@acme.example")
	it := "it"
	if _, err := ta.Accounts.UpdateProfile(context.Background(), ta.Principal(t, f.custIT), accounts.Profile{Locale: &it}); err != nil {
		t.Fatal(err)
	}
	_ = u
	f.staffP = ta.Principal(t, f.staff)
	ta.User(t, "other", "cust@other.example", accounts.Customer)
	ta.User(t, "other", "staff@other.example", accounts.Staff)
	f.other, f.otherStaff = ta.Login(t, "other", "cust@other.example"), ta.Login(t, "other", "staff@other.example")

	for _, a := range []struct {
		key   string
		in    help.ArticleInput
		draft bool
	}{
		{"tyres", help.ArticleInput{Title: "Winter tyres", Locale: "en", Category: "Service", Body: "Change them in October, before the first frost."}, false},
		{"checks", help.ArticleInput{Title: "Seasonal checks", Locale: "en", Category: "Service", Body: "Check the tyres, the tyres pressure and the lights before a long trip."}, false},
		{"defrost", help.ArticleInput{Title: "Defrost the windscreen", Locale: "en", Category: "Winter", Body: "Use the fan, never hot water."}, false},
		{"booking-en", help.ArticleInput{Title: "Booking a service", Slug: "booking-a-service", Locale: "en", Category: "Service", Body: "Book a slot online; we confirm by e-mail."}, false},
		{"booking-it", help.ArticleInput{Title: "Prenotare la revisione", Slug: "booking-a-service", Locale: "it", Category: "Assistenza", Body: "Prenota la revisione online; confermiamo per e-mail."}, false},
		{"roadside", help.ArticleInput{Title: "Roadside assistance", Locale: "en", Category: "Help", Body: "Call the number on your card if the car breaks down."}, false},
		{"draft", help.ArticleInput{Title: "Secret tyres draft", Locale: "en", Body: "Not ready: tyres tyres tyres."}, true},
	} {
		f.ids[a.key] = f.publish(t, f.staffP, a.in, !a.draft).ID
	}
	// The other organisation has an article with the same words.
	f.ids["other-tyres"] = f.publish(t, ta.Principal(t, f.otherStaff), help.ArticleInput{Title: "Other winter tyres", Locale: "en", Body: "Tyres of the other organisation."}, true).ID
	return f
}

func (f *fixture) publish(t *testing.T, p *accounts.Principal, in help.ArticleInput, publish bool) *help.Article {
	t.Helper()
	ctx := context.Background()
	a, err := f.ta.Help.Create(ctx, p, in)
	if err != nil {
		t.Fatalf("create %q: %v", in.Title, err)
	}
	if publish {
		if a, err = f.ta.Help.SetPublished(ctx, p, a.ID, true); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

type hit struct {
	ID      uint   `json:"id"`
	Slug    string `json:"slug"`
	Locale  string `json:"locale"`
	Title   string `json:"title"`
	Snippet string `json:"snippet"`
}

func (f *fixture) search(t *testing.T, token, q string, extra ...string) []hit {
	t.Helper()
	u := "/api/v1/help/search?q=" + url.QueryEscape(q) + strings.Join(extra, "")
	var headers map[string]string
	if token != "" {
		headers = portaltest.Bearer(token)
	}
	res := f.ta.Do(t, "GET", u, nil, headers)
	if res.Status != 200 {
		t.Fatalf("search %q: %d %s", q, res.Status, res.Body)
	}
	var out struct{ Results []hit }
	res.JSON(t, &out)
	return out.Results
}

func titles(hits []hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Title)
	}
	return out
}

func TestSearchRanking(t *testing.T) {
	f := newFixture(t)
	t.Logf("database: %s", portaltest.Dialect())

	t.Run("a title match outranks a text match; drafts and other organisations stay out", func(t *testing.T) {
		got := titles(f.search(t, f.cust, "tyres"))
		if strings.Join(got, "|") != "Winter tyres|Seasonal checks" {
			t.Fatalf("results = %q, want [Winter tyres, Seasonal checks]", got)
		}
	})
	t.Run("the matching words are highlighted, escaped", func(t *testing.T) {
		hits := f.search(t, f.cust, "pressure")
		if len(hits) != 1 || !strings.Contains(strings.ToLower(hits[0].Snippet), "<mark>pressure</mark>") {
			t.Fatalf("hits = %+v", hits)
		}
	})
	t.Run("English stemming", func(t *testing.T) {
		if got := titles(f.search(t, f.cust, "defrosting")); len(got) != 1 || got[0] != "Defrost the windscreen" {
			t.Fatalf("defrosting found %q", got)
		}
	})
	t.Run("phrases and exclusions", func(t *testing.T) {
		if got := titles(f.search(t, f.cust, `tyres -pressure`)); strings.Join(got, "|") != "Winter tyres" {
			t.Fatalf("tyres -pressure found %q", got)
		}
		if got := titles(f.search(t, f.cust, `"first frost"`)); strings.Join(got, "|") != "Winter tyres" {
			t.Fatalf(`"first frost" found %q`, got)
		}
		if got := titles(f.search(t, f.cust, `defrost or pressure`)); len(got) != 2 {
			t.Fatalf("defrost or pressure found %q", got)
		}
	})
	t.Run("Italian readers get the Italian article, English readers the English one", func(t *testing.T) {
		it := f.search(t, f.custIT, "revisioni")
		if len(it) != 1 || it[0].Locale != "it" || it[0].Title != "Prenotare la revisione" || it[0].Slug != "booking-a-service" {
			t.Fatalf("Italian search = %+v", it)
		}
		en := f.search(t, f.cust, "booking")
		if len(en) != 1 || en[0].Locale != "en" {
			t.Fatalf("English search = %+v", en)
		}
		if got := f.search(t, f.cust, "revisione"); len(got) != 0 {
			t.Fatalf("an English reader got the Italian translation: %+v", got)
		}
	})
	t.Run("an article not translated is found in English by Italian readers", func(t *testing.T) {
		if got := f.search(t, f.custIT, "roadside"); len(got) != 1 || got[0].Locale != "en" {
			t.Fatalf("roadside for an Italian reader = %+v", got)
		}
	})
	t.Run("Italian stemming", func(t *testing.T) {
		// The Snowball Italian stemmer reduces prenotare and prenotazione
		// to the same stem, on both databases.
		if got := f.search(t, f.custIT, "prenotazione"); len(got) != 1 || got[0].Slug != "booking-a-service" {
			t.Fatalf("prenotazione found %+v", got)
		}
	})
	t.Run("a question in people's words: any word, stop words dropped, typos forgiven", func(t *testing.T) {
		if got := titles(f.search(t, f.cust, "How do I change my winter tyres?")); len(got) == 0 || got[0] != "Winter tyres" {
			t.Fatalf("question found %q", got)
		}
		if got := titles(f.search(t, f.cust, "defrots the windscren")); len(got) == 0 || got[0] != "Defrost the windscreen" {
			t.Fatalf("misspelt question found %q", got)
		}
		if got := f.search(t, f.cust, "how do I"); len(got) != 0 {
			t.Fatalf("stop words alone found %+v", got)
		}
	})
	t.Run("nothing found: the closest articles and where to ask", func(t *testing.T) {
		res := f.ta.Do(t, "GET", "/api/v1/help/search?q=wintry", nil, portaltest.Bearer(f.cust))
		var out struct {
			Results, Closest []hit
			Ask              string
		}
		res.JSON(t, &out)
		if len(out.Results) != 0 || len(out.Closest) == 0 || out.Closest[0].Title != "Winter tyres" || out.Ask != "/messages/new?subject=wintry" {
			t.Fatalf("no-result answer = %s", res.Body)
		}
	})
	t.Run("search syntax in the input is never an error", func(t *testing.T) {
		for _, q := range []string{`NEAR("a" b) *`, `"unclosed`, `-`, `***`, `'; DROP TABLE help_articles; --`, `a:b OR c^d`} {
			f.search(t, f.cust, q)
		}
		res := f.ta.Do(t, "GET", "/api/v1/help/search?q="+strings.Repeat("x", 201), nil, portaltest.Bearer(f.cust))
		if res.Status != 422 {
			t.Fatalf("overlong query: %d", res.Status)
		}
	})
	t.Run("anonymous readers name the organisation of a public help centre", func(t *testing.T) {
		if got := titles(f.search(t, "", "tyres", "&org=acme")); len(got) != 2 {
			t.Fatalf("anonymous search = %q", got)
		}
		if res := f.ta.Do(t, "GET", "/api/v1/help/search?q=tyres", nil, nil); res.Status != 401 {
			t.Fatalf("no org, no sign-in: %d", res.Status)
		}
		if res := f.ta.Do(t, "PUT", "/api/v1/help/settings", map[string]any{"public": false}, portaltest.Bearer(f.admin)); res.Status != 200 {
			t.Fatalf("settings: %d %s", res.Status, res.Body)
		}
		if res := f.ta.Do(t, "GET", "/api/v1/help/search?q=tyres&org=acme", nil, nil); res.Status != 401 {
			t.Fatalf("private help centre answered anonymously: %d", res.Status)
		}
		if got := titles(f.search(t, f.cust, "tyres")); len(got) != 2 {
			t.Fatalf("signed-in search of a private help centre = %q", got)
		}
	})
}

func TestHelpfulCountedOncePerPerson(t *testing.T) {
	f := newFixture(t)
	ta := f.ta
	id := f.ids["tyres"]
	vote := func(token string, helpful bool) int {
		return ta.Do(t, "POST", fmt.Sprintf("/api/v1/help/articles/%d/vote", id), map[string]any{"helpful": helpful}, portaltest.Bearer(token)).Status
	}
	counts := func() (int64, int64) {
		res := ta.Do(t, "GET", fmt.Sprintf("/api/v1/help/manage/articles/%d", id), nil, portaltest.Bearer(f.staff))
		var a struct {
			Yes int64 `json:"helpful_yes"`
			No  int64 `json:"helpful_no"`
		}
		res.JSON(t, &a)
		return a.Yes, a.No
	}
	ta.ResetEvents()
	for i := 0; i < 3; i++ {
		if s := vote(f.cust, true); s != 200 {
			t.Fatalf("vote: %d", s)
		}
	}
	if y, n := counts(); y != 1 || n != 0 {
		t.Fatalf("after three yes from one customer: yes=%d no=%d, want 1/0", y, n)
	}
	vote(f.cust, false)
	if y, n := counts(); y != 0 || n != 1 {
		t.Fatalf("after changing the answer: yes=%d no=%d, want 0/1", y, n)
	}
	vote(f.custIT, true)
	vote(f.staff, true)
	if y, n := counts(); y != 2 || n != 1 {
		t.Fatalf("after two more people: yes=%d no=%d, want 2/1", y, n)
	}
	var rated int
	for _, e := range ta.Events() {
		if e == help.EventArticleRated {
			rated++
		}
	}
	if rated != 4 { // 1 (first yes) + 1 (change) + 2 people; repeated yes is not an event
		t.Fatalf("help.article_rated fired %d times, want 4", rated)
	}
	var n int64
	store.Org(ta.Store.DB, f.staffP.OrgID).Model(&help.Vote{}).Where("article_id = ?", id).Count(&n)
	if n != 3 {
		t.Fatalf("%d vote rows, want 3 (one per person)", n)
	}
	if s := ta.Do(t, "POST", fmt.Sprintf("/api/v1/help/articles/%d/vote", id), map[string]any{"helpful": true}, nil).Status; s != 401 {
		t.Fatalf("anonymous vote: %d", s)
	}
	if s := vote(f.other, true); s != 404 {
		t.Fatalf("a customer of another organisation voted: %d", s)
	}
	if s := ta.Do(t, "POST", fmt.Sprintf("/api/v1/help/articles/%d/vote", f.ids["draft"]), map[string]any{"helpful": true}, portaltest.Bearer(f.cust)).Status; s != 404 {
		t.Fatalf("vote on a draft: %d", s)
	}

	// The staff list shows the counts.
	b := ta.Browser()
	b.SignIn(t, "acme", "staff@acme.example")
	page := b.Get(t, "/help/manage")
	if page.Status != 200 || !strings.Contains(page.Body, "Winter tyres") {
		t.Fatalf("manage page: %d", page.Status)
	}
	row := page.Body[strings.Index(page.Body, "Winter tyres"):]
	row = row[:strings.Index(row, "</tr>")]
	if !strings.Contains(row, `<td class="num">2</td>`) || !strings.Contains(row, `<td class="num">1</td>`) {
		t.Fatalf("staff list row lacks the counts: %s", row)
	}
}

func TestHelpIsScopedToTheOrganisation(t *testing.T) {
	f := newFixture(t)
	ta := f.ta
	// Another organisation's article is invisible by slug, id and search.
	res := ta.Do(t, "GET", "/api/v1/help/articles/winter-tyres", nil, portaltest.Bearer(f.other))
	if res.Status != 404 {
		t.Fatalf("other org read acme's article: %d", res.Status)
	}
	if got := titles(f.search(t, f.other, "tyres")); strings.Join(got, "|") != "Other winter tyres" {
		t.Fatalf("other org search = %q", got)
	}
	if s := ta.Do(t, "GET", fmt.Sprintf("/api/v1/help/manage/articles/%d", f.ids["tyres"]), nil, portaltest.Bearer(f.otherStaff)).Status; s != 404 {
		t.Fatalf("other org staff opened acme's article: %d", s)
	}
	// Drafts are for staff only.
	if s := ta.Do(t, "GET", "/api/v1/help/articles/secret-tyres-draft", nil, portaltest.Bearer(f.cust)).Status; s != 404 {
		t.Fatalf("customer read a draft: %d", s)
	}
	// Customers cannot edit.
	if s := ta.Do(t, "POST", "/api/v1/help/manage/articles", map[string]any{"title": "x", "locale": "en", "body": "y"}, portaltest.Bearer(f.cust)).Status; s != 403 {
		t.Fatalf("customer created an article: %d", s)
	}
	// Articles of a module the organisation disabled disappear.
	adm := ta.Principal(t, f.admin)
	if _, err := ta.Accounts.UpdateOrg(context.Background(), adm, adm.OrgID, accounts.OrgSettings{Modules: []string{}}); err != nil {
		t.Fatal(err)
	}
	cust := ta.Login(t, "acme", "cust@acme.example") // a new session carries the new module list
	if s := ta.Do(t, "GET", "/api/v1/help/articles/vehicle-care", nil, portaltest.Bearer(cust)).Status; s != 404 {
		t.Fatalf("article of a disabled module: %d", s)
	}
	if s := ta.Do(t, "GET", "/api/v1/help/articles/winter-tyres", nil, portaltest.Bearer(cust)).Status; s != 200 {
		t.Fatalf("portal article after disabling a module: %d", s)
	}
}

func TestDefaultArticlesAreImportedAndLinkedFromModulePages(t *testing.T) {
	f := newFixture(t)
	ta := f.ta
	ctx := context.Background()
	acme := ta.Org(t, "acme")

	var got struct {
		ID     uint   `json:"id"`
		Title  string `json:"title"`
		Locale string `json:"locale"`
		HTML   string `json:"html"`
	}
	res := ta.Do(t, "GET", "/api/v1/help/articles/vehicle-care", nil, portaltest.Bearer(f.cust))
	res.JSON(t, &got)
	if res.Status != 200 || got.Title != "Looking after your vehicle" || !strings.Contains(got.HTML, "Check the oil") {
		t.Fatalf("default article in a new organisation: %d %s", res.Status, res.Body)
	}
	res = ta.Do(t, "GET", "/api/v1/help/articles/vehicle-care", nil, portaltest.Bearer(f.custIT))
	res.JSON(t, &got)
	if got.Locale != "it" || got.Title != "Prendersi cura del veicolo" {
		t.Fatalf("Italian reader got %+v", got)
	}
	// Core articles are there too, in both languages.
	if s := ta.Do(t, "GET", "/api/v1/help/articles/reset-your-password", nil, portaltest.Bearer(f.custIT)); s.Status != 200 || !strings.Contains(s.Body, "Come reimpostare la password") {
		t.Fatalf("core article: %d %s", s.Status, s.Body)
	}

	countRows := func() int64 {
		var n int64
		store.AllOrgs(ta.Store.DB).Model(&help.Article{}).Where("source = ?", "default").Count(&n)
		return n
	}
	before := countRows()
	// Starting imports into every organisation, and again changes nothing.
	if err := ta.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ta.Stop(ctx)
	if n, err := ta.Help.ImportDefaults(ctx, ta.Store.DB, 0); err != nil || n != 0 {
		t.Fatalf("second import changed %d rows (%v)", n, err)
	}
	if after := countRows(); after != before {
		t.Fatalf("default rows %d -> %d", before, after)
	}

	// A newer shipped version replaces an unedited article, never one staff edited.
	var en, it help.Article
	store.Org(ta.Store.DB, acme.ID).Where("slug = ? AND locale = ?", "vehicle-care", "en").First(&en)
	store.Org(ta.Store.DB, acme.ID).Where("slug = ? AND locale = ?", "vehicle-care", "it").First(&it)
	if _, err := ta.Help.Update(ctx, f.staffP, it.ID, help.ArticleInput{Title: "Il veicolo (nostra versione)", Slug: "vehicle-care", Locale: "it", Body: "Testo nostro.", Contexts: []string{"vehicles.detail"}}); err != nil {
		t.Fatal(err)
	}
	store.Org(ta.Store.DB, acme.ID).Model(&help.Article{}).Where("id IN ?", []uint{en.ID, it.ID}).Updates(map[string]any{"default_hash": "older", "body": "Old text."})
	if _, err := ta.Help.ImportDefaults(ctx, ta.Store.DB, acme.ID); err != nil {
		t.Fatal(err)
	}
	store.Org(ta.Store.DB, acme.ID).First(&en, en.ID)
	store.Org(ta.Store.DB, acme.ID).First(&it, it.ID)
	if en.Body != "Check the oil every month." {
		t.Fatalf("unedited default not updated: %q", en.Body)
	}
	if it.Body != "Old text." || it.Title != "Il veicolo (nostra versione)" || !it.Edited {
		t.Fatalf("staff edit overwritten: %+v", it)
	}

	// The module page links to its articles, in the reader's language.
	b := ta.Browser()
	b.SignIn(t, "acme", "cust@acme.example")
	page := b.Get(t, "/m/vehicles/")
	if page.Status != 200 || !strings.Contains(page.Body, `<a href="/help/a/vehicle-care">Looking after your vehicle</a>`) || !strings.Contains(page.Body, `class="help-links card"`) {
		t.Fatalf("module page lacks its help link: %d %s", page.Status, page.Body)
	}
	bi := ta.Browser()
	bi.SignIn(t, "acme", "cliente@acme.example")
	if page := bi.Get(t, "/m/vehicles/"); !strings.Contains(page.Body, "Il veicolo (nostra versione)") || !strings.Contains(page.Body, ">Aiuto</h2>") {
		t.Fatalf("Italian module page: %s", page.Body)
	}
	// Unpublishing the English version links the Italian one (the only one
	// left); unpublishing both removes the box. Deleting a shipped article
	// is refused.
	if _, err := ta.Help.SetPublished(ctx, f.staffP, en.ID, false); err != nil {
		t.Fatal(err)
	}
	if page := b.Get(t, "/m/vehicles/"); strings.Contains(page.Body, "Looking after your vehicle") || !strings.Contains(page.Body, "Il veicolo (nostra versione)") {
		t.Fatalf("after unpublishing the English version: %s", page.Body)
	}
	if _, err := ta.Help.SetPublished(ctx, f.staffP, it.ID, false); err != nil {
		t.Fatal(err)
	}
	if page := b.Get(t, "/m/vehicles/"); strings.Contains(page.Body, "help-links") {
		t.Fatal("unpublished articles still linked")
	}
	if s := ta.Do(t, "DELETE", fmt.Sprintf("/api/v1/help/manage/articles/%d", en.ID), nil, portaltest.Bearer(f.staff)).Status; s != 409 {
		t.Fatalf("deleting a shipped article: %d", s)
	}
}

func TestMalformedDefaultArticleStopsStartUp(t *testing.T) {
	bad := &vehicleModule{articles: fstest.MapFS{"help/broken.md": {Data: []byte("---\ntitle: Broken\nlocale: xx\n---\nbody")}}}
	_, err := app.New(context.Background(), app.Options{Config: portaltest.Config(t), Modules: []module.Module{bad}, Argon2: &portaltest.TestArgon2})
	if err == nil || !strings.Contains(err.Error(), "help/broken.md") || !strings.Contains(err.Error(), `locale "xx"`) {
		t.Fatalf("err = %v, want one naming help/broken.md and its locale", err)
	}
	dup := &vehicleModule{articles: fstest.MapFS{"a.md": {Data: []byte("---\ntitle: Reset\nslug: reset-your-password\nlocale: en\n---\nbody")}}}
	_, err = app.New(context.Background(), app.Options{Config: portaltest.Config(t), Modules: []module.Module{dup}, Argon2: &portaltest.TestArgon2})
	if err == nil || !strings.Contains(err.Error(), "reset-your-password") {
		t.Fatalf("a slug clash with the core articles: err = %v", err)
	}
}

func TestHelpPages(t *testing.T) {
	f := newFixture(t)
	ta := f.ta

	// A customer reads, searches and rates.
	b := ta.Browser()
	b.SignIn(t, "acme", "cust@acme.example")
	if p := b.Get(t, "/help"); p.Status != 200 || !strings.Contains(p.Body, "How to reset your password") || !strings.Contains(p.Body, "Winter tyres") {
		t.Fatalf("help index: %d", p.Status)
	}
	p := b.Get(t, "/help/search?q=tyres")
	if p.Status != 200 || strings.Index(p.Body, "Winter tyres") > strings.Index(p.Body, "Seasonal checks") || !strings.Contains(p.Body, "<mark>") {
		t.Fatalf("search page: %d %s", p.Status, p.Body)
	}
	// Nothing matches: the closest titles, and a way to ask a person that
	// opens a new secure message about the question.
	p = b.Get(t, "/help/search?q=wintry")
	if !strings.Contains(p.Body, "No article matches your search") || !strings.Contains(p.Body, "The closest articles") {
		t.Fatalf("no empty-result message: %s", p.Body)
	}
	closest := p.Body[strings.Index(p.Body, "The closest articles"):]
	if i := strings.Index(closest, "Winter tyres"); i < 0 || i > strings.Index(closest, "</li>") {
		t.Fatalf("the closest article to wintry is not Winter tyres: %s", closest)
	}
	if !strings.Contains(p.Body, `href="/messages/new?subject=wintry"`) || !strings.Contains(p.Body, "Ask a person") {
		t.Fatalf("no way to ask a person: %s", p.Body)
	}
	staff, cust := ta.Principal(t, f.staff), ta.Principal(t, f.cust)
	if err := ta.Accounts.Assign(context.Background(), ta.Principal(t, f.admin), staff.UserID, cust.UserID, "advisor"); err != nil {
		t.Fatal(err)
	}
	if m := b.Get(t, "/messages/new?subject=wintry"); m.Status != 200 || !strings.Contains(m.Body, `name="subject" maxlength="200" required value="wintry"`) {
		t.Fatalf("the message form does not carry the question: %d %s", m.Status, m.Body)
	}
	anon := ta.Browser()
	if p := anon.Get(t, "/help/search?org=acme&q=wintry"); !strings.Contains(p.Body, "Sign in to ask a person") || !strings.Contains(p.Body, `href="/login?next=%2Fmessages%2Fnew%3Fsubject%3Dwintry"`) {
		t.Fatalf("anonymous reader: %s", p.Body)
	}
	p = b.Get(t, "/help/a/winter-tyres")
	if p.Status != 200 || !strings.Contains(p.Body, "Was this helpful?") {
		t.Fatalf("article page: %d", p.Status)
	}
	if r := b.Post(t, "/help/a/winter-tyres/vote", url.Values{"helpful": {"yes"}}); r.Status != 303 || !strings.Contains(r.Header.Get("Location"), "msg=voted") {
		t.Fatalf("vote: %d", r.Status)
	}
	if p := b.Get(t, "/help/a/winter-tyres?msg=voted"); !strings.Contains(p.Body, "You found this article helpful.") || !strings.Contains(p.Body, "Thank you for your feedback.") {
		t.Fatal("the page does not show the answer")
	}
	if r := b.Post(t, "/help/a/winter-tyres/vote", url.Values{"helpful": {"maybe"}}); r.Status != 422 {
		t.Fatalf("bad answer: %d", r.Status)
	}
	if r := b.Get(t, "/help/manage"); r.Status != 403 {
		t.Fatalf("customer on the editor: %d", r.Status)
	}

	// The Italian customer reads Italian.
	bi := ta.Browser()
	bi.SignIn(t, "acme", "cliente@acme.example")
	if p := bi.Get(t, "/help/a/booking-a-service"); !strings.Contains(p.Body, "Prenotare la revisione") || !strings.Contains(p.Body, "Ti è stato utile?") {
		t.Fatalf("Italian article page: %s", p.Body)
	}

	// Staff write, preview, save and publish.
	s := ta.Browser()
	s.SignIn(t, "acme", "staff@acme.example")
	s.Get(t, "/help/manage/new")
	form := url.Values{"title": {"Chains in the mountains"}, "locale": {"en"}, "category": {"Winter"}, "contexts": {"vehicles.detail, vehicles.list"},
		"body": {"Carry **snow chains**.<script>alert(1)</script> [x](javascript:alert(1))"}, "action": {"preview"}}
	p = s.Post(t, "/help/manage/new", form)
	preview := p.Body[strings.Index(p.Body, `class="card help-preview"`):]
	if p.Status != 200 || !strings.Contains(preview, "<strong>snow chains</strong>") || strings.Contains(preview, "<script") || strings.Contains(preview, "javascript:") {
		t.Fatalf("preview: %d %s", p.Status, p.Body)
	}
	form.Set("action", "save")
	p = s.Post(t, "/help/manage/new", form)
	if p.Status != 303 {
		t.Fatalf("save: %d %s", p.Status, p.Body)
	}
	loc := p.Header.Get("Location")
	id := strings.TrimPrefix(strings.Split(loc, "?")[0], "/help/manage/")
	if r := b.Get(t, "/help/a/chains-in-the-mountains"); r.Status != 404 {
		t.Fatalf("draft visible to customers: %d", r.Status)
	}
	s.Get(t, loc)
	if r := s.Post(t, "/help/manage/"+id+"/publish", nil); r.Status != 303 {
		t.Fatalf("publish: %d", r.Status)
	}
	if r := b.Get(t, "/help/a/chains-in-the-mountains"); r.Status != 200 || !strings.Contains(r.Body, "<strong>snow chains</strong>") || strings.Contains(r.Body, "<script>alert") || strings.Contains(r.Body, "javascript:") {
		t.Fatalf("published article: %d", r.Status)
	}
	// Bad input is a 422 naming the field, nothing saved.
	p = s.Post(t, "/help/manage/new", url.Values{"title": {""}, "locale": {"fr"}, "body": {"x"}, "action": {"save"}})
	if p.Status != 422 || !strings.Contains(p.Body, `id="e-title"`) || !strings.Contains(p.Body, "must be one of en, it") {
		t.Fatalf("invalid article: %d %s", p.Status, p.Body)
	}

	// Anonymous visitors read a public help centre and are sent to sign in
	// for a private one.
	anon = ta.Browser()
	if p := anon.Get(t, "/help?org=acme"); p.Status != 200 || !strings.Contains(p.Body, "Winter tyres") || strings.Contains(p.Body, "Secret tyres draft") {
		t.Fatalf("anonymous help index: %d", p.Status)
	}
	if p := anon.Get(t, "/help"); p.Status != http.StatusSeeOther {
		t.Fatalf("anonymous without an organisation: %d", p.Status)
	}
	a := ta.Browser()
	a.SignIn(t, "acme", "admin@acme.example")
	a.Get(t, "/help/manage")
	if r := a.Post(t, "/help/manage/settings", url.Values{}); r.Status != 303 {
		t.Fatalf("settings: %d", r.Status)
	}
	if p := anon.Get(t, "/help/a/winter-tyres?org=acme"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous on a private help centre: %d", p.Status)
	}
	if r := s.Post(t, "/help/manage/settings", url.Values{"public": {"on"}}); r.Status != 403 {
		t.Fatalf("staff changed the settings: %d", r.Status)
	}
}

// TestSQLiteDriverHasFTS5 pins the driver choice: search on SQLite needs
// FTS5 compiled into modernc.org/sqlite (under libtnb/sqlite).
func TestSQLiteDriverHasFTS5(t *testing.T) {
	if portaltest.Dialect() != "sqlite" {
		t.Skip("PostgreSQL searches with tsvector")
	}
	ta := portaltest.New(t, nil)
	ta.Org(t, "acme") // imports the core articles
	var opts []string
	if err := ta.Store.DB.Raw("PRAGMA compile_options").Scan(&opts).Error; err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(opts, "ENABLE_FTS5") {
		t.Fatalf("the SQLite driver lacks FTS5: %v", opts)
	}
	var n int64
	if err := ta.Store.DB.Raw("SELECT count(*) FROM help_articles_fts WHERE help_articles_fts MATCH ?", `"password"`).Scan(&n).Error; err != nil || n < 1 {
		t.Fatalf("FTS5 query over the imported core articles: %d, %v", n, err)
	}
}

// TestSearchTermsMigration runs the migration that moved search to terms
// analysed in Go over articles without terms (as an upgraded database has
// them): it fills them and rebuilds the index, and running it again is
// harmless. (No search runs before it: migrations run at start, before
// any search fills the vocabulary cache.)
func TestSearchTermsMigration(t *testing.T) {
	f := newFixture(t)
	db := f.ta.Store.DB
	if err := db.Exec("UPDATE help_articles SET search_title = '', search_body = ''").Error; err != nil {
		t.Fatal(err)
	}
	var up func(*gorm.DB) error
	for _, m := range f.ta.Help.Migrations() {
		if m.ID == "0003_search_terms" {
			up = m.Up
		}
	}
	if up == nil {
		t.Fatal("no migration 0003_search_terms")
	}
	for range 2 {
		if err := f.ta.Store.Tx(context.Background(), up); err != nil {
			t.Fatal(err)
		}
	}
	if got := titles(f.search(t, f.cust, "tyres")); strings.Join(got, "|") != "Winter tyres|Seasonal checks" {
		t.Fatalf("after the migration: %q", got)
	}
}

// TestManageSearchMatchesWildcardsLiterally: % and _ in the staff list's
// title search are characters, not LIKE wildcards (issue 19 item 10).
func TestManageSearchMatchesWildcardsLiterally(t *testing.T) {
	f := newFixture(t)
	pct := f.publish(t, f.staffP, help.ArticleInput{Title: "Save 20% on tyres", Locale: "en", Body: "A discount."}, true).ID
	under := f.publish(t, f.staffP, help.ArticleInput{Title: "The oil_level sensor", Locale: "en", Body: "A sensor."}, true).ID
	for q, want := range map[string][]uint{"%": {pct}, "0%": {pct}, "_": {under}, "l_l": {under}, "%_%": nil, `\`: nil} {
		var out struct{ Articles []struct{ ID uint } }
		r := f.ta.Do(t, "GET", "/api/v1/help/manage/articles?q="+url.QueryEscape(q), nil, portaltest.Bearer(f.staff))
		if r.Status != 200 {
			t.Fatalf("manage search %q: %d %s", q, r.Status, r.Body)
		}
		r.JSON(t, &out)
		var got []uint
		for _, a := range out.Articles {
			got = append(got, a.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("manage search %q found %v, want %v", q, got, want)
		}
	}
}
