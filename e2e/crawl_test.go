package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/portalkit/portalkit/core/i18n"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
)

// axePath is axe-core as `npm ci` in e2e/ installs it (package-lock.json).
const axePath = "node_modules/axe-core/axe.min.js"

// viewport is a browser window size the crawl checks.
type viewport struct{ w, h int64 }

var (
	phone  = viewport{360, 740}
	laptop = viewport{1366, 900}
)

// TestCrawlEveryPageOnEveryDevice signs in as a customer, a member of staff
// and an admin, and opens every page their navigation (menus included) and
// their account links reach, on a 360 px phone and a 1366 px laptop, in
// English and Italian. A page fails when it is wider than the window, shows
// an internal key (snake_case or "<module>.<name>") or a value no label set
// knows, shows English text of the catalogue on an Italian page (or the
// server translated a text with no Italian), has an input without a label,
// logs a console error, or has a serious or critical axe-core violation.
// Every page view is saved as a screenshot ($PORTAL_E2E_SCREENSHOTS).
//
// Which languages and windows are checked on which database: see passes.
// Screenshots are taken on the phone, where a person trips first.
func TestCrawlEveryPageOnEveryDevice(t *testing.T) {
	mode := os.Getenv("PORTAL_E2E_CRAWL")
	if mode == "" && os.Getenv(portaltest.EnvRequireServices) != "1" {
		t.Skip("*** SKIPPED: the crawl of every page (docs/ui.md, \"The crawl\") runs with PORTAL_E2E_CRAWL=1 (CI's pairs), PORTAL_E2E_CRAWL=full (all four pairs) or PORTAL_REQUIRE_SERVICES=1 (as .ci/run sets): cd e2e && npm ci && PORTAL_E2E_CRAWL=1 go test -run TestCrawl -v . ***")
	}
	axe, err := os.ReadFile(axePath)
	portaltest.RequireService(t, "axe-core", err == nil, "run `npm ci` in e2e/ (.ci/run does)")
	env := Start(t)
	srv := env.App.Web

	// Which (language, window) pairs to check. CI's budget allows the
	// phone in Italian (the longest words in the narrowest window) and the
	// laptop in English on SQLite, and the phone in Italian on PostgreSQL
	// (the layout does not depend on the database, the data on the pages
	// does); PORTAL_E2E_CRAWL=full checks all four pairs.
	type pass struct {
		lang string
		vp   viewport
	}
	passes := []pass{{"it", phone}, {"en", laptop}}
	if mode == "full" {
		passes = []pass{{"en", phone}, {"it", phone}, {"en", laptop}, {"it", laptop}}
	} else if portaltest.Dialect() == "postgres" {
		passes = []pass{{"it", phone}}
	}

	var (
		mu      sync.Mutex
		current string // the page view being checked, for the server's reports
		found   = map[string][]string{}
	)
	report := func(view, problem string) {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range found[view] {
			if p == problem {
				return
			}
		}
		found[view] = append(found[view], problem)
	}
	srv.Catalog().OnMissing(func(locale, key string) {
		mu.Lock()
		v := current
		mu.Unlock()
		if v != "" && locale == "it" {
			report(v, fmt.Sprintf("no Italian for %q", key))
		}
	})
	srv.OnMissingLabel(func(kind, value string) {
		mu.Lock()
		v := current
		mu.Unlock()
		if v != "" {
			report(v, fmt.Sprintf("value %q of kind %q has no label", value, kind))
		}
	})
	t.Cleanup(func() { srv.Catalog().OnMissing(nil); srv.OnMissingLabel(nil) })

	rawKey := rawKeyPattern()
	start := time.Now()
	pageViews := 0
	var spent [4]time.Duration // loading, checks, axe-core, screenshots
	lap := func(i int, since time.Time) time.Time { now := time.Now(); spent[i] += now.Sub(since); return now }
	for _, who := range []string{"customer", "staff", "admin"} {
		tab := env.TabFor(t, who, 30*time.Minute)
		tab.SignIn("demo", who+"@demo.example")
		pages := tab.navigationPages()
		if len(pages) < 5 {
			t.Fatalf("%s: the navigation reaches only %v", who, pages)
		}
		for _, ps := range passes {
			lang, vp := ps.lang, ps.vp
			{
				tab.Do(chromedp.EmulateReset())
				tab.setLanguage(lang)
				// Chromium's device emulation sizes the page exactly (a
				// headless window is never narrower than 500 px); chromedp's
				// visibility waits do not return under it, so the crawl
				// waits for the page itself (open).
				tab.Do(chromedp.EmulateViewport(vp.w, vp.h))
				for _, path := range pages {
					view := fmt.Sprintf("%s %s %dpx %s", who, lang, vp.w, path)
					mu.Lock()
					current = view
					mu.Unlock()
					t0 := time.Now()
					tab.open(path)
					t0 = lap(0, t0)
					pageViews++
					res := tab.inspect()
					mu.Lock()
					current = ""
					mu.Unlock()
					for _, p := range res.problems(lang, srv.Catalog(), rawKey) {
						report(view, p)
					}
					t0 = lap(1, t0)
					for _, v := range tab.axe(axe) {
						report(view, "axe: "+v)
					}
					t0 = lap(2, t0)
					if vp == phone {
						tab.Shot(fmt.Sprintf("%s-%d-%s", lang, vp.w, path))
					}
					lap(3, t0)
				}
			}
		}
	}
	t.Logf("crawl on %s, %v: %d page views in %s (loading %s, checks %s, axe-core %s, screenshots %s)", portaltest.Dialect(), passes, pageViews,
		time.Since(start).Round(time.Second), spent[0].Round(time.Second), spent[1].Round(time.Second), spent[2].Round(time.Second), spent[3].Round(time.Second))
	var keys []string
	for k := range found {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Errorf("%s:\n  %s", k, strings.Join(found[k], "\n  "))
	}
}

