package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestOwnerSeesTheCarAndBooksAService is the automotive journey: the demo
// owner signs in, sees the car's status on the dashboard, opens the car with
// its charts and the open recall, books a service, and the booking shows on
// the car's page and in the workshop's list.
func TestOwnerSeesTheCarAndBooksAService(t *testing.T) {
	env := Start(t)
	owner := env.Tab(t, "owner")
	owner.SignIn("demo", "customer@demo.example")
	owner.Expect("Golfino")
	owner.Shot("dashboard")

	owner.Go("/m/automotive/")
	owner.Expect("Volkswagen Golf", "Rear seat-belt buckle", "Upcoming payments")
	owner.Click("main h2 a[href^='/m/automotive/vehicles/']")
	owner.Expect("Health", "Battery voltage", "Tyre pressures", "Distance per week", "Rear seat-belt buckle", "Financing and bills")
	charts, err := chromedp.Run(owner.ctx, chromedp.Evaluate[int](`document.querySelectorAll("main h3.chart-heading + figure svg[role=img]").length`))
	if err != nil || charts < 3 {
		owner.Shot("charts")
		t.Fatalf("the car's page shows %d charts under a heading (%v), want 3", charts, err)
	}
	// The charts' hidden data tables must not stretch the page.
	height, err := chromedp.Run(owner.ctx, chromedp.Evaluate[int](`document.documentElement.scrollHeight`))
	content, _ := chromedp.Run(owner.ctx, chromedp.Evaluate[int](`Math.ceil(document.querySelector("footer").getBoundingClientRect().bottom + window.scrollY)`))
	if err != nil || height > content+50 {
		t.Fatalf("the page is %d px tall but its content ends at %d px (%v)", height, content, err)
	}
	owner.Shot("car")
	car := owner.Location()

	owner.Click("main a[href$='/book']")
	owner.Expect("Book a service", "1. Choose a day", "Demo Motors")
	owner.Do(chromedp.Click("input[name=slot_id]"))
	owner.Fill(map[string]string{"#f-notes": "Please check the rear seat-belt recall too."})
	owner.Shot("booking")
	owner.Click("main form button[type=submit]")
	if loc := owner.Location(); !strings.HasPrefix(loc, car) {
		owner.Shot("after-booking")
		t.Fatalf("after booking the owner is at %s, want the car's page %s", loc, car)
	}
	owner.Expect("Your service is booked.", "Booked for", "at Demo Motors", "Cancel the booking")
	owner.Shot("booked")

	staff := env.Tab(t, "staff")
	staff.SignIn("demo", "staff@demo.example")
	staff.Go("/m/automotive/staff")
	staff.Expect("Golfino (Volkswagen Golf)", "Chiara Customer", "Demo Motors", "Please check the rear seat-belt recall too.")
	staff.Shot("workshop")
}
