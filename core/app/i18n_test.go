package app_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// tKey finds the English keys templates translate: {{.T "Sign in"}},
// {{$.T "..." args}}, {{$page.T "..."}}.
var tKey = regexp.MustCompile(`\.T\s+("(?:[^"\\]|\\.)*")`)

// TestEveryTemplateTextHasAnItalianTranslation checks every key used by any
// template in the repository against the union of the it.json catalogs.
func TestEveryTemplateTextHasAnItalianTranslation(t *testing.T) {
	root := filepath.Join("..", "..")
	keys := map[string][]string{}
	italian := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == ".git" || n == "node_modules" || n == "data" && path != filepath.Join(root, "core", "accounts", "data") {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case strings.HasSuffix(path, ".html"):
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range tKey.FindAllStringSubmatch(string(b), -1) {
				k, err := strconv.Unquote(m[1])
				if err != nil {
					t.Errorf("%s: bad string %s", path, m[1])
					continue
				}
				keys[k] = append(keys[k], path)
			}
		case filepath.Base(path) == "it.json" && filepath.Base(filepath.Dir(path)) == "i18n":
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			var m map[string]string
			if err := json.Unmarshal(b, &m); err != nil {
				t.Errorf("%s: %v", path, err)
			}
			for k, v := range m {
				italian[k] = v
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for k, files := range keys {
		if strings.TrimSpace(italian[k]) == "" {
			missing = append(missing, strconv.Quote(k)+" (in "+files[0]+")")
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("no Italian translation for %s", m)
	}
	t.Logf("%d template texts, %d Italian translations", len(keys), len(italian))
}
