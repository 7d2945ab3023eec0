package automotive_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/verticals/automotive"
)

func newApp(t *testing.T) (*portaltest.TestApp, *automotive.Module) {
	t.Helper()
	m := &automotive.Module{}
	return portaltest.New(t, []module.Module{m}), m
}

// vin returns a valid European VIN (no check digit) numbered n.
func vin(n int) string { return fmt.Sprintf("WVWZZZ1KZ8W%06d", n) }

func addVehicle(t *testing.T, ta *portaltest.TestApp, h map[string]string, n int) uint {
	t.Helper()
	res := ta.Do(t, "POST", "/api/v1/automotive/vehicles", map[string]any{"vin": vin(n), "make": "Volkswagen", "model": "Golf", "year": 2024, "fuel": "petrol", "odometer_km": 1000}, h)
	if res.Status != 201 {
		t.Fatalf("add vehicle: %d %s", res.Status, res.Body)
	}
	var v automotive.Vehicle
	res.JSON(t, &v)
	return v.ID
}

func TestVehiclesAndVINErrors(t *testing.T) {
	ta, _ := newApp(t)
	ann := ta.As(t, "acme", "ann@acme.example", accounts.Customer)
	bob := ta.As(t, "acme", "bob@acme.example", accounts.Customer)
	id := addVehicle(t, ta, ann, 1)

	portaltest.RunScenarios(t, ta, []portaltest.Scenario{
		{Name: "bad VIN named", Method: "POST", URL: "/api/v1/automotive/vehicles", Headers: ann,
			Body:           map[string]any{"vin": "WVWZZZ1KZ8WO00001", "make": "VW", "model": "Golf", "year": 2024, "fuel": "petrol"},
			ExpectedStatus: 422, ExpectedContent: []string{`"location":"vin"`, "never use"}},
		{Name: "duplicate VIN", Method: "POST", URL: "/api/v1/automotive/vehicles", Headers: bob,
			Body:           map[string]any{"vin": vin(1), "make": "VW", "model": "Golf", "year": 2024, "fuel": "petrol"},
			ExpectedStatus: 422, ExpectedContent: []string{"already registered"}},
		{Name: "several fields at once", Method: "POST", URL: "/api/v1/automotive/vehicles", Headers: ann,
			Body:           map[string]any{"vin": vin(2), "make": "VW", "model": "Golf", "year": 1900, "fuel": "petrol", "odometer_km": -5},
			ExpectedStatus: 422, ExpectedContent: []string{`"location":"body.year"`, `"location":"body.odometer_km"`}},
		{Name: "the owner sees it", Method: "GET", URL: fmt.Sprintf("/api/v1/automotive/vehicles/%d", id), Headers: ann,
			ExpectedStatus: 200, ExpectedContent: []string{`"health":"good"`, `"state":"ok"`}},
		{Name: "another customer does not", Method: "GET", URL: fmt.Sprintf("/api/v1/automotive/vehicles/%d", id), Headers: bob, ExpectedStatus: 404},
		{Name: "lists are scoped", Method: "GET", URL: "/api/v1/automotive/vehicles", Headers: bob, ExpectedStatus: 200,
			ExpectedContent: []string{`"vehicles":[]`}},
		{Name: "odometer cannot go back", Method: "PATCH", URL: fmt.Sprintf("/api/v1/automotive/vehicles/%d", id), Headers: ann,
			Body: map[string]any{"odometer_km": 10}, ExpectedStatus: 422, ExpectedContent: []string{"at least the last reading"}},
	})
}

