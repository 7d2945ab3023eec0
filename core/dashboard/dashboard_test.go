package dashboard_test

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/app"
	"github.com/portalkit/portalkit/core/chart"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/dashboard"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
)

// widgetModule is a module that only declares widgets, with its templates
// in memory.
type widgetModule struct {
	id        string
	widgets   []dashboard.Widget
	templates fstest.MapFS
}

var _ module.Module = (*widgetModule)(nil)

func (m *widgetModule) Info() module.Info {
	return module.Info{ID: m.id, Name: "Widgets " + m.id, Version: "1.0.0", Description: "Widgets for tests."}
}

func (m *widgetModule) Init(h module.Host) error {
	if m.templates != nil {
		h.Templates(m.templates)
	}
	for _, w := range m.widgets {
		h.Widget(w)
	}
	return nil
}

func tpl(body string) *fstest.MapFile {
	return &fstest.MapFile{Data: []byte(`{{define "content"}}` + body + `{{end}}`)}
}

func static(v any) dashboard.DataFunc {
	return func(context.Context, *accounts.Principal) (any, error) { return v, nil }
}

// rolesModule declares one widget for everyone and one per role.
func rolesModule() *widgetModule {
	return &widgetModule{id: "shop", templates: fstest.MapFS{
		"w_text.html": tpl(`<p class="w-text">{{.Data}}</p>`),
	}, widgets: []dashboard.Widget{
		{ID: "everyone", Title: "For everyone", Order: 10, Template: "w_text", Data: static("hello everyone")},
		{ID: "staff", Title: "For staff", Order: 5, Roles: []accounts.Role{accounts.Staff}, Template: "w_text", Data: static("hello staff")},
		{ID: "admins", Title: "For admins", Size: dashboard.Large, Order: 1, Roles: []accounts.Role{accounts.Admin}, Template: "w_text", Data: static("hello admins")},
	}}
}

type boardJSON struct {
	Widgets []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
		Size  string `json:"size"`
		Data  any    `json:"data"`
		Error string `json:"error"`
	} `json:"widgets"`
	Hidden []struct {
		ID string `json:"id"`
	} `json:"hidden"`
	RequestID string `json:"request_id"`
}

func (b boardJSON) ids() []string {
	var out []string
	for _, w := range b.Widgets {
		out = append(out, w.ID)
	}
	return out
}

func (b boardJSON) hidden() []string {
	var out []string
	for _, w := range b.Hidden {
		out = append(out, w.ID)
	}
	return out
}

func getBoard(t *testing.T, ta *portaltest.TestApp, headers map[string]string) boardJSON {
	t.Helper()
	r := ta.Do(t, "GET", "/api/v1/dashboard", nil, headers)
	if r.Status != 200 {
		t.Fatalf("GET /api/v1/dashboard: %d %s", r.Status, r.Body)
	}
	var b boardJSON
	r.JSON(t, &b)
	return b
}

