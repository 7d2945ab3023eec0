package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/store"

	"github.com/portalkit/portalkit/core/app"
	"github.com/portalkit/portalkit/core/app/testdata/sample"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
)

func newSampleApp(t *testing.T) (*portaltest.TestApp, *sample.Module) {
	t.Helper()
	m := &sample.Module{}
	return portaltest.New(t, []module.Module{m}), m
}

func TestSampleModuleEndToEnd(t *testing.T) {
	ta, m := newSampleApp(t)

	var tables bool
	if ta.Store.DB.Migrator().HasTable("sample_notes") {
		tables = true
	}
	if !tables {
		t.Fatal("sample_notes was not migrated")
	}
	applied, err := ta.Store.Applied(context.Background())
	if err != nil || strings.Join(moduleMigrations(applied), ",") != "sample:0001_notes" {
		t.Fatalf("applied migrations = %v, %v", applied, err)
	}
	ann := ta.As(t, "acme", "ann@acme.example", accounts.Customer)
	browser := ta.Browser()
	browser.SignIn(t, "acme", "ann@acme.example")

	portaltest.RunScenarios(t, ta, []portaltest.Scenario{
		{
			Name: "anonymous callers are refused", Method: "POST", URL: "/api/v1/sample/notes",
			Body: map[string]any{"title": "x"}, ExpectedStatus: 401,
			ExpectedHeaders: map[string]string{"Content-Type": "application/problem+json"},
		},
		{
			Name: "create note fires the module's event", Method: "POST", URL: "/api/v1/sample/notes", Headers: ann,
			Body: map[string]any{"title": "Oil change"}, ExpectedStatus: 201,
			ExpectedContent: []string{`"title":"Oil change"`, `"id":1`},
			ExpectedEvents:  []string{sample.EventNoteCreated},
			After: func(t testing.TB, _ *portaltest.TestApp, _ *portaltest.Response) {
				if m.Seen.Load() != 1 {
					t.Errorf("event handler saw %d events, want 1", m.Seen.Load())
				}
			},
		},
		{
			Name: "read it back", Method: "GET", URL: "/api/v1/sample/notes/1", Headers: ann,
			ExpectedStatus: 200, ExpectedContent: []string{`"title":"Oil change"`},
		},
		{
			Name: "missing note is a 404 problem", Method: "GET", URL: "/api/v1/sample/notes/99", Headers: ann,
			ExpectedStatus:  404,
			ExpectedContent: []string{`"status":404`, `note 99 not found`, `"request_id":"`},
			ExpectedHeaders: map[string]string{"Content-Type": "application/problem+json"},
		},
		{
			Name: "validation names the field", Method: "POST", URL: "/api/v1/sample/notes", Headers: ann,
			Body: map[string]any{"title": ""}, ExpectedStatus: 422,
			ExpectedContent:   []string{`"location":"body.title"`, "application/problem+json"[:0]},
			ExpectedHeaders:   map[string]string{"Content-Type": "application/problem+json"},
			NotExpectedEvents: []string{sample.EventNoteCreated},
		},
		{
			Name: "a handler's own field error", Method: "POST", URL: "/api/v1/sample/notes", Headers: ann,
			Body: map[string]any{"title": "   "}, ExpectedStatus: 422,
			ExpectedContent: []string{`"location":"body.title"`, "must not be blank"},
		},
		{
			Name: "malformed JSON is a clear 4xx, not a 500", Method: "POST", URL: "/api/v1/sample/notes",
			Body: `{"title": `, Headers: map[string]string{"Content-Type": "application/json", "Authorization": ann["Authorization"]},
			ExpectedStatus:  400,
			ExpectedContent: []string{`"status":400`},
		},
		{
			Name: "internal errors hide their message", Method: "POST", URL: "/api/v1/sample/notes", Headers: ann,
			Body: map[string]any{"title": "boom"}, ExpectedStatus: 500,
			ExpectedContent:    []string{"Quote reference", `"request_id":"`},
			NotExpectedContent: []string{"hunter2", "exploded"},
		},
		{
			Name: "a panic becomes a 500 problem", Method: "GET", URL: "/api/v1/sample/panic",
			ExpectedStatus:     500,
			ExpectedContent:    []string{`"status":500`},
			NotExpectedContent: []string{"secret detail"},
		},
		{
			Name: "unknown API route is a 404 problem", Method: "GET", URL: "/api/v1/nope",
			ExpectedStatus:  404,
			ExpectedHeaders: map[string]string{"Content-Type": "application/problem+json"},
		},
		{
			Name: "the page needs sign-in", Method: "GET", URL: "/m/sample/", Headers: map[string]string{"Accept": "text/html"},
			ExpectedStatus: 303, ExpectedHeaders: map[string]string{"Location": "/login?next=%2Fm%2Fsample%2F"},
		},
		{
			Name: "unknown page is a friendly HTML 404", Method: "GET", URL: "/no/such/page",
			Headers:         map[string]string{"Accept": "text/html"},
			ExpectedStatus:  404,
			ExpectedContent: []string{"We could not find that page", "Reference:", `class="site-header"`},
		},
		{
			Name: "health", Method: "GET", URL: "/healthz", ExpectedStatus: 200, ExpectedContent: []string{`"ok"`},
		},
		{
			Name: "ready with the database", Method: "GET", URL: "/readyz", ExpectedStatus: 200,
			ExpectedContent: []string{`"database":"ok"`},
		},
		{
			Name: "security headers", Method: "GET", URL: "/healthz", ExpectedStatus: 200,
			ExpectedHeaders: map[string]string{
				"Content-Security-Policy": "frame-ancestors 'none'", "X-Content-Type-Options": "nosniff",
				"X-Request-Id": "",
			},
		},
		{
			Name: "static assets are embedded", Method: "GET", URL: "/static/portal.css", ExpectedStatus: 200,
			ExpectedContent: []string{"--brand"},
		},
		{
			Name: "human API docs list the module's operation", Method: "GET", URL: "/api/docs", ExpectedStatus: 200,
			ExpectedContent:    []string{"/api/v1/sample/notes", "Create a note", `class="site-header"`},
			NotExpectedContent: []string{"unpkg.com", "cdn."},
		},
	})

	page := browser.Get(t, "/m/sample/")
	for _, want := range []string{"<h1>Sample notes</h1>", "1 notes", "Oil change", `class="site-header"`, `href="/m/sample/"`, "Skip to content", "Sign out"} {
		if page.Status != 200 || !strings.Contains(page.Body, want) {
			t.Errorf("sample page (status %d) lacks %q", page.Status, want)
		}
	}

	// The module's widget is on the signed-in person's dashboard at /,
	// with its progress chart and the note just created.
	home := browser.Get(t, "/")
	for _, want := range []string{"Your dashboard", `id="w-sample-notes"`, `class="chart chart-progress"`, "Oil change", "1 / 10"} {
		if home.Status != 200 || !strings.Contains(home.Body, want) {
			t.Errorf("dashboard (status %d) lacks %q", home.Status, want)
		}
	}

	// Metrics after traffic: request counters by route pattern and status.
	res := ta.Do(t, "GET", "/metrics", nil, nil)
	for _, want := range []string{
		`portal_http_requests_total{method="POST",route="/api/v1/sample/notes",status="201"} 1`,
		`portal_http_requests_total{method="GET",route="unmatched",status="404"}`,
		"portal_http_request_duration_seconds_bucket",
		"go_goroutines",
		`go_sql_max_open_connections{db_name="main"}`,
	} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if !strings.Contains(ta.Logs.String(), "database exploded") {
		t.Error("the internal error's cause was not logged for operators")
	}
}