func TestConcurrentBookingsNeverOverbookASlot(t *testing.T) {
	ta, m := newApp(t)
	admin := ta.As(t, "acme", "admin@acme.example", accounts.Admin)
	res := ta.Do(t, "POST", "/api/v1/automotive/centres", map[string]any{"name": "Nord", "city": "Milano"}, admin)
	if res.Status != 201 {
		t.Fatalf("centre: %d %s", res.Status, res.Body)
	}
	var c automotive.Centre
	res.JSON(t, &c)
	res = ta.Do(t, "POST", fmt.Sprintf("/api/v1/automotive/centres/%d/slots", c.ID),
		map[string]any{"from": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339), "count": 2, "every": "1h", "capacity": 1}, admin)
	if res.Status != 201 {
		t.Fatalf("slots: %d %s", res.Status, res.Body)
	}
	var slots struct{ Slots []automotive.Slot }
	res.JSON(t, &slots)

	const n = 12
	customers := make([]map[string]string, n)
	vehicles := make([]uint, n)
	for i := range customers {
		customers[i] = ta.As(t, "acme", fmt.Sprintf("c%d@acme.example", i), accounts.Customer)
		vehicles[i] = addVehicle(t, ta, customers[i], 100+i)
	}
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			codes[i] = ta.Do(t, "POST", "/api/v1/automotive/bookings", map[string]any{"vehicle_id": vehicles[i], "slot_id": slots.Slots[0].ID}, customers[i]).Status
		}(i)
	}
	wg.Wait()
	won, lost := 0, 0
	for _, c := range codes {
		switch c {
		case 201:
			won++
		case 409:
			lost++
		default:
			t.Errorf("unexpected status %d", c)
		}
	}
	if won != 1 || lost != n-1 {
		t.Fatalf("%d bookings succeeded and %d were refused; want exactly 1 and %d", won, lost, n-1)
	}
	var sl automotive.Slot
	store.AllOrgs(ta.Store.DB).First(&sl, slots.Slots[0].ID)
	var count int64
	store.AllOrgs(ta.Store.DB).Model(&automotive.Booking{}).Where("slot_id = ? AND status = ?", sl.ID, "booked").Count(&count)
	if sl.Booked != 1 || count != 1 {
		t.Fatalf("slot says %d booked, %d booking rows", sl.Booked, count)
	}

	// The winner reschedules: the first slot frees up, the second fills.
	var winner int
	for i, c := range codes {
		if c == 201 {
			winner = i
		}
	}
	var bks struct{ Bookings []automotive.Booking }
	ta.Do(t, "GET", "/api/v1/automotive/bookings", nil, customers[winner]).JSON(t, &bks)
	if r := ta.Do(t, "PATCH", fmt.Sprintf("/api/v1/automotive/bookings/%d", bks.Bookings[0].ID), map[string]any{"slot_id": slots.Slots[1].ID}, customers[winner]); r.Status != 200 {
		t.Fatalf("reschedule: %d %s", r.Status, r.Body)
	}
	loser := (winner + 1) % n
	if r := ta.Do(t, "POST", "/api/v1/automotive/bookings", map[string]any{"vehicle_id": vehicles[loser], "slot_id": slots.Slots[0].ID}, customers[loser]); r.Status != 201 {
		t.Fatalf("the freed slot could not be booked: %d %s", r.Status, r.Body)
	}
	if r := ta.Do(t, "POST", "/api/v1/automotive/bookings", map[string]any{"vehicle_id": vehicles[loser], "slot_id": slots.Slots[1].ID}, customers[loser]); r.Status != 409 {
		t.Fatalf("a second active booking for one vehicle: %d", r.Status)
	}
	_ = m
}

