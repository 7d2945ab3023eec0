package help

import (
	"strings"
	"testing"
)

func TestRenderStripsEverythingThatCouldScript(t *testing.T) {
	src := "# Title\n\n" +
		"Some **bold** text and a [good link](https://example.com/a) and a [relative one](/help/a/x).\n\n" +
		"<script>alert('raw')</script>\n\n" +
		"<img src=x onerror=alert(1)>\n\n" +
		"<a href=\"https://example.com\" onclick=\"steal()\">html link</a>\n\n" +
		"<iframe src=\"https://evil.example\"></iframe>\n\n" +
		"<p style=\"background:url(javascript:alert(1))\">styled</p>\n\n" +
		"[click me](javascript:alert(document.cookie))\n\n" +
		"[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)\n\n" +
		"[vb](vbscript:msgbox)\n\n" +
		"![img](javascript:alert(2))\n\n" +
		"| a | b |\n|---|---|\n| 1 | 2 |\n"
	r, err := Render(src)
	if err != nil {
		t.Fatal(err)
	}
	out := strings.ToLower(string(r.HTML))
	for _, bad := range []string{"<script", "alert(", "onerror", "onclick", "<iframe", "style=", "javascript:", "vbscript:", "data:text/html"} {
		if strings.Contains(out, bad) {
			t.Errorf("rendered HTML contains %q:\n%s", bad, r.HTML)
		}
	}
	for _, good := range []string{`<h1 id="title">title</h1>`, "<strong>bold</strong>", `href="https://example.com/a"`, `rel="nofollow noreferrer noopener" target="_blank"`,
		`href="/help/a/x"`, "<table>", "<td>1</td>"} {
		if !strings.Contains(out, good) {
			t.Errorf("rendered HTML lacks %q:\n%s", good, r.HTML)
		}
	}
	if strings.Contains(r.Plain, "<") || !strings.Contains(r.Plain, "Some bold text") {
		t.Errorf("plain text = %q", r.Plain)
	}
}

func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"How to reset your password": "how-to-reset-your-password",
		"Città & mare!":              "citta-mare",
		"  --Già fatto--  ":          "gia-fatto",
		"Ünïcödé 2026":               "unicode-2026",
	} {
		if got := Slugify(in); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseDefault(t *testing.T) {
	ok := "---\ntitle: Booking a service\nlocale: en\ncategory: Service\ncontext: [automotive.vehicle, automotive.bookings]\n---\nBook it **online**.\n"
	a, err := ParseDefault("automotive", "booking.en.md", []byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if a.Slug != "booking-a-service" || a.Locale != "en" || len(a.Contexts) != 2 || a.Body != "Book it **online**." || a.Hash == "" {
		t.Fatalf("parsed %+v", a)
	}
	for name, src := range map[string]string{
		"no front matter":   "just text",
		"unclosed":          "---\ntitle: x\n",
		"unknown key":       "---\ntitle: X\nlocale: en\ntitel: y\n---\nbody",
		"bad locale":        "---\ntitle: X\nlocale: fr\n---\nbody",
		"bad context":       "---\ntitle: X\nlocale: en\ncontext: [\"Bad Key\"]\n---\nbody",
		"no body":           "---\ntitle: X\nlocale: en\n---\n",
		"bad slug":          "---\ntitle: X\nslug: Not A Slug\nlocale: en\n---\nbody",
		"missing the title": "---\nlocale: en\n---\nbody",
	} {
		if _, err := ParseDefault("m", "bad.md", []byte(src)); err == nil || !strings.Contains(err.Error(), "bad.md") {
			t.Errorf("%s: err = %v, want an error naming the file", name, err)
		}
	}
}
