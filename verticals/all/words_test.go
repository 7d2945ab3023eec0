package all_test

import (
	"context"
	"testing"

	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
)

// TestWordsAdminsReadHaveItalian: the platform pages show every job's
// description and every group kind's label; with every bundled module,
// each has Italian, so an Italian admin reads no English there (the crawl
// does not visit the platform pages).
func TestWordsAdminsReadHaveItalian(t *testing.T) {
	ta := portaltest.New(t, module.Registered())
	cat := ta.Web.Catalog()
	jobs, err := ta.Schedule.Jobs(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if j.Description == "" {
			t.Errorf("job %s has no description", j.Name)
		} else if !cat.Has("it", j.Description) {
			t.Errorf("job %s: no Italian for its description %q", j.Name, j.Description)
		}
	}
	for _, k := range ta.Accounts.GroupKinds() {
		if k.Label != "" && !cat.Has("it", k.Label) {
			t.Errorf("group kind %s: no Italian for its label %q", k.ID, k.Label)
		}
	}
}
