package app_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const modulePath = "github.com/portalkit/portalkit/"

// allowedCore lists, for each core package, the PortalKit packages it may
// import. docs/architecture.md states the same rules in words; this test is
// what keeps them true. A core package missing here may import any core
// package except app (and never a vertical).
var allowedCore = map[string][]string{
	"core/errs":        {},
	"core/names":       {},
	"core/stop":        {},
	"core/events":      {},
	"core/config":      {},
	"core/store":       {"core/config", "core/errs"},
	"core/i18n":        {},
	"core/money":       {"core/i18n"},
	"core/chart":       {"core/i18n"},
	"core/web":         {"core/chart", "core/config", "core/errs", "core/i18n", "core/names", "core/store"},
	"core/accounts":    {"core/config", "core/errs", "core/events", "core/i18n", "core/store", "core/web", "core/names"},
	"core/live":        {"core/accounts", "core/config", "core/errs", "core/store", "core/stop"},
	"core/notify":      {"core/accounts", "core/config", "core/errs", "core/events", "core/i18n", "core/live", "core/store", "core/web", "core/names", "core/stop"},
	"core/schedule":    {"core/config", "core/errs", "core/store", "core/web", "core/names", "core/stop"},
	"core/idempotency": {"core/accounts", "core/config", "core/errs", "core/store", "core/web"},
	"core/dashboard":   {"core/accounts", "core/chart", "core/config", "core/errs", "core/i18n", "core/store", "core/web", "core/names"},
	"core/devices":     {"core/accounts", "core/config", "core/errs", "core/events", "core/i18n", "core/store", "core/web"},
	"core/module":      {"core/accounts", "core/chart", "core/devices", "core/experience/feedback", "core/experience/messages", "core/experience/quiz", "core/live", "core/notify", "core/config", "core/dashboard", "core/errs", "core/events", "core/i18n", "core/schedule", "core/store", "core/web", "core/names"},

	"core/experience/help":     {"core/accounts", "core/config", "core/errs", "core/events", "core/i18n", "core/store", "core/web"},
	"core/experience/drafts":   {"core/accounts", "core/config", "core/errs", "core/store", "core/web"},
	"core/experience/timeline": {"core/accounts", "core/errs", "core/events", "core/i18n", "core/store", "core/web"},
	"core/experience/feedback": {"core/accounts", "core/chart", "core/config", "core/errs", "core/events", "core/experience/drafts", "core/i18n", "core/store", "core/web", "core/names"},
	"core/experience/quiz":     {"core/errs", "core/experience/drafts", "core/store"},
	"core/experience/messages": {"core/accounts", "core/config", "core/errs", "core/events", "core/i18n", "core/store", "core/web", "core/stop"},
}

func TestDependencyDirection(t *testing.T) {
	root := filepath.Join("..", "..")
	imports := map[string]map[string]bool{} // package dir -> imported portalkit packages
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if name == ".git" || name == "node_modules" || name == "data" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		if imports[rel] == nil {
			imports[rel] = map[string]bool{}
		}
		isTest := strings.HasSuffix(path, "_test.go")
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(p, modulePath) {
				continue
			}
			target := strings.TrimPrefix(p, modulePath)
			if strings.HasPrefix(target, "sdk/") {
				// The SDKs are their own Go module, a library to the
				// server like any other (they cannot import it back).
				continue
			}
			if isTest {
				target = "test:" + target
			}
			imports[rel][target] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dirs := make([]string, 0, len(imports))
	for d := range imports {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	checked := 0
	for _, dir := range dirs {
		for target := range imports[dir] {
			isTest := strings.HasPrefix(target, "test:")
			target = strings.TrimPrefix(target, "test:")
			switch {
			case strings.HasPrefix(dir, "core/") && strings.HasPrefix(target, "verticals/"):
				t.Errorf("%s imports %s: core never imports a vertical", dir, target)
			case strings.HasPrefix(dir, "verticals/") && !strings.HasPrefix(dir, "verticals/all") &&
				strings.HasPrefix(target, "verticals/") && vertical(dir) != vertical(target):
				t.Errorf("%s imports %s: a vertical never imports another vertical", dir, target)
			case strings.HasPrefix(dir, "verticals/") && target == "core/app" && !isTest:
				t.Errorf("%s imports core/app: verticals use core/module and core packages' public types, not the kernel", dir)
			case strings.HasPrefix(dir, "core/") && !isTest && !strings.Contains(dir, "/testdata"):
				if allowed, ok := allowedCore[dir]; ok && !contains(allowed, target) && target != dir {
					t.Errorf("%s imports %s; it may import only %v", dir, target, allowed)
				}
				if dir != "core/app" && dir != "core/portaltest" && dir != "core/cli" && target == "core/app" {
					t.Errorf("%s imports core/app: only core/cli (the portal command) and portaltest build the kernel", dir)
				}
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no imports checked: the walk found nothing")
	}
}

func vertical(dir string) string {
	parts := strings.Split(dir, "/")
	if len(parts) < 2 {
		return dir
	}
	return parts[1]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
