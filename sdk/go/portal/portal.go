// Package portal is the Go SDK of the PortalKit JSON API: the generated
// client of package api plus what every integrator would otherwise write by
// hand — signing in with a password or an API token, problem details as a
// Go error (errors.As(err, &p) with p *portal.Problem), retries of 429 and
// 503 that honour Retry-After, an Idempotency-Key on every POST (so a retry
// never acts twice), pagination as an iterator and the live notification
// stream with reconnect and Last-Event-ID. Every call takes a context.
//
//	c, _ := portal.New("https://portal.example.com")
//	if err := c.SignIn(ctx, "demo", "customer@demo.example", password); err != nil { ... }
//	me, err := portal.Result(c.API.MeWithResponse(ctx))
//
// The module is github.com/portalkit/portalkit/sdk/go and depends on the
// standard library and oapi-codegen's runtime only.
package portal

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/portalkit/portalkit/sdk/go/api"
)

// Client talks to one portal. It is safe for concurrent use.
type Client struct {
	// API is the generated client: one method per operation
	// (XxxWithResponse decodes every documented status). Pass its results
	// through Result to get problems as errors.
	API *api.ClientWithResponses

	base    string
	http    *http.Client // requests (with the caller's timeout)
	stream  *http.Client // the notification stream (no timeout)
	retries int
	maxWait time.Duration
	noKeys  bool

	mu    sync.RWMutex
	token string
}

// Option configures a Client.
type Option func(*Client)

// WithToken authenticates every call with a bearer token: an integrator's
// API token (pka_...) or a session token from SignIn.
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithHTTPClient sends requests through h (its Transport and Timeout are
// kept; retries and headers are added around its Transport).
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) { c.http = h }
}

// WithRetries sets how many times a request answered 429 or 503 is retried
// (default 3), waiting what Retry-After says, at most maxWait per wait
// (default 30 s). WithRetries(0, 0) turns retries off.
func WithRetries(n int, maxWait time.Duration) Option {
	return func(c *Client) { c.retries, c.maxWait = n, maxWait }
}

// WithoutIdempotencyKeys stops the client from adding an Idempotency-Key to
// POSTs that carry none.
func WithoutIdempotencyKeys() Option { return func(c *Client) { c.noKeys = true } }

// New returns a client of the portal at baseURL (its http.base_url, e.g.
// https://portal.example.com).
func New(baseURL string, opts ...Option) (*Client, error) {
	c := &Client{base: strings.TrimRight(baseURL, "/"), retries: 3, maxWait: 30 * time.Second}
	for _, o := range opts {
		o(c)
	}
	if c.base == "" {
		return nil, errors.New("portal: a base URL is required")
	}
	hc := c.http
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	t := &transport{c: c, next: next}
	c.http = &http.Client{Transport: t, Timeout: hc.Timeout, Jar: hc.Jar, CheckRedirect: hc.CheckRedirect}
	c.stream = &http.Client{Transport: t, Jar: hc.Jar, CheckRedirect: hc.CheckRedirect}
	cl, err := api.NewClientWithResponses(c.base, api.WithHTTPClient(c.http))
	if err != nil {
		return nil, err
	}
	c.API = cl
	return c, nil
}

// Token returns the bearer token in use ("" before SignIn or WithToken).
func (c *Client) Token() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.token
}

// SetToken replaces the bearer token (e.g. one kept from an earlier
// SignIn).
func (c *Client) SetToken(token string) {
	c.mu.Lock()
	c.token = token
	c.mu.Unlock()
}

// SignIn signs in with a person's password and keeps the session's bearer
// token for every later call. Wrong credentials are a *Problem with status
// 401; too many attempts one with status 429 and RetryAfter.
func (c *Client) SignIn(ctx context.Context, org, email, password string) error {
	res, err := Result(c.API.AuthLoginWithResponse(ctx, api.AuthLoginJSONRequestBody{Org: org, Email: email, Password: password}))
	if err != nil {
		return err
	}
	if res.JSON200 == nil || res.JSON200.Token == "" {
		return errors.New("portal: sign-in answered without a token")
	}
	c.SetToken(res.JSON200.Token)
	return nil
}

// SignOut ends the session of the token in use and forgets it.
func (c *Client) SignOut(ctx context.Context) error {
	_, err := Result(c.API.AuthLogoutWithResponse(ctx))
	c.SetToken("")
	return err
}
