package bookshop_test

import (
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
)

func expectPage(t *testing.T, name string, r *portaltest.Response, status int, texts ...string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d: %.400s", name, r.Status, status, r.Body)
	}
	for _, s := range texts {
		if !strings.Contains(r.Body, s) {
			t.Errorf("%s: %q not on the page", name, s)
		}
	}
}

var rawValue = regexp.MustCompile(`>[^<]*\b(in_store|same_author|same_genre|bought_together|reserved|bookshop\.\w+)\b[^<]*<`)

// watch records untranslated texts and values no label set knows.
type watch struct {
	mu   sync.Mutex
	keys []string
}

func watchTranslations(ta *portaltest.TestApp) *watch {
	w := &watch{}
	ta.Web.Catalog().OnMissing(func(_, key string) {
		w.mu.Lock()
		w.keys = append(w.keys, "untranslated: "+key)
		w.mu.Unlock()
	})
	ta.Web.OnMissingLabel(func(kind, value string) {
		w.mu.Lock()
		w.keys = append(w.keys, "no label: "+kind+"/"+value)
		w.mu.Unlock()
	})
	return w
}

func (w *watch) check(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	sort.Strings(w.keys)
	for _, k := range w.keys {
		t.Errorf("a page showed %s", k)
	}
}

// TestDemoPagesInEnglishAndItalian: the demo (run twice: idempotent)
// shows every customer page and the till's page, in English and then in
// Italian with nothing left untranslated and no internal value on screen;
// the review form refuses bad input on the same page; marking ready from
// the till page notifies the customer.
func TestDemoPagesInEnglishAndItalian(t *testing.T) {
	ta, _ := newApp(t)
	ta.Demo(t)
	ta.Demo(t)
	var books int64
	store.AllOrgs(ta.Store.DB).Table("bookshop_books").Count(&books)
	if books != 15 {
		t.Fatalf("%d books after the demo ran twice, want 15", books)
	}
	w := watchTranslations(ta)
	b := ta.Browser()
	b.SignIn(t, "demo", "customer@demo.example")
	expectPage(t, "catalogue", b.Get(t, "/m/bookshop/"), 200, "The Name of the Rose", "Umberto Eco", "Crime", "table-stack")
	expectPage(t, "crime only", b.Get(t, "/m/bookshop/?genre=fantasy"), 200, "The Hobbit")
	var rose string
	if m := regexp.MustCompile(`href="/m/bookshop/books/(\d+)">The Name of the Rose`).FindStringSubmatch(b.Last.Body); m != nil {
		rose = m[1]
	}
	b.Get(t, "/m/bookshop/")
	if m := regexp.MustCompile(`href="/m/bookshop/books/(\d+)">The Name of the Rose`).FindStringSubmatch(b.Last.Body); m != nil {
		rose = m[1]
	}
	if rose == "" {
		t.Fatal("no link to The Name of the Rose")
	}
	expectPage(t, "book", b.Get(t, "/m/bookshop/books/"+rose), 200, "A medieval mystery I could not put down.", "Your review", "Milano Duomo", "4.5 / 5")
	expectPage(t, "bad review", b.Post(t, "/m/bookshop/books/"+rose+"/review", url.Values{"stars": {"9"}, "text": {"x"}}), 422, "There is a problem", "Give from 1 to 5 stars.")
	r := b.Post(t, "/m/bookshop/books/"+rose+"/review", url.Values{"stars": {"4"}, "text": {"Better the second time."}})
	if r.Status != 303 {
		t.Fatalf("review: %d", r.Status)
	}
	expectPage(t, "book after review", b.Get(t, "/m/bookshop/books/"+rose+"?msg=review"), 200, "Better the second time.", "Thank you: your review is saved.")
	expectPage(t, "orders", b.Get(t, "/m/bookshop/orders"), 200, "Recommended for you", "The Snack Thief", "More by an author you bought", "Order history", "The Hobbit")
	expectPage(t, "groups", b.Get(t, "/m/bookshop/groups"), 200, "Crime fiction club", "Read the conversation", "Join the group")
	expectPage(t, "events", b.Get(t, "/m/bookshop/events"), 200, "Meet the author", "Give my place back", "Sign up", "In the shop")
	expectPage(t, "reservations", b.Get(t, "/m/bookshop/reservations"), 200, "The Snack Thief", "Ready to collect", "Milano Duomo")
	expectPage(t, "dashboard", b.Get(t, "/"), 200, "Your bookshop", "1 book is ready to collect:", "The Snack Thief")
	if b.Get(t, "/m/bookshop/books/99999").Status != 404 || b.Get(t, "/m/bookshop/books/abc").Status != 404 {
		t.Errorf("an unknown book is not a 404 page")
	}
	if b.Get(t, "/m/bookshop/shop").Status != 403 {
		t.Errorf("a customer opens the till's page")
	}
	// The till: reserve at Milano as the demo customer, prepare it as staff.
	if m := regexp.MustCompile(`name="shop" value="(\d+)"`).FindStringSubmatch(b.Get(t, "/m/bookshop/books/"+rose).Body); m == nil {
		t.Fatal("no shop to reserve at")
	} else if r := b.Post(t, "/m/bookshop/books/"+rose+"/reserve", url.Values{"shop": {m[1]}}); r.Status != 303 {
		t.Fatalf("reserve: %d", r.Status)
	}
	expectPage(t, "no shop chosen", b.Post(t, "/m/bookshop/books/"+rose+"/reserve", url.Values{}), 422, "Choose the shop where you will collect the book.")
	s := ta.Browser()
	s.SignIn(t, "demo", "staff@demo.example")
	till := s.Get(t, "/m/bookshop/shop")
	expectPage(t, "till", till, 200, "Milano Duomo", "The Name of the Rose", "Being prepared")
	m := regexp.MustCompile(`action="(/m/bookshop/shop/reservations/\d+/ready)"`).FindStringSubmatch(till.Body)
	if m == nil {
		t.Fatal("no ready button on the till page")
	}
	if r := s.Post(t, m[1], nil); r.Status != 303 {
		t.Fatalf("ready: %d", r.Status)
	}
	expectPage(t, "dashboard after ready", b.Get(t, "/"), 200, "2 books are ready to collect:")
	for name, page := range map[string]string{"catalogue": "/m/bookshop/", "book": "/m/bookshop/books/" + rose, "orders": "/m/bookshop/orders",
		"groups": "/m/bookshop/groups", "events": "/m/bookshop/events", "reservations": "/m/bookshop/reservations", "till": "/m/bookshop/shop"} {
		br := b
		if name == "till" {
			br = s
		}
		if raw := rawValue.FindString(br.Get(t, page).Body); raw != "" {
			t.Errorf("%s shows an internal value: %s", name, raw)
		}
	}
	w.check(t)

	// Italian.
	store.AllOrgs(ta.Store.DB).Model(&accounts.User{}).Where("email LIKE ?", "%@demo.example").Update("locale", "it")
	it := ta.Browser()
	it.SignIn(t, "demo", "customer@demo.example")
	expectPage(t, "catalogue it", it.Get(t, "/m/bookshop/"), 200, "Libri", "Genere", "Gialli", "Tutti i generi")
	expectPage(t, "book it", it.Get(t, "/m/bookshop/books/"+rose), 200, "Recensioni", "La tua recensione", "Quante stelle?", "Prenota e ritira in negozio")
	expectPage(t, "orders it", it.Get(t, "/m/bookshop/orders"), 200, "Consigliati per te", "Altro di un autore che hai comprato", "Storico degli ordini")
	expectPage(t, "groups it", it.Get(t, "/m/bookshop/groups"), 200, "Gruppi di lettura", "Leggi la conversazione", "2 membri")
	expectPage(t, "events it", it.Get(t, "/m/bookshop/events"), 200, "Eventi in libreria", "Lascia il mio posto", "In negozio", "Online")
	expectPage(t, "reservations it", it.Get(t, "/m/bookshop/reservations"), 200, "Le mie prenotazioni", "Pronto per il ritiro")
	expectPage(t, "dashboard it", it.Get(t, "/"), 200, "La tua libreria", "2 libri sono pronti per il ritiro:")
	expectPage(t, "help it", it.Get(t, "/m/bookshop/reservations"), 200, "Prenotare, recensire e leggere insieme")
	its := ta.Browser()
	its.SignIn(t, "demo", "staff@demo.example")
	expectPage(t, "till it", its.Get(t, "/m/bookshop/shop"), 200, "Prenotazioni del negozio", "Prenotazioni da preparare", "Pronto per il ritiro", "Ritirato")
	w.check(t)
}

