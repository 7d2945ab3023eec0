package messages_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/experience/messages"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
)

// garage is a module that opens conversations about its vehicles.
type garage struct{ msgs *messages.Service }

var _ module.Module = (*garage)(nil)

func (*garage) Info() module.Info {
	return module.Info{ID: "garage", Name: "Garage", Version: "1.0.0", Description: "Vehicles."}
}

func (g *garage) Init(h module.Host) error { g.msgs = h.Messages(); return nil }

// notice is one notification the recording notifier received.
type notice struct {
	org, recipient, conv uint
	preview              string
}

type recorder struct {
	mu   sync.Mutex
	list []notice
}

func (r *recorder) MessageReceived(_ context.Context, tx *gorm.DB, org, recipient, conv uint, preview string) error {
	if tx == nil {
		return fmt.Errorf("notifier called outside the message's transaction")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, notice{org, recipient, conv, preview})
	return nil
}

func (r *recorder) take() []notice {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.list
	r.list = nil
	return out
}

// world is an app with the organisation acme: customers chiara and carlo,
// staff sam (looks after chiara) and sue (looks after carlo), admin ada;
// and the organisation other with oscar and their admin.
type world struct {
	ta     *portaltest.TestApp
	g      *garage
	n      *recorder
	tok    map[string]string
	id     map[string]uint
	events []events.Event
	mu     sync.Mutex
}

func newWorld(t *testing.T, opts ...portaltest.Option) *world {
	t.Helper()
	w := &world{g: &garage{}, n: &recorder{}, tok: map[string]string{}, id: map[string]uint{}}
	w.ta = portaltest.New(t, []module.Module{w.g}, opts...)
	w.ta.Messages.SetNotifier(w.n)
	users := []struct {
		name, org string
		role      accounts.Role
	}{
		{"chiara", "acme", accounts.Customer}, {"carlo", "acme", accounts.Customer}, {"sam", "acme", accounts.Staff},
		{"sue", "acme", accounts.Staff}, {"ada", "acme", accounts.Admin}, {"oscar", "other", accounts.Customer}, {"otto", "other", accounts.Admin},
	}
	for _, u := range users {
		email := u.name + "@" + u.org + ".example"
		w.id[u.name] = w.ta.User(t, u.org, email, u.role).ID
		w.tok[u.name] = w.ta.Login(t, u.org, email)
	}
	ada := w.ta.Principal(t, w.tok["ada"])
	ctx := context.Background()
	for _, a := range [][2]string{{"sam", "chiara"}, {"sue", "carlo"}} {
		if err := w.ta.Accounts.Assign(ctx, ada, w.id[a[0]], w.id[a[1]], "advisor"); err != nil {
			t.Fatal(err)
		}
	}
	w.ta.App.Events.Subscribe("*", func(_ context.Context, e events.Event) error {
		w.mu.Lock()
		w.events = append(w.events, e)
		w.mu.Unlock()
		return nil
	})
	return w
}

func (w *world) as(name string) map[string]string { return portaltest.Bearer(w.tok[name]) }

func (w *world) p(t *testing.T, name string) *accounts.Principal {
	return w.ta.Principal(t, w.tok[name])
}

func (w *world) eventsNamed(name string) []events.Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []events.Event
	for _, e := range w.events {
		if e.Name == name {
			out = append(out, e)
		}
	}
	return out
}

type thread struct {
	Conversation messages.Conversation `json:"conversation"`
	Messages     []struct {
		ID          uint                  `json:"id"`
		Body        string                `json:"body"`
		SenderID    uint                  `json:"sender_id"`
		Mine        bool                  `json:"mine"`
		ReadBy      []messages.Person     `json:"read_by"`
		Attachments []messages.Attachment `json:"attachments"`
	} `json:"messages"`
}

func (w *world) thread(t *testing.T, who string, id uint) thread {
	t.Helper()
	res := w.ta.Do(t, "GET", fmt.Sprintf("/api/v1/messages/conversations/%d", id), nil, w.as(who))
	if res.Status != 200 {
		t.Fatalf("thread as %s: %d %s", who, res.Status, res.Body)
	}
	var th thread
	res.JSON(t, &th)
	return th
}

type inbox struct {
	Conversations []struct {
		ID            uint   `json:"id"`
		Subject       string `json:"subject"`
		AwaitingStaff bool   `json:"awaiting_staff"`
		Unread        int64  `json:"unread"`
	} `json:"conversations"`
	Total int64 `json:"total"`
}