// brokenPage has one of each problem the crawl looks for, and English
// text declared as English (lang="en") that must not count as untranslated.
const brokenPage = `<!doctype html>
<html lang="it"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Pagina rotta</title></head>
<body><main>
<h1>Pagina rotta</h1>
<div style="width: 600px">troppo larga</div>
<p>Stato: booking_status</p>
<p><button type="submit">Save</button></p>
<p lang="en">Save</p>
<input type="text" name="plate">
<p><img src="data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs="></p>
<figure class="chart chart-bar" id="unnamed"><svg role="img" aria-label="Grafico"><g class="chart-grid"></g></svg></figure>
<script>console.error("planted console error")</script>
</main></body></html>`

// TestCrawlCheckerCatchesProblems opens a page served by the test itself
// with one of each problem in it and requires the crawl's checks to
// report every one (and only the text that is really untranslated): a
// checker that silently stopped working would otherwise pass every page.
func TestCrawlCheckerCatchesProblems(t *testing.T) {
	axe, err := os.ReadFile(axePath)
	portaltest.RequireService(t, "axe-core", err == nil, "run `npm ci` in e2e/ (.ci/run does)")
	_, err = os.Stat(chromeBin())
	portaltest.RequireService(t, "Chromium", err == nil, chromeBin()+" not found; install Debian's chromium or set CHROME_BIN")
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" { // the favicon
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, brokenPage)
	}))
	t.Cleanup(site.Close)
	env := &Env{Base: site.URL, browser: startBrowser(t, 1280, 900)}
	tab := env.Tab(t, "selfcheck")
	tab.Do(chromedp.EmulateViewport(phone.w, phone.h))
	tab.open("/")

	cat := i18n.NewCatalog()
	if err := cat.Load(fstest.MapFS{"it.json": {Data: []byte(`{"Save": "Salva"}`)}}); err != nil {
		t.Fatal(err)
	}
	got := tab.inspect().problems("it", cat, rawKeyPattern())
	got = append(got, tab.axe(axe)...)
	// The console message arrives on its own; wait for it (up to 10 s).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		tab.mu.Lock()
		n := len(tab.problems)
		tab.mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
	}
	tab.mu.Lock()
	got = append(got, tab.problems...)
	tab.problems = nil // planted: reported here, not as the tab's failure
	tab.mu.Unlock()
	all := strings.Join(got, "\n")
	t.Logf("the checks reported on the planted page:\n%s", all)
	for _, want := range []string{
		"page is ", "div to ", // wider than the window, naming the element
		`internal key "booking_status"`,
		`English "Save" on an Italian page (Italian: "Salva")`,
		"input without a label: input[name=plate]",
		"chart without named axes (chart.Chart.ValueName and LabelHeader): figure#unnamed",
		"image-alt (critical)", // axe-core
		"planted console error",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the crawl's checks missed %q on a page built to have it; they reported:\n%s", want, all)
		}
	}
	if n := strings.Count(all, `English "Save"`); n != 1 {
		t.Errorf("English \"Save\" reported %d times, want once (the lang=\"en\" paragraph is English on purpose):\n%s", n, all)
	}
}