func TestServiceDoneRemediesTheRecall(t *testing.T) {
	ta, m := newApp(t)
	ann := ta.As(t, "acme", "ann@acme.example", accounts.Customer)
	staffU := ta.User(t, "acme", "sam@acme.example", accounts.Staff)
	annU := ta.User(t, "acme", "ann@acme.example", accounts.Customer)
	staff := portaltest.Bearer(ta.Login(t, "acme", "sam@acme.example"))
	admin := ta.As(t, "acme", "admin@acme.example", accounts.Admin)
	if err := ta.Accounts.Assign(context.Background(), ta.Principal(t, admin["Authorization"][7:]), staffU.ID, annU.ID, "advisor"); err != nil {
		t.Fatal(err)
	}
	vid := addVehicle(t, ta, ann, 7)

	res := ta.Do(t, "POST", "/api/v1/automotive/recalls", map[string]any{"code": "R-1", "title": "Buckle", "description": "d", "remedy": "replace", "make": "volkswagen", "model": "golf", "year_from": 2020, "year_to": 2030}, staff)
	if res.Status != 201 {
		t.Fatalf("publish: %d %s", res.Status, res.Body)
	}
	var published automotive.Recall
	res.JSON(t, &published)
	var r automotive.Recall // as the job loads it, with its organisation
	store.AllOrgs(ta.Store.DB).First(&r, published.ID)
	svc := m.Service()
	var notices []automotive.RecallNotice
	err := ta.Store.Tx(context.Background(), func(tx *gormDB) error {
		var err error
		notices, _, err = svc.FanOutChunk(context.Background(), tx, &r, 0, 100)
		return err
	})
	if err != nil || len(notices) != 1 || notices[0].OwnerID != annU.ID {
		t.Fatalf("fan-out: %+v %v", notices, err)
	}
	// A retried chunk notifies nobody again.
	_ = ta.Store.Tx(context.Background(), func(tx *gormDB) error {
		notices, _, err = svc.FanOutChunk(context.Background(), tx, &r, 0, 100)
		return err
	})
	if err != nil || len(notices) != 0 {
		t.Fatalf("retried chunk: %+v %v", notices, err)
	}

	admin2 := ta.As(t, "acme", "admin@acme.example", accounts.Admin)
	cres := ta.Do(t, "POST", "/api/v1/automotive/centres", map[string]any{"name": "Sud", "city": "Napoli"}, admin2)
	var c automotive.Centre
	cres.JSON(t, &c)
	var slots struct{ Slots []automotive.Slot }
	ta.Do(t, "POST", fmt.Sprintf("/api/v1/automotive/centres/%d/slots", c.ID), map[string]any{"from": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339), "count": 1, "every": "1h", "capacity": 3}, admin2).JSON(t, &slots)
	bres := ta.Do(t, "POST", "/api/v1/automotive/bookings", map[string]any{"vehicle_id": vid, "slot_id": slots.Slots[0].ID}, ann)
	var b automotive.Booking
	bres.JSON(t, &b)
	if b.RecallID == nil || *b.RecallID != r.ID {
		t.Fatalf("the booking should remedy the open recall: %+v", b)
	}
	if rr := ta.Do(t, "POST", fmt.Sprintf("/api/v1/automotive/bookings/%d/done", b.ID), map[string]any{"odometer_km": 1200}, ann); rr.Status != 403 {
		t.Fatalf("a customer marked a service done: %d", rr.Status)
	}
	// An odometer beyond its range is refused before any arithmetic
	// (issue 19 item 9): it used to wrap the next-service distance.
	for _, km := range []any{int64(9223372036854775807), 2_000_001, -1} {
		if rr := ta.Do(t, "POST", fmt.Sprintf("/api/v1/automotive/bookings/%d/done", b.ID), map[string]any{"odometer_km": km}, staff); rr.Status != 422 || !strings.Contains(rr.Body, "odometer_km") {
			t.Fatalf("done at %v km: %d %s", km, rr.Status, rr.Body)
		}
	}
	ta.ResetEvents()
	if rr := ta.Do(t, "POST", fmt.Sprintf("/api/v1/automotive/bookings/%d/done", b.ID), map[string]any{"odometer_km": 1200}, staff); rr.Status != 200 {
		t.Fatalf("done: %d %s", rr.Status, rr.Body)
	}
	st := ta.Do(t, "GET", fmt.Sprintf("/api/v1/automotive/recalls/%d", r.ID), nil, staff)
	if !strings.Contains(st.Body, `"remedied":1`) || !strings.Contains(st.Body, `"remedy_rate_pct":100`) {
		t.Fatalf("campaign stats: %s", st.Body)
	}
	found := false
	for _, e := range ta.Events() {
		found = found || e == automotive.EventServiceDone
	}
	if !found {
		t.Fatal("no service_done event for the feedback journey step")
	}
	// The owner is asked once how the service went…
	pending := ta.Do(t, "GET", "/api/v1/feedback/pending", nil, ann)
	if pending.Status != 200 || !strings.Contains(pending.Body, automotive.StepService) || !strings.Contains(pending.Body, "How satisfied are you with your car") {
		t.Fatalf("pending feedback after the service: %d %s", pending.Status, pending.Body)
	}
	// …and the advisor sees the journey on the customer's timeline.
	tl := ta.Do(t, "GET", fmt.Sprintf("/api/v1/customers/%d/timeline", annU.ID), nil, staff)
	for _, want := range []string{"Registered the vehicle", "Booked a service for", "Service done for", "at 1200 km", fmt.Sprintf("/m/automotive/vehicles/%d", vid)} {
		if tl.Status != 200 || !strings.Contains(tl.Body, want) {
			t.Fatalf("the timeline lacks %q: %d %s", want, tl.Status, tl.Body)
		}
	}
}

