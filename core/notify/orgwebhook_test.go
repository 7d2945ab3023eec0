package notify_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/portaltest"
)

// An organisation-level event reaches the organisation's subscribed
// endpoints once per dedupe key, with no person in the payload, and never
// another organisation's endpoints or anyone's inbox.
func TestSendOrgWebhookReachesTheOrganisationsEndpoints(t *testing.T) {
	recv := portaltest.NewWebhookReceiver(t)

	e := newEnv(t, envOpt{workers: true})
	res := e.ta.Do(t, "POST", "/api/v1/notifications/admin/webhooks", map[string]any{"url": recv.URL, "kinds": []string{"shop.shipped"}}, e.ada.headers)
	if res.Status != 201 {
		t.Fatalf("create webhook: %d %s", res.Status, res.Body)
	}
	var created struct {
		Secret string `json:"secret"`
	}
	res.JSON(t, &created)
	recv.SetSecret(created.Secret)

	send := func(ev notify.OrgEvent) (bool, error) {
		var sent bool
		err := e.ta.Store.Tx(context.Background(), func(tx *gorm.DB) error {
			var err error
			sent, err = e.svc.SendOrgWebhook(context.Background(), tx, ev)
			return err
		})
		return sent, err
	}
	ev := notify.OrgEvent{OrgID: e.org1, Kind: "shop.shipped", Data: map[string]any{"parcel": "P-1"}, DedupeKey: "parcel:1"}
	if sent, err := send(ev); err != nil || !sent {
		t.Fatalf("first send: %v %v", sent, err)
	}
	if sent, err := send(ev); err != nil || sent {
		t.Fatalf("the same key again was sent: %v %v", sent, err)
	}
	// Not subscribed, and another organisation: nothing for this endpoint.
	if _, err := send(notify.OrgEvent{OrgID: e.org1, Kind: "shop.security", DedupeKey: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := send(notify.OrgEvent{OrgID: e.org2, Kind: "shop.shipped", DedupeKey: "parcel:1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := send(notify.OrgEvent{OrgID: e.org1, Kind: "shop.nope"}); err == nil || !strings.Contains(err.Error(), "kind") {
		t.Fatalf("an undeclared kind: %v", err)
	}
	eventually(t, 20*time.Second, "the event delivered", func() bool {
		got, _, _ := recv.Received()
		return len(got) == 1
	})
	time.Sleep(300 * time.Millisecond) // room for a wrong second delivery
	got, _, hdrs := recv.Received()
	if len(got) != 1 || got[0].UserID != 0 || got[0].OrgID != e.org1 || got[0].Type != "shop.shipped" || got[0].Data["parcel"] != "P-1" || hdrs[0] != "shop.shipped" {
		t.Fatalf("deliveries: %+v %v", got, hdrs)
	}
	// Nobody's inbox shows it.
	if res := e.ta.Do(t, "GET", "/api/v1/notifications", nil, e.ada.headers); res.Status != 200 || strings.Contains(res.Body, "shop.shipped") {
		t.Fatalf("the admin's inbox: %d %s", res.Status, res.Body)
	}
}

// town declares an organisation-level kind: no default channel, not
// mutable.
type town struct{}

func (town) Info() module.Info {
	return module.Info{ID: "town", Name: "Town", Version: "1.0.0", Description: "An organisation-level kind for tests."}
}

func (town) Init(h module.Host) error {
	h.Notification(notify.Kind{ID: "town.road_closed", Title: "Road closed", Templates: os.DirFS("testdata/orgkinds")})
	return nil
}

// An organisation-level kind is declared without channels, sent with
// SendOrgWebhook, and left out of everyone's preferences (nothing to
// choose), while person kinds stay.
func TestOrgOnlyKindIsNotAPreference(t *testing.T) {
	ta := portaltest.New(t, []module.Module{shop{}, town{}})
	u := ta.User(t, acme, "ada@example.com", accounts.Admin)
	ctx := context.Background()
	prefs, err := ta.Notify.Preferences(ctx, u.OrgID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, k := range prefs.Kinds {
		kinds = append(kinds, k.Kind)
	}
	if slices.Contains(kinds, "town.road_closed") || !slices.Contains(kinds, "shop.shipped") {
		t.Fatalf("preference kinds: %v", kinds)
	}
	err = ta.Store.Tx(ctx, func(tx *gorm.DB) error {
		sent, err := ta.Notify.SendOrgWebhook(ctx, tx, notify.OrgEvent{OrgID: u.OrgID, Kind: "town.road_closed", Data: map[string]any{"road": "Via Po"}})
		if err == nil && !sent {
			err = errors.New("not sent")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
