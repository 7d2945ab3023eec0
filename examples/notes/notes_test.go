package notes_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/core/store"

	"example.com/portal-examples/notes"
)

// TestNotes walks the module as its customer does: a note saved through
// the page, refused when blank, read back through the API by its owner
// only, announced in the owner's inbox, and counted on the dashboard.
func TestNotes(t *testing.T) {
	ta := portaltest.New(t, []module.Module{notes.New()}) // a fresh database per test
	ta.Org(t, "acme")
	ada := ta.User(t, "acme", "ada@acme.example", accounts.Customer)
	ta.User(t, "acme", "bea@acme.example", accounts.Customer)

	b := ta.Browser()
	b.SignIn(t, "acme", "ada@acme.example")
	b.Get(t, "/m/notes/")
	if res := b.Post(t, "/m/notes/", url.Values{"title": {"Call the garage"}}); res.Status != http.StatusSeeOther {
		t.Fatalf("saving a note: %d %s", res.Status, res.Body)
	}
	if res := b.Get(t, "/m/notes/"); !strings.Contains(res.Body, "Call the garage") {
		t.Fatalf("the page does not list the saved note:\n%s", res.Body)
	}
	if res := b.Post(t, "/m/notes/", url.Values{"title": {"   "}}); res.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(res.Body, "Enter a note of 1 to 100 characters") {
		t.Fatalf("a blank note: %d, want 422 naming the problem", res.Status)
	}

	var n notes.Note
	if err := store.Org(ta.Store.DB, ada.OrgID).Where("owner_id = ?", ada.ID).First(&n).Error; err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/api/v1/notes/notes/%d", n.ID)
	if res := ta.Do(t, "GET", path, nil, ta.As(t, "acme", "ada@acme.example", accounts.Customer)); res.Status != 200 || !strings.Contains(res.Body, `"title":"Call the garage"`) {
		t.Fatalf("the owner reads the note: %d %s", res.Status, res.Body)
	}
	if res := ta.Do(t, "GET", path, nil, ta.As(t, "acme", "bea@acme.example", accounts.Customer)); res.Status != 404 {
		t.Fatalf("another customer reads the note: %d, want 404", res.Status)
	}
	inbox := ta.Do(t, "GET", "/api/v1/notifications", nil, ta.As(t, "acme", "ada@acme.example", accounts.Customer))
	if !strings.Contains(inbox.Body, "Call the garage") {
		t.Fatalf("the inbox lacks the saved note's notification: %s", inbox.Body)
	}
	dash := ta.Do(t, "GET", "/api/v1/dashboard", nil, ta.As(t, "acme", "ada@acme.example", accounts.Customer))
	if !strings.Contains(dash.Body, `"value":1`) {
		t.Fatalf("the dashboard widget does not count the note: %s", dash.Body)
	}
}

// TestNotesAuthorization holds the API operation to the access rules on
// a fresh object per caller (portaltest.AuthorizationMatrix).
func TestNotesAuthorization(t *testing.T) {
	portaltest.AuthorizationMatrix(t, portaltest.New(t, []module.Module{notes.New()}))
}

// TestNotesInItalian: the page, its error and the notification follow the
// reader's language.
func TestNotesInItalian(t *testing.T) {
	ta := portaltest.New(t, []module.Module{notes.New()})
	ta.Org(t, "acme")
	u := ta.User(t, "acme", "ada@acme.example", accounts.Customer)
	if err := store.Org(ta.Store.DB, u.OrgID).Model(&accounts.User{}).Where("id = ?", u.ID).Update("locale", "it").Error; err != nil {
		t.Fatal(err)
	}
	b := ta.Browser()
	b.SignIn(t, "acme", "ada@acme.example")
	if res := b.Get(t, "/m/notes/"); !strings.Contains(res.Body, "Non hai ancora note.") || !strings.Contains(res.Body, "Salva la nota") {
		t.Fatalf("the Italian page is not in Italian:\n%s", res.Body)
	}
	if res := b.Post(t, "/m/notes/", url.Values{"title": {strings.Repeat("x", 101)}}); !strings.Contains(res.Body, "Scrivi una nota da 1 a 100 caratteri") {
		t.Fatalf("the Italian error is not in Italian:\n%s", res.Body)
	}
	b.Post(t, "/m/notes/", url.Values{"title": {"Chiamare l'officina"}})
	inbox := ta.Do(t, "GET", "/api/v1/notifications", nil, ta.As(t, "acme", "ada@acme.example", accounts.Customer))
	if !strings.Contains(inbox.Body, "Nota salvata") {
		t.Fatalf("the notification is not in Italian: %s", inbox.Body)
	}
}

// TestWeeklyReminder runs the job's slot as an admin would from the jobs
// page: each person with notes is reminded once, with their own count,
// across organisations; running the same slot again sends nothing twice.
func TestWeeklyReminder(t *testing.T) {
	ta := portaltest.New(t, []module.Module{notes.New()})
	ctx := context.Background()
	people := map[string]int{"ada@acme.example": 2, "bea@acme.example": 1, "cy@acme.example": 0}
	for _, org := range []string{"acme", "zeta"} {
		ta.Org(t, org)
		for email, count := range people {
			u := ta.User(t, org, strings.Replace(email, "acme", org, 1), accounts.Customer)
			for i := range count {
				if err := store.Org(ta.Store.DB, u.OrgID).Create(&notes.Note{OwnerID: u.ID, Title: fmt.Sprint("note ", i)}).Error; err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	slot := time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC) // Monday 08:00 in Rome
	for range 2 {
		if rec, err := ta.Schedule.RunNow(ctx, "notes.weekly", schedule.Request{Slot: slot}, nil); err != nil && !portaltest.IsKind(err, errs.Conflict) {
			t.Fatalf("running the slot: %v (%+v)", err, rec)
		}
	}
	for _, org := range []string{"acme", "zeta"} {
		for email, count := range people {
			email = strings.Replace(email, "acme", org, 1)
			inbox := ta.Do(t, "GET", "/api/v1/notifications", nil, ta.As(t, org, email, accounts.Customer)).Body
			got := strings.Count(inbox, `"kind":"notes.weekly"`)
			if want := min(count, 1); got != want {
				t.Errorf("%s got %d reminders, want %d: %s", email, got, want, inbox)
			}
			if count > 0 && !strings.Contains(inbox, fmt.Sprintf("you keep %d notes", count)) {
				t.Errorf("%s's reminder does not give their own count: %s", email, inbox)
			}
		}
	}
}
