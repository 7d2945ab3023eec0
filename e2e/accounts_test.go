package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestCustomerSignsInManagesSessionsAndSignsOut walks the account pages as
// the demo customer would.
func TestCustomerSignsInManagesSessionsAndSignsOut(t *testing.T) {
	env := Start(t)
	laptop := env.Tab(t, "laptop")

	laptop.AllowConsole(`status of 401 .*/login\)$`) // the wrong-password page answers 401 on purpose
	laptop.Go("/login")
	laptop.Fill(map[string]string{"#f-org": "demo", "#f-email": "customer@demo.example", "#f-password": "not-the-password"})
	laptop.Click("form[action='/login'] button[type=submit]")
	laptop.Expect("wrong e-mail or password")
	if v, _ := chromedp.Run(laptop.ctx, chromedp.Value("#f-email")); v != "customer@demo.example" {
		t.Fatalf("the form lost what was typed: %q", v)
	}
	laptop.Shot("wrong-password")

	laptop.SignIn("demo", "customer@demo.example")
	laptop.Expect("Chiara Customer", "Demo Motors & Bank")
	laptop.Shot("signed-in")

	phone := env.Tab(t, "phone")
	phone.SignIn("demo", "customer@demo.example")

	laptop.Go("/account/sessions")
	laptop.Expect("this device")
	rows := laptop.Text("table tbody")
	if strings.Count(rows, "Sign out") < 2 {
		t.Fatalf("the sessions page should list the laptop and the phone:\n%s", rows)
	}
	laptop.Shot("sessions")
	laptop.Click("form[action='/account/sessions/revoke-others'] button")
	laptop.Expect("All your other sessions are signed out.")

	phone.Go("/account")
	if loc := phone.Location(); !strings.HasPrefix(loc, "/login") {
		t.Fatalf("the phone is still signed in (at %s)", loc)
	}

	laptop.Click(".account form[action='/logout'] button")
	laptop.Expect("You have signed out.")
	laptop.Go("/account")
	if loc := laptop.Location(); !strings.HasPrefix(loc, "/login") {
		t.Fatalf("signed out but the account page opened (at %s)", loc)
	}
}

// TestAdminPagesRenderWithoutConsoleErrors opens every admin page as the
// demo admin; the harness fails on console errors and CSP violations.
func TestAdminPagesRenderWithoutConsoleErrors(t *testing.T) {
	env := Start(t)
	admin := env.Tab(t, "admin")
	admin.SignIn("demo", "admin@demo.example")
	for _, p := range []string{"/admin/users", "/admin/tokens", "/admin/audit", "/admin/org"} {
		admin.Go(p)
		admin.Shot(p)
	}
	// The API reference is the whole OpenAPI document on one page (~20 000
	// nodes): it must open without console errors. It is read with one
	// script, not through the DevTools DOM mirror that Go, Expect and Shot
	// walk, which takes minutes on a page this size.
	admin.Do(chromedp.Navigate(env.Base + "/api/docs"))
	ops, err := chromedp.Run(admin.ctx, chromedp.Evaluate[int](`document.querySelectorAll("main details").length`))
	if err != nil || ops < 100 {
		t.Fatalf("API reference lists %d operations (%v); want every one", ops, err)
	}
	admin.Go("/admin/audit")
	admin.Expect("Successful sign-in") // the label of login_ok, never the key
}
