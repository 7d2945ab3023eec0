package all_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	_ "github.com/portalkit/portalkit/verticals/all"
)

// TestHelpSearchQuestions asks the help centre, with every bundled module
// enabled, the questions of testdata/help-questions.yaml and wants the
// expected article among the first three answers for at least 90% of
// them in each language. It prints the score (docs/experience.md).
func TestHelpSearchQuestions(t *testing.T) {
	raw, err := os.ReadFile("testdata/help-questions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var set map[string][]struct{ Q, Want string }
	if err := yaml.Unmarshal(raw, &set); err != nil {
		t.Fatalf("help-questions.yaml: %v", err)
	}
	ta := portaltest.New(t, module.Registered())
	ta.User(t, "acme", "cust@acme.example", accounts.Customer)
	p := ta.Principal(t, ta.Login(t, "acme", "cust@acme.example"))
	ctx := context.Background()
	for _, locale := range []string{"en", "it"} {
		questions := set[locale]
		if len(questions) < 30 {
			t.Fatalf("%s: %d questions, want at least 30", locale, len(questions))
		}
		r, err := ta.Help.ReaderFor(ctx, p, "", locale)
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		var misses []string
		for _, q := range questions {
			hits, err := ta.Help.Search(ctx, r, q.Q, 3)
			if err != nil {
				t.Fatalf("%s %q: %v", locale, q.Q, err)
			}
			var got []string
			ok := false
			for _, h := range hits {
				got = append(got, h.Slug)
				ok = ok || h.Slug == q.Want
			}
			if ok {
				found++
			} else {
				misses = append(misses, fmt.Sprintf("%q → %v, want %s", q.Q, got, q.Want))
			}
		}
		score := float64(found) / float64(len(questions))
		t.Logf("%s on %s: %d of %d questions answered in the top 3 (%.1f%%)", locale, portaltest.Dialect(), found, len(questions), 100*score)
		if len(misses) > 0 {
			t.Logf("%s misses:\n  %s", locale, strings.Join(misses, "\n  "))
		}
		if score < 0.9 {
			t.Errorf("%s: top-3 score %.1f%%, want at least 90%%", locale, 100*score)
		}
	}
}
