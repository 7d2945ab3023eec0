package education_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/verticals/education"
)

func waitForDelivery(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for the webhook", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestXAPIStatementPerGradedAttempt: grading an attempt sends one xAPI
// "completed" statement to the organisation's endpoint subscribed to
// education.xapi — the actor an account on the portal, never an e-mail —
// and another organisation's endpoint receives nothing.
func TestXAPIStatementPerGradedAttempt(t *testing.T) {
	recv := portaltest.NewWebhookReceiver(t)
	foreign := portaltest.NewWebhookReceiver(t)
	ta, _ := newApp(t)
	s := newSchool(t, ta)
	var hook struct {
		Secret string `json:"secret"`
	}
	do(t, ta, "POST", "/api/v1/notifications/admin/webhooks", map[string]any{"url": recv.URL, "kinds": []string{education.KindXAPI}}, s.admin, 201).JSON(t, &hook)
	recv.SetSecret(hook.Secret)
	otherAdmin := ta.As(t, "college", "admin@college.example", accounts.Admin)
	do(t, ta, "POST", "/api/v1/notifications/admin/webhooks", map[string]any{"url": foreign.URL, "kinds": []string{education.KindXAPI}}, otherAdmin, 201).JSON(t, &hook)
	foreign.SetSecret(hook.Secret)
	if err := ta.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ta.Stop(context.Background()) })

	ada, adaID := s.student(t, "ada@uni.example")
	g := takeQuiz(t, s, ada, 9)
	waitForDelivery(t, 20*time.Second, func() bool { got, _, _ := recv.Received(); return len(got) >= 1 })
	time.Sleep(300 * time.Millisecond)
	got, raw, events := recv.Received()
	if len(got) != 1 || got[0].Type != education.KindXAPI || events[0] != education.KindXAPI || got[0].UserID != 0 {
		t.Fatalf("deliveries: %+v %v", got, events)
	}
	if strings.Contains(raw[0], "ada@uni.example") || strings.Contains(raw[0], "mailto:") {
		t.Errorf("the statement carries the e-mail address: %s", raw[0])
	}
	st := got[0].Data
	actor, _ := st["actor"].(map[string]any)
	account, _ := actor["account"].(map[string]any)
	verb, _ := st["verb"].(map[string]any)
	object, _ := st["object"].(map[string]any)
	result, _ := st["result"].(map[string]any)
	score, _ := result["score"].(map[string]any)
	if st["version"] != "1.0.3" || actor["objectType"] != "Agent" || account["name"] != fmt.Sprint(adaID) || !strings.HasPrefix(fmt.Sprint(account["homePage"]), "http") {
		t.Errorf("actor: %v", st)
	}
	if verb["id"] != education.VerbCompleted || !strings.HasSuffix(fmt.Sprint(object["id"]), fmt.Sprintf("/m/education/modules/%d/quiz", s.module)) || object["objectType"] != "Activity" {
		t.Errorf("verb or object: %v %v", verb, object)
	}
	if score["raw"] != g.Score || score["max"] != g.MaxScore || score["min"] != 0.0 || score["scaled"] != 0.75 || result["success"] != true || result["completion"] != true {
		t.Errorf("result: %v (attempt %v/%v)", result, g.Score, g.MaxScore)
	}
	if id, _ := st["id"].(string); len(id) != 36 {
		t.Errorf("statement id: %v", st["id"])
	}
	if ts, err := time.Parse(time.RFC3339Nano, fmt.Sprint(st["timestamp"])); err != nil || ts.IsZero() {
		t.Errorf("timestamp: %v", st["timestamp"])
	}
	// A second attempt: its own statement, with its own ID; the first is not sent again.
	takeQuiz(t, s, ada, 3)
	waitForDelivery(t, 20*time.Second, func() bool { got, _, _ := recv.Received(); return len(got) >= 2 })
	time.Sleep(300 * time.Millisecond)
	if got, _, _ = recv.Received(); len(got) != 2 || got[1].Data["id"] == st["id"] {
		t.Fatalf("after a second attempt: %d deliveries", len(got))
	}
	if res, _ := got[1].Data["result"].(map[string]any); res["success"] != false {
		t.Errorf("a failed attempt's success: %v", res)
	}
	if f, _, _ := foreign.Received(); len(f) != 0 {
		t.Errorf("another organisation received the statement: %+v", f)
	}
}