func (w *world) inbox(t *testing.T, who, query string) inbox {
	t.Helper()
	res := w.ta.Do(t, "GET", "/api/v1/messages/conversations"+query, nil, w.as(who))
	if res.Status != 200 {
		t.Fatalf("inbox as %s: %d %s", who, res.Status, res.Body)
	}
	var in inbox
	res.JSON(t, &in)
	return in
}

func names(ps []messages.Person) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func TestConversationEndToEnd(t *testing.T) {
	w := newWorld(t)
	ta := w.ta

	// The customer writes; the conversation goes to their advisor.
	res := ta.Do(t, "POST", "/api/v1/messages/conversations", map[string]any{"subject": "Brakes squeak", "body": "Since Monday the brakes squeak.", "module": "garage"}, w.as("chiara"))
	if res.Status != 201 {
		t.Fatalf("start: %d %s", res.Status, res.Body)
	}
	var conv messages.Conversation
	res.JSON(t, &conv)
	if conv.StaffID != w.id["sam"] || conv.CustomerID != w.id["chiara"] || !conv.AwaitingStaff || conv.Module != "garage" {
		t.Fatalf("conversation = %+v", conv)
	}
	if n := w.n.take(); len(n) != 1 || n[0].recipient != w.id["sam"] || n[0].conv != conv.ID || n[0].preview != "Since Monday the brakes squeak." {
		t.Fatalf("notifications = %+v", n)
	}
	for _, name := range []string{messages.EventConversationStarted, messages.EventMessageSent} {
		evs := w.eventsNamed(name)
		if len(evs) != 1 || evs[0].SubjectID != w.id["chiara"] || evs[0].ActorID != w.id["chiara"] {
			t.Fatalf("%s events = %+v", name, evs)
		}
		data, _ := evs[0].Data.(map[string]any)
		if s, _ := data["summary"].(string); !strings.Contains(s, "Brakes squeak") || data["link"] != fmt.Sprintf("/messages/%d", conv.ID) {
			t.Fatalf("%s data = %v", name, data)
		}
	}

	// Staff see it unread and unanswered; reading it moves their receipt.
	in := w.inbox(t, "sam", "")
	if len(in.Conversations) != 1 || in.Conversations[0].Unread != 1 || !in.Conversations[0].AwaitingStaff {
		t.Fatalf("sam's inbox = %+v", in)
	}
	if th := w.thread(t, "chiara", conv.ID); len(th.Messages[0].ReadBy) != 0 {
		t.Fatalf("read before staff looked: %+v", th.Messages[0].ReadBy)
	}
	if res := ta.Do(t, "POST", fmt.Sprintf("/api/v1/messages/conversations/%d/read", conv.ID), nil, w.as("sam")); res.Status != 204 {
		t.Fatalf("read: %d", res.Status)
	}
	if th := w.thread(t, "chiara", conv.ID); !slices.Equal(names(th.Messages[0].ReadBy), []string{"sam"}) || !th.Messages[0].Mine {
		t.Fatalf("chiara's receipt after sam read: %+v", th.Messages[0])
	}
	if in := w.inbox(t, "sam", ""); in.Conversations[0].Unread != 0 {
		t.Fatalf("still unread for sam: %+v", in)
	}

	// Staff answer; the customer is notified and the conversation is answered.
	res = ta.Do(t, "POST", fmt.Sprintf("/api/v1/messages/conversations/%d/messages", conv.ID), map[string]any{"body": "Bring it in on Friday."}, w.as("sam"))
	if res.Status != 201 {
		t.Fatalf("reply: %d %s", res.Status, res.Body)
	}
	if n := w.n.take(); len(n) != 1 || n[0].recipient != w.id["chiara"] {
		t.Fatalf("notifications = %+v", n)
	}
	in = w.inbox(t, "chiara", "")
	if len(in.Conversations) != 1 || in.Conversations[0].AwaitingStaff || in.Conversations[0].Unread != 1 {
		t.Fatalf("chiara's inbox = %+v", in)
	}
	ta.Do(t, "POST", fmt.Sprintf("/api/v1/messages/conversations/%d/read", conv.ID), nil, w.as("chiara"))
	th := w.thread(t, "sam", conv.ID)
	if len(th.Messages) != 2 || !slices.Equal(names(th.Messages[1].ReadBy), []string{"chiara"}) || !th.Messages[1].Mine {
		t.Fatalf("sam's view after chiara read the answer: %+v", th.Messages)
	}

	// Nobody else sees it: another customer, unassigned staff, other
	// organisations; the admin of the organisation does.
	for _, who := range []string{"carlo", "sue", "oscar", "otto"} {
		for _, req := range []struct{ method, url string }{
			{"GET", fmt.Sprintf("/api/v1/messages/conversations/%d", conv.ID)},
			{"POST", fmt.Sprintf("/api/v1/messages/conversations/%d/read", conv.ID)},
			{"POST", fmt.Sprintf("/api/v1/messages/conversations/%d/messages", conv.ID)},
		} {
			if res := ta.Do(t, req.method, req.url, map[string]any{"body": "let me in"}, w.as(who)); res.Status != 404 {
				t.Errorf("%s %s as %s: %d, want 404", req.method, req.url, who, res.Status)
			}
		}
		if in := w.inbox(t, who, ""); in.Total != 0 {
			t.Errorf("%s's inbox lists %d conversations", who, in.Total)
		}
	}
	if in := w.inbox(t, "ada", ""); in.Total != 1 {
		t.Fatalf("the admin's inbox = %+v", in)
	}
	w.thread(t, "ada", conv.ID)
	if res := ta.Do(t, "GET", "/api/v1/messages/conversations", nil, nil); res.Status != 401 {
		t.Fatalf("anonymous inbox: %d", res.Status)
	}

	// Bad input: 422 naming the field, nothing written.
	var before int64
	store.AllOrgs(ta.Store.DB).Model(&messages.Message{}).Count(&before)
	for _, body := range []map[string]any{
		{"subject": "", "body": "x"},
		{"subject": "x", "body": strings.Repeat("y", 5001)},
		{"subject": "x", "body": "y", "module": "nosuch"},
		{"subject": "x", "body": "y", "staff_id": w.id["sue"]},
	} {
		if res := ta.Do(t, "POST", "/api/v1/messages/conversations", body, w.as("chiara")); res.Status != 422 {
			t.Errorf("start %v: %d %s", body, res.Status, res.Body)
		}
	}
	var after int64
	store.AllOrgs(ta.Store.DB).Model(&messages.Message{}).Count(&after)
	if after != before {
		t.Fatalf("invalid input wrote %d messages", after-before)
	}
	// A customer no one looks after gets a clear conflict.
	ta.User(t, "acme", "lonely@acme.example", accounts.Customer)
	res = ta.Do(t, "POST", "/api/v1/messages/conversations", map[string]any{"subject": "Hello", "body": "Anyone?"}, portaltest.Bearer(ta.Login(t, "acme", "lonely@acme.example")))
	if res.Status != 409 || !strings.Contains(res.Body, "no one is assigned") {
		t.Fatalf("unassigned customer: %d %s", res.Status, res.Body)
	}
	// Staff write to the customers they look after, not to others.
	if res := ta.Do(t, "POST", "/api/v1/messages/conversations", map[string]any{"customer_id": w.id["chiara"], "subject": "Recall", "body": "Your car has a recall."}, w.as("sam")); res.Status != 201 {
		t.Fatalf("staff start: %d %s", res.Status, res.Body)
	}
	if res := ta.Do(t, "POST", "/api/v1/messages/conversations", map[string]any{"customer_id": w.id["carlo"], "subject": "Hi", "body": "Hi"}, w.as("sam")); res.Status != 422 {
		t.Fatalf("staff wrote to a customer they do not look after: %d", res.Status)
	}
}