func TestOpenAPIDocument(t *testing.T) {
	ta, _ := newSampleApp(t)
	res := ta.Do(t, "GET", "/api/openapi.json", nil, nil)
	if res.Status != 200 {
		t.Fatalf("status %d", res.Status)
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Info    map[string]any            `json:"info"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	res.JSON(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	post, ok := doc.Paths["/api/v1/sample/notes"]["post"].(map[string]any)
	if !ok {
		t.Fatalf("sample operation missing from paths: %v", keys(doc.Paths))
	}
	if post["operationId"] != "sample-create-note" {
		t.Errorf("operationId = %v", post["operationId"])
	}
	if tags, _ := post["tags"].([]any); len(tags) == 0 || tags[0] != "Sample" {
		t.Errorf("module operations should be tagged with the module name, got %v", post["tags"])
	}
	if _, hidden := doc.Paths["/api/v1/sample/panic"]; hidden {
		t.Error("hidden operation leaked into the document")
	}
	raw, _ := json.Marshal(post["responses"])
	if !strings.Contains(string(raw), "application/problem+json") {
		t.Errorf("error responses are not documented as problem details: %s", raw)
	}
}

func keys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestStartedEventAndDemo(t *testing.T) {
	ta, m := newSampleApp(t)
	if err := ta.RunDemo(context.Background(), portaltest.Password); err != nil {
		t.Fatal(err)
	}
	if err := ta.RunDemo(context.Background(), portaltest.Password); err != nil {
		t.Fatalf("demo is not idempotent: %v", err)
	}
	var n int64
	store.AllOrgs(ta.Store.DB).Model(&sample.Note{}).Count(&n)
	if n != 1 {
		t.Fatalf("demo notes = %d, want exactly 1 after two runs", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := (&netListener{}).listen()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ta.Serve(ctx, ln) }()
	waitHTTP(t, "http://"+ln.Addr().String()+"/healthz")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve returned %v", err)
	}
	if m.Started.Load() != 1 {
		t.Errorf("app.started handler ran %d times", m.Started.Load())
	}
}

func TestModuleOrderingErrors(t *testing.T) {
	cases := []struct {
		name string
		mods []module.Module
		want string
	}{
		{"missing requirement", []module.Module{fake("aa", "bb")}, `module "aa" requires module "bb", which is not loaded`},
		{"cycle", []module.Module{fake("aa", "bb"), fake("bb", "cc"), fake("cc", "aa")}, "cycle: aa -> bb -> cc -> aa"},
		{"bad id", []module.Module{fake("Bad-ID")}, `module ID "Bad-ID"`},
		{"duplicate", []module.Module{fake("aa"), fake("aa")}, `module "aa" is listed twice`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := app.New(context.Background(), app.Options{Config: portaltest.Config(t), Modules: tc.mods})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	ordered, err := module.Order([]module.Module{fake("cc", "bb"), fake("bb", "aa"), fake("aa"), fake("ab")})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range ordered {
		ids = append(ids, m.Info().ID)
	}
	if strings.Join(ids, ",") != "aa,ab,bb,cc" {
		t.Fatalf("order = %v", ids)
	}
}

func TestModuleTablesMustBePrefixed(t *testing.T) {
	_, err := app.New(context.Background(), app.Options{Config: portaltest.Config(t), Modules: []module.Module{&badTables{}}})
	if err == nil || !strings.Contains(err.Error(), `must start with "badtables_"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestDisabledModuleConfig(t *testing.T) {
	cfg := portaltest.Config(t, func(c *config.Config) { c.Modules.Disabled = []string{"sample"} })
	ta := portaltest.NewWithConfig(t, cfg, []module.Module{&sample.Module{}})
	if res := ta.Do(t, "GET", "/api/v1/sample/notes/1", nil, ta.As(t, "acme", "a@acme.example", accounts.Customer)); res.Status != http.StatusNotFound {
		t.Fatalf("disabled module still answers: %d", res.Status)
	}
	cfg2 := portaltest.Config(t, func(c *config.Config) { c.Modules.Disabled = []string{"nosuch"} })
	_, err := app.New(context.Background(), app.Options{Config: cfg2, Modules: []module.Module{&sample.Module{}}})
	if err == nil || !strings.Contains(err.Error(), `no module "nosuch"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestTwoInstancesMigrateOnce(t *testing.T) {
	cfg := portaltest.Config(t)
	results := make(chan error, 2)
	apps := make(chan *app.App, 2)
	for i := 0; i < 2; i++ {
		go func() {
			a, err := app.New(context.Background(), app.Options{Config: cfg, Modules: []module.Module{&sample.Module{}}, LogOutput: discard{}})
			results <- err
			if a != nil {
				apps <- a
			}
		}()
	}
	for i := 0; i < 2; i++ {
		if err := <-results; err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
	}
	a := <-apps
	b := <-apps
	defer a.Close()
	defer b.Close()
	applied, err := a.Store.Applied(context.Background())
	if err != nil || len(moduleMigrations(applied)) != 1 {
		t.Fatalf("applied = %v, %v; want exactly one record of the sample", applied, err)
	}
}

// TestRunsOnTheSelectedDatabase guards the two-database promise: under
// PORTAL_TEST_DB=postgres every app really is on PostgreSQL.
func TestRunsOnTheSelectedDatabase(t *testing.T) {
	ta, _ := newSampleApp(t)
	if got, want := string(ta.Store.Dialect), portaltest.Dialect(); got != want {
		t.Fatalf("store dialect %s, want %s", got, want)
	}
	var version string
	if err := ta.Store.DB.Raw("SELECT " + map[string]string{"sqlite": "sqlite_version()", "postgres": "version()"}[portaltest.Dialect()]).Scan(&version).Error; err != nil {
		t.Fatal(err)
	}
	t.Logf("database: %s", version)
}

type recordingRunner struct {
	name string
	log  *[]string
}

func (r recordingRunner) Name() string { return r.name }
func (r recordingRunner) Start(context.Context) error {
	*r.log = append(*r.log, "start "+r.name)
	return nil
}
func (r recordingRunner) Stop(context.Context) error {
	*r.log = append(*r.log, "stop "+r.name)
	return nil
}

// claimingRunner is a recordingRunner that takes work on its own.
type claimingRunner struct{ recordingRunner }

func (r claimingRunner) StopClaiming() { *r.log = append(*r.log, "stop claiming "+r.name) }

// Runners start in order; at shutdown those that take work on their own
// stop claiming first (issue 19, item 17), then all stop after HTTP.
func TestRunnersStartInOrderAndStopAfterHTTP(t *testing.T) {
	ta, _ := newSampleApp(t)
	var log []string
	ta.AddRunner(claimingRunner{recordingRunner{"first", &log}})
	ta.AddRunner(recordingRunner{"second", &log})
	ln, err := (&netListener{}).listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ta.Serve(ctx, ln) }()
	waitHTTP(t, "http://"+ln.Addr().String()+"/healthz")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(log, ","); got != "start first,start second,stop claiming first,stop second,stop first" {
		t.Fatalf("lifecycle = %s", got)
	}
}

// TestAuthorizationMatrix runs the matrix over the kernel's own routes
// (accounts) and the sample module's.
func TestAuthorizationMatrix(t *testing.T) {
	ta, _ := newSampleApp(t)
	portaltest.AuthorizationMatrix(t, ta)
}

func TestJobsAPIIsForPlatformAdmins(t *testing.T) {
	ta, _ := newSampleApp(t)
	ta.Demo(t)
	platform := portaltest.Bearer(ta.Login(t, accounts.PlatformOrgSlug, "platform@portal.example"))
	res := ta.Do(t, "GET", "/api/v1/admin/jobs", nil, platform)
	if res.Status != 200 || !strings.Contains(res.Body, "accounts.purge_deleted") {
		t.Fatalf("platform admin: %d %s", res.Status, res.Body)
	}
	for _, who := range []string{"admin@demo.example", "customer@demo.example", "staff@demo.example"} {
		h := portaltest.Bearer(ta.Login(t, "demo", who))
		if r := ta.Do(t, "GET", "/api/v1/admin/jobs", nil, h); r.Status != 403 {
			t.Errorf("%s listed jobs: %d", who, r.Status)
		}
		if r := ta.Do(t, "POST", "/api/v1/admin/jobs/accounts.purge_deleted/runs", nil, h); r.Status != 403 {
			t.Errorf("%s ran a job: %d", who, r.Status)
		}
	}
	if r := ta.Do(t, "GET", "/api/v1/admin/jobs", nil, nil); r.Status != 401 {
		t.Errorf("anonymous: %d", r.Status)
	}
	b := ta.Browser()
	b.SignIn(t, "demo", "admin@demo.example")
	if r := b.Get(t, "/platform/jobs"); r.Status != 403 {
		t.Errorf("org admin opened the jobs page: %d", r.Status)
	}
	b = ta.Browser()
	b.SignIn(t, accounts.PlatformOrgSlug, "platform@portal.example")
	if r := b.Get(t, "/platform/jobs"); r.Status != 200 || !strings.Contains(r.Body, "accounts.purge_deleted") {
		t.Errorf("platform admin jobs page: %d", r.Status)
	}
}

// TestNewSecureMessageNotifiesTheRecipient: a customer's message reaches
// their assigned staff member's notification inbox, with a link to it.
func TestNewSecureMessageNotifiesTheRecipient(t *testing.T) {
	ta, _ := newSampleApp(t)
	ta.Demo(t)
	cust := portaltest.Bearer(ta.Login(t, "demo", "customer@demo.example"))
	res := ta.Do(t, "POST", "/api/v1/messages/conversations", map[string]any{"subject": "My car", "body": "Hello, is my car ready?"}, cust)
	if res.Status != 201 {
		t.Fatalf("start: %d %s", res.Status, res.Body)
	}
	staff := portaltest.Bearer(ta.Login(t, "demo", "staff@demo.example"))
	inbox := ta.Do(t, "GET", "/api/v1/notifications", nil, staff)
	if !strings.Contains(inbox.Body, `"kind":"messages.received"`) || !strings.Contains(inbox.Body, "/messages/") {
		t.Fatalf("staff inbox: %d %s", inbox.Status, inbox.Body)
	}
	other := portaltest.Bearer(ta.Login(t, "demo", "customer2@demo.example"))
	if in := ta.Do(t, "GET", "/api/v1/notifications", nil, other); strings.Contains(in.Body, "messages.received") {
		t.Fatal("another customer was notified")
	}
}

// TestNotificationsResolveRecipientsInBulk sends one batch to several users
// through the accounts directory (which resolves them in one query): each
// gets the notification rendered in their own locale, and a batch naming an
// unknown user fails as a whole, naming the user, and writes nothing.
func TestNotificationsResolveRecipientsInBulk(t *testing.T) {
	ta, _ := newSampleApp(t)
	ta.Demo(t)
	ctx := context.Background()
	en := ta.User(t, "demo", "customer@demo.example", accounts.Customer)
	it := ta.User(t, "demo", "customer2@demo.example", accounts.Customer)
	if err := store.Org(ta.Store.DB, it.OrgID).Model(&accounts.User{}).Where("id = ?", it.ID).Update("locale", "it").Error; err != nil {
		t.Fatal(err)
	}
	msg := func(u uint, key string) notify.Notification {
		return notify.Notification{OrgID: en.OrgID, UserID: u, Kind: "messages.received", DedupeKey: key,
			Data: map[string]any{"from": "Sam", "preview": "Hello", "link": "/messages/1"}}
	}
	err := ta.Store.Tx(ctx, func(tx *gorm.DB) error {
		_, err := ta.App.Notify.SendMany(ctx, tx, []notify.Notification{msg(en.ID, "a"), msg(999999, "b")})
		return err
	})
	if !errors.Is(err, notify.ErrNoRecipient) || !strings.Contains(err.Error(), "999999") {
		t.Fatalf("unknown recipient: %v", err)
	}
	var n int64
	store.AllOrgs(ta.Store.DB).Model(&notify.Record{}).Where("dedupe_key IN ?", []string{"a", "b"}).Count(&n)
	if n != 0 {
		t.Fatalf("%d notifications written by a failed batch", n)
	}
	if err := ta.Store.Tx(ctx, func(tx *gorm.DB) error {
		_, err := ta.App.Notify.SendMany(ctx, tx, []notify.Notification{msg(en.ID, "c"), msg(it.ID, "c")})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var recs []notify.Record
	store.AllOrgs(ta.Store.DB).Where("dedupe_key = ?", "c").Order("user_id").Find(&recs)
	if len(recs) != 2 || recs[0].Title == recs[1].Title {
		t.Fatalf("want two notifications in two languages, got %+v", recs)
	}
}

// TestMessageNotificationNamesTheSenderOutsideARequest: a message written
// without a signed-in request (the demo data) still says who wrote it.
func TestMessageNotificationNamesTheSenderOutsideARequest(t *testing.T) {
	ta, _ := newSampleApp(t)
	ta.Demo(t)
	var titles []string
	store.AllOrgs(ta.Store.DB).Model(&notify.Record{}).Where("kind = ?", "messages.received").Pluck("title", &titles)
	if len(titles) == 0 {
		t.Fatal("the demo conversation notified nobody")
	}
	for _, title := range titles {
		if !strings.HasSuffix(title, "from Sam Staff") && !strings.HasSuffix(title, "from Chiara Customer") {
			t.Errorf("notification title %q does not name the sender", title)
		}
	}
}
