package timeline_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/experience/timeline"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
)

// world: acme with customers chiara and carlo, staff sam (looks after
// chiara) and sue (looks after no one), admin ada; other with admin oscar.
type world struct {
	ta  *portaltest.TestApp
	tok map[string]string
	id  map[string]uint
	org uint
}

func newWorld(t *testing.T) *world {
	ta := portaltest.New(t, nil)
	w := &world{ta: ta, tok: map[string]string{}, id: map[string]uint{}}
	for _, u := range []struct {
		org, name string
		role      accounts.Role
	}{{"acme", "chiara", accounts.Customer}, {"acme", "carlo", accounts.Customer}, {"acme", "sam", accounts.Staff},
		{"acme", "sue", accounts.Staff}, {"acme", "ada", accounts.Admin}, {"other", "oscar", accounts.Admin}, {"other", "olga", accounts.Customer}} {
		email := u.name + "@" + u.org + ".example"
		w.id[u.name] = ta.User(t, u.org, email, u.role).ID
		w.tok[u.name] = ta.Login(t, u.org, email)
	}
	w.org = ta.Org(t, "acme").ID
	ada := ta.Principal(t, w.tok["ada"])
	if err := ta.Accounts.Assign(context.Background(), ada, w.id["sam"], w.id["chiara"], "advisor"); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) get(t *testing.T, who, path string) *portaltest.Response {
	t.Helper()
	return w.ta.Do(t, http.MethodGet, path, nil, portaltest.Bearer(w.tok[who]))
}

func (w *world) publish(t *testing.T, tx *gorm.DB, name string, subject uint, at time.Time, summary string, args ...any) {
	t.Helper()
	if err := w.ta.App.Events.Publish(context.Background(), events.Event{Name: name, OrgID: w.org, SubjectID: subject, Time: at, Tx: tx,
		Summary: summary, SummaryArgs: args}); err != nil {
		t.Fatal(err)
	}
}

func (w *world) token(t *testing.T, scopes ...string) string {
	t.Helper()
	ct, err := w.ta.Accounts.CreateToken(context.Background(), w.ta.Principal(t, w.tok["ada"]),
		accounts.NewToken{Name: "crm " + strings.Join(scopes, ","), Scopes: scopes, ExpiresIn: time.Hour}, "")
	if err != nil {
		t.Fatal(err)
	}
	return ct.Secret
}

