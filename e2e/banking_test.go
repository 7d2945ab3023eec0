package e2e

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBankingSavingsAcrossTwoDevicesGoalAndReport: the demo customer
// starts opening a savings account on a laptop (the form's draft is saved
// as they type), finishes it on a phone (a second browser context, offered
// the draft), sets a goal and reads the monthly report, with no console
// error or CSP violation.
func TestBankingSavingsAcrossTwoDevicesGoalAndReport(t *testing.T) {
	env := Start(t)
	laptop := env.Tab(t, "laptop")
	laptop.SignIn("demo", "customer@demo.example")
	laptop.Go("/m/banking/savings/open")
	laptop.Do(chromedp.WaitVisible("#savings-step-1"), chromedp.SendKeys("#f-name", "Rainy day"),
		chromedp.WaitVisible(`form[data-draft-state="saved"]`))

	phone := env.Tab(t, "phone")
	phone.SignIn("demo", "customer@demo.example")
	phone.Go("/m/banking/savings/open")
	phone.Do(chromedp.WaitVisible(`form[data-draft-state="offered"] `+"~ *, .draft-continue"), chromedp.Click(".draft-continue"),
		chromedp.WaitVisible(`form[data-draft-state="resumed"]`))
	if v, err := chromedp.Run(phone.ctx, chromedp.Value("#f-name")); err != nil || v != "Rainy day" {
		t.Fatalf("the phone resumed %q (%v), want the laptop's answer", v, err)
	}
	phone.Click(`#savings-step-1 button[name=next][value="2"]`)
	phone.Expect("Step 2 of 3")
	phone.Click(`#savings-step-2 button[name=next][value="3"]`)
	phone.Expect("Step 3 of 3")
	phone.Do(chromedp.Click("#f-accept"))
	phone.Click("#savings-submit")
	phone.Expect("Your savings account is open.", "Rainy day")

	phone.Go("/m/banking/goals")
	phone.Do(chromedp.SendKeys("#f-name", "New bike"), chromedp.SendKeys("#f-target", "600"),
		chromedp.SetValue("#f-deadline", time.Now().AddDate(1, 0, 0).Format("2006-01-02")), chromedp.SetValue("#f-priority", "3"))
	phone.Click("#goal-form button[type=submit]")
	phone.Expect("The goal is saved.", "New bike", "Your plan for this month")

	phone.Go("/m/banking/reports")
	phone.Click("main ul li a")
	phone.Expect("Monthly report", "Spending by category", "Top merchants")
}