// rawKeyPattern matches what a person should never read: snake_case
// identifiers and "<module or core area>.<name>" keys.
func rawKeyPattern() *regexp.Regexp {
	ids := []string{"accounts", "notify", "messages", "help", "feedback", "devices", "schedule", "drafts", "dashboard", "timeline"}
	for _, m := range module.Registered() {
		ids = append(ids, regexp.QuoteMeta(m.Info().ID))
	}
	return regexp.MustCompile(`\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\b(?:` + strings.Join(ids, "|") + `)\.[a-z_]+\b`)
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// navigationPages lists the same-origin pages the header reaches (primary
// row, menus, account links) and the sub-navigation of the account page.
func (tb *Tab) navigationPages() []string {
	tb.t.Helper()
	collect := `Array.from(document.querySelectorAll("header a[href], main nav.subnav a[href]")).map(a => a.getAttribute("href")).filter(h => h.startsWith("/") && !h.startsWith("//"))`
	seen := map[string]bool{}
	var out []string
	add := func(hrefs []string) {
		for _, h := range hrefs {
			if !seen[h] && h != "/logout" {
				seen[h] = true
				out = append(out, h)
			}
		}
	}
	tb.Go("/")
	hrefs, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](collect))
	if err != nil {
		tb.t.Fatalf("%s: reading the navigation: %v", tb.name, err)
	}
	add(hrefs)
	// The dashboard's cards link to where the work is done (a car, its
	// booking page, a recall): a person's first click, so crawled too.
	cards := `Array.from(document.querySelectorAll("main .dashboard a[href]")).map(a => a.getAttribute("href").split("#")[0]).filter(h => h.startsWith("/") && !h.startsWith("//") && !h.includes("/pdf") && !h.startsWith("/api/"))`
	hrefs, err = chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](cards))
	if err != nil {
		tb.t.Fatalf("%s: reading the dashboard's links: %v", tb.name, err)
	}
	add(hrefs)
	tb.Go("/account")
	hrefs, err = chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](collect))
	if err != nil {
		tb.t.Fatalf("%s: reading the account links: %v", tb.name, err)
	}
	add(hrefs)
	return out
}

// setLanguage chooses the person's language on their profile, as they
// would.
func (tb *Tab) setLanguage(lang string) {
	tb.t.Helper()
	tb.Go("/account")
	tb.Do(chromedp.SetValue("#f-locale", lang))
	tb.Click("form[action='/account/profile'] button[type=submit]")
	got, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
	if err != nil || got != lang {
		tb.Shot("language-not-set")
		tb.t.Fatalf("%s: the page is in %q after choosing %q (%v)", tb.name, got, lang, err)
	}
}

// open loads path and waits until the page has loaded.
func (tb *Tab) open(path string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(tb.env.Base+path)); err != nil {
		tb.t.Fatalf("%s: opening %s: %v", tb.name, path, err)
	}
	if _, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](`document.readyState === "complete" && !!document.querySelector("main")`)); err != nil {
		tb.t.Fatalf("%s: %s did not load: %v", tb.name, path, err)
	}
}

// pageFacts is what inspect measures on a page.
type pageFacts struct {
	ScrollWidth int      `json:"scrollWidth"`
	ClientWidth int      `json:"clientWidth"`
	Wide        []string `json:"wide"`
	Texts       []string `json:"texts"`
	// Foreign are texts inside an element whose lang differs from the
	// page's (an English help article listed on an Italian page): content
	// declared in its own language, not words the page failed to translate.
	Foreign    []string `json:"foreign"`
	Unlabelled []string `json:"unlabelled"`
	// Unnamed are line and bar charts whose axes are not both named.
	Unnamed []string `json:"unnamed"`
}

// urlOrEmail is left out of the internal-key check: addresses may hold
// underscores.
var urlOrEmail = regexp.MustCompile(`\S+://\S+|\S+@\S+`)