func TestModulesOpenConversationsAboutTheirObjects(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	open := func(p *accounts.Principal, body string) (*messages.Conversation, error) {
		var c *messages.Conversation
		err := w.ta.Store.Tx(ctx, func(tx *gorm.DB) error {
			var err error
			c, err = w.g.msgs.Open(ctx, tx, p, "garage", "vehicle", "42", "Fiat Panda AB123CD", body)
			return err
		})
		return c, err
	}
	chiara := w.p(t, "chiara")
	c1, err := open(chiara, "Is the recall done on my car?")
	if err != nil {
		t.Fatal(err)
	}
	if c1.SubjectType != "vehicle" || c1.SubjectID != "42" || c1.SubjectTitle != "Fiat Panda AB123CD" || c1.Subject != "Fiat Panda AB123CD" || c1.StaffID != w.id["sam"] {
		t.Fatalf("conversation = %+v", c1)
	}
	c2, err := open(chiara, "And the tyres?")
	if err != nil || c2.ID != c1.ID {
		t.Fatalf("second Open about the same vehicle: %+v %v", c2, err)
	}
	if th := w.thread(t, "sam", c1.ID); len(th.Messages) != 2 {
		t.Fatalf("%d messages, want 2", len(th.Messages))
	}
	// A job acting for the customer with a bare principal may open one too.
	bare := &accounts.Principal{UserID: chiara.UserID, OrgID: chiara.OrgID, Role: accounts.Customer, Name: chiara.Name}
	err = w.ta.Store.Tx(ctx, func(tx *gorm.DB) error {
		_, err := w.g.msgs.Open(ctx, tx, bare, "garage", "vehicle", "7", "Second car", "Reminder question")
		return err
	})
	if err != nil {
		t.Fatalf("Open with a bare principal: %v", err)
	}
	if _, err := open(w.p(t, "sam"), "x"); !portaltest.IsKind(err, errs.Forbidden) {
		t.Fatalf("staff used Open: %v", err)
	}
	// Staff use OpenFor about a customer's object.
	var c3 *messages.Conversation
	err = w.ta.Store.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		c3, err = w.g.msgs.OpenFor(ctx, tx, w.p(t, "sam"), w.id["chiara"], "garage", "vehicle", "42", "", "The recall is done.")
		return err
	})
	if err != nil || c3.ID != c1.ID || c3.AwaitingStaff {
		t.Fatalf("OpenFor: %+v %v", c3, err)
	}
	err = w.ta.Store.Tx(ctx, func(tx *gorm.DB) error {
		_, err := w.g.msgs.OpenFor(ctx, tx, w.p(t, "sue"), w.id["chiara"], "garage", "vehicle", "43", "", "Hi")
		return err
	})
	if err == nil {
		t.Fatal("staff opened a conversation with a customer they do not look after")
	}
	// A rolled-back module transaction leaves nothing behind.
	var before int64
	store.AllOrgs(w.ta.Store.DB).Model(&messages.Conversation{}).Count(&before)
	_ = w.ta.Store.Tx(ctx, func(tx *gorm.DB) error {
		if _, err := w.g.msgs.Open(ctx, tx, chiara, "garage", "vehicle", "99", "Other car", "Hello"); err != nil {
			return err
		}
		return fmt.Errorf("the module's own write failed")
	})
	var after int64
	store.AllOrgs(w.ta.Store.DB).Model(&messages.Conversation{}).Count(&after)
	if after != before {
		t.Fatal("a conversation survived its module's rollback")
	}
}