// TestTimelineScoping: the customer, their assigned staff, admins and
// tokens with customers:read read it; anyone else gets 404.
func TestTimelineScoping(t *testing.T) {
	w := newWorld(t)
	chiara := fmt.Sprint(w.id["chiara"])
	path := "/api/v1/customers/" + chiara + "/timeline"
	readToken, writeToken, otherToken := w.token(t, "customers:read"), w.token(t, "customers:write"), w.token(t, "notifications:read")
	cases := []struct {
		name   string
		header map[string]string
		status int
	}{
		{"assigned staff", portaltest.Bearer(w.tok["sam"]), 200},
		{"admin", portaltest.Bearer(w.tok["ada"]), 200},
		{"token with customers:read", portaltest.Bearer(readToken), 200},
		{"token with customers:write", portaltest.Bearer(writeToken), 200},
		{"token without the scope", portaltest.Bearer(otherToken), 403},
		{"unassigned staff", portaltest.Bearer(w.tok["sue"]), 404},
		{"admin of another org", portaltest.Bearer(w.tok["oscar"]), 404},
		{"a customer (their own via this path is not for them)", portaltest.Bearer(w.tok["chiara"]), 403},
		{"another customer", portaltest.Bearer(w.tok["carlo"]), 403},
		{"anonymous", nil, 401},
	}
	for _, c := range cases {
		res := w.ta.Do(t, http.MethodGet, path, nil, c.header)
		if res.Status != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, res.Status, c.status, res.Body)
		}
		if c.status == 200 && !strings.Contains(res.Body, "Signed in from 192.0.2.1") {
			t.Errorf("%s: the sign-in is missing: %s", c.name, res.Body)
		}
	}
	// Staff of a customer who is not a customer at all (sam's own ID) and
	// unknown IDs: 404.
	if r := w.get(t, "ada", fmt.Sprintf("/api/v1/customers/%d/timeline", w.id["sam"])); r.Status != 404 {
		t.Errorf("a staff member's ID as customer: %d", r.Status)
	}
	if r := w.get(t, "ada", "/api/v1/customers/999999/timeline"); r.Status != 404 {
		t.Errorf("unknown customer: %d", r.Status)
	}
	if r := w.get(t, "oscar", fmt.Sprintf("/api/v1/customers/%d/timeline", w.id["olga"])); r.Status != 200 || strings.Contains(r.Body, "chiara") {
		t.Errorf("oscar's own customer: %d %s", r.Status, r.Body)
	}

	// My activity: the customer's own, nobody else's.
	res := w.get(t, "chiara", "/api/v1/me/activity")
	if res.Status != 200 || !strings.Contains(res.Body, "Signed in from") {
		t.Fatalf("my activity: %d %s", res.Status, res.Body)
	}
	var mine timeline.Page
	res.JSON(t, &mine)
	for _, it := range mine.Items {
		if it.Event != accounts.EventUserSignedIn {
			t.Errorf("unexpected item on chiara's activity: %+v", it)
		}
	}
	if r := w.get(t, "sam", "/api/v1/me/activity"); r.Status != 403 {
		t.Errorf("staff on /me/activity: %d", r.Status)
	}

	// Pages.
	b := w.ta.Browser()
	b.SignIn(t, "acme", "sue@acme.example")
	if r := b.Get(t, "/staff/customers/"+chiara+"/timeline"); r.Status != 404 {
		t.Errorf("unassigned staff page: %d", r.Status)
	}
	if r := b.Get(t, "/staff/customers"); r.Status != 200 || strings.Contains(r.Body, "chiara@acme.example") {
		t.Errorf("sue's customer list shows chiara: %d", r.Status)
	}
	b = w.ta.Browser()
	b.SignIn(t, "acme", "sam@acme.example")
	if r := b.Get(t, "/staff/customers"); r.Status != 200 || !strings.Contains(r.Body, "chiara@acme.example") || strings.Contains(r.Body, "carlo@acme.example") {
		t.Errorf("sam's customer list: %d", r.Status)
	}
	if r := b.Get(t, "/staff/customers/"+chiara+"/timeline"); r.Status != 200 || !strings.Contains(r.Body, "Signed in from 192.0.2.1") {
		t.Errorf("sam's view of chiara: %d", r.Status)
	}
	b = w.ta.Browser()
	b.SignIn(t, "acme", "chiara@acme.example")
	if r := b.Get(t, "/activity"); r.Status != 200 || !strings.Contains(r.Body, "Signed in from") {
		t.Errorf("chiara's activity page: %d", r.Status)
	}
	if r := b.Get(t, "/staff/customers"); r.Status != 403 {
		t.Errorf("a customer on the staff page: %d", r.Status)
	}
}