// problems is what the page's facts show wrong on a page in lang: wider
// than the window, an unlabelled input, an internal key in its text (or in
// text of another language), or on an Italian page a text the catalogue
// has in English with a different Italian.
func (f pageFacts) problems(lang string, cat *i18n.Catalog, rawKey *regexp.Regexp) []string {
	var out []string
	if f.ScrollWidth > f.ClientWidth {
		out = append(out, fmt.Sprintf("page is %d px wide in a %d px window; too wide: %s", f.ScrollWidth, f.ClientWidth, strings.Join(f.Wide, "; ")))
	}
	for _, in := range f.Unlabelled {
		out = append(out, "input without a label: "+in)
	}
	for _, c := range f.Unnamed {
		out = append(out, "chart without named axes (chart.Chart.ValueName and LabelHeader): "+c)
	}
	for _, text := range append(append([]string(nil), f.Texts...), f.Foreign...) {
		if m := rawKey.FindString(urlOrEmail.ReplaceAllString(text, "")); m != "" {
			out = append(out, fmt.Sprintf("internal key %q in %q", m, clip(text)))
		}
	}
	for _, text := range f.Texts {
		if lang == "it" && cat.Has("it", text) {
			if it := cat.T("it", text); it != text {
				out = append(out, fmt.Sprintf("English %q on an Italian page (Italian: %q)", text, it))
			}
		}
	}
	return out
}

// inspectJS measures the page: its width against the window (naming the
// outermost elements that stick out), its visible text nodes (outside
// code samples) and the inputs without a label.
const inspectJS = `(() => {
  const describe = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "");
  const vw = document.documentElement.clientWidth;
  const wide = [];
  if (document.documentElement.scrollWidth > vw) {
    for (const el of document.body.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      const pr = el.parentElement.getBoundingClientRect();
      if (r.width > 0 && r.right > vw + 1 && pr.right <= vw + 1) {
        wide.push(describe(el) + " to " + Math.round(r.right) + "px");
        if (wide.length >= 6) break;
      }
    }
  }
  const texts = [], foreign = [];
  const pageLang = (document.documentElement.lang || "").split("-")[0];
  const inOtherLang = el => { const l = el.closest("[lang]"); return !!l && l.lang.split("-")[0] !== pageLang; };
  const skip = "script, style, code, pre, kbd, samp, textarea, [translate=no]";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const s = n.nodeValue.replace(/\s+/g, " ").trim();
    const el = n.parentElement;
    if (!s || !el || el.closest(skip)) continue;
    if (el.checkVisibility && !el.checkVisibility() && !el.closest(".visually-hidden, .chart-table")) continue;
    (inOtherLang(el) ? foreign : texts).push(s);
  }
  for (const el of document.querySelectorAll("[placeholder], [title], [aria-label], img[alt]")) {
    for (const a of ["placeholder", "title", "aria-label", "alt"]) {
      const v = el.getAttribute(a);
      if (v && v.trim()) (inOtherLang(el) ? foreign : texts).push(v.trim());
    }
  }
  const unlabelled = [];
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (["hidden", "submit", "button", "reset", "image"].includes(el.type)) continue;
    if (el.labels.length || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") || el.title) continue;
    unlabelled.push(describe(el) + (el.name ? "[name=" + el.name + "]" : ""));
  }
  const unnamed = [];
  for (const fig of document.querySelectorAll("figure.chart-line, figure.chart-bar")) {
    if (fig.querySelector(".chart-grid") && fig.querySelectorAll(".chart-axis-name text").length < 2) unnamed.push(describe(fig));
  }
  return {scrollWidth: document.documentElement.scrollWidth, clientWidth: vw, wide, texts, foreign, unlabelled, unnamed};
})()`

func (tb *Tab) inspect() pageFacts {
	tb.t.Helper()
	f, err := chromedp.Run(tb.ctx, chromedp.Evaluate[pageFacts](inspectJS))
	if err != nil {
		tb.t.Fatalf("%s: inspecting %s: %v", tb.name, tb.Location(), err)
	}
	return f
}

// axe runs axe-core on the page and returns its serious and critical
// violations, each with the first elements it names.
func (tb *Tab) axe(src []byte) []string {
	tb.t.Helper()
	if _, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](string(src)+";true")); err != nil {
		tb.t.Fatalf("%s: injecting axe-core: %v", tb.name, err)
	}
	out, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations
		.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => v.id + " (" + v.impact + "): " + v.help + " — " + v.nodes.slice(0, 3).map(n => n.target.join(" ") + (n.failureSummary ? " [" + n.failureSummary.replace(/\s+/g, " ").slice(0, 160) + "]" : "")).join(" | ")))`, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("%s: axe on %s: %v", tb.name, tb.Location(), err)
	}
	return out
}
