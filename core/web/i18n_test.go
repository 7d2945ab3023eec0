package web

import (
	"errors"
	"net/http"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/i18n"
)

// TestErrorPageTextsHaveItalianTranslations checks the texts the error page
// builds in Go (its title and friendly message) for every status a page
// can end in, against core/web's own catalog.
func TestErrorPageTextsHaveItalianTranslations(t *testing.T) {
	c := i18n.NewCatalog()
	if err := c.Load(coreTranslations()); err != nil {
		t.Fatal(err)
	}
	var problems []*Problem
	for k := errs.Internal; k <= errs.TooLarge; k++ {
		problems = append(problems, ProblemFor(&errs.Error{Kind: k, Message: "detail"}, "r1"))
	}
	for _, code := range []int{400, 404, 405, 408, 413, 415, 502, 503, 504} {
		problems = append(problems, ProblemFor(fiber.NewError(code), "r1"))
	}
	problems = append(problems, ProblemFor(errors.New("boom"), "r1"),
		ProblemFor(errs.InvalidField("role", "must be customer, staff or admin"), "r1"))
	for _, p := range problems {
		if !c.Has("it", p.Title) {
			t.Errorf("status %d: no Italian for the title %q", p.Status, p.Title)
		}
		if msg := friendlyMessage(p); msg != p.Detail && !c.Has("it", msg) {
			t.Errorf("status %d: no Italian for the message %q", p.Status, msg)
		}
	}
	// A 422 lists its field messages, which the page translates.
	p := ProblemFor(errs.InvalidField("role", "must be customer, staff or admin"), "r1")
	if got := fieldMessages(p); len(got) != 1 || got[0] != "must be customer, staff or admin" {
		t.Errorf("field messages of a 422: %q", got)
	}
	if http.StatusText(p.Status) != p.Title {
		t.Errorf("title %q", p.Title)
	}
}