// TestTimelineFiltersPagingAndTranslation walks 130 events in pages of 25
// (ties in time included) and checks filters and Italian summaries.
func TestTimelineFiltersPagingAndTranslation(t *testing.T) {
	w := newWorld(t)
	chiara := w.id["chiara"]
	base := time.Date(2030, 5, 10, 8, 0, 0, 0, time.UTC)
	for i := 0; i < 130; i++ {
		at := base.Add(time.Duration(i/2) * time.Minute) // two events per minute: ties
		name := "garage.booking_made"
		if i%3 == 0 {
			name = "garage.car_ready"
		}
		w.publish(t, nil, name, chiara, at, "Booked service number %d", i)
	}
	w.publish(t, nil, "garage.booking_made", w.id["carlo"], base, "Carlo's booking")
	w.publish(t, nil, "garage.unsummarised", chiara, base, "") // no summary: not on the timeline

	seen := map[uint]bool{}
	var last time.Time
	cursor := ""
	pages := 0
	for {
		q := "/api/v1/customers/" + fmt.Sprint(chiara) + "/timeline?module=garage&limit=25"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		res := w.get(t, "sam", q)
		if res.Status != 200 {
			t.Fatalf("page %d: %d %s", pages, res.Status, res.Body)
		}
		var p timeline.Page
		res.JSON(t, &p)
		pages++
		for _, it := range p.Items {
			if seen[it.ID] {
				t.Fatalf("item %d on two pages", it.ID)
			}
			seen[it.ID] = true
			if !last.IsZero() && it.At.After(last) {
				t.Fatalf("not newest first: %v after %v", it.At, last)
			}
			last = it.At
			if strings.Contains(it.Summary, "Carlo") {
				t.Fatal("carlo's event on chiara's timeline")
			}
		}
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if len(seen) != 130 || pages != 6 {
		t.Fatalf("walked %d items in %d pages, want 130 in 6", len(seen), pages)
	}

	var p timeline.Page
	w.get(t, "sam", fmt.Sprintf("/api/v1/customers/%d/timeline?event=garage.car_ready&limit=200", chiara)).JSON(t, &p)
	if len(p.Items) != 44 {
		t.Errorf("event filter: %d items, want 44", len(p.Items))
	}
	// Dates: the first 10 minutes (20 events).
	w.get(t, "sam", fmt.Sprintf("/api/v1/customers/%d/timeline?module=garage&from=%s&to=%s&limit=200", chiara,
		url.QueryEscape(base.Format(time.RFC3339)), url.QueryEscape(base.Add(10*time.Minute).Format(time.RFC3339)))).JSON(t, &p)
	if len(p.Items) != 20 {
		t.Errorf("date filter: %d items, want 20", len(p.Items))
	}
	if r := w.get(t, "sam", fmt.Sprintf("/api/v1/customers/%d/timeline?from=yesterday", chiara)); r.Status != 422 || !strings.Contains(r.Body, "from") {
		t.Errorf("bad date: %d %s", r.Status, r.Body)
	}
	if r := w.get(t, "sam", fmt.Sprintf("/api/v1/customers/%d/timeline?cursor=garbage!", chiara)); r.Status != 422 {
		t.Errorf("bad cursor: %d %s", r.Status, r.Body)
	}

	// Italian: the viewer's language, or ?lang=it.
	res := w.get(t, "sam", fmt.Sprintf("/api/v1/customers/%d/timeline?module=accounts&lang=it", chiara))
	if !strings.Contains(res.Body, "Accesso da 192.0.2.1") {
		t.Errorf("Italian summary missing: %s", res.Body)
	}
	if err := store.Org(w.ta.Store.DB, w.org).Model(&accounts.User{}).Where("id = ?", w.id["sam"]).Update("locale", "it").Error; err != nil {
		t.Fatal(err)
	}
	b := w.ta.Browser()
	b.SignIn(t, "acme", "sam@acme.example")
	page := b.Get(t, fmt.Sprintf("/staff/customers/%d/timeline?module=accounts", chiara))
	if !strings.Contains(page.Body, "Accesso da 192.0.2.1") || !strings.Contains(page.Body, "Cronologia di chiara") {
		t.Errorf("Italian page lacks the translated summary")
	}
	page = b.Get(t, fmt.Sprintf("/staff/customers/%d/timeline?module=garage", chiara))
	if !strings.Contains(page.Body, "rel=\"next\"") || !strings.Contains(page.Body, "Booked service number 129") {
		t.Errorf("first page of the garage filter lacks the newest item or the next link")
	}
}

// TestTimelineRollsBackWithItsCause: an event published in a transaction
// that rolls back leaves no entry; a committed one does.
func TestTimelineRollsBackWithItsCause(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	boom := errors.New("booking failed")
	err := w.ta.Store.Tx(ctx, func(tx *gorm.DB) error {
		w.publish(t, tx, "garage.booking_made", w.id["chiara"], time.Now(), "Rolled back booking")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if err := w.ta.Store.Tx(ctx, func(tx *gorm.DB) error {
		w.publish(t, tx, "garage.booking_made", w.id["chiara"], time.Now(), "Committed booking")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	body := w.get(t, "chiara", "/api/v1/me/activity?module=garage").Body
	if strings.Contains(body, "Rolled back booking") || !strings.Contains(body, "Committed booking") {
		t.Fatalf("timeline after rollback/commit: %s", body)
	}
}

// TestNotificationsAndMessagesJoinTheTimeline: a delivered notification
// (with its channel) and a message appear on the customer's timeline.
func TestNotificationsAndMessagesJoinTheTimeline(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if err := w.ta.Store.Tx(ctx, func(tx *gorm.DB) error {
		_, err := w.ta.Notify.Send(ctx, tx, notify.Notification{OrgID: w.org, UserID: w.id["chiara"], Kind: notify.KindTest,
			Data: map[string]any{"message": "hello"}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if n, err := w.ta.Notify.DispatchOnce(ctx); err != nil {
			t.Fatal(err)
		} else if n == 0 {
			break
		}
	}
	var p timeline.Page
	w.get(t, "sam", fmt.Sprintf("/api/v1/customers/%d/timeline?event=%s", w.id["chiara"], notify.EventDelivered)).JSON(t, &p)
	if len(p.Items) == 0 {
		t.Fatal("no notify.delivered entry on the timeline")
	}
	channels := ""
	for _, it := range p.Items {
		channels += it.Summary + "|"
	}
	if !strings.Contains(channels, "shown in the portal") {
		t.Errorf("the in-app channel is not in the summaries: %s", channels)
	}

	res := w.ta.Do(t, http.MethodPost, "/api/v1/messages/conversations", map[string]any{"subject": "Brakes", "body": "They squeak"}, portaltest.Bearer(w.tok["chiara"]))
	if res.Status != 201 {
		t.Fatalf("start conversation: %d %s", res.Status, res.Body)
	}
	body := w.get(t, "sam", fmt.Sprintf("/api/v1/customers/%d/timeline?module=messages", w.id["chiara"])).Body
	if !strings.Contains(body, "Conversation started: “Brakes”") || !strings.Contains(body, "Sent a message in “Brakes”") || !strings.Contains(body, `"link":"/messages/`) {
		t.Errorf("messages missing from the timeline: %s", body)
	}
}

// TestCustomerSearchMatchesWildcardsLiterally: % and _ in the Customers
// page's search box are characters, not LIKE wildcards (issue 19 item 10).
func TestCustomerSearchMatchesWildcardsLiterally(t *testing.T) {
	w := newWorld(t)
	w.ta.User(t, "acme", "anna_rossi@acme.example", accounts.Customer)
	w.ta.User(t, "acme", "annaxrossi@acme.example", accounts.Customer)
	b := w.ta.Browser()
	b.SignIn(t, "acme", "ada@acme.example")
	for q, want := range map[string][]string{"a_r": {"anna_rossi@"}, "_": {"anna_rossi@"}, "%": nil, `\`: nil} {
		r := b.Get(t, "/staff/customers?q="+url.QueryEscape(q))
		if r.Status != 200 {
			t.Fatalf("search %q: %d", q, r.Status)
		}
		var got []string
		for _, e := range []string{"anna_rossi@", "annaxrossi@", "chiara@", "carlo@"} {
			if strings.Contains(r.Body, e) {
				got = append(got, e)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("search %q shows %v, want %v", q, got, want)
		}
	}
}