func TestWidgetRegistryAndRoleFiltering(t *testing.T) {
	ta := portaltest.New(t, []module.Module{rolesModule()})
	for _, tc := range []struct {
		role  accounts.Role
		email string
		want  []string
	}{
		{accounts.Customer, "c@acme.example", []string{"core.account", "core.services", "shop.everyone"}},
		{accounts.Staff, "s@acme.example", []string{"core.account", "core.services", "core.unanswered", "core.low_scores", "shop.staff", "shop.everyone"}},
		{accounts.Admin, "a@acme.example", []string{"core.account", "core.services", "core.organisation", "core.deliveries", "core.offline_devices",
			"core.signups", "core.unanswered", "core.low_scores", "shop.admins", "shop.everyone"}},
		// Platform admins run the deployment: its jobs are their work.
		{accounts.PlatformAdmin, "p@platform.example", []string{"core.jobs"}},
	} {
		t.Run(string(tc.role), func(t *testing.T) {
			slug := "acme"
			if tc.role == accounts.PlatformAdmin {
				slug = accounts.PlatformOrgSlug
			}
			b := getBoard(t, ta, ta.As(t, slug, tc.email, tc.role))
			if fmt.Sprint(b.ids()) != fmt.Sprint(tc.want) {
				t.Errorf("widgets %v, want %v (role filter, then Order)", b.ids(), tc.want)
			}
			for _, w := range b.Widgets {
				if w.Error != "" || w.Data == nil && !strings.HasPrefix(w.ID, "shop.") {
					t.Errorf("widget %s: error %q data %v", w.ID, w.Error, w.Data)
				}
			}
		})
	}
	// Declared widgets, in default order.
	var all []string
	for _, w := range ta.Dashboard.Widgets() {
		all = append(all, w.ID)
	}
	if fmt.Sprint(all) != "[core.account core.services core.jobs core.organisation core.deliveries core.offline_devices core.signups "+
		"core.unanswered core.low_scores shop.admins shop.staff shop.everyone]" {
		t.Errorf("registry %v", all)
	}
	// Integrator tokens have no dashboard.
	admin := ta.As(t, "acme", "a@acme.example", accounts.Admin)
	tok, err := ta.Accounts.CreateToken(context.Background(), ta.Principal(t, strings.TrimPrefix(admin["Authorization"], "Bearer ")),
		accounts.NewToken{Name: "t", Scopes: []string{"*"}, ExpiresIn: time.Hour}, "")
	if err != nil {
		t.Fatal(err)
	}
	if r := ta.Do(t, "GET", "/api/v1/dashboard", nil, portaltest.Bearer(tok.Secret)); r.Status != 403 {
		t.Errorf("integrator token: %d", r.Status)
	}
	if r := ta.Do(t, "GET", "/api/v1/dashboard", nil, nil); r.Status != 401 {
		t.Errorf("anonymous: %d", r.Status)
	}
}