func TestLoanBillsAndIdempotentPayments(t *testing.T) {
	ta, _ := newApp(t)
	ann := ta.As(t, "acme", "ann@acme.example", accounts.Customer)
	admin := ta.As(t, "acme", "admin@acme.example", accounts.Admin)
	vid := addVehicle(t, ta, ann, 9)
	res := ta.Do(t, "POST", fmt.Sprintf("/api/v1/automotive/vehicles/%d/loan", vid),
		map[string]any{"kind": "loan", "currency": "EUR", "principal_minor": 2000000, "annual_rate_bp": 600, "months": 48, "start": "2026-01-15T00:00:00Z"}, admin)
	if res.Status != 201 {
		t.Fatalf("loan: %d %s", res.Status, res.Body)
	}
	var loan struct {
		Schedule []automotive.Instalment
	}
	ta.Do(t, "GET", fmt.Sprintf("/api/v1/automotive/vehicles/%d/loan", vid), nil, ann).JSON(t, &loan)
	if len(loan.Schedule) != 48 || loan.Schedule[0].Payment.Minor != 46970 {
		t.Fatalf("schedule: %d rows, first %+v", len(loan.Schedule), loan.Schedule[0])
	}
	var bills struct{ Bills []automotive.Bill }
	ta.Do(t, "GET", "/api/v1/automotive/bills", nil, ann).JSON(t, &bills)
	if len(bills.Bills) != 48 {
		t.Fatalf("%d bills", len(bills.Bills))
	}
	first := bills.Bills[0]

	// The payment system's token (integrator) records payments.
	ct, err := ta.Accounts.CreateToken(context.Background(), ta.Principal(t, admin["Authorization"][7:]),
		accounts.NewToken{Name: "payments", Scopes: []string{"automotive:write"}, ExpiresIn: time.Hour}, "")
	if err != nil {
		t.Fatal(err)
	}
	pay := portaltest.Bearer(ct.Secret)
	body := map[string]any{"bill_id": first.ID, "reference": "PSP-123", "amount_minor": first.Amount, "currency": "EUR"}
	if r := ta.Do(t, "POST", "/api/v1/automotive/payments", body, ann); r.Status != 403 {
		t.Fatalf("a customer recorded a payment: %d", r.Status)
	}
	r1 := ta.Do(t, "POST", "/api/v1/automotive/payments", body, pay)
	r2 := ta.Do(t, "POST", "/api/v1/automotive/payments", body, pay)
	if r1.Status != 201 || r2.Status != 200 || !strings.Contains(r2.Body, `"replay":true`) || !strings.Contains(r1.Body, `"status":"paid"`) {
		t.Fatalf("idempotency: %d %s / %d %s", r1.Status, r1.Body, r2.Status, r2.Body)
	}
	var n int64
	store.AllOrgs(ta.Store.DB).Model(&automotive.Payment{}).Count(&n)
	if n != 1 {
		t.Fatalf("%d payments stored, want 1", n)
	}
	body["amount_minor"] = 1
	if r := ta.Do(t, "POST", "/api/v1/automotive/payments", body, pay); r.Status != 409 {
		t.Fatalf("reference reused for another amount: %d", r.Status)
	}
	if r := ta.Do(t, "POST", "/api/v1/automotive/payments", map[string]any{"bill_id": bills.Bills[1].ID, "reference": "PSP-9", "amount_minor": 99999999, "currency": "EUR"}, pay); r.Status != 422 {
		t.Fatalf("overpayment: %d", r.Status)
	}
	// Concurrent retries of one new payment apply it once.
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			codes[i] = ta.Do(t, "POST", "/api/v1/automotive/payments", map[string]any{"bill_id": bills.Bills[2].ID, "reference": "PSP-RACE", "amount_minor": 100, "currency": "EUR"}, pay).Status
		}(i)
	}
	wg.Wait()
	var paid automotive.Bill
	store.AllOrgs(ta.Store.DB).First(&paid, bills.Bills[2].ID)
	if paid.Paid != 100 {
		t.Fatalf("concurrent retries paid %d cents (codes %v)", paid.Paid, codes)
	}
}