func TestUnansweredFirstAndResponseTimes(t *testing.T) {
	w := newWorld(t)
	ta := w.ta
	ctx := context.Background()
	ada := w.ta.Principal(t, w.tok["ada"])
	// sam looks after three more customers.
	for _, c := range []string{"c1", "c2", "c3"} {
		w.id[c] = ta.User(t, "acme", c+"@acme.example", accounts.Customer).ID
		w.tok[c] = ta.Login(t, "acme", c+"@acme.example")
		if err := ta.Accounts.Assign(ctx, ada, w.id["sam"], w.id[c], "advisor"); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	now := t0
	ta.Messages.SetClock(func() time.Time { return now })
	at := func(d time.Duration) { now = t0.Add(d) }
	start := func(who, subject string) uint {
		t.Helper()
		c, err := ta.Messages.Start(ctx, w.p(t, who), messages.NewConversation{Subject: subject, Body: "Question from " + who})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	send := func(who string, conv uint) {
		t.Helper()
		if _, err := ta.Messages.Send(ctx, w.p(t, who), conv, "Message from "+who, nil); err != nil {
			t.Fatal(err)
		}
	}
	day := 24 * time.Hour
	// E: answered 40 days ago (outside the 30-day window): 1 h.
	at(-40 * day)
	e := start("c2", "E")
	at(-40*day + time.Hour)
	send("sam", e)
	// A: asked at t0, answered after 30 min.
	at(0)
	a := start("c1", "A")
	at(30 * time.Minute)
	send("sam", a)
	// B: asked at +1h, asked again at +1h10m (the clock keeps running from
	// the first), answered at +3h: 2 h.
	at(time.Hour)
	b := start("c2", "B")
	at(time.Hour + 10*time.Minute)
	send("c2", b)
	// F: carlo asks sue at +1h, answered after 45 min.
	at(time.Hour)
	f := start("carlo", "F")
	at(time.Hour + 45*time.Minute)
	send("sue", f)
	at(3 * time.Hour)
	send("sam", b)
	// C: asked at +2h, unanswered. D: asked at +4h, unanswered.
	at(2 * time.Hour)
	start("c3", "C")
	at(4 * time.Hour)
	start("c1", "D")
	// A again: asked at +5h, answered 10 min later.
	at(5 * time.Hour)
	send("c1", a)
	at(5*time.Hour + 10*time.Minute)
	send("sam", a)
	at(6 * time.Hour)

	subjects := func(in inbox) string {
		var s []string
		for _, c := range in.Conversations {
			s = append(s, c.Subject)
		}
		return strings.Join(s, ",")
	}
	// Unanswered first, the longest waiting at the top; then by latest message.
	if got := subjects(w.inbox(t, "sam", "")); got != "C,D,A,B,E" {
		t.Fatalf("sam's inbox order = %s, want C,D,A,B,E", got)
	}
	if got := subjects(w.inbox(t, "sam", "?unanswered=true")); got != "C,D" {
		t.Fatalf("sam's unanswered = %s", got)
	}
	if got := subjects(w.inbox(t, "ada", "?unanswered=true")); got != "C,D" {
		t.Fatalf("ada's unanswered = %s", got)
	}
	if got := subjects(w.inbox(t, "c1", "")); got != "A,D" && got != "D,A" {
		t.Fatalf("c1's inbox = %s", got)
	}

	// Hand-computed medians over the last 30 days: sam answered after
	// 30 min, 2 h and 10 min -> median 30 min (the 1 h answer of 40 days
	// ago is outside; with it the median would be 45 min). sue: 45 min.
	type figure struct {
		Staff         messages.Person `json:"staff"`
		MedianSeconds int64           `json:"median_seconds"`
		Answered      int64           `json:"answered"`
	}
	figures := func(who string) map[string]figure {
		res := ta.Do(t, "GET", "/api/v1/messages/response-times", nil, w.as(who))
		if res.Status != 200 {
			t.Fatalf("response times as %s: %d %s", who, res.Status, res.Body)
		}
		var out struct{ Staff []figure }
		res.JSON(t, &out)
		m := map[string]figure{}
		for _, f := range out.Staff {
			m[f.Staff.Name] = f
		}
		return m
	}
	if got := figures("ada"); len(got) != 2 || got["sam"].MedianSeconds != 1800 || got["sam"].Answered != 3 || got["sue"].MedianSeconds != 2700 || got["sue"].Answered != 1 {
		t.Fatalf("admin's figures = %+v", got)
	}
	if got := figures("sam"); len(got) != 1 || got["sam"].MedianSeconds != 1800 {
		t.Fatalf("sam's own figures = %+v", got)
	}
	if res := ta.Do(t, "GET", "/api/v1/messages/response-times?days=60", nil, w.as("sam")); !strings.Contains(res.Body, `"median_seconds":2700`) {
		t.Fatalf("60-day median: %s", res.Body)
	}
	if res := ta.Do(t, "GET", "/api/v1/messages/response-times", nil, w.as("c1")); res.Status != 403 {
		t.Fatalf("customer read response times: %d", res.Status)
	}

	// The staff inbox page shows the same order and figure.
	br := ta.Browser()
	br.SignIn(t, "acme", "sam@acme.example")
	page := br.Get(t, "/messages")
	iC, iD, iA := strings.Index(page.Body, ">C</a>"), strings.Index(page.Body, ">D</a>"), strings.Index(page.Body, ">A</a>")
	if page.Status != 200 || iC < 0 || !(iC < iD && iD < iA) || !strings.Contains(page.Body, `<td class="rt-median">30 min</td>`) ||
		!strings.Contains(page.Body, "Unanswered for 4 h 0 min") {
		t.Fatalf("inbox page: %d %s", page.Status, page.Body)
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []int64
		want float64
	}{{nil, 0}, {[]int64{5}, 5}, {[]int64{7200, 600, 1800}, 1800}, {[]int64{600, 3600, 1800, 7200}, 2700}} {
		if got := messages.Median(c.in); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// multipartBody builds a multipart form with fields and files (name ->
// content, with a declared content type).
type file struct {
	name, ctype string
	data        []byte
}

func multipartBody(t *testing.T, fields map[string]string, files ...file) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="files"; filename="%s"`, f.name))
		h.Set("Content-Type", f.ctype)
		pw, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		pw.Write(f.data)
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

func pngBytes(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{200, 10, 10, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func countFiles(t *testing.T, dir string) int {
	n := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func TestAttachmentLimitsAndLeakage(t *testing.T) {
	w := newWorld(t, portaltest.WithConfig(func(c *config.Config) { c.Messages.AttachmentMaxBytes = 2048 }))
	ta := w.ta
	blobDir := filepath.Join(ta.Config.DataDir, "blobs")
	res := ta.Do(t, "POST", "/api/v1/messages/conversations", map[string]any{"subject": "Photos", "body": "See attached."}, w.as("chiara"))
	var conv messages.Conversation
	res.JSON(t, &conv)
	formURL := fmt.Sprintf("/api/v1/messages/conversations/%d/messages/form", conv.ID)
	post := func(who string, fields map[string]string, files ...file) *portaltest.Response {
		ct, body := multipartBody(t, fields, files...)
		h := map[string]string{"Content-Type": ct}
		if who != "" {
			h["Authorization"] = w.as(who)["Authorization"]
		}
		return ta.Do(t, "POST", formURL, body, h)
	}

	// A PNG and a text file, one declared with a lying type; the stored
	// type is what the bytes are.
	img := pngBytes(t)
	note := []byte("Mileage: 42000 km\n")
	res = post("chiara", map[string]string{"body": "Two files"}, file{"dash.png", "application/octet-stream", img}, file{"../../etc/notes.txt", "image/png", note})
	if res.Status != 201 {
		t.Fatalf("upload: %d %s", res.Status, res.Body)
	}
	th := w.thread(t, "chiara", conv.ID)
	// The text sent with the files is kept, as the HTML form keeps it.
	if got := th.Messages[len(th.Messages)-1].Body; got != "Two files" {
		t.Fatalf("message text sent with attachments stored as %q", got)
	}
	var created messages.Message
	res.JSON(t, &created)
	if created.Body != "Two files" {
		t.Fatalf("the answer carries the text %q", created.Body)
	}
	atts := th.Messages[len(th.Messages)-1].Attachments
	if len(atts) != 2 || atts[0].ContentType != "image/png" || atts[0].Size != int64(len(img)) ||
		!strings.HasPrefix(atts[1].ContentType, "text/plain") || atts[1].Name != "notes.txt" {
		t.Fatalf("attachments = %+v", atts)
	}
	if n := countFiles(t, blobDir); n != 2 {
		t.Fatalf("%d files in the blob store, want 2", n)
	}

	// Downloads: participants only, as attachments, with the stored type.
	url := fmt.Sprintf("/api/v1/messages/attachments/%d", atts[0].ID)
	for _, who := range []string{"chiara", "sam", "ada"} {
		res := ta.Do(t, "GET", url, nil, w.as(who))
		if res.Status != 200 || res.Body != string(img) || res.Header.Get("Content-Type") != "image/png" ||
			res.Header.Get("Content-Disposition") != `attachment; filename=dash.png` || res.Header.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(res.Header.Get("Content-Security-Policy"), "sandbox") {
			t.Fatalf("download as %s: %d %v", who, res.Status, res.Header)
		}
	}
	for _, who := range []string{"carlo", "sue", "oscar", "otto"} {
		if res := ta.Do(t, "GET", url, nil, w.as(who)); res.Status != 404 || strings.Contains(res.Body, "IHDR") {
			t.Errorf("download as %s: %d", who, res.Status)
		}
	}
	if res := ta.Do(t, "GET", url, nil, nil); res.Status != 401 {
		t.Errorf("anonymous download: %d", res.Status)
	}
	// The multipart route refuses outsiders like the others.
	for _, who := range []string{"carlo", "sue", "oscar", "otto"} {
		if res := post(who, map[string]string{"body": "sneaky"}); res.Status != 404 {
			t.Errorf("post with files as %s: %d", who, res.Status)
		}
	}
	if res := post("", map[string]string{"body": "x"}); res.Status != 401 {
		t.Errorf("anonymous post with files: %d", res.Status)
	}

	// Too large: 413 with a clear message; wrong types: 422 naming the file.
	var before int64
	store.AllOrgs(ta.Store.DB).Model(&messages.Message{}).Count(&before)
	res = post("chiara", map[string]string{"body": "big"}, file{"big.txt", "text/plain", bytes.Repeat([]byte("a"), 3000)})
	if res.Status != 413 || !strings.Contains(res.Body, `the file \"big.txt\" is 2.9 KB; each file may be at most 2 KB`) {
		t.Fatalf("too large: %d %s", res.Status, res.Body)
	}
	for _, bad := range []file{
		{"notes.txt", "text/plain", []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>")},
		{"photo.png", "image/png", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>`)},
		{"setup.pdf", "application/pdf", append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), bytes.Repeat([]byte{0}, 200)...)},
	} {
		res := post("chiara", map[string]string{"body": "bad"}, file{"ok.txt", "text/plain", []byte("fine\n")}, bad)
		if res.Status != 422 || !strings.Contains(res.Body, `"location":"files[1]"`) || !strings.Contains(res.Body, bad.name) {
			t.Errorf("%s: %d %s", bad.name, res.Status, res.Body)
		}
	}
	if res := post("chiara", map[string]string{"body": "many"}, file{"1.txt", "text/plain", []byte("1")}, file{"2.txt", "text/plain", []byte("2")},
		file{"3.txt", "text/plain", []byte("3")}, file{"4.txt", "text/plain", []byte("4")}, file{"5.txt", "text/plain", []byte("5")}, file{"6.txt", "text/plain", []byte("6")}); res.Status != 422 {
		t.Errorf("six files: %d", res.Status)
	}
	var after int64
	store.AllOrgs(ta.Store.DB).Model(&messages.Message{}).Count(&after)
	if after != before || countFiles(t, blobDir) != 2 {
		t.Fatalf("refused uploads left %d messages and %d files", after-before, countFiles(t, blobDir)-2)
	}

	// The pages: the same limits with clear messages, downloads only for
	// participants.
	cb := ta.Browser()
	cb.SignIn(t, "acme", "chiara@acme.example")
	page := cb.Get(t, fmt.Sprintf("/messages/%d", conv.ID))
	if !strings.Contains(page.Body, fmt.Sprintf(`href="/messages/attachments/%d"`, atts[0].ID)) {
		t.Fatalf("thread page lacks the attachment link")
	}
	pagePost := func(b *portaltest.Browser, fields map[string]string, files ...file) *portaltest.Response {
		fields["_csrf"] = b.CSRF
		ct, body := multipartBody(t, fields, files...)
		return ta.Do(t, "POST", fmt.Sprintf("/messages/%d", conv.ID), body, map[string]string{"Content-Type": ct, "Accept": "text/html",
			"Cookie": accounts.SessionCookie + "=" + b.Cookie(accounts.SessionCookie)})
	}
	if r := pagePost(cb, map[string]string{"body": "big"}, file{"big.txt", "text/plain", bytes.Repeat([]byte("a"), 3000)}); r.Status != 413 ||
		!strings.Contains(r.Body, "A file is too large: each file may be at most 2 KB.") {
		t.Fatalf("page upload too large: %d %s", r.Status, r.Body)
	}
	if r := pagePost(cb, map[string]string{"body": "html"}, file{"x.txt", "text/plain", []byte("<html><script>alert(1)</script></html>")}); r.Status != 422 ||
		!strings.Contains(r.Body, "which is not allowed") {
		t.Fatalf("page upload of HTML: %d %s", r.Status, r.Body)
	}
	if r := pagePost(cb, map[string]string{"body": "Another photo"}, file{"more.png", "image/png", img}); r.Status != 303 {
		t.Fatalf("page upload: %d %s", r.Status, r.Body)
	}
	d := cb.Get(t, fmt.Sprintf("/messages/attachments/%d", atts[0].ID))
	if d.Status != 200 || d.Body != string(img) || d.Header.Get("Content-Disposition") != "attachment; filename=dash.png" || d.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("page download: %d %v", d.Status, d.Header)
	}
	ob := ta.Browser()
	ob.SignIn(t, "acme", "carlo@acme.example")
	for _, u := range []string{fmt.Sprintf("/messages/attachments/%d", atts[0].ID), fmt.Sprintf("/messages/%d", conv.ID)} {
		if r := ob.Get(t, u); r.Status != 404 || strings.Contains(r.Body, "Photos") {
			t.Fatalf("another customer on %s: %d", u, r.Status)
		}
	}

	// Orphaned blobs (a crash between storing and committing) are swept;
	// attached ones stay.
	if err := ta.Messages.Blobs().Put(context.Background(), fmt.Sprintf("%d/2026/01/%032x", conv.OrgID, 7), bytes.NewReader([]byte("orphan")), 6, "text/plain"); err != nil {
		t.Fatal(err)
	}
	n, err := ta.Messages.SweepOrphans(context.Background(), time.Now().Add(time.Minute))
	if err != nil || n != 1 || countFiles(t, blobDir) != 3 {
		t.Fatalf("sweep removed %d (%v), %d files left, want 1 removed and 3 left", n, err, countFiles(t, blobDir))
	}
}

func TestMessagePages(t *testing.T) {
	w := newWorld(t)
	ta := w.ta
	cb := ta.Browser()
	cb.SignIn(t, "acme", "chiara@acme.example")
	p := cb.Get(t, "/messages/new")
	if p.Status != 200 || !strings.Contains(p.Body, "sam (advisor)") || !strings.Contains(p.Body, `<option value="garage"`) {
		t.Fatalf("new conversation page: %d %s", p.Status, p.Body)
	}
	newPost := func(b *portaltest.Browser, path string, fields map[string]string) *portaltest.Response {
		fields["_csrf"] = b.CSRF
		ct, body := multipartBody(t, fields)
		return ta.Do(t, "POST", path, body, map[string]string{"Content-Type": ct, "Accept": "text/html", "Cookie": accounts.SessionCookie + "=" + b.Cookie(accounts.SessionCookie)})
	}
	if r := newPost(cb, "/messages/new", map[string]string{"person": fmt.Sprint(w.id["sam"]), "subject": "", "body": ""}); r.Status != 422 ||
		!strings.Contains(r.Body, `id="e-subject"`) || !strings.Contains(r.Body, `id="e-body"`) {
		t.Fatalf("empty form: %d %s", r.Status, r.Body)
	}
	r := newPost(cb, "/messages/new", map[string]string{"person": fmt.Sprint(w.id["sam"]), "module": "garage", "subject": "Windscreen chip", "body": "A stone hit it.\nIt is small."})
	if r.Status != 303 {
		t.Fatalf("start from the page: %d %s", r.Status, r.Body)
	}
	loc := r.Header.Get("Location")
	threadURL := strings.Split(loc, "?")[0]
	if p := cb.Get(t, loc); !strings.Contains(p.Body, "A stone hit it.<br>It is small.") || !strings.Contains(p.Body, ">Sent</p>") {
		t.Fatalf("thread page: %s", p.Body)
	}
	// Staff see it unanswered; opening it is reading it.
	sb := ta.Browser()
	sb.SignIn(t, "acme", "sam@acme.example")
	if p := sb.Get(t, "/messages"); !strings.Contains(p.Body, "Windscreen chip") || !strings.Contains(p.Body, "1 new") || !strings.Contains(p.Body, "Unanswered for") {
		t.Fatalf("staff inbox: %s", p.Body)
	}
	sb.Get(t, threadURL)
	if p := cb.Get(t, threadURL); !strings.Contains(p.Body, "Read by sam") {
		t.Fatalf("no read receipt for the customer: %s", p.Body)
	}
	if r := newPost(sb, threadURL, map[string]string{"body": "Come by tomorrow, we fix chips in 20 minutes."}); r.Status != 303 {
		t.Fatalf("staff reply: %d %s", r.Status, r.Body)
	}
	if p := cb.Get(t, "/messages"); !strings.Contains(p.Body, "1 new") || !strings.Contains(p.Body, "Answered") {
		t.Fatalf("customer inbox after the answer: %s", p.Body)
	}
	// Italian.
	it := "it"
	if _, err := ta.Accounts.UpdateProfile(context.Background(), w.p(t, "chiara"), accounts.Profile{Locale: &it}); err != nil {
		t.Fatal(err)
	}
	if p := cb.Get(t, threadURL); !strings.Contains(p.Body, "Rispondi") || !strings.Contains(p.Body, "Allega file") {
		t.Fatalf("Italian thread page: %s", p.Body)
	}
	// Others cannot open it.
	ob := ta.Browser()
	ob.SignIn(t, "acme", "sue@acme.example")
	if p := ob.Get(t, threadURL); p.Status != 404 {
		t.Fatalf("unassigned staff opened the thread: %d", p.Status)
	}
	if r := newPost(ob, threadURL, map[string]string{"body": "hi"}); r.Status != 404 {
		t.Fatalf("unassigned staff replied: %d", r.Status)
	}
	if p := ta.Browser().Get(t, threadURL); p.Status != 303 {
		t.Fatalf("anonymous: %d", p.Status)
	}
}

func TestDemoConversation(t *testing.T) {
	ta := portaltest.New(t, nil)
	ta.Demo(t)
	ta.Demo(t)
	var convs []messages.Conversation
	store.AllOrgs(ta.Store.DB).Find(&convs)
	if len(convs) != 1 || convs[0].AwaitingStaff || convs[0].MessageCount != 2 {
		t.Fatalf("demo conversations = %+v", convs)
	}
	tok := ta.Login(t, "demo", "staff@demo.example")
	res := ta.Do(t, "GET", "/api/v1/messages/response-times", nil, portaltest.Bearer(tok))
	if !strings.Contains(res.Body, `"median_seconds":5700`) {
		t.Fatalf("demo response time: %s", res.Body)
	}
	res = ta.Do(t, "GET", "/api/v1/help/articles", nil, portaltest.Bearer(ta.Login(t, "demo", "customer@demo.example")))
	if !strings.Contains(res.Body, "How to reset your password") || !strings.Contains(res.Body, "Managing your sessions") {
		t.Fatalf("demo help centre: %s", res.Body)
	}
}
