package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	sdk "github.com/portalkit/portalkit/sdk/go/api"
	"github.com/portalkit/portalkit/sdk/go/portal"
	_ "github.com/portalkit/portalkit/verticals/all"
)

// start serves a portal with every bundled module and the demo data on a
// loopback port and returns its base URL.
func start(t testing.TB) (*portaltest.TestApp, string) {
	t.Helper()
	ta := portaltest.New(t, module.Registered())
	ta.Demo(t)
	return ta, ta.ServeLoopback(t)
}

// demoPassword is the demo accounts' password (portaltest.Demo).
const demoPassword = portaltest.Password

func signIn(t testing.TB, base, email string) *portal.Client {
	t.Helper()
	c, err := portal.New(base)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SignIn(context.Background(), "demo", email, demoPassword); err != nil {
		t.Fatalf("sign in %s: %v", email, err)
	}
	return c
}

func accounts(t *testing.T, c *portal.Client) (cur, sav sdk.BankingAccountView) {
	t.Helper()
	res, err := portal.Result(c.API.BankingAccountsWithResponse(context.Background(), nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range *res.JSON200.Accounts {
		switch a.Kind {
		case "current":
			cur = a
		case "savings":
			sav = a
		}
	}
	if cur.Id == 0 || sav.Id == 0 {
		t.Fatalf("demo accounts: %+v", *res.JSON200.Accounts)
	}
	return cur, sav
}

// Banking: a customer signs in with the SDK and moves money to savings; a
// retry of the same call (same Idempotency-Key) moves it once; too much
// money is a 409 problem; another customer's account is a 404 problem.
func TestBankingCustomerMovesMoneyThroughTheSDK(t *testing.T) {
	_, base := start(t)
	ctx := context.Background()
	c := signIn(t, base, "customer@demo.example")
	cur, sav := accounts(t, c)
	key := portal.NewIdempotencyKey()
	ref := "sdk-transfer"
	body := sdk.BankingAccountTransferJSONRequestBody{ToAccountId: sav.Id, AmountMinor: 1500, Reference: &ref}
	for range 2 { // the phone lost the first answer and sends again
		if _, err := portal.Result(c.API.BankingAccountTransferWithResponse(ctx, cur.Id, &sdk.BankingAccountTransferParams{IdempotencyKey: &key}, body)); err != nil {
			t.Fatalf("transfer: %v", err)
		}
	}
	cur2, sav2 := accounts(t, c)
	if sav2.BalanceMinor != sav.BalanceMinor+1500 || cur2.BalanceMinor != cur.BalanceMinor-1500 {
		t.Fatalf("balances %d/%d -> %d/%d: a retried transfer must move 15.00 once", cur.BalanceMinor, sav.BalanceMinor, cur2.BalanceMinor, sav2.BalanceMinor)
	}
	// The SDK's own key (none given) still makes each call act once.
	_, err := portal.Result(c.API.BankingAccountTransferWithResponse(ctx, cur.Id, nil, sdk.BankingAccountTransferJSONRequestBody{ToAccountId: sav.Id, AmountMinor: cur2.BalanceMinor + 1}))
	var p *portal.Problem
	if !errors.As(err, &p) || p.Status != http.StatusConflict || p.Kind() != "conflict" {
		t.Fatalf("overdraft: %v", err)
	}
	_, err = portal.Result(c.API.BankingAccountTransferWithResponse(ctx, cur.Id, nil, sdk.BankingAccountTransferJSONRequestBody{ToAccountId: sav.Id, AmountMinor: 0}))
	if !errors.As(err, &p) || p.Status != http.StatusUnprocessableEntity || p.Field("body.amount_minor") == "" {
		t.Fatalf("zero amount: %v", err)
	}
	other := signIn(t, base, "staff@demo.example")
	_, err = portal.Result(other.API.BankingAccountTransferWithResponse(ctx, cur.Id, nil, body))
	if !errors.As(err, &p) || (p.Status != http.StatusNotFound && p.Status != http.StatusForbidden) {
		t.Fatalf("staff moving the customer's money: %v", err)
	}
}

// Automotive: the owner finds a free slot at a service centre and books
// the car in; the booking shows in the list.
func TestAutomotiveOwnerBooksAServiceThroughTheSDK(t *testing.T) {
	_, base := start(t)
	ctx := context.Background()
	c := signIn(t, base, "customer@demo.example")
	vs, err := portal.Result(c.API.AutomotiveVehiclesWithResponse(ctx, nil))
	if err != nil || len(*vs.JSON200.Vehicles) == 0 {
		t.Fatalf("vehicles: %v", err)
	}
	car := (*vs.JSON200.Vehicles)[0]
	cs, err := portal.Result(c.API.AutomotiveCentresWithResponse(ctx))
	if err != nil || len(*cs.JSON200.Centres) == 0 {
		t.Fatalf("centres: %v", err)
	}
	var slot int64
	for _, centre := range *cs.JSON200.Centres {
		ss, err := portal.Result(c.API.AutomotiveCentreSlotsWithResponse(ctx, centre.Id, nil))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range *ss.JSON200.Slots {
			if s.Booked < s.Capacity {
				slot = s.Id
				break
			}
		}
		if slot != 0 {
			break
		}
	}
	if slot == 0 {
		t.Fatal("no free slot in the demo centres")
	}
	notes := "brakes squeak"
	b, err := portal.Result(c.API.AutomotiveBookWithResponse(ctx, nil, sdk.AutomotiveBookJSONRequestBody{VehicleId: car.Id, SlotId: slot, Notes: &notes}))
	if err != nil {
		t.Fatalf("book: %v", err)
	}
	if b.StatusCode() != http.StatusCreated {
		t.Fatalf("book: %d %s", b.StatusCode(), b.Body)
	}
	list, err := portal.Result(c.API.AutomotiveBookingsWithResponse(ctx))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, bk := range *list.JSON200.Bookings {
		found = found || (bk.SlotId == slot && bk.VehicleId == car.Id)
	}
	if !found {
		t.Fatalf("the booking is not listed: %s", list.Body)
	}
}

// The notification stream: a test notification arrives live; a client
// that comes back with the last ID it saw gets what it missed first.
func TestNotificationStreamResumesWithLastEventID(t *testing.T) {
	_, base := start(t)
	c := signIn(t, base, "customer@demo.example")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ready := make(chan struct{}, 4)
	send := func(msg string) {
		if _, err := portal.Result(c.API.NotificationsSendTestWithResponse(ctx, sdk.NotificationsSendTestJSONRequestBody{Message: &msg})); err != nil {
			t.Fatalf("send test notification: %v", err)
		}
	}
	var first portal.Notification
	// The first send runs once the stream is open; the test waits for its
	// answer before going on (it once ended while the answer was still on
	// its way, and the cancelled request failed the finished test).
	firstSent := make(chan error, 1)
	go func() {
		<-ready
		msg := "first"
		_, err := portal.Result(c.API.NotificationsSendTestWithResponse(ctx, sdk.NotificationsSendTestJSONRequestBody{Message: &msg}))
		firstSent <- err
	}()
	for n, err := range c.Notifications(ctx, portal.StreamOptions{Ready: func(int64) { ready <- struct{}{} }}) {
		if err != nil {
			t.Fatal(err)
		}
		if !isTest(n, "first") {
			// The portal's own jobs notify the demo customer too, and their
			// words may include "first" (an instalment, a service).
			continue
		}
		first = n
		break
	}
	if first.ID == 0 {
		t.Fatal("no live notification")
	}
	if err := <-firstSent; err != nil {
		t.Fatalf("send test notification: %v", err)
	}
	// Two notifications arrive while the client is away.
	send("second")
	send("third")
	var got, seen []string
	for n, err := range c.Notifications(ctx, portal.StreamOptions{LastEventID: first.Position}) {
		if err != nil {
			t.Fatal(err)
		}
		if !isTest(n, "") {
			continue
		}
		got = append(got, n.Body)
		// Which notification at which position: a failure tells a
		// notification sent twice from one event sent twice.
		seen = append(seen, fmt.Sprintf("notification %d at %d: %q", n.ID, n.Position, n.Body[strings.LastIndex(n.Body, ":")+1:]))
		if len(got) == 2 {
			break
		}
	}
	if len(got) != 2 || !strings.Contains(got[0], "second") || !strings.Contains(got[1], "third") {
		t.Fatalf("after reconnecting at %d (notification %d), the stream gave %q", first.Position, first.ID, seen)
	}
	// An API token has no inbox: the stream ends with a problem.
	tok, err := portal.New(base, portal.WithToken("pka_not_a_token"))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range tok.Notifications(ctx, portal.StreamOptions{}) {
		var p *portal.Problem
		if !errors.As(err, &p) || p.Status != http.StatusUnauthorized {
			t.Fatalf("bad token on the stream: %v", err)
		}
		break
	}
}

// isTest reports whether n is a test notification (notifications-send-test)
// and, unless message is "", one sent with message.
func isTest(n portal.Notification, message string) bool {
	return n.Kind == "notify.test" && (message == "" || strings.HasSuffix(n.Body, "Message: "+message))
}

// Pagination: the activity list, two entries a page, walked with
// portal.Pages, gives every entry once, newest first.
func TestActivityPagesThroughTheSDK(t *testing.T) {
	_, base := start(t)
	c := signIn(t, base, "customer@demo.example")
	for range 3 { // each sign-in is an activity entry
		signIn(t, base, "customer@demo.example")
	}
	ctx := context.Background()
	limit := int64(2)
	pages := 0
	seen := map[int64]bool{}
	var prev time.Time
	for item, err := range portal.Pages(ctx, func(ctx context.Context, cursor string) ([]sdk.Item, string, error) {
		pages++
		p := &sdk.TimelineMeParams{Limit: &limit}
		if cursor != "" {
			p.Cursor = &cursor
		}
		res, err := portal.Result(c.API.TimelineMeWithResponse(ctx, p))
		if err != nil {
			return nil, "", err
		}
		next := ""
		if res.JSON200.NextCursor != nil {
			next = *res.JSON200.NextCursor
		}
		return *res.JSON200.Items, next, nil
	}) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[item.Id] || (!prev.IsZero() && item.At.After(prev)) {
			t.Fatalf("item %d repeated or out of order", item.Id)
		}
		seen[item.Id], prev = true, item.At
	}
	if len(seen) < 4 || pages < 2 {
		t.Fatalf("%d items over %d pages", len(seen), pages)
	}
}
