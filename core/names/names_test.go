package names_test

import (
	"strings"
	"testing"

	"github.com/portalkit/portalkit/core/names"
)

func TestTheOneRule(t *testing.T) {
	good := []error{
		names.ID("city_works"), names.Local("widget", "open_works"),
		names.Qualified("job", "banking.monthly_report", "banking"), names.Qualified("job", "x1.a", ""),
		names.Operation("banking-goal-add", "banking"), names.Operation("city-works-list", "city_works"),
	}
	for i, err := range good {
		if err != nil {
			t.Errorf("good name %d refused: %v", i, err)
		}
	}
	bad := []struct {
		err  error
		says string
	}{
		{names.ID("A"), `module ID "A"`},
		{names.ID("x"), "2-32"},
		{names.Local("widget", "Open"), `widget "Open"`},
		{names.Qualified("job", "monthly", ""), `job "monthly": want "<module id>.<name>"`},
		{names.Qualified("job", "banking.Monthly", ""), "lowercase"},
		{names.Qualified("job", "banking.a.b", ""), "want"},
		{names.Qualified("notification kind", "automotive.alert", "banking"), "must be named banking.<name>"},
		{names.Qualified("job", "banking."+strings.Repeat("a", 65), ""), "1-64"},
		{names.Operation("Notes_create", ""), "hyphens"},
		{names.Operation("notes-create", "banking"), `must start with "banking-"`},
	}
	for _, c := range bad {
		if c.err == nil || !strings.Contains(c.err.Error(), c.says) {
			t.Errorf("error %v does not say %q", c.err, c.says)
		}
	}
}
