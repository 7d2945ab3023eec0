package drafts_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/experience/drafts"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
)

const key = "banking.savings_open"

var with = portaltest.WithHeaders

type savedBody struct {
	Key  string         `json:"key"`
	Data map[string]any `json:"data"`
}

// TestDraftResumesOnASecondDevice: a draft saved from one session is offered
// and loaded in another session of the same person, and not to anyone else.
func TestDraftResumesOnASecondDevice(t *testing.T) {
	ta := portaltest.New(t, nil)
	laptop := ta.CookieAuth(t, "acme", "chiara@acme.example", accounts.Customer)
	phone := ta.CookieAuth(t, "acme", "chiara@acme.example", accounts.Customer)
	carlo := ta.CookieAuth(t, "acme", "carlo@acme.example", accounts.Customer)
	if laptop["Cookie"] == phone["Cookie"] {
		t.Fatal("the two devices share a session; the test would prove nothing")
	}
	fields := map[string]any{"amount": "2500", "goal": "Holiday", "step": "2", "terms": []any{"yes"}}
	res := ta.Do(t, http.MethodPut, "/api/v1/drafts/"+key, map[string]any{"data": fields}, laptop)
	if res.Status != http.StatusOK {
		t.Fatalf("save: %d %s", res.Status, res.Body)
	}

	res = ta.Do(t, http.MethodGet, "/api/v1/drafts/"+key, nil, phone)
	if res.Status != http.StatusOK {
		t.Fatalf("load on the phone: %d %s", res.Status, res.Body)
	}
	var got savedBody
	res.JSON(t, &got)
	if got.Data["amount"] != "2500" || got.Data["goal"] != "Holiday" || got.Data["step"] != "2" {
		t.Fatalf("phone loaded %v, want the laptop's fields", got.Data)
	}
	if terms, _ := got.Data["terms"].([]any); len(terms) != 1 || terms[0] != "yes" {
		t.Fatalf("multi-value field lost: %v", got.Data["terms"])
	}
	// The list shows it (without fields) on the phone too.
	res = ta.Do(t, http.MethodGet, "/api/v1/drafts", nil, phone)
	if res.Status != http.StatusOK || !strings.Contains(res.Body, `"key":"`+key+`"`) || strings.Contains(res.Body, "Holiday") {
		t.Fatalf("list: %d %s", res.Status, res.Body)
	}

	// Another customer neither loads nor deletes it, and their own draft
	// under the same key is separate.
	if r := ta.Do(t, http.MethodGet, "/api/v1/drafts/"+key, nil, carlo); r.Status != http.StatusNotFound {
		t.Fatalf("another customer loaded the draft: %d %s", r.Status, r.Body)
	}
	if r := ta.Do(t, http.MethodDelete, "/api/v1/drafts/"+key, nil, carlo); r.Status != http.StatusNotFound {
		t.Fatalf("another customer deleted the draft: %d %s", r.Status, r.Body)
	}
	if r := ta.Do(t, http.MethodPut, "/api/v1/drafts/"+key, map[string]any{"data": map[string]any{"goal": "Car"}}, carlo); r.Status != http.StatusOK {
		t.Fatalf("carlo's own draft: %d %s", r.Status, r.Body)
	}
	res = ta.Do(t, http.MethodGet, "/api/v1/drafts/"+key, nil, phone)
	res.JSON(t, &got)
	if got.Data["goal"] != "Holiday" {
		t.Fatalf("carlo's save changed chiara's draft: %v", got.Data)
	}

	// A page offers it on the phone through ForPage.
	ta.Web.App.Get("/test/draft-offer", func(c *fiber.Ctx) error {
		o, err := drafts.ForPage(c, key)
		if err != nil {
			return err
		}
		return c.JSON(o)
	})
	res = ta.Do(t, http.MethodGet, "/test/draft-offer", nil, phone)
	if !strings.Contains(res.Body, `"Saved":true`) {
		t.Fatalf("ForPage on the phone: %s", res.Body)
	}
	res = ta.Do(t, http.MethodGet, "/test/draft-offer", nil, ta.CookieAuth(t, "acme", "dora@acme.example", accounts.Customer))
	if !strings.Contains(res.Body, `"Saved":false`) {
		t.Fatalf("ForPage for someone without a draft: %s", res.Body)
	}

	// Start over on the phone: gone on the laptop.
	if r := ta.Do(t, http.MethodDelete, "/api/v1/drafts/"+key, nil, phone); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := ta.Do(t, http.MethodGet, "/api/v1/drafts/"+key, nil, laptop); r.Status != http.StatusNotFound {
		t.Fatalf("deleted draft still loads: %d", r.Status)
	}
}

