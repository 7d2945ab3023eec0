package portal

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"time"
)

// transport adds the bearer token and an Idempotency-Key, and retries 429
// and 503 answers after the wait Retry-After names.
type transport struct {
	c    *Client
	next http.RoundTripper
}

// NewIdempotencyKey returns a random key for one intended action.
func NewIdempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if tok := t.c.Token(); tok != "" && r.Header.Get("Authorization") == "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	if r.Method == http.MethodPost && !t.c.noKeys && r.Header.Get("Idempotency-Key") == "" {
		// The same key on every retry below: the portal acts once.
		r.Header.Set("Idempotency-Key", NewIdempotencyKey())
	}
	var body []byte
	if r.Body != nil && r.GetBody == nil && t.c.retries > 0 {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	for attempt := 0; ; attempt++ {
		res, err := t.next.RoundTrip(r)
		if err != nil || attempt >= t.c.retries || (res.StatusCode != http.StatusTooManyRequests && res.StatusCode != http.StatusServiceUnavailable) {
			return res, err
		}
		wait := retryAfter(res.Header.Get("Retry-After"), attempt)
		if wait > t.c.maxWait {
			return res, nil // longer than the caller accepts: hand the answer back
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
		timer := time.NewTimer(wait)
		select {
		case <-r.Context().Done():
			timer.Stop()
			return nil, r.Context().Err()
		case <-timer.C:
		}
		if r.GetBody != nil {
			b, err := r.GetBody()
			if err != nil {
				return nil, err
			}
			r.Body = b
		}
	}
}

// retryAfter reads Retry-After (seconds or an HTTP date); without one it
// backs off 0.5 s, 1 s, 2 s, ...
func retryAfter(v string, attempt int) time.Duration {
	if v != "" {
		if s, err := strconv.Atoi(v); err == nil && s >= 0 {
			return time.Duration(s) * time.Second
		}
		if at, err := http.ParseTime(v); err == nil {
			if d := time.Until(at); d > 0 {
				return d
			}
			return 0
		}
	}
	return (500 * time.Millisecond) << attempt
}