// TestGroupAndEventPages: joining a group from its card opens its
// conversation; a blank post comes back with the field marked; a
// non-member gets the 404 page; a full event offers no sign-up.
func TestGroupAndEventPages(t *testing.T) {
	ta, _ := newApp(t)
	ta.Demo(t)
	w := watchTranslations(ta)
	b := ta.Browser()
	b.SignIn(t, "demo", "customer2@demo.example")
	groups := b.Get(t, "/m/bookshop/groups")
	m := regexp.MustCompile(`action="/m/bookshop/groups/(\d+)/join"`).FindStringSubmatch(groups.Body)
	if m == nil {
		t.Fatal("no group to join")
	}
	if b.Get(t, "/m/bookshop/groups/"+m[1]).Status != 404 {
		t.Errorf("a non-member opens the group's conversation")
	}
	if r := b.Post(t, "/m/bookshop/groups/"+m[1]+"/join", nil); r.Status != 303 {
		t.Fatalf("join: %d", r.Status)
	}
	expectPage(t, "group", b.Get(t, "/m/bookshop/groups/"+m[1]+"?msg=joined"), 200, "You joined the group.", "Write in the group")
	expectPage(t, "blank post", b.Post(t, "/m/bookshop/groups/"+m[1]+"/posts", url.Values{"text": {"  "}}), 422, "Write something to post.", `aria-invalid="true"`)
	if r := b.Post(t, "/m/bookshop/groups/"+m[1]+"/posts", url.Values{"text": {"Here be dragons."}}); r.Status != 303 {
		t.Fatalf("post: %d", r.Status)
	}
	expectPage(t, "group after post", b.Get(t, "/m/bookshop/groups/"+m[1]), 200, "Here be dragons.", "Carlo Customer")
	// The story hour has two places: carlo and a third customer take them.
	events := b.Get(t, "/m/bookshop/events")
	ev := regexp.MustCompile(`Children&#39;s story hour[\s\S]*?action="(/m/bookshop/events/\d+/signup)"`).FindStringSubmatch(events.Body)
	if ev == nil {
		t.Fatalf("no sign-up for the story hour: %s", events.Body)
	}
	b.Post(t, ev[1], nil)
	ta.User(t, "demo", "dora@demo.example", accounts.Customer)
	d := ta.Browser()
	d.SignIn(t, "demo", "dora@demo.example")
	d.Get(t, "/m/bookshop/events")
	if r := d.Post(t, ev[1], nil); r.Status != 303 {
		t.Fatalf("dora signs up: %d", r.Status)
	}
	ta.User(t, "demo", "enzo@demo.example", accounts.Customer)
	e := ta.Browser()
	e.SignIn(t, "demo", "enzo@demo.example")
	e.Get(t, "/m/bookshop/events")
	if r := e.Post(t, ev[1], nil); r.Status != 303 || !strings.Contains(r.Header.Get("Location"), "msg=full") {
		t.Fatalf("a full event: %d %s", r.Status, r.Header.Get("Location"))
	}
	expectPage(t, "full", e.Get(t, "/m/bookshop/events?msg=full"), 200, "Sorry, the event is full.", "Full")
	w.check(t)
}
