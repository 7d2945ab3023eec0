package portaltest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/notify"
)

// WebhookReceiver is an endpoint for an organisation's webhooks, as an
// integrator's would be: register URL as the organisation's endpoint, give
// it the secret the registration answered (SetSecret), and read what it
// received. A delivery whose signature does not verify is refused with 401
// and not kept.
type WebhookReceiver struct {
	URL string

	mu       sync.Mutex
	secret   string
	payloads []notify.WebhookPayload
	bodies   []string
	events   []string
}

// NewWebhookReceiver starts a receiver that stops when t ends.
func NewWebhookReceiver(t testing.TB) *WebhookReceiver {
	r := &WebhookReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := notify.VerifySignature(r.secret, req.Header.Get(notify.HeaderSignature), body, notify.DefaultTolerance, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var p notify.WebhookPayload
		if err := json.Unmarshal(body, &p); err != nil {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		r.payloads = append(r.payloads, p)
		r.bodies = append(r.bodies, string(body))
		r.events = append(r.events, req.Header.Get(notify.HeaderEvent))
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// SetSecret sets the secret deliveries are signed with.
func (r *WebhookReceiver) SetSecret(secret string) {
	r.mu.Lock()
	r.secret = secret
	r.mu.Unlock()
}

// Received returns the deliveries so far: their payloads, raw bodies and
// event headers, in order of arrival.
func (r *WebhookReceiver) Received() (payloads []notify.WebhookPayload, bodies, events []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notify.WebhookPayload(nil), r.payloads...), append([]string(nil), r.bodies...), append([]string(nil), r.events...)
}
