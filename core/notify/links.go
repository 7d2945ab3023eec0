package notify

import (
	"encoding/json"
	"html"
	"html/template"
	"regexp"
	"strings"
)

// Link is the portal page a notification is about: the "link" of its data
// when that is a path of the portal ("/m/automotive/vehicles/3"); "" when
// there is none. Kinds put the path there and the full address in their
// texts ({{.BaseURL}}{{.Data.link}}).
func (r Record) Link() string {
	var d struct {
		Link string `json:"link"`
	}
	if json.Unmarshal([]byte(r.Data), &d) != nil {
		return ""
	}
	return portalPath(d.Link)
}

// portalPath returns p when it is a path on this portal (not another host
// with "//" or "/\"), else "".
func portalPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, `/\`) {
		return ""
	}
	return p
}

// webAddress finds http(s) addresses in text; a trailing full stop, comma,
// colon or closing bracket ends the sentence rather than the address.
var webAddress = regexp.MustCompile(`https?://[^\s<>"']+[^\s<>"'.,;:!?)\]]`)

// BodyHTML is the body with every web address in it a link (the rest
// escaped), so the addresses kinds write into their texts can be followed
// from the inbox.
func (r Record) BodyHTML() template.HTML { return linkify(r.Body) }

func linkify(text string) template.HTML {
	var b strings.Builder
	last := 0
	for _, m := range webAddress.FindAllStringIndex(text, -1) {
		b.WriteString(html.EscapeString(text[last:m[0]]))
		u := html.EscapeString(text[m[0]:m[1]])
		b.WriteString(`<a href="` + u + `">` + u + `</a>`)
		last = m[1]
	}
	b.WriteString(html.EscapeString(text[last:]))
	return template.HTML(b.String())
}
