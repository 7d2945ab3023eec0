package api_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/portalkit/portalkit/core/portaltest"
)

// Oasdiff is the oasdiff release that finds breaking changes.
const Oasdiff = "github.com/oasdiff/oasdiff@v1.39.0"

// change is one breaking change as oasdiff reports it (--format json).
type change struct {
	ID          string `json:"id"`
	Text        string `json:"text"`
	Level       int    `json:"level"`
	Operation   string `json:"operation"`
	OperationID string `json:"operationId"`
	Path        string `json:"path"`
}

// breakingChanges runs oasdiff between two documents.
func breakingChanges(t *testing.T, base, rev string) []change {
	t.Helper()
	gobin, err := exec.LookPath("go")
	portaltest.RequireService(t, "the go command", err == nil, "oasdiff runs through `go run`")
	cmd := exec.Command(gobin, "run", Oasdiff, "breaking", base, rev, "--format", "json")
	out, err := cmd.Output()
	if err != nil {
		msg := string(out)
		if ee, ok := err.(*exec.ExitError); ok {
			msg += string(ee.Stderr)
		}
		if strings.Contains(msg, "dial tcp") || strings.Contains(msg, "no such host") {
			portaltest.RequireService(t, "the Go module proxy", false, msg)
		}
		t.Fatalf("oasdiff: %v\n%s", err, msg)
	}
	var cs []change
	if s := strings.TrimSpace(string(out)); s != "" && s != "null" {
		if err := json.Unmarshal(out, &cs); err != nil {
			t.Fatalf("oasdiff output: %v\n%s", err, out)
		}
	}
	return cs
}

// unreleased returns the "### Unreleased" section of docs/api.md's
// changelog.
func unreleased(t *testing.T, apiMD string) string {
	t.Helper()
	_, rest, ok := strings.Cut(apiMD, "\n## Changelog\n")
	if !ok {
		t.Fatal("docs/api.md has no \"## Changelog\" section")
	}
	_, sec, ok := strings.Cut(rest, "\n### Unreleased\n")
	if !ok {
		t.Fatal("docs/api.md's changelog has no \"### Unreleased\" section")
	}
	if i := strings.Index(sec, "\n### "); i >= 0 {
		sec = sec[:i]
	}
	if i := strings.Index(sec, "\n## "); i >= 0 {
		sec = sec[:i]
	}
	return sec
}

// unrecorded returns the breaking changes (level 3, errors) whose operation
// ID the changelog section does not name in backquotes.
func unrecorded(cs []change, section string) []change {
	var out []change
	for _, c := range cs {
		if c.Level < 3 {
			continue
		}
		if c.OperationID != "" && regexp.MustCompile("`"+regexp.QuoteMeta(c.OperationID)+"`").MatchString(section) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// TestBreakingChangesAreRecorded fails on a breaking change against the
// last release's document (api/released.json) that docs/api.md's changelog
// does not record under "### Unreleased" by its operation ID.
func TestBreakingChangesAreRecorded(t *testing.T) {
	onePass(t)
	md, err := os.ReadFile(filepath.Join("..", "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := unreleased(t, string(md))
	for _, c := range unrecorded(breakingChanges(t, "released.json", "openapi.json"), section) {
		t.Errorf("breaking change not in docs/api.md's changelog: %s %s (`%s`): %s [%s]", c.Operation, c.Path, c.OperationID, c.Text, c.ID)
	}
}

// TestBreakingChangeIsCaught proves the check above can fail: removing an
// operation and adding a required parameter are found, and only a
// changelog entry naming the operation lets them pass.
func TestBreakingChangeIsCaught(t *testing.T) {
	onePass(t)
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	paths := doc["paths"].(map[string]any)
	delete(paths, "/api/v1/banking/savings")
	post := paths["/api/v1/banking/accounts/{id}/transfers"].(map[string]any)["post"].(map[string]any)
	post["parameters"] = append(post["parameters"].([]any), map[string]any{"in": "query", "name": "channel", "required": true, "schema": map[string]any{"type": "string"}})
	rev := filepath.Join(t.TempDir(), "rev.json")
	b, _ := json.Marshal(doc)
	if err := os.WriteFile(rev, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cs := breakingChanges(t, "openapi.json", rev)
	got := unrecorded(cs, "- nothing yet\n")
	ids := map[string]bool{}
	for _, c := range got {
		ids[c.OperationID] = true
	}
	if !ids["banking-savings-open"] || !ids["banking-account-transfer"] {
		t.Fatalf("breaking changes not found: %+v", cs)
	}
	if left := unrecorded(cs, "- `banking-savings-open` removed: open savings with `banking-account-open`.\n- `banking-account-transfer` needs `channel`.\n"); len(left) != 0 {
		t.Fatalf("recorded changes still refused: %+v", left)
	}
}