func TestDisabledModuleWidgetsDisappear(t *testing.T) {
	ta := portaltest.New(t, []module.Module{rolesModule()})
	admin := ta.As(t, "acme", "admin@acme.example", accounts.Admin)
	cust := ta.As(t, "acme", "ann@acme.example", accounts.Customer)
	other := ta.As(t, "other", "o@other.example", accounts.Customer)
	if b := getBoard(t, ta, cust); !slices.Contains(b.ids(), "shop.everyone") {
		t.Fatalf("enabled module's widget missing: %v", b.ids())
	}
	// The customer hides it while it is enabled: the layout keeps the ID.
	if r := ta.Do(t, "PUT", "/api/v1/dashboard/layout", map[string]any{"order": []string{"shop.everyone"}, "hidden": []string{}}, cust); r.Status != 200 {
		t.Fatalf("layout: %d %s", r.Status, r.Body)
	}
	if r := ta.Do(t, "PATCH", "/api/v1/org", map[string]any{"modules": []string{}}, admin); r.Status != 200 {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	b := getBoard(t, ta, cust)
	if slices.Contains(b.ids(), "shop.everyone") || !slices.Contains(b.ids(), "core.account") {
		t.Errorf("after disabling the module the customer sees %v", b.ids())
	}
	if b := getBoard(t, ta, other); !slices.Contains(b.ids(), "shop.everyone") {
		t.Errorf("another organisation lost the widget: %v", b.ids())
	}
	// The page agrees, and the services list no longer offers the module.
	br := ta.Browser()
	br.SignIn(t, "acme", "ann@acme.example")
	page := br.Get(t, "/")
	if strings.Contains(page.Body, "hello everyone") || strings.Contains(page.Body, "For everyone") {
		t.Error("the page shows a disabled module's widget")
	}
	// A layout naming the disabled module's widget is refused now.
	if r := ta.Do(t, "PUT", "/api/v1/dashboard/layout", map[string]any{"order": []string{"shop.everyone"}}, cust); r.Status != 422 {
		t.Errorf("layout with a disabled module's widget: %d", r.Status)
	}
	// Re-enabled, it returns to the customer's chosen place (first).
	if r := ta.Do(t, "PATCH", "/api/v1/org", map[string]any{"modules": []string{"shop"}}, admin); r.Status != 200 {
		t.Fatalf("enable: %d %s", r.Status, r.Body)
	}
	if b := getBoard(t, ta, cust); len(b.ids()) == 0 || b.ids()[0] != "shop.everyone" {
		t.Errorf("re-enabled widget not back in its place: %v", b.ids())
	}
}

// failingModule has one good widget and one of each way to fail.
func failingModule(release chan struct{}) *widgetModule {
	type withChan struct{ C chan int }
	return &widgetModule{id: "flaky", templates: fstest.MapFS{
		"w_ok.html":    tpl(`<p class="ok">all good {{.Data}}</p>`),
		"w_bad.html":   tpl(`<p>{{index .Data 5}}</p>`),
		"w_panic.html": tpl(`<p>{{.Data.Boom}}</p>`),
	}, widgets: []dashboard.Widget{
		{ID: "ok", Title: "Good", Order: 1, Template: "w_ok", Data: static("42")},
		{ID: "errors", Title: "Errors", Order: 2, Template: "w_ok", Data: func(context.Context, *accounts.Principal) (any, error) {
			return nil, errors.New("database secret detail")
		}},
		{ID: "panics", Title: "Panics", Order: 3, Template: "w_ok", Data: func(context.Context, *accounts.Principal) (any, error) {
			panic("panic secret detail")
		}},
		{ID: "slow", Title: "Slow", Order: 4, Template: "w_ok", Data: func(ctx context.Context, _ *accounts.Principal) (any, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}},
		{ID: "stuck", Title: "Stuck", Order: 5, Template: "w_ok", Data: func(context.Context, *accounts.Principal) (any, error) {
			<-release // ignores its context: the dashboard must not wait for it
			return "late", nil
		}},
		{ID: "badtemplate", Title: "Bad template", Order: 6, Template: "w_bad", Data: static([]int{1})},
		{ID: "panictemplate", Title: "Panicking template", Order: 7, Template: "w_panic", Data: static(boom{})},
		{ID: "nojson", Title: "No JSON", Order: 8, Template: "w_ok", Data: static(withChan{C: make(chan int)})},
	}}
}

// boom panics when a template reads Boom.
type boom struct{}

func (boom) Boom() string { panic("template secret detail") }

func TestFailingWidgetsAreContained(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	ta := portaltest.New(t, []module.Module{failingModule(release)}, portaltest.WithConfig(func(c *config.Config) {
		c.Dashboard.WidgetTimeout = 300 * time.Millisecond
	}))
	cust := ta.As(t, "acme", "ann@acme.example", accounts.Customer)

	t.Run("API", func(t *testing.T) {
		start := time.Now()
		r := ta.Do(t, "GET", "/api/v1/dashboard", nil, cust)
		if r.Status != 200 {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("the dashboard waited %v for widgets that ignore their deadline", d)
		}
		var b boardJSON
		r.JSON(t, &b)
		if b.RequestID == "" || b.RequestID != r.Header.Get("X-Request-ID") {
			t.Errorf("request_id %q, header %q", b.RequestID, r.Header.Get("X-Request-ID"))
		}
		failed := map[string]bool{}
		for _, w := range b.Widgets {
			if w.Error != "" {
				failed[w.ID] = true
				if w.Data != nil {
					t.Errorf("%s has both data and an error", w.ID)
				}
			}
		}
		for _, id := range []string{"flaky.errors", "flaky.panics", "flaky.slow", "flaky.stuck", "flaky.nojson"} {
			if !failed[id] {
				t.Errorf("%s is not marked as failed", id)
			}
		}
		for _, id := range []string{"flaky.ok", "flaky.badtemplate", "flaky.panictemplate", "core.account"} {
			if failed[id] {
				t.Errorf("%s is marked failed in JSON (templates do not matter to the API)", id)
			}
		}
		if strings.Contains(r.Body, "secret detail") {
			t.Error("an internal message reached the caller")
		}
	})

	t.Run("page", func(t *testing.T) {
		br := ta.Browser()
		br.SignIn(t, "acme", "ann@acme.example")
		page := br.Get(t, "/")
		if page.Status != 200 {
			t.Fatalf("page: %d", page.Status)
		}
		rid := page.Header.Get("X-Request-ID")
		if !strings.Contains(page.Body, `<p class="ok">all good 42</p>`) {
			t.Error("the good widget is missing")
		}
		if !strings.Contains(page.Body, "Sign-ins, last 30 days") {
			t.Error("the core widget is missing")
		}
		cards := regexp.MustCompile(`(?s)<section class="card widget[^"]*" id="w-flaky-([a-z]+)".*?</section>`).FindAllStringSubmatch(page.Body, -1)
		if len(cards) != 8 {
			t.Fatalf("%d flaky cards on the page, want 8", len(cards))
		}
		for _, c := range cards {
			isErr := strings.Contains(c[0], `class="widget-error"`)
			// The page needs no JSON, so nojson renders; everything else fails.
			if (c[1] == "ok" || c[1] == "nojson") == isErr {
				t.Errorf("card %s: error card = %v", c[1], isErr)
			}
			if isErr && !strings.Contains(c[0], rid) {
				t.Errorf("card %s does not quote the request ID %s", c[1], rid)
			}
		}
		if strings.Contains(page.Body, "secret detail") {
			t.Error("an internal message reached the page")
		}
		if !strings.Contains(page.Body, "</html>") {
			t.Error("the page was cut short")
		}
	})
	logs := ta.Logs.String()
	for _, want := range []string{"dashboard widget panicked", "database secret detail", "dashboard widget template failed", "does not marshal"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q", want)
		}
	}
}

