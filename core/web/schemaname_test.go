package web

import (
	"reflect"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

type localReport struct{}

func TestSchemaNamesOfModulesArePrefixed(t *testing.T) {
	// A type of this package (core) keeps its name; a type from outside
	// core is prefixed with its package, through pointers and slices.
	if got := SchemaName(reflect.TypeOf(Problem{}), "x"); got != "Problem" {
		t.Errorf("core type: %q", got)
	}
	if got := SchemaName(reflect.TypeOf(time.Time{}), "x"); got != "Time" {
		t.Errorf("standard library type: %q, want Time unchanged", got)
	}
	if got := SchemaName(reflect.TypeOf(localReport{}), "x"); got != "LocalReport" {
		t.Errorf("core type: %q", got)
	}
	// A module's type (here a third-party one, as an integrator's module
	// would be) is prefixed, also behind a pointer, and a /v2 suffix is skipped.
	if got := SchemaName(reflect.TypeOf(&huma.ErrorDetail{}), "x"); got != "HumaErrorDetail" {
		t.Errorf("module type: %q", got)
	}
	// An unnamed type is named after its operation, in a form client
	// generators keep; a response body never ends in "Response".
	anon := reflect.TypeOf(struct{ A int }{})
	for hint, want := range map[string]string{
		"Banking-goal-messageRequest":  "BankingGoalMessageRequest",
		"Banking-goal-messageResponse": "BankingGoalMessageOutput",
		"notes_createResponseItem":     "NotesCreateResponseItem",
	} {
		if got := SchemaName(anon, hint); got != want {
			t.Errorf("unnamed %q: %q, want %q", hint, got, want)
		}
	}
}
