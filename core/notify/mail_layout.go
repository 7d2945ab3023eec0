package notify

import (
	"bytes"
	htmltemplate "html/template"
	"regexp"
	"strings"
)

// The default e-mail layout. A kind's .html template is optional: without
// it the e-mail's HTML part is its text, paragraph by paragraph with links
// made clickable. Either way a body that is not a whole document (no
// <!doctype> or <html>) is wrapped in this layout, which gives it the
// recipient's language, a readable width on a phone and a footer linking
// to the notification preferences. Modules write the words, not the HTML
// boilerplate (issue 14, "less glue").

var layoutTemplate = htmltemplate.Must(htmltemplate.New("mail_layout").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="margin:0;padding:16px;font-family:sans-serif;font-size:16px;line-height:1.5;color:#1b1b1b">
<div style="max-width:36em;margin:0 auto">
{{.Body}}
<hr style="border:none;border-top:1px solid #ccc;margin:24px 0 8px">
<p style="font-size:14px;color:#555"><a href="{{.BaseURL}}/notifications/preferences">{{.Footer}}</a></p>
</div>
</body></html>
`))

// mailLayout wraps body in the default layout unless it is a whole
// document already.
func mailLayout(d TemplateData, locale string, body htmltemplate.HTML) (string, error) {
	head := strings.ToLower(strings.TrimSpace(string(body)))
	if strings.HasPrefix(head, "<!doctype") || strings.HasPrefix(head, "<html") {
		return string(body), nil
	}
	lang, _, _ := strings.Cut(locale, "-")
	var b bytes.Buffer
	err := layoutTemplate.Execute(&b, map[string]any{
		"Lang": lang, "Body": body, "BaseURL": d.BaseURL,
		"Footer": d.T("Choose which messages you receive"),
	})
	return b.String(), err
}

var urlPattern = regexp.MustCompile(`https?://[^\s<]+`)

// textToHTML turns a rendered text body into HTML: escaped, a paragraph
// per blank-line-separated block, line breaks kept, web addresses linked.
func textToHTML(text string) htmltemplate.HTML {
	var b strings.Builder
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		esc := htmltemplate.HTMLEscapeString(para)
		esc = urlPattern.ReplaceAllStringFunc(esc, func(u string) string {
			trimmed := strings.TrimRight(u, ".,;:!?)")
			return `<a href="` + trimmed + `">` + trimmed + `</a>` + u[len(trimmed):]
		})
		b.WriteString("<p>" + strings.ReplaceAll(esc, "\n", "<br>\n") + "</p>\n")
	}
	return htmltemplate.HTML(b.String())
}
