package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/web"
)

func TestDeprecatedOperationSendsDeprecationAndSunset(t *testing.T) {
	s, err := web.New(config.Default(), slog.New(slog.NewTextHandler(io.Discard, nil)), web.BuildInfo{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	since := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	sunset := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	type out struct{ Body struct{ OK bool } }
	old := huma.Operation{OperationID: "old", Method: http.MethodGet, Path: "/api/v1/old"}
	web.Deprecated(web.Deprecation{Since: since, Sunset: sunset, Successor: "/api/v1/new"})(&old)
	huma.Register(s.API, old, func(ctx context.Context, _ *struct{}) (*out, error) {
		return &out{}, nil
	})
	huma.Register(s.API, huma.Operation{OperationID: "new", Method: http.MethodGet, Path: "/api/v1/new"}, func(ctx context.Context, _ *struct{}) (*out, error) {
		return &out{}, nil
	})
	res, err := s.App.Test(httptest.NewRequest("GET", "/api/v1/old", nil))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || res.Header.Get("Deprecation") != "@1772323200" || res.Header.Get("Sunset") != "Tue, 01 Sep 2026 00:00:00 GMT" ||
		res.Header.Get("Link") != `</api/v1/new>; rel="successor-version"` {
		t.Fatalf("deprecated: %d %v", res.StatusCode, res.Header)
	}
	res, _ = s.App.Test(httptest.NewRequest("GET", "/api/v1/new", nil))
	if res.Header.Get("Deprecation") != "" || res.Header.Get("Sunset") != "" {
		t.Fatalf("current operation marked deprecated: %v", res.Header)
	}
	op := s.API.OpenAPI().Paths["/api/v1/old"].Get
	if !op.Deprecated {
		t.Fatal("document does not mark the operation deprecated")
	}
	// Problem responses follow from the operation's shape: a body-less,
	// parameter-less GET documents none of 400/413/422.
	if _, ok := op.Responses["422"]; ok {
		t.Fatalf("responses %v", op.Responses)
	}
}

func TestProblemResponsesFollowTheOperation(t *testing.T) {
	s, err := web.New(config.Default(), slog.New(slog.NewTextHandler(io.Discard, nil)), web.BuildInfo{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	s.DocumentProblems(func(op *huma.Operation) []int { return []int{http.StatusUnauthorized} })
	type in struct {
		ID   int `path:"id"`
		Body struct {
			Name string `json:"name" minLength:"2" maxLength:"4"`
			N    int    `json:"n" minimum:"3"`
			When string `json:"when" format:"date"`
		}
	}
	op := huma.Operation{OperationID: "make", Method: http.MethodPost, Path: "/api/v1/things/{id}/parts"}
	web.Idempotent()(&op)
	web.Problems(http.StatusServiceUnavailable)(&op)
	huma.Register(s.API, op, func(ctx context.Context, _ *in) (*struct{}, error) { return nil, nil })
	got := s.API.OpenAPI().Paths["/api/v1/things/{id}/parts"].Post
	for _, code := range []string{"400", "401", "409", "413", "422", "503"} {
		r := got.Responses[code]
		if r == nil || r.Content["application/problem+json"] == nil || r.Content["application/problem+json"].Schema.Ref != "#/components/schemas/Problem" {
			t.Errorf("%s not documented as a problem: %+v", code, r)
		}
	}
	if _, ok := got.Responses["404"]; ok {
		t.Error("404 documented without a rule that gives it")
	}
	ex, _ := got.RequestBody.Content["application/json"].Example.(map[string]any)
	if ex["name"] != "exam" || ex["n"] != int64(3) || ex["when"] != "2026-06-01" {
		t.Errorf("request example %v does not meet the schema", ex)
	}
}
