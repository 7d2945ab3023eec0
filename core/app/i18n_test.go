package app_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
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

var repoRoot = filepath.Join("..", "..")

// italianCatalog is the union of every i18n/it.json in the repository.
func italianCatalog(t *testing.T) map[string]string {
	t.Helper()
	italian := map[string]string{}
	walkRepo(t, func(path string) {
		if filepath.Base(path) != "it.json" || filepath.Base(filepath.Dir(path)) != "i18n" {
			return
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("%s: %v", path, err)
		}
		for k, v := range m {
			italian[k] = v
		}
	})
	return italian
}

func walkRepo(t *testing.T, fn func(path string)) {
	t.Helper()
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == ".git" || n == "node_modules" || n == "data" && path != filepath.Join(repoRoot, "core", "accounts", "data") {
				return filepath.SkipDir
			}
			return nil
		}
		fn(path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func reportMissing(t *testing.T, keys map[string][]string, italian map[string]string) {
	t.Helper()
	var missing []string
	for k, where := range keys {
		if strings.TrimSpace(italian[k]) == "" {
			missing = append(missing, strconv.Quote(k)+" (in "+where[0]+")")
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("no Italian translation for %s", m)
	}
}

// TestEveryTemplateTextHasAnItalianTranslation checks every key used by any
// template in the repository against the union of the it.json catalogs.
func TestEveryTemplateTextHasAnItalianTranslation(t *testing.T) {
	keys := map[string][]string{}
	walkRepo(t, func(path string) {
		if !strings.HasSuffix(path, ".html") {
			return
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range tKey.FindAllStringSubmatch(string(b), -1) {
			k, err := strconv.Unquote(m[1])
			if err != nil {
				t.Errorf("%s: bad string %s", path, m[1])
				continue
			}
			keys[k] = append(keys[k], path)
		}
	})
	italian := italianCatalog(t)
	reportMissing(t, keys, italian)
	t.Logf("%d template texts, %d Italian translations", len(keys), len(italian))
}

// verb finds the fmt verbs of a format key and of its translation.
var verb = regexp.MustCompile(`%(?:\[\d+\])?[a-z%]`)

// TestTranslationsKeepTheFormatVerbs: a translation of a format key takes
// the same values ("%d caratteri" for "%d characters"), or T would print
// %!(EXTRA ...) on the page.
func TestTranslationsKeepTheFormatVerbs(t *testing.T) {
	norm := func(s string) []string {
		var out []string
		for _, v := range verb.FindAllString(s, -1) {
			if v == "%%" {
				continue
			}
			out = append(out, v[len(v)-1:])
		}
		sort.Strings(out)
		return out
	}
	for k, v := range italianCatalog(t) {
		if a, b := norm(k), norm(v); strings.Join(a, ",") != strings.Join(b, ",") {
			t.Errorf("%q is translated as %q: verbs %v, want %v", k, v, b, a)
		}
	}
}

// localisedPackages produce text in Go that their pages show: page titles,
// navigation labels, form and error messages. A package listed here gets
// every such text checked for an Italian translation; a module adds its
// directory when it translates its Go-side texts (docs/i18n.md).
var localisedPackages = []string{"core/web", "core/accounts", "core/notify"}

// TestGoSideTextsHaveItalianTranslations finds, in the non-test Go files of
// localisedPackages, the English texts that reach a page: messages of
// errs.Field, InvalidField, Validation and the Forbidden, Unauthenticated,
// Conflict and RateLimited errors (NotFound pages show a fixed text),
// titles given to render/Render, Title and Label fields, Heading and Text of
// message pages, and form errors assigned in handlers. Flash messages are
// checked by core/accounts' own test.
func TestGoSideTextsHaveItalianTranslations(t *testing.T) {
	keys := map[string][]string{}
	add := func(fset *token.FileSet, e ast.Expr) {
		if k, ok := formatOf(e); ok && strings.TrimSpace(k) != "" {
			keys[k] = append(keys[k], fset.Position(e.Pos()).String())
		}
	}
	for _, dir := range localisedPackages {
		fset := token.NewFileSet()
		files, err := filepath.Glob(filepath.Join(repoRoot, dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			elided := map[*ast.CompositeLit]string{} // {Label: ...} inside []web.NavItem{...}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					if arg := messageArg(n); arg != nil {
						add(fset, arg)
					}
				case *ast.CompositeLit:
					// web.Page{Title: ...}, web.NavItem{Label: ...} and
					// {"Heading": ..., "Text": ...} of message pages.
					typ := typeName(n.Type)
					if n.Type == nil {
						typ = elided[n]
					}
					if arr, ok := n.Type.(*ast.ArrayType); ok {
						for _, el := range n.Elts {
							if cl, ok := el.(*ast.CompositeLit); ok && cl.Type == nil {
								elided[cl] = typeName(arr.Elt)
							}
						}
					}
					field := map[string]string{"Page": "Title", "NavItem": "Label"}[typ]
					for _, el := range n.Elts {
						kv, ok := el.(*ast.KeyValueExpr)
						if !ok {
							continue
						}
						switch key := kv.Key.(type) {
						case *ast.Ident:
							if key.Name == field {
								add(fset, kv.Value)
							}
						case *ast.BasicLit:
							if key.Value == `"Heading"` || key.Value == `"Text"` {
								add(fset, kv.Value)
							}
						}
					}
				case *ast.AssignStmt:
					// f.Error = "..." and f.Errors["terms"] = "..."
					for i, lhs := range n.Lhs {
						if i >= len(n.Rhs) {
							break
						}
						switch l := lhs.(type) {
						case *ast.SelectorExpr:
							if l.Sel.Name == "Error" {
								add(fset, n.Rhs[i])
							}
						case *ast.IndexExpr:
							if s, ok := l.X.(*ast.SelectorExpr); ok && s.Sel.Name == "Errors" {
								add(fset, n.Rhs[i])
							}
						}
					}
				}
				return true
			})
		}
	}
	if len(keys) < 50 {
		t.Fatalf("found only %d Go-side texts; has the code changed shape?", len(keys))
	}
	reportMissing(t, keys, italianCatalog(t))
	t.Logf("%d Go-side texts", len(keys))
}

