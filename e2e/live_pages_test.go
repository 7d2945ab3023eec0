package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/experience/messages"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/verticals/automotive"
	"github.com/portalkit/portalkit/verticals/banking"
)

// TestPagesUpdateLiveOnAPhoneInItalian: a customer with the portal open on
// a 360 px phone, in Italian, sees — without reloading — the car page take
// a reading the car sends over MQTT, the dashboard card of the car refresh
// with it, the bank balance change after a transfer made from their other
// device, and the staff's reply appear in the conversation. Every region
// that changed is marked and announced, and no page scrolls sideways.
func TestPagesUpdateLiveOnAPhoneInItalian(t *testing.T) {
	env := Start(t)
	ta := env.App
	ctx := context.Background()

	var v automotive.Vehicle
	if err := store.AllOrgs(ta.Store.DB).Where("vin = ?", automotive.DemoVIN).First(&v).Error; err != nil {
		t.Fatal(err)
	}
	admin := ta.User(t, "demo", "admin@demo.example", accounts.Admin)
	unit, err := ta.Devices.Create(ctx, devices.Actor{OrgID: admin.OrgID, UserID: admin.ID, Role: "admin"},
		devices.NewDevice{OwnerID: v.OwnerID, Module: automotive.ID, Name: "Golf telematics"})
	if err != nil {
		t.Fatal(err)
	}
	// Staff link the unit on the car's page; that form has its own test.
	if err := store.AllOrgs(ta.Store.DB).Model(&automotive.Vehicle{}).Where("id = ?", v.ID).Update("device_id", unit.ID).Error; err != nil {
		t.Fatal(err)
	}

	phone := env.PhoneTab(t, "phone")
	phone.SignIn("demo", "customer@demo.example")
	phone.setLanguage("it")
	board := phone.Open("board")
	board.Do(chromedp.EmulateViewport(360, 740))

	carPath := fmt.Sprintf("/m/automotive/vehicles/%d", v.ID)
	phone.Go(carPath)
	board.Go("/")
	for _, tb := range []*Tab{phone, board} {
		tb.Do(chromedp.WaitReady(`body[data-live="open"]`))
		markNoReload(tb)
	}
	widget := eval[string](board, `(document.querySelector('.widget-body[data-live*="automotive.reading"]') || {}).id || ""`)
	if widget == "" {
		board.Shot("no-car-widget")
		t.Fatal("the dashboard has no card that follows the car's readings")
	}

	// The car sends a reading with a flat battery and a misfire.
	car := carClient(t, ta.Devices.BrokerAddr(), unit)
	reading := fmt.Sprintf(`{"time":%q,"seq":77,"odometer_km":%d,"battery_v":11.3,"coolant_c":91,"fuel_pct":40,
		"tyres_kpa":{"fl":232,"fr":231,"rl":229,"rr":230},"dtcs":["P0300"]}`, time.Now().UTC().Truncate(time.Second).Format(time.RFC3339), v.OdometerKm+40)
	if tok := car.Publish(unit.Topics.Publish+"/diagnostics", 1, false, reading); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	waitUpdated(phone, "vehicle-health", "P0300")
	waitUpdated(board, widget, "")
	phone.Expect("Tensione della batteria bassa", "Rata 1")
	if body := phone.Text("main"); strings.Contains(body, "Loan instalment") {
		t.Error("the Italian car page shows the loan's instalments in English")
	}
	phone.Shot("car-live")
	board.Shot("dashboard-live")

	// A transfer from the customer's other device (the API, as an app
	// would) moves the balances on the bank's page.
	var accs []banking.Account
	store.AllOrgs(ta.Store.DB).Where("owner_id = ?", v.OwnerID).Order("id").Find(&accs)
	if len(accs) < 2 {
		t.Fatalf("the demo customer has %d bank accounts, want a current and a savings account", len(accs))
	}
	phone.Go("/m/banking/")
	phone.Do(chromedp.WaitReady(`body[data-live="open"]`))
	markNoReload(phone)
	before := phone.Text("#banking-accounts")
	app := portaltest.Bearer(ta.Login(t, "demo", "customer@demo.example"))
	if r := ta.Do(t, "POST", fmt.Sprintf("/api/v1/banking/accounts/%d/transfers", accs[0].ID),
		map[string]any{"to_account_id": accs[1].ID, "amount_minor": 1234, "reference": "live test"}, app); r.Status != 204 {
		t.Fatalf("transfer: %d %s", r.Status, r.Body)
	}
	waitUpdated(phone, "banking-accounts", "")
	if after := phone.Text("#banking-accounts"); after == before || !strings.Contains(after, "€") {
		t.Fatalf("balances did not change after the transfer:\n%s", after)
	}
	waitUpdated(phone, "banking-recent", "Giroconto tra i tuoi conti")
	phone.Shot("balance-live")

	// The staff's reply appears in the open conversation.
	var conv messages.Conversation
	if err := store.AllOrgs(ta.Store.DB).Where("customer_id = ?", v.OwnerID).Order("id").First(&conv).Error; err != nil {
		t.Fatalf("the demo customer has no conversation: %v", err)
	}
	phone.Go(fmt.Sprintf("/messages/%d", conv.ID))
	phone.Do(chromedp.WaitReady(`body[data-live="open"]`))
	markNoReload(phone)
	staff := portaltest.Bearer(ta.Login(t, "demo", "staff@demo.example"))
	if r := ta.Do(t, "POST", fmt.Sprintf("/api/v1/messages/conversations/%d/messages", conv.ID),
		map[string]any{"body": "Abbiamo ricevuto la lettura della sua auto."}, staff); r.Status != 201 {
		t.Fatalf("staff reply: %d %s", r.Status, r.Body)
	}
	waitUpdated(phone, "thread-messages", "Abbiamo ricevuto la lettura della sua auto.")
	phone.Shot("conversation-live")

	for _, tb := range []*Tab{phone, board} {
		if w := eval[int](tb, `document.documentElement.scrollWidth`); w > 360 {
			t.Errorf("%s at %s scrolls sideways: %d px wide", tb.name, tb.Location(), w)
		}
		if lang := eval[string](tb, `document.documentElement.lang`); lang != "it" {
			t.Errorf("%s is in %q, want Italian", tb.name, lang)
		}
	}
	if said := eval[string](phone, `document.getElementById("live-region").textContent`); strings.TrimSpace(said) == "" {
		t.Error("the screen-reader region announced nothing")
	}
}

