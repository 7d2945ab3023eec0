package portal_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/portalkit/portalkit/sdk/go/api"
	"github.com/portalkit/portalkit/sdk/go/portal"
)

// A server that is briefly unavailable: the SDK waits what Retry-After
// says, resends the same body with the same Idempotency-Key, and returns
// the answer that finally came.
func TestRetriesHonourRetryAfterWithOneKey(t *testing.T) {
	var mu sync.Mutex
	var keys []string
	var at []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		at = append(at, time.Now())
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(401)
			return
		}
		if len(keys) < 3 {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(503)
			_, _ = w.Write([]byte(`{"type":"https://portalkit.dev/problems/unavailable","title":"Service Unavailable","status":503}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(202)
		_, _ = w.Write([]byte(`{"id":7}`))
	}))
	defer srv.Close()
	c, err := portal.New(srv.URL, portal.WithToken("tok"))
	if err != nil {
		t.Fatal(err)
	}
	msg := "hi"
	res, err := portal.Result(c.API.NotificationsSendTestWithResponse(context.Background(), api.NotificationsSendTestJSONRequestBody{Message: &msg}))
	if err != nil || res.JSON202 == nil || res.JSON202.Id != 7 {
		t.Fatalf("after retries: %v %+v", err, res)
	}
	if len(keys) != 3 || keys[0] == "" || keys[0] != keys[1] || keys[1] != keys[2] {
		t.Fatalf("idempotency keys over the attempts: %q", keys)
	}
	if gap := at[1].Sub(at[0]); gap < 900*time.Millisecond {
		t.Fatalf("retried after %v, Retry-After said 1s", gap)
	}
}

// Without retries, a 503 is a *Problem with its Retry-After.
func TestProblemIsAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(422)
		_, _ = w.Write([]byte(`{"type":"https://portalkit.dev/problems/invalid","title":"Unprocessable Entity","status":422,"detail":"body.message: too long","request_id":"r1","errors":[{"location":"body.message","message":"too long"}]}`))
	}))
	defer srv.Close()
	c, _ := portal.New(srv.URL, portal.WithRetries(0, 0))
	msg := "x"
	_, err := portal.Result(c.API.NotificationsSendTestWithResponse(context.Background(), api.NotificationsSendTestJSONRequestBody{Message: &msg}))
	var p *portal.Problem
	if !errors.As(err, &p) || p.Status != 422 || p.Kind() != "invalid" || p.Field("body.message") != "too long" || p.RequestID != "r1" || p.RetryAfter != 30*time.Second {
		t.Fatalf("problem: %#v", err)
	}
}
