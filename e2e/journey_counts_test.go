package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/portalkit/portalkit/core/portaltest"
)

// journey counts what a person does to reach a goal, from the dashboard
// they land on after signing in: each click, each field typed and each
// choice is one action. Issue 13 set the limits; docs/experience.md
// ("Journeys and their action counts") records the counts and the steps.
type journey struct {
	tab   *Tab
	steps []string
}

// click clicks a link or a button that loads the next page.
func (j *journey) click(sel, what string) {
	j.tab.t.Helper()
	j.steps = append(j.steps, "click "+what)
	j.tab.Click(sel)
}

// tick clicks a radio or a checkbox (the page stays).
func (j *journey) tick(sel, what string) {
	j.tab.t.Helper()
	j.steps = append(j.steps, "tick "+what)
	j.tab.Do(chromedp.Click(chromedp.CSS(sel)))
}

// typeIn types into a text field.
func (j *journey) typeIn(sel, value, what string) {
	j.tab.t.Helper()
	j.steps = append(j.steps, "type "+what)
	j.tab.Do(chromedp.SendKeys(sel, value))
}

// choose picks a value of a select or a date field.
func (j *journey) choose(sel, value, what string) {
	j.tab.t.Helper()
	j.steps = append(j.steps, "choose "+what)
	j.tab.Do(chromedp.SetValue(sel, value))
}

// within fails the test when the journey took more than limit actions, and
// logs the count and the steps either way.
func (j *journey) within(t *testing.T, name string, limit int) {
	t.Helper()
	t.Logf("%s: %d actions (limit %d): %s", name, len(j.steps), limit, strings.Join(j.steps, " → "))
	if len(j.steps) > limit {
		t.Errorf("%s took %d actions, more than %d: %s", name, len(j.steps), limit, strings.Join(j.steps, " → "))
	}
}

// TestJourneysInFewActions walks the customer journeys issue 13 bounds, as
// the demo customer on a laptop: book a service (≤ 4: the day and the time
// are two choices, the workshop is named in each time and in the
// confirmation), find a recall (≤ 1: it is on the dashboard; one click
// opens its details) and mute one notification (≤ 4).
func TestJourneysInFewActions(t *testing.T) {
	env := Start(t)

	t.Run("book a service", func(t *testing.T) {
		tab := env.Tab(t, "booking")
		tab.SignIn("demo", "customer@demo.example")
		j := &journey{tab: tab}
		j.click("#w-automotive-status a[href$='/book']", "Book a service (dashboard)")
		tab.Expect("1. Choose a day", "2. Choose a time on")
		j.click(".pick-list li:nth-child(2) a", "the second day")
		where := tab.Text("#times .radio .hint")
		j.tick("#times input[name=slot_id]", "the first time, "+where)
		tab.Shot("time-chosen")
		j.click("#times button[type=submit]", "Book")
		tab.Expect("Your service is booked.", "at "+strings.SplitN(where, ",", 2)[0]+".")
		tab.Shot("booked")
		j.within(t, "book a service", 4)
		tab.Go("/")
		tab.Expect("Booked for")
	})

	t.Run("find a recall", func(t *testing.T) {
		tab := env.Tab(t, "recall")
		tab.SignIn("demo", "customer@demo.example")
		j := &journey{tab: tab}
		tab.Expect("Open recalls", "VW-23R7")
		j.click("#w-automotive-recalls a[href^='/m/automotive/vehicles/']", "the recall on the dashboard")
		tab.Expect("Recall VW-23R7", "Remedy")
		j.within(t, "find a recall", 1)
	})

	t.Run("mute one notification", func(t *testing.T) {
		tab := env.Tab(t, "mute")
		tab.SignIn("demo", "customer@demo.example")
		j := &journey{tab: tab}
		badge, err := chromedp.Run(tab.ctx, chromedp.Evaluate[bool](`!!document.querySelector(".account a.unread:not([hidden])")`))
		if err == nil && badge {
			j.click(".account a.unread", "the unread count")
		} else {
			j.tick("nav .nav-group summary", "More")
			j.click("nav a[href='/notifications']", "Notifications")
		}
		title := tab.Text(".notify-list .notify-item:has(form[action$='/mute']) h2")
		j.click(".notify-list .notify-item:has(form[action$='/mute']) form[action$='/mute'] button", "Stop notifications like this ("+title+")")
		tab.Expect("You will no longer get")
		tab.Shot("muted")
		j.within(t, "mute one notification", 4)
	})
}

// tabTo presses Tab until the focused element matches sel (at most 60
// times), as a person without a mouse moves through a page.
func tabTo(t *testing.T, tab *Tab, sel string) {
	t.Helper()
	for range 60 {
		ok, err := chromedp.Run(tab.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`!!document.activeElement && document.activeElement.matches(%q)`, sel)))
		if err == nil && ok {
			return
		}
		tab.Do(chromedp.KeyEvent(kb.Tab))
	}
	tab.Shot("focus-not-reached")
	t.Fatalf("Tab never reached %s at %s", sel, tab.Location())
}

// press types keys into the focused element and waits for a page that
// they may have loaded.
func press(tab *Tab, keys string) {
	tab.t.Helper()
	tab.Do(chromedp.KeyEvent(keys), chromedp.Sleep(200*time.Millisecond), chromedp.WaitVisible(chromedp.CSS("main")))
}

// TestSignInAndBookWithTheKeyboardOnly: someone who uses no mouse signs in
// and books a service with Tab, typing, Space and Enter; every control on
// the way is reachable and usable from the keyboard.
func TestSignInAndBookWithTheKeyboardOnly(t *testing.T) {
	env := Start(t)
	tab := env.Tab(t, "keyboard")
	tab.Go("/login")
	tabTo(t, tab, "#f-org")
	press(tab, "demo")
	tabTo(t, tab, "#f-email")
	press(tab, "customer@demo.example")
	tabTo(t, tab, "#f-password")
	press(tab, portaltest.Password)
	press(tab, kb.Enter)
	tab.Expect("Your dashboard")

	tabTo(t, tab, "#w-automotive-status a[href$='/book']")
	press(tab, kb.Enter)
	tab.Expect("1. Choose a day")
	tabTo(t, tab, ".pick-list li:nth-child(2) a")
	press(tab, kb.Enter)
	tabTo(t, tab, "#times input[name=slot_id]")
	press(tab, " ")
	tabTo(t, tab, "#times button[type=submit]")
	tab.Shot("keyboard-ready")
	press(tab, kb.Enter)
	tab.Expect("Your service is booked.", "Booked for")
	tab.Shot("keyboard-booked")
}