func typeName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	}
	return ""
}

// messageArg returns the argument of a call that carries a text shown on a
// page, or nil.
func messageArg(c *ast.CallExpr) ast.Expr {
	name := ""
	switch fn := c.Fun.(type) {
	case *ast.SelectorExpr:
		if x, ok := fn.X.(*ast.Ident); ok {
			name = x.Name + "." + fn.Sel.Name
		} else {
			name = "." + fn.Sel.Name
		}
	case *ast.Ident:
		name = fn.Name
	}
	pos := -1
	switch name {
	case "errs.Forbiddenf", "errs.Unauthenticatedf", "errs.Conflictf", "errs.Validation":
		pos = 0
	case "errs.Field", "errs.InvalidField", "errs.RateLimitedf":
		pos = 1
	case "render", "web.Render", "Render", "web.RenderPage":
		pos = 2
	}
	if pos < 0 || pos >= len(c.Args) {
		return nil
	}
	return c.Args[pos]
}

// formatOf turns the English text an expression builds into its catalog
// key: a literal, fmt.Sprintf's format, or a concatenation with %s for each
// value ("must be one of "+list → "must be one of %s").
func formatOf(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.CallExpr:
		if sel, ok := e.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Sprintf" && len(e.Args) > 0 {
			return formatOf(e.Args[0])
		}
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		l, lok := formatOf(e.X)
		r, rok := formatOf(e.Y)
		if !lok && !rok {
			return "", false
		}
		if !lok {
			l = "%s"
		}
		if !rok {
			r = "%s"
		}
		return l + r, true
	}
	return "", false
}
