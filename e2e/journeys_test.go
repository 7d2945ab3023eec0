package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestCustomerArrangesTheDashboard: the dashboard after sign-in has
// charts; the customer moves a widget up, and the order is kept on the
// server, so another device (a second browser context) shows it too.
func TestCustomerArrangesTheDashboard(t *testing.T) {
	env := Start(t)
	laptop := env.Tab(t, "laptop")
	laptop.SignIn("demo", "customer@demo.example")
	laptop.Expect("Your dashboard")
	order := func(tb *Tab) []string {
		titles, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".dashboard .widget h2")).map(h => h.textContent.trim())`))
		if err != nil || len(titles) < 3 {
			t.Fatalf("%s: dashboard widgets %v (%v)", tb.name, titles, err)
		}
		return titles
	}
	charts, err := chromedp.Run(laptop.ctx, chromedp.Evaluate[int](`document.querySelectorAll(".dashboard svg[role=img]").length`))
	if err != nil || charts == 0 {
		t.Fatalf("the dashboard shows no chart (%v)", err)
	}
	before := order(laptop)
	second := before[1]
	// Open the second widget's "Arrange" menu and move it up.
	laptop.Do(chromedp.Click(".dashboard .widget:nth-of-type(2) details.widget-menu summary"))
	laptop.Click(".dashboard .widget:nth-of-type(2) details.widget-menu button[value=up]")
	after := order(laptop)
	if after[0] != second {
		laptop.Shot("not-moved")
		t.Fatalf("moving %q up gave %v (was %v)", second, after, before)
	}
	laptop.Shot("widget-moved")

	phone := env.Tab(t, "phone")
	phone.SignIn("demo", "customer@demo.example")
	if got := order(phone); got[0] != second {
		t.Fatalf("the other device shows %v, want %q first", got, second)
	}
	phone.Click("form.dashboard-reset button")
	if got := order(phone); got[0] != before[0] {
		t.Fatalf("after reset: %v, want %q first", got, before[0])
	}
}

// TestCustomerFindsAnAnswerInTheHelpCentre searches the help centre and
// opens the article found.
func TestCustomerFindsAnAnswerInTheHelpCentre(t *testing.T) {
	env := Start(t)
	tab := env.Tab(t, "customer")
	tab.SignIn("demo", "customer@demo.example")
	tab.Go("/help")
	tab.Fill(map[string]string{"#help-q": "recall"})
	tab.Click("form.help-search button[type=submit]")
	tab.Expect("Recalls")
	tab.Shot("search-results")
	tab.Click("main a[href='/help/a/recalls']")
	tab.Expect("free repair", "remedied")
	if loc := tab.Location(); !strings.HasPrefix(loc, "/help/a/recalls") {
		t.Fatalf("the article opened at %s", loc)
	}
	tab.Shot("article")
}

// TestMessageAnsweredByStaff: the customer writes to their advisor; the
// advisor finds it waiting in the inbox and answers; the customer reads the
// answer in the conversation.
func TestMessageAnsweredByStaff(t *testing.T) {
	env := Start(t)
	cust := env.Tab(t, "customer")
	cust.SignIn("demo", "customer@demo.example")
	cust.Go("/messages/new")
	cust.Fill(map[string]string{"#f-subject": "Noise from the brakes", "#f-body": "Since Monday the front brakes squeal. Should I book a service?"})
	cust.Click("form[action='/messages/new'] button[type=submit]")
	cust.Expect("Noise from the brakes", "Since Monday the front brakes squeal.")
	conversation, _, _ := strings.Cut(cust.Location(), "?")
	cust.Shot("sent")

	staff := env.Tab(t, "staff")
	staff.SignIn("demo", "staff@demo.example")
	staff.Go("/messages?filter=unanswered")
	staff.Expect("Noise from the brakes")
	href, err := chromedp.Run(staff.ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("main table.inbox a")).find(a => a.textContent.includes("Noise from the brakes")).getAttribute("href")`))
	if err != nil || href != conversation {
		t.Fatalf("the inbox links %q for the conversation at %s (%v)", href, conversation, err)
	}
	staff.Click("main table.inbox a[href='" + href + "']")
	staff.Expect("Since Monday the front brakes squeal.")
	staff.Fill(map[string]string{"#f-body": "Please book a service this week; we will check the pads."})
	staff.Click("main form[action^='/messages/'] button[type=submit]")
	staff.Expect("we will check the pads")
	staff.Shot("answered")

	cust.Go(conversation)
	cust.Expect("Please book a service this week; we will check the pads.")
	cust.Shot("answer-read")
}