// TestDraftRefusals: CSRF, size, key, tokens, anonymous.
func TestDraftRefusals(t *testing.T) {
	ta := portaltest.New(t, nil)
	web := ta.CookieAuth(t, "acme", "chiara@acme.example", accounts.Customer)
	noCSRF := map[string]string{"Cookie": web["Cookie"]}
	body := map[string]any{"data": map[string]any{"a": "b"}}
	portaltest.RunScenarios(t, ta, []portaltest.Scenario{
		{Name: "cookie without CSRF token", Method: http.MethodPut, URL: "/api/v1/drafts/" + key, Body: body, Headers: noCSRF, ExpectedStatus: http.StatusForbidden},
		{Name: "cookie with a wrong CSRF token", Method: http.MethodPut, URL: "/api/v1/drafts/" + key, Body: body,
			Headers: with(noCSRF, accounts.CSRFHeader, "forged"), ExpectedStatus: http.StatusForbidden},
		{Name: "nothing was saved", Method: http.MethodGet, URL: "/api/v1/drafts/" + key, Headers: web, ExpectedStatus: http.StatusNotFound},
		{Name: "over drafts.max_bytes", Method: http.MethodPut, URL: "/api/v1/drafts/" + key, Headers: web,
			Body: map[string]any{"data": map[string]any{"notes": strings.Repeat("x", 70_000)}}, ExpectedStatus: http.StatusRequestEntityTooLarge,
			ExpectedContent: []string{"at most 65536"}},
		{Name: "bad key", Method: http.MethodPut, URL: "/api/v1/drafts/Not-A-Key", Headers: web, Body: body, ExpectedStatus: http.StatusUnprocessableEntity,
			ExpectedContent: []string{"key"}},
		{Name: "key without a module part", Method: http.MethodGet, URL: "/api/v1/drafts/form", Headers: web, ExpectedStatus: http.StatusUnprocessableEntity},
		{Name: "anonymous", Method: http.MethodPut, URL: "/api/v1/drafts/" + key, Body: body, ExpectedStatus: http.StatusUnauthorized},
		{Name: "still nothing saved", Method: http.MethodGet, URL: "/api/v1/drafts/" + key, Headers: web, ExpectedStatus: http.StatusNotFound},
	})
	// API tokens hold no drafts.
	admin := ta.User(t, "acme", "ada@acme.example", accounts.Admin)
	_ = admin
	ap := ta.Principal(t, ta.Login(t, "acme", "ada@acme.example"))
	ct, err := ta.Accounts.CreateToken(context.Background(), ap, accounts.NewToken{Name: "t", Scopes: []string{"*"}, ExpiresIn: time.Hour}, "")
	if err != nil {
		t.Fatal(err)
	}
	if r := ta.Do(t, http.MethodPut, "/api/v1/drafts/"+key, body, portaltest.Bearer(ct.Secret)); r.Status != http.StatusForbidden {
		t.Fatalf("token saved a draft: %d %s", r.Status, r.Body)
	}
}

// TestClearInTheSubmitTransaction: a rolled-back submission keeps the draft;
// a committed one removes it.
func TestClearInTheSubmitTransaction(t *testing.T) {
	ta := portaltest.New(t, nil)
	web := ta.CookieAuth(t, "acme", "chiara@acme.example", accounts.Customer)
	u := ta.User(t, "acme", "chiara@acme.example", accounts.Customer)
	if r := ta.Do(t, http.MethodPut, "/api/v1/drafts/"+key, map[string]any{"data": map[string]any{"amount": "10"}}, web); r.Status != 200 {
		t.Fatalf("save: %d %s", r.Status, r.Body)
	}
	ctx := context.Background()
	boom := errors.New("submission failed")
	err := ta.Store.Tx(ctx, func(tx *gorm.DB) error {
		if err := drafts.Clear(ctx, tx, u.OrgID, u.ID, key); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if r := ta.Do(t, http.MethodGet, "/api/v1/drafts/"+key, nil, web); r.Status != http.StatusOK {
		t.Fatalf("a rolled-back submit cleared the draft: %d", r.Status)
	}
	if err := ta.Store.Tx(ctx, func(tx *gorm.DB) error { return drafts.Clear(ctx, tx, u.OrgID, u.ID, key) }); err != nil {
		t.Fatal(err)
	}
	if r := ta.Do(t, http.MethodGet, "/api/v1/drafts/"+key, nil, web); r.Status != http.StatusNotFound {
		t.Fatalf("a committed submit left the draft: %d", r.Status)
	}
	if err := drafts.Clear(ctx, ta.Store.DB, u.OrgID, u.ID, "Bad Key"); err == nil {
		t.Fatal("Clear accepted a malformed key")
	}
}

// TestDraftsExpireAndPurge: past drafts.ttl a draft is no longer offered,
// and Purge deletes exactly the expired ones.
func TestDraftsExpireAndPurge(t *testing.T) {
	ta := portaltest.New(t, nil)
	web := ta.CookieAuth(t, "acme", "chiara@acme.example", accounts.Customer)
	now := time.Date(2030, 3, 1, 9, 0, 0, 0, time.UTC)
	ta.Drafts.SetClock(func() time.Time { return now })
	save := func(k string) {
		if r := ta.Do(t, http.MethodPut, "/api/v1/drafts/"+k, map[string]any{"data": map[string]any{"a": k}}, web); r.Status != 200 {
			t.Fatalf("save %s: %d %s", k, r.Status, r.Body)
		}
	}
	save("banking.old")
	now = now.Add(ta.Config.Drafts.TTL - time.Hour)
	save("banking.recent")
	now = now.Add(2 * time.Hour) // old is past its TTL by an hour
	if r := ta.Do(t, http.MethodGet, "/api/v1/drafts/banking.old", nil, web); r.Status != http.StatusNotFound {
		t.Fatalf("expired draft loads: %d", r.Status)
	}
	if r := ta.Do(t, http.MethodGet, "/api/v1/drafts", nil, web); strings.Contains(r.Body, "banking.old") || !strings.Contains(r.Body, "banking.recent") {
		t.Fatalf("list: %s", r.Body)
	}
	n, err := ta.Drafts.Purge(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("purge = %d, %v; want 1", n, err)
	}
	var left []drafts.Draft
	if err := store.AllOrgs(ta.Store.DB).Find(&left).Error; err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0].Key != "banking.recent" {
		t.Fatalf("after purge: %+v", left)
	}
	// Saving again restarts the TTL.
	save("banking.recent")
	if r := ta.Do(t, http.MethodGet, "/api/v1/drafts/banking.recent", nil, web); r.Status != http.StatusOK {
		t.Fatalf("re-saved draft: %d", r.Status)
	}
}
