package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/portalkit/portalkit/core/experience/feedback"
	"github.com/portalkit/portalkit/core/store"
)

// waitAttr waits until the element matching sel has attribute name = want.
func (tb *Tab) waitAttr(sel, name, want string) {
	tb.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		js := fmt.Sprintf(`(function(){var e=document.querySelector(%q);return (e&&e.getAttribute(%q))||""})()`, sel, name)
		v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](js))
		if err == nil && v == want {
			return
		}
		if time.Now().After(deadline) {
			tb.Shot("wait-" + name)
			tb.t.Fatalf("%s: %s never had %s=%q (got %q)", tb.name, sel, name, want, v)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestCustomerGivesFeedbackAndResumesTheCommentOnAnotherDevice: the demo
// customer answers the survey on the dashboard, starts the comment on the
// laptop and finishes it on the phone.
func TestCustomerGivesFeedbackAndResumesTheCommentOnAnotherDevice(t *testing.T) {
	env := Start(t)
	laptop := env.Tab(t, "laptop")
	laptop.SignIn("demo", "customer@demo.example")
	laptop.Go("/")
	laptop.Expect("How satisfied are you with your portal?")
	laptop.Shot("survey-on-dashboard")
	laptop.Click("#feedback-prompt button[name=score][value='5']")
	if loc := laptop.Location(); !strings.Contains(loc, "/comment") {
		t.Fatalf("after the score the laptop is at %s, want the comment step", loc)
	}
	commentPage := laptop.Location()
	laptop.Expect("Your answer is saved.")
	laptop.waitAttr("form.feedback-comment", "data-draft-state", "none")
	laptop.Do(chromedp.SendKeys("#feedback-comment", "The booking page was very clear"))
	laptop.waitAttr("form.feedback-comment", "data-draft-state", "saved")
	laptop.Shot("draft-saved")

	phone := env.Tab(t, "phone")
	phone.SignIn("demo", "customer@demo.example")
	phone.Go(commentPage)
	phone.waitAttr("form.feedback-comment", "data-draft-state", "offered")
	phone.Expect("Continue where you left off")
	phone.Shot("draft-offered")
	phone.Do(chromedp.Click(".draft-continue"))
	phone.waitAttr("form.feedback-comment", "data-draft-state", "resumed")
	v, err := chromedp.Run(phone.ctx, chromedp.Value("#feedback-comment"))
	if err != nil || v != "The booking page was very clear" {
		t.Fatalf("the phone resumed %q (%v)", v, err)
	}
	phone.Do(chromedp.SendKeys("#feedback-comment", ", thanks!"))
	phone.Click("form.feedback-comment button[type=submit]")
	if loc := phone.Location(); loc != "/" {
		t.Fatalf("after the comment the phone is at %s", loc)
	}
	if body := phone.Text("main"); strings.Contains(body, "How satisfied are you with your portal?") {
		t.Fatal("the answered survey is still shown")
	}
	var p feedback.Prompt
	orgID := env.App.Org(t, "demo").ID
	if err := store.Org(env.App.Store.DB, orgID).Where("step_id = ?", feedback.CoreStep.ID).Take(&p).Error; err != nil {
		t.Fatal(err)
	}
	if p.Score == nil || *p.Score != 5 || p.Comment != "The booking page was very clear, thanks!" {
		t.Fatalf("stored answer: score %v, comment %q", p.Score, p.Comment)
	}
	// The draft is gone: the laptop's comment page no longer offers it.
	laptop.Go(commentPage)
	laptop.waitAttr("form.feedback-comment", "data-draft-saved", "0")
}

// TestStaffSeesTheTimelineAndTheFeedbackAnalytics: the demo staff member
// opens their customer's timeline and the analytics page with its chart.
func TestStaffSeesTheTimelineAndTheFeedbackAnalytics(t *testing.T) {
	env := Start(t)
	ctx := context.Background()
	tok := env.App.Login(t, "demo", "customer@demo.example")
	cust := env.App.Principal(t, tok)
	pr, err := env.App.Feedback.Pending(ctx, cust.OrgID, cust.UserID)
	if err != nil || pr == nil {
		t.Fatalf("the demo survey is not pending: %v", err)
	}
	if _, err := env.App.Feedback.Answer(ctx, cust, pr.ID, 4); err != nil {
		t.Fatal(err)
	}

	staff := env.Tab(t, "staff")
	staff.SignIn("demo", "staff@demo.example")
	staff.Go("/staff/customers")
	staff.Expect("customer@demo.example")
	staff.Click("table.customers a")
	staff.Expect("Signed in from", "Rated their satisfaction 4 of 5")
	staff.Shot("timeline")
	staff.Go("/staff/feedback")
	staff.Expect("CSAT", "100%", "Responses per week")
	n, err := chromedp.Run(staff.ctx, chromedp.Evaluate[int](`document.querySelectorAll("main section.card svg").length`))
	if err != nil || n < 2 { // responses per week; CSAT % per week
		staff.Shot("no-chart")
		t.Fatalf("the analytics page shows %d charts (%v), want 2", n, err)
	}
	staff.Shot("analytics")
}