func TestWidgetDataRunsConcurrently(t *testing.T) {
	// Each widget waits for the other to start: run one after the other,
	// both would time out.
	a, b := make(chan struct{}), make(chan struct{})
	wait := func(mine, theirs chan struct{}) dashboard.DataFunc {
		return func(ctx context.Context, _ *accounts.Principal) (any, error) {
			close(mine)
			select {
			case <-theirs:
				return "met", nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	m := &widgetModule{id: "pair", templates: fstest.MapFS{"w.html": tpl(`{{.Data}}`)}, widgets: []dashboard.Widget{
		{ID: "a", Title: "A", Template: "w", Data: wait(a, b)},
		{ID: "b", Title: "B", Template: "w", Data: wait(b, a)},
	}}
	ta := portaltest.New(t, []module.Module{m}, portaltest.WithConfig(func(c *config.Config) { c.Dashboard.WidgetTimeout = 5 * time.Second }))
	board := getBoard(t, ta, ta.As(t, "acme", "ann@acme.example", accounts.Customer))
	for _, w := range board.Widgets {
		if strings.HasPrefix(w.ID, "pair.") && w.Error != "" {
			t.Errorf("%s failed: the widgets did not run concurrently", w.ID)
		}
	}
}

func TestLayoutPersistsAcrossSessions(t *testing.T) {
	ta := portaltest.New(t, []module.Module{rolesModule()})
	ta.User(t, "acme", "ann@acme.example", accounts.Customer)
	laptop := portaltest.Bearer(ta.Login(t, "acme", "ann@acme.example"))
	phone := portaltest.Bearer(ta.Login(t, "acme", "ann@acme.example"))
	if laptop["Authorization"] == phone["Authorization"] {
		t.Fatal("the two sessions are the same")
	}
	before := getBoard(t, ta, phone)
	if fmt.Sprint(before.ids()) != "[core.account core.services shop.everyone]" {
		t.Fatalf("default layout %v", before.ids())
	}
	r := ta.Do(t, "PUT", "/api/v1/dashboard/layout", map[string]any{
		"order": []string{"shop.everyone", "core.account"}, "hidden": []string{"core.services"}}, laptop)
	if r.Status != 200 {
		t.Fatalf("PUT layout: %d %s", r.Status, r.Body)
	}
	var lv dashboard.LayoutView
	r.JSON(t, &lv)
	if fmt.Sprint(lv.Order) != "[shop.everyone core.account core.services]" || fmt.Sprint(lv.Hidden) != "[core.services]" || !lv.Custom {
		t.Errorf("PUT answered %+v", lv)
	}
	after := getBoard(t, ta, phone)
	if fmt.Sprint(after.ids()) != "[shop.everyone core.account]" || fmt.Sprint(after.hidden()) != "[core.services]" {
		t.Errorf("the other session sees %v hidden %v", after.ids(), after.hidden())
	}
	var got dashboard.LayoutView
	ta.Do(t, "GET", "/api/v1/dashboard/layout", nil, phone).JSON(t, &got)
	if fmt.Sprint(got.Order) != fmt.Sprint(lv.Order) || len(got.Available) != 3 {
		t.Errorf("GET layout on the other session: %+v", got)
	}
	// A new session after the old ones (another device) sees it too, and
	// so does the page in a browser.
	br := ta.Browser()
	br.SignIn(t, "acme", "ann@acme.example")
	page := br.Get(t, "/").Body
	if i, j := strings.Index(page, `id="w-shop-everyone"`), strings.Index(page, `id="w-core-account"`); i < 0 || j < 0 || i > j {
		t.Errorf("page order wrong: everyone at %d, account at %d", i, j)
	}
	if strings.Contains(page, `id="w-core-services"`) || !strings.Contains(page, "Hidden widgets") {
		t.Error("the hidden widget is shown or not listed as hidden")
	}
	// Reset.
	if r := ta.Do(t, "DELETE", "/api/v1/dashboard/layout", nil, phone); r.Status != 204 {
		t.Fatalf("reset: %d", r.Status)
	}
	if b := getBoard(t, ta, laptop); fmt.Sprint(b.ids()) != fmt.Sprint(before.ids()) {
		t.Errorf("after reset %v", b.ids())
	}
}

func TestLayoutValidation(t *testing.T) {
	ta := portaltest.New(t, []module.Module{rolesModule()})
	cust := ta.As(t, "acme", "ann@acme.example", accounts.Customer)
	if r := ta.Do(t, "PUT", "/api/v1/dashboard/layout", map[string]any{"order": []string{"core.services"}}, cust); r.Status != 200 {
		t.Fatalf("valid layout: %d %s", r.Status, r.Body)
	}
	for _, tc := range []struct {
		name string
		body any
		want []string
	}{
		{"unknown IDs", map[string]any{"order": []string{"core.account", "nope.x", "shop.admins"}, "hidden": []string{"ghost"}},
			[]string{"nope.x", "shop.admins", "ghost", `body.order[1]`, `body.order[2]`, `body.hidden[0]`}},
		{"duplicates", map[string]any{"order": []string{"core.account", "core.account"}}, []string{"body.order[1]", "twice"}},
		{"wrong type", map[string]any{"order": "core.account"}, []string{"order"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ta.Do(t, "PUT", "/api/v1/dashboard/layout", tc.body, cust)
			if r.Status != 422 {
				t.Fatalf("status %d, want 422: %s", r.Status, r.Body)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.Body, w) {
					t.Errorf("the problem does not name %q: %s", w, r.Body)
				}
			}
		})
	}
	// Nothing was changed by the refused requests.
	if b := getBoard(t, ta, cust); fmt.Sprint(b.ids()) != "[core.services core.account shop.everyone]" {
		t.Errorf("layout after refused changes: %v", b.ids())
	}
}

func TestLayoutIsPerCaller(t *testing.T) {
	ta := portaltest.New(t, []module.Module{rolesModule()})
	ann := ta.As(t, "acme", "ann@acme.example", accounts.Customer)
	bob := ta.As(t, "acme", "bob@acme.example", accounts.Customer)
	foreign := ta.As(t, "other", "ann@other.example", accounts.Customer)
	def := getBoard(t, ta, bob).ids()
	if r := ta.Do(t, "PUT", "/api/v1/dashboard/layout", map[string]any{"hidden": []string{"core.account", "shop.everyone"}}, ann); r.Status != 200 {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	if got := getBoard(t, ta, bob).ids(); fmt.Sprint(got) != fmt.Sprint(def) {
		t.Errorf("another customer's layout changed: %v", got)
	}
	if got := getBoard(t, ta, foreign).ids(); fmt.Sprint(got) != fmt.Sprint(def) {
		t.Errorf("a customer of another org was affected: %v", got)
	}
	if r := ta.Do(t, "DELETE", "/api/v1/dashboard/layout", nil, bob); r.Status != 204 {
		t.Fatalf("bob reset: %d", r.Status)
	}
	if got := getBoard(t, ta, ann).hidden(); len(got) != 2 {
		t.Errorf("bob's reset touched ann's layout: hidden %v", got)
	}
	// The layout operations take no ID: there is nothing to aim at someone
	// else's layout with. The authorization matrix skips ID-less routes,
	// so this is checked here, and the routes' paths are pinned.
	for path := range ta.Web.API.OpenAPI().Paths {
		if strings.HasPrefix(path, "/api/v1/dashboard") && strings.Contains(path, "{") {
			t.Errorf("%s takes a path parameter: add it to the authorization matrix", path)
		}
	}
}

func TestDashboardPageWithChartAndControls(t *testing.T) {
	ta := portaltest.New(t, []module.Module{rolesModule()})
	ta.User(t, "acme", "ann@acme.example", accounts.Customer)

	// Anonymous visitors get the public start page with a sign-in button.
	anon := ta.Browser()
	start := anon.Get(t, "/")
	if start.Status != 200 || !strings.Contains(start.Body, `href="/login"`) || strings.Contains(start.Body, "Your dashboard") {
		t.Fatalf("anonymous start page: %d", start.Status)
	}
	if r := anon.Get(t, "/dashboard"); r.Status != 303 {
		t.Errorf("anonymous /dashboard: %d, want a redirect to sign in", r.Status)
	}

	br := ta.Browser()
	br.SignIn(t, "acme", "ann@acme.example")
	page := br.Get(t, "/")
	if page.Status != 200 || !strings.Contains(page.Body, "Your dashboard") {
		t.Fatalf("signed-in start page is not the dashboard: %d", page.Status)
	}
	if strings.Contains(page.Body, "style=") {
		t.Error("the page has an inline style attribute")
	}
	if strings.Contains(page.Body, "<script>") {
		t.Error("the page has an inline script")
	}
	// The chart: accessible SVG with its data table, the sign-in of this
	// session counted today.
	fig := regexp.MustCompile(`(?s)<figure class="chart chart-bar".*?</figure>`).FindString(page.Body)
	if fig == "" {
		t.Fatal("no bar chart on the dashboard")
	}
	dec := xml.NewDecoder(strings.NewReader(fig))
	for {
		if _, err := dec.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("the chart is not well-formed: %v", err)
			}
			break
		}
	}
	for _, want := range []string{`role="img"`, `aria-labelledby=`, `<title id=`, `<desc id=`, `<table class="chart-table"`, `<caption>Sign-ins, last 30 days</caption>`} {
		if !strings.Contains(fig, want) {
			t.Errorf("chart lacks %s", want)
		}
	}
	if n := strings.Count(fig, `<tr><th scope="row">`); n != 30 {
		t.Errorf("the table has %d days, want 30", n)
	}
	if !regexp.MustCompile(`<tr><th scope="row">[^<]+</th><td>1</td></tr></tbody>`).MatchString(fig) {
		t.Error("today's sign-in is not in the table's last row")
	}

	// Keyboard-accessible controls: forms with CSRF.
	if !strings.Contains(page.Body, `action="/dashboard/layout"`) || !strings.Contains(page.Body, `name="_csrf"`) {
		t.Fatal("no layout forms")
	}
	post := func(id, action string) {
		t.Helper()
		r := br.Post(t, "/dashboard/layout", url.Values{"widget": {id}, "action": {action}})
		if r.Status != 303 {
			t.Fatalf("%s %s: %d %s", action, id, r.Status, r.Body)
		}
		br.Get(t, r.Header.Get("Location"))
	}
	order := func() []string {
		var out []string
		for _, m := range regexp.MustCompile(`<section class="card widget[^"]*" id="w-([a-z]+-[a-z]+)"`).FindAllStringSubmatch(br.Last.Body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	post("shop.everyone", "up")
	if got := order(); fmt.Sprint(got) != "[core-account shop-everyone core-services]" {
		t.Errorf("after moving up: %v", got)
	}
	if !strings.Contains(br.Last.Body, "The widget is moved.") {
		t.Error("no confirmation after moving")
	}
	post("core.account", "down")
	if got := order(); fmt.Sprint(got) != "[shop-everyone core-account core-services]" {
		t.Errorf("after moving down: %v", got)
	}
	post("core.account", "hide")
	if got := order(); fmt.Sprint(got) != "[shop-everyone core-services]" || !strings.Contains(br.Last.Body, "Hidden widgets") {
		t.Errorf("after hiding: %v", got)
	}
	post("core.account", "show")
	if got := order(); fmt.Sprint(got) != "[shop-everyone core-account core-services]" {
		t.Errorf("after showing: %v", got)
	}
	// The phone (API, another session) sees what the browser arranged.
	api := getBoard(t, ta, portaltest.Bearer(ta.Login(t, "acme", "ann@acme.example")))
	if fmt.Sprint(api.ids()) != "[shop.everyone core.account core.services]" {
		t.Errorf("API after page changes: %v", api.ids())
	}
	post("", "reset")
	if got := order(); fmt.Sprint(got) != "[core-account core-services shop-everyone]" {
		t.Errorf("after reset: %v", got)
	}
	// Bad input is a 422, not a 500; a missing CSRF token is refused.
	if r := br.Post(t, "/dashboard/layout", url.Values{"widget": {"nope.x"}, "action": {"up"}}); r.Status != 422 {
		t.Errorf("unknown widget: %d", r.Status)
	}
	if r := br.Post(t, "/dashboard/layout", url.Values{"widget": {"core.account"}, "action": {"explode"}}); r.Status != 422 {
		t.Errorf("unknown action: %d", r.Status)
	}
	if r := br.Post(t, "/dashboard/layout", url.Values{"widget": {"core.account"}, "action": {"hide"}, "_csrf": {"forged"}}); r.Status != 403 {
		t.Errorf("forged CSRF: %d", r.Status)
	}
}

func TestDashboardInItalian(t *testing.T) {
	ta := portaltest.New(t, nil)
	ta.User(t, "acme", "ann@acme.example", accounts.Customer)
	for i := 0; i < 2; i++ {
		ta.Login(t, "acme", "ann@acme.example")
	}
	br := ta.Browser()
	br.SignIn(t, "acme", "ann@acme.example")
	br.Get(t, "/account")
	if r := br.Post(t, "/account/profile", url.Values{"name": {"Ann"}, "locale": {"it"}, "time_zone": {"Europe/Rome"}}); r.Status >= 400 {
		t.Fatalf("profile: %d", r.Status)
	}
	page := br.Get(t, "/").Body
	for _, want := range []string{"La tua bacheca", "Il tuo account", "Accessi, ultimi 30 giorni", "Mostra i dati in una tabella", "Disponi", "Accesso precedente:"} {
		if !strings.Contains(page, want) {
			t.Errorf("Italian dashboard lacks %q", want)
		}
	}
	var b boardJSON
	ta.Do(t, "GET", "/api/v1/dashboard", nil, portaltest.Bearer(ta.Login(t, "acme", "ann@acme.example"))).JSON(t, &b)
	if len(b.Widgets) == 0 || b.Widgets[0].Title != "Il tuo account" {
		t.Errorf("API titles not translated: %+v", b.Widgets)
	}
}

func TestAccountWidgetCountsSignInsInTheViewersTimeZone(t *testing.T) {
	ta := portaltest.New(t, nil)
	ta.User(t, "acme", "ann@acme.example", accounts.Customer) // org time zone: Europe/Rome
	clock := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
	ta.Accounts.SetClock(func() time.Time { return clock })
	ta.Login(t, "acme", "ann@acme.example") // 10 Nov
	clock = time.Date(2026, 11, 22, 23, 30, 0, 0, time.UTC)
	ta.Login(t, "acme", "ann@acme.example") // 22 Nov in UTC, 23 Nov in Rome
	tok := ta.Login(t, "acme", "ann@acme.example")
	clock = clock.Add(time.Minute)
	ta.User(t, "acme", "bob@acme.example", accounts.Customer)
	ta.Login(t, "acme", "bob@acme.example") // someone else: not counted

	var b struct {
		Widgets []struct {
			ID   string                `json:"id"`
			Data dashboard.AccountData `json:"data"`
		} `json:"widgets"`
	}
	ta.Do(t, "GET", "/api/v1/dashboard", nil, portaltest.Bearer(tok)).JSON(t, &b)
	if len(b.Widgets) == 0 || b.Widgets[0].ID != "core.account" {
		t.Fatalf("widgets %+v", b.Widgets)
	}
	d := b.Widgets[0].Data
	c := d.SignIns
	if d.Count != 3 || c.Kind != chart.Bar || len(c.Labels) != 30 || len(c.Series) != 1 {
		t.Fatalf("account data %+v", d)
	}
	vals := c.Series[0].Values
	if c.Labels[29] != "23 Nov" || vals[29] != 2 {
		t.Errorf("last day %q has %v sign-ins, want 23 Nov with 2", c.Labels[29], vals[29])
	}
	if c.Labels[16] != "10 Nov" || vals[16] != 1 {
		t.Errorf("day %q has %v sign-ins, want 10 Nov with 1", c.Labels[16], vals[16])
	}
	if d.PreviousSignIn == nil || !d.PreviousSignIn.Equal(time.Date(2026, 11, 22, 23, 30, 0, 0, time.UTC)) {
		t.Errorf("previous sign-in %v", d.PreviousSignIn)
	}
}

func TestOrganisationWidgetForAdmins(t *testing.T) {
	ta := portaltest.New(t, nil)
	admin := ta.As(t, "acme", "admin@acme.example", accounts.Admin)
	ta.As(t, "acme", "ann@acme.example", accounts.Customer)
	ta.As(t, "acme", "bob@acme.example", accounts.Customer)
	ta.As(t, "acme", "sam@acme.example", accounts.Staff)
	ta.As(t, "other", "x@other.example", accounts.Customer) // another org: not counted
	var b struct {
		Widgets []struct {
			ID   string            `json:"id"`
			Data dashboard.OrgData `json:"data"`
		} `json:"widgets"`
	}
	ta.Do(t, "GET", "/api/v1/dashboard", nil, admin).JSON(t, &b)
	var d *dashboard.OrgData
	for i, w := range b.Widgets {
		if w.ID == "core.organisation" {
			d = &b.Widgets[i].Data
		}
	}
	if d == nil {
		t.Fatalf("admin has no organisation widget: %+v", b.Widgets)
	}
	if d.ActiveUsers != 4 || fmt.Sprint(d.Users.Series[0].Values) != "[2 1 1]" || fmt.Sprint(d.Users.Labels) != "[Customers Staff Admins]" {
		t.Errorf("users by role %+v (active %d)", d.Users, d.ActiveUsers)
	}
	total := 0.0
	for _, v := range d.SignIns.Series[0].Values {
		total += v
	}
	if total != 4 || d.SignIns.Series[0].Values[29] != 4 {
		t.Errorf("org sign-ins %v, want 4 today", d.SignIns.Series[0].Values)
	}
	// The admin's page shows the donut and the line chart.
	br := ta.Browser()
	br.SignIn(t, "acme", "admin@acme.example")
	page := br.Get(t, "/").Body
	if !strings.Contains(page, `class="chart chart-donut"`) || !strings.Contains(page, `class="chart chart-line"`) {
		t.Error("the organisation widget's charts are missing")
	}
}

func TestWidgetDeclarationMistakesStopStartUp(t *testing.T) {
	for _, tc := range []struct {
		name string
		w    []dashboard.Widget
		want string
	}{
		{"missing template", []dashboard.Widget{{ID: "x", Title: "X", Template: "nope", Data: static(1)}}, `template "bad/nope" does not exist`},
		{"bad ID", []dashboard.Widget{{ID: "Bad-ID", Title: "X", Template: "w", Data: static(1)}}, `"bad.Bad-ID"`},
		{"twice", []dashboard.Widget{{ID: "x", Title: "X", Template: "w", Data: static(1)}, {ID: "x", Title: "X", Template: "w", Data: static(1)}}, "declared twice"},
		{"no data", []dashboard.Widget{{ID: "x", Title: "X", Template: "w"}}, "no Data"},
		{"bad size", []dashboard.Widget{{ID: "x", Title: "X", Template: "w", Size: "huge", Data: static(1)}}, `size "huge"`},
		{"bad role", []dashboard.Widget{{ID: "x", Title: "X", Template: "w", Roles: []accounts.Role{"integrator"}, Data: static(1)}}, `role "integrator"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &widgetModule{id: "bad", widgets: tc.w, templates: fstest.MapFS{"w.html": tpl("ok")}}
			_, err := app.New(context.Background(), app.Options{Config: portaltest.Config(t), Modules: []module.Module{m}, LogOutput: discard{}, Argon2: &portaltest.TestArgon2})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %s", err, tc.want)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestCoreWidgetTitlesAreTranslated(t *testing.T) {
	ta := portaltest.New(t, nil)
	cat := ta.Web.Catalog()
	for _, w := range ta.Dashboard.Widgets() {
		if !cat.Has("it", w.Title) {
			t.Errorf("core widget %s: no Italian title for %q", w.ID, w.Title)
		}
	}
	for _, key := range []string{"Sign-ins, last 30 days", "Day", "Sign-ins", "Active users by role", "Sign-ins across the organisation", "Role", "Users",
		"Customers", "Staff", "Admins", "This widget could not be loaded. Please try again later.", "Reference:", "The widget is moved.",
		"The widget is hidden. You can show it again below.", "The widget is shown again.", "Your dashboard is back to its default layout.", "Dashboard"} {
		if !cat.Has("it", key) {
			t.Errorf("no Italian translation for %q", key)
		}
	}
}