// markNoReload marks the loaded page, so a test can tell a live update
// from a reload (which would drop the mark).
func markNoReload(tb *Tab) {
	tb.t.Helper()
	eval[bool](tb, `(window.__sameDocument = true)`)
}

// waitUpdated waits until the region with id was refreshed in place (live.js
// marks it live-updated) and holds text, on the page that was loaded.
func waitUpdated(tb *Tab, id, text string) {
	tb.t.Helper()
	expr := fmt.Sprintf(`(function(){var e=document.getElementById(%q);return !!(window.__sameDocument && e && e.classList.contains("live-updated") && e.textContent.indexOf(%q) >= 0)})()`, id, text)
	deadline := time.Now().Add(15 * time.Second)
	for !eval[bool](tb, expr) {
		if time.Now().After(deadline) {
			tb.Shot("not-updated-" + id)
			tb.t.Fatalf("%s at %s: #%s was not updated live with %q", tb.name, tb.Location(), id, text)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// carClient connects the car's telematics unit with its own credentials.
func carClient(t *testing.T, addr string, c *devices.Created) paho.Client {
	t.Helper()
	o := paho.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(c.Username).SetUsername(c.Username).SetPassword(c.Secret).
		SetCleanSession(true).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
	cl := paho.NewClient(o)
	if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("the car could not connect: %v", tok.Error())
	}
	t.Cleanup(func() { cl.Disconnect(100) })
	return cl
}
