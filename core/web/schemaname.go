package web

import (
	"path"
	"reflect"
	"strings"
	"unicode"

	"github.com/danielgtaylor/huma/v2"
)

// corePrefix is the import path of the kernel's own packages.
const corePrefix = "github.com/portalkit/portalkit/core/"

// SchemaName names the OpenAPI schemas of the JSON API. Schema names share
// one namespace, so two modules that both declare a type "Report" (or a
// module and the core) would stop the portal at start. The core's types
// keep huma's default name; a module's types — anything outside
// portalkit/core — are prefixed with their package's name: banking.Report
// is "BankingReport", automotive.Vehicle "AutomotiveVehicle".
func SchemaName(t reflect.Type, hint string) string {
	name := huma.DefaultSchemaNamer(t, hint)
	pkg := pkgOf(t)
	first, _, _ := strings.Cut(pkg, "/")
	if pkg == "" {
		return hintName(name) // unnamed: named after its operation
	}
	if !strings.Contains(first, ".") || strings.HasPrefix(pkg, corePrefix) {
		return name // the standard library's, or the core's
	}
	elem := path.Base(pkg)
	if len(elem) > 1 && elem[0] == 'v' && strings.Trim(elem[1:], "0123456789") == "" {
		elem = path.Base(path.Dir(pkg)) // example.com/x/v2 is package x
	}
	base := []rune(elem)
	base[0] = unicode.ToUpper(base[0])
	prefix := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, string(base))
	if strings.HasPrefix(name, prefix) {
		return name
	}
	return prefix + name
}

// hintName turns huma's name for an unnamed type — "<operation
// ID>Request" or "<operation ID>Response", such as
// "Banking-goal-messageResponse" — into a Go-style identifier that code
// generators keep as it is: "BankingGoalMessageRequest",
// "BankingGoalMessageOutput". A response body is not "...Response": client
// generators (oapi-codegen) name the response wrapper of operation X
// "XResponse", and the two would collide.
func hintName(name string) string {
	var b strings.Builder
	up := true
	for _, r := range name {
		if r == '-' || r == '_' || r == ' ' || r == '.' {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	out := b.String()
	if base, ok := strings.CutSuffix(out, "Response"); ok {
		out = base + "Output"
	}
	return out
}

// pkgOf is the package declaring t, looking through pointers, slices,
// arrays and maps ("" for unnamed and built-in types).
func pkgOf(t reflect.Type) string {
	for {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			if t.Name() == "" {
				t = t.Elem()
				continue
			}
		}
		return t.PkgPath()
	}
}
