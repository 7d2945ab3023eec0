package portaltest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// Scenario is one HTTP request against a TestApp and what must come back.
type Scenario struct {
	Name   string
	Method string
	URL    string
	// Body is sent as is when it is a string or []byte, else as JSON.
	Body    any
	Headers map[string]string
	// Before runs before the request (create fixtures, reset state).
	Before func(t testing.TB, app *TestApp)
	// After runs after the assertions, for checks the fields cannot express.
	After func(t testing.TB, app *TestApp, res *Response)

	ExpectedStatus     int
	ExpectedContent    []string          // substrings the body must contain
	NotExpectedContent []string          // substrings it must not contain
	ExpectedHeaders    map[string]string // header -> substring of its value
	ExpectedEvents     []string          // event names that must fire
	NotExpectedEvents  []string          // event names that must not fire
}

// Response is what a scenario received.
type Response struct {
	Status  int
	Header  http.Header
	Body    string
	Cookies []*http.Cookie
}

// JSON decodes the body into v, failing t on error.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		t.Fatalf("response is not JSON (%v): %s", err, r.Body)
	}
}

// Do sends one request to the app in memory and returns the response.
func (ta *TestApp) Do(t testing.TB, method, url string, body any, headers map[string]string) *Response {
	t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("scenario body: %v", err)
		}
		rd = bytes.NewReader(buf)
		ctype = "application/json"
	}
	req := httptest.NewRequest(method, url, rd)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := ta.Web.App.Test(req, 30_000)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &Response{Status: res.StatusCode, Header: res.Header, Body: string(b), Cookies: res.Cookies()}
}

// WithHeaders returns a copy of h with the header names and values kv
// (name, value, name, value...) set.
func WithHeaders(h map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(h)+len(kv)/2)
	for k, v := range h {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// Run runs the scenario as a subtest of t.
func (s Scenario) Run(t *testing.T, ta *TestApp) {
	t.Helper()
	name := s.Name
	if name == "" {
		name = s.Method + " " + s.URL
	}
	t.Run(name, func(t *testing.T) {
		if s.Before != nil {
			s.Before(t, ta)
		}
		ta.ResetEvents()
		res := ta.Do(t, s.Method, s.URL, s.Body, s.Headers)
		if s.ExpectedStatus != 0 && res.Status != s.ExpectedStatus {
			t.Fatalf("status = %d, want %d; body: %s", res.Status, s.ExpectedStatus, truncate(res.Body))
		}
		for _, want := range s.ExpectedContent {
			if !strings.Contains(res.Body, want) {
				t.Errorf("body lacks %q; body: %s", want, truncate(res.Body))
			}
		}
		for _, bad := range s.NotExpectedContent {
			if strings.Contains(res.Body, bad) {
				t.Errorf("body contains %q but must not; body: %s", bad, truncate(res.Body))
			}
		}
		for h, want := range s.ExpectedHeaders {
			if got := res.Header.Get(h); !strings.Contains(got, want) {
				t.Errorf("header %s = %q, want it to contain %q", h, got, want)
			}
		}
		fired := ta.Events()
		for _, ev := range s.ExpectedEvents {
			if !slices.Contains(fired, ev) {
				t.Errorf("event %q did not fire; fired: %v", ev, fired)
			}
		}
		for _, ev := range s.NotExpectedEvents {
			if slices.Contains(fired, ev) {
				t.Errorf("event %q fired but must not", ev)
			}
		}
		if s.After != nil {
			s.After(t, ta, res)
		}
	})
}

// RunScenarios runs each scenario as a subtest.
func RunScenarios(t *testing.T, ta *TestApp, scenarios []Scenario) {
	t.Helper()
	for _, s := range scenarios {
		s.Run(t, ta)
	}
}

func truncate(s string) string {
	if len(s) > 2000 {
		return s[:2000] + fmt.Sprintf("… (%d bytes)", len(s))
	}
	return s
}
