package help

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"golang.org/x/text/unicode/norm"
)

// Articles are Markdown written by staff (or shipped by modules) and shown
// to every reader, so rendering is two layers deep: goldmark renders without
// its unsafe option (raw HTML in the source is dropped, dangerous link
// schemes are emptied), and bluemonday's user-generated-content policy then
// keeps only harmless elements and attributes: no script, no event
// handlers, no style, only http(s), mailto and relative links.
var (
	markdown = goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
	)
	sanitizer = func() *bluemonday.Policy {
		p := bluemonday.UGCPolicy()
		p.RequireNoFollowOnFullyQualifiedLinks(true)
		p.RequireNoReferrerOnFullyQualifiedLinks(true)
		p.AddTargetBlankToFullyQualifiedLinks(true)
		return p
	}()
	stripper = bluemonday.StrictPolicy()
	spaces   = regexp.MustCompile(`\s+`)
)

// Rendered is an article body ready to show and to index.
type Rendered struct {
	HTML    template.HTML
	Plain   string
	Excerpt string
}

// Render turns Markdown into sanitised HTML, its plain text and an excerpt.
func Render(src string) (Rendered, error) {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(src), &buf); err != nil {
		return Rendered{}, fmt.Errorf("markdown: %w", err)
	}
	safe := sanitizer.SanitizeBytes(buf.Bytes())
	plain := strings.TrimSpace(spaces.ReplaceAllString(html.UnescapeString(stripper.Sanitize(string(safe))), " "))
	return Rendered{HTML: template.HTML(safe), Plain: plain, Excerpt: truncate(plain, 240)}, nil
}

// truncate shortens s to at most n runes, at a word boundary, with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,.;:") + "…"
}

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// Slugify makes a URL slug from a title: "Città & mare!" -> "citta-mare".
func Slugify(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(strings.ToLower(title)) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
			dash = false
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	s := strings.TrimRight(b.String(), "-")
	if len(s) > 100 {
		s = strings.TrimRight(s[:100], "-")
	}
	return s
}

var contextPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(?:[.:-][a-z0-9_]+)*$`)

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