func TestAutomotiveAuthorizationMatrix(t *testing.T) {
	ta, _ := newApp(t)
	portaltest.AuthorizationMatrix(t, ta)
}

func TestCentresAndSlotsAreOrgScoped(t *testing.T) {
	ta, _ := newApp(t)
	admin := ta.As(t, "acme", "admin@acme.example", accounts.Admin)
	var c automotive.Centre
	ta.Do(t, "POST", "/api/v1/automotive/centres", map[string]any{"name": "Nord", "city": "Milano"}, admin).JSON(t, &c)
	other := ta.As(t, "other", "o@other.example", accounts.Customer)
	if r := ta.Do(t, "GET", fmt.Sprintf("/api/v1/automotive/centres/%d/slots", c.ID), nil, other); r.Status != 404 {
		t.Fatalf("another org saw a centre: %d", r.Status)
	}
	var list struct{ Centres []automotive.Centre }
	ta.Do(t, "GET", "/api/v1/automotive/centres", nil, other).JSON(t, &list)
	if len(list.Centres) != 0 {
		t.Fatalf("another org lists centres: %+v", list.Centres)
	}
}

func TestDemoCarPagesForCustomerAndStaff(t *testing.T) {
	ta, _ := newApp(t)
	ta.Demo(t)
	b := ta.Browser()
	b.SignIn(t, "demo", "customer@demo.example")
	home := b.Get(t, "/m/automotive/")
	for _, want := range []string{"Golfino", "Volkswagen Golf", "Rear seat-belt buckle", "Low tyre pressure", "Upcoming payments"} {
		if home.Status != 200 || !strings.Contains(home.Body, want) {
			t.Fatalf("home (status %d) lacks %q\n%s", home.Status, want, lastLines(ta.Logs.String(), 5))
		}
	}
	var v automotive.Vehicle
	store.AllOrgs(ta.Store.DB).Where("vin = ?", automotive.DemoVIN).First(&v)
	page := b.Get(t, fmt.Sprintf("/m/automotive/vehicles/%d", v.ID))
	for _, want := range []string{"<svg", "Battery voltage", "Tyre pressures", "Distance per week", "<table", "Loan instalment", "due soon", "See all bills",
		"/help/a/car-health", "Your car&#39;s health and warnings", "/help/a/recalls"} {
		if page.Status != 200 || !strings.Contains(page.Body, want) {
			t.Fatalf("vehicle page (status %d) lacks %q\n%s", page.Status, want, lastLines(ta.Logs.String(), 3))
		}
	}
	book := b.Get(t, fmt.Sprintf("/m/automotive/vehicles/%d/book", v.ID))
	if !strings.Contains(book.Body, "Demo Motors Milano Nord") || !strings.Contains(book.Body, `name="slot_id"`) || !strings.Contains(book.Body, "/help/a/booking-a-service") {
		t.Fatal("booking page lacks centres and slots")
	}
	other := ta.Browser()
	other.SignIn(t, "demo", "customer2@demo.example")
	if r := other.Get(t, fmt.Sprintf("/m/automotive/vehicles/%d", v.ID)); r.Status != 404 {
		t.Fatalf("another customer opened the car: %d", r.Status)
	}
	staff := ta.Browser()
	staff.SignIn(t, "demo", "staff@demo.example")
	// The module's help articles are in the help centre, found by search.
	found := b.Get(t, "/help?q=recall")
	if found.Status != 200 || !strings.Contains(found.Body, "/help/a/recalls") {
		t.Fatalf("help search for recall: %d", found.Status)
	}
	// The demo gives the staff's feedback analytics weeks of service answers.
	fb := staff.Get(t, "/staff/feedback")
	if fb.Status != 200 || !strings.Contains(fb.Body, "<svg") || !strings.Contains(fb.Body, automotive.StepService) {
		t.Fatalf("feedback analytics after the demo: %d", fb.Status)
	}
	ws := staff.Get(t, "/m/automotive/staff")
	if ws.Status != 200 || !strings.Contains(ws.Body, "VW-23R7") || !strings.Contains(ws.Body, automotive.DemoVIN) {
		t.Fatalf("workshop page: %d", ws.Status)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestStaffTransferAVehicleFromItsPage: staff give the demo car to another
// customer by e-mail; the new owner sees it, the old one no longer does; an
// unknown e-mail is a 422 naming the field, and customers cannot transfer.
func TestStaffTransferAVehicleFromItsPage(t *testing.T) {
	ta, _ := newApp(t)
	ta.Demo(t)
	var v automotive.Vehicle
	store.AllOrgs(ta.Store.DB).Where("vin = ?", automotive.DemoVIN).First(&v)
	path := fmt.Sprintf("/m/automotive/vehicles/%d", v.ID)
	owner := ta.Browser()
	owner.SignIn(t, "demo", "customer@demo.example")
	owner.Get(t, path)
	if r := owner.Post(t, path+"/transfer", url.Values{"email": {"customer2@demo.example"}}); r.Status != 403 {
		t.Fatalf("a customer transferred the car: %d", r.Status)
	}
	staff := ta.Browser()
	staff.SignIn(t, "demo", "staff@demo.example")
	page := staff.Get(t, path)
	if !strings.Contains(page.Body, `action="`+path+`/transfer"`) {
		t.Fatal("staff see no transfer form")
	}
	if r := staff.Post(t, path+"/transfer", url.Values{"email": {"nobody@demo.example"}}); r.Status != 422 || !strings.Contains(r.Body, "is not the e-mail of a customer") {
		t.Fatalf("unknown e-mail: %d", r.Status)
	}
	if r := staff.Post(t, path+"/transfer", url.Values{"email": {"customer2@demo.example"}}); r.Status != 303 {
		t.Fatalf("transfer: %d", r.Status)
	}
	if r := owner.Get(t, path); r.Status != 404 {
		t.Fatalf("the old owner still opens the car: %d", r.Status)
	}
	other := ta.Browser()
	other.SignIn(t, "demo", "customer2@demo.example")
	if r := other.Get(t, path); r.Status != 200 || !strings.Contains(r.Body, "Volkswagen Golf") {
		t.Fatalf("the new owner cannot open the car: %d", r.Status)
	}
}

// TestAddYourCarKeepsADraftUntilSubmitted: a draft of the form (saved as
// the owner typed, perhaps on another device) is offered on the page and
// cleared when the car is registered.
func TestAddYourCarKeepsADraftUntilSubmitted(t *testing.T) {
	ta, _ := newApp(t)
	ta.Demo(t)
	ctx := context.Background()
	u := ta.User(t, "demo", "customer2@demo.example", accounts.Customer)
	if _, err := ta.App.Drafts.SaveFor(ctx, ta.Store.DB, u.OrgID, u.ID, automotive.VehicleDraftKey, map[string]any{"vin": vin(31), "make": "Fiat"}); err != nil {
		t.Fatal(err)
	}
	b := ta.Browser()
	b.SignIn(t, "demo", "customer2@demo.example")
	page := b.Get(t, "/m/automotive/vehicles/new")
	if page.Status != 200 || !strings.Contains(page.Body, `data-draft="automotive.vehicle"`) || !strings.Contains(page.Body, `data-draft-saved="1"`) {
		t.Fatalf("the form does not offer the saved draft: %d", page.Status)
	}
	r := b.Post(t, "/m/automotive/vehicles", url.Values{"vin": {vin(31)}, "make": {"Fiat"}, "model": {"500e"}, "year": {"2025"}, "fuel": {"electric"}, "odometer_km": {"10"}})
	if r.Status != 303 {
		t.Fatalf("register: %d", r.Status)
	}
	p := &accounts.Principal{OrgID: u.OrgID, UserID: u.ID, Role: accounts.Customer}
	if _, err := ta.App.Drafts.Load(ctx, p, automotive.VehicleDraftKey); err == nil {
		t.Fatal("the draft is still there after the car was registered")
	}
}

// TestNumericInputsHaveBounds: years and odometer readings outside their
// documented range answer 422 naming the field, on the API (issue 19 item
// 9), and the OpenAPI document shows the ranges.
func TestNumericInputsHaveBounds(t *testing.T) {
	ta, _ := newApp(t)
	ann := ta.As(t, "acme", "ann@acme.example", accounts.Customer)
	staff := ta.As(t, "acme", "sam@acme.example", accounts.Staff)
	id := addVehicle(t, ta, ann, 1)
	recall := func(from, to int) map[string]any {
		return map[string]any{"code": "R-1", "title": "Buckle", "description": "d", "remedy": "replace", "make": "volkswagen", "year_from": from, "year_to": to}
	}
	for _, c := range []struct {
		method, path string
		h            map[string]string
		body         map[string]any
		field        string
	}{
		{"POST", "/api/v1/automotive/recalls", staff, recall(-1, 2020), "year_from"},
		{"POST", "/api/v1/automotive/recalls", staff, recall(2020, 1_000_000), "year_to"},
		{"POST", "/api/v1/automotive/vehicles", ann, map[string]any{"vin": vin(2), "make": "VW", "model": "Golf", "year": -2024, "fuel": "petrol"}, "year"},
		{"POST", "/api/v1/automotive/vehicles", ann, map[string]any{"vin": vin(2), "make": "VW", "model": "Golf", "year": 2024, "fuel": "petrol", "odometer_km": int64(9223372036854775807)}, "odometer_km"},
		{"PATCH", fmt.Sprintf("/api/v1/automotive/vehicles/%d", id), ann, map[string]any{"odometer_km": int64(9223372036854775807)}, "odometer_km"},
		{"POST", fmt.Sprintf("/api/v1/automotive/vehicles/%d/loan", id), staff, map[string]any{"kind": "loan", "currency": "EUR", "principal_minor": int64(9223372036854775807), "annual_rate_bp": 500, "months": 12, "start": "2026-01-01T00:00:00Z"}, "principal_minor"},
	} {
		if r := ta.Do(t, c.method, c.path, c.body, c.h); r.Status != 422 || !strings.Contains(r.Body, c.field) {
			t.Errorf("%s %s %v: %d %s, want 422 naming %s", c.method, c.path, c.body, r.Status, r.Body, c.field)
		}
	}
	doc := ta.Do(t, "GET", "/api/openapi.json", nil, nil).Body
	for _, want := range []string{`"maximum":2000000`, `"maximum":2100`, `"minimum":1980`} {
		if !strings.Contains(doc, want) {
			t.Errorf("the OpenAPI document lacks %s", want)
		}
	}
}
