package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	_ "github.com/portalkit/portalkit/verticals/all"
)

// chromeBin is the Chromium the tests drive.
func chromeBin() string {
	if b := os.Getenv("CHROME_BIN"); b != "" {
		return b
	}
	return "/usr/bin/chromium"
}

// Env is a running portal with demo data and a browser to drive it.
type Env struct {
	App     *portaltest.TestApp
	Base    string
	browser context.Context
}

// Start serves the portal with every registered module and the demo data on
// a free loopback port, and starts Chromium.
func Start(t *testing.T) *Env {
	t.Helper()
	_, err := os.Stat(chromeBin())
	portaltest.RequireService(t, "Chromium", err == nil, chromeBin()+" not found; install Debian's chromium or set CHROME_BIN")
	ta := portaltest.New(t, module.Registered())
	ta.Demo(t)
	base := ta.ServeLoopback(t)
	browser := startBrowser(t, 1280, 900)
	return &Env{App: ta, Base: base, browser: browser}
}

// startBrowser starts a Chromium whose windows are w × h pixels.
func startBrowser(t *testing.T, w, h int) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromeBin()),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(w, h),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil { // starts Chromium
		t.Fatalf("starting Chromium: %v", err)
	}
	return browser
}

// Tab is one browser tab in its own browser context: its own cookies, like
// a separate device.
type Tab struct {
	t    *testing.T
	env  *Env
	ctx  context.Context
	name string
	shot int

	mu       sync.Mutex
	problems []string
	allowed  []*regexp.Regexp
}

// AllowConsole lets console messages matching pattern pass: for pages a
// test opens on purpose with an error status (Chromium logs those).
func (tb *Tab) AllowConsole(pattern string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.allowed = append(tb.allowed, regexp.MustCompile(pattern))
}

// Tab opens a tab in a fresh browser context. Console errors, uncaught
// exceptions and CSP violations fail the test when it ends.
func (e *Env) Tab(t *testing.T, name string) *Tab {
	t.Helper()
	return e.TabFor(t, name, 90*time.Second)
}

// PhoneTab is Tab at a phone's size, 360 × 740 px (DevTools' viewport
// emulation: headless Chromium's windows are at least 500 px wide).
func (e *Env) PhoneTab(t *testing.T, name string) *Tab {
	t.Helper()
	tb := e.Tab(t, name)
	tb.Do(chromedp.EmulateViewport(360, 740))
	return tb
}

// TabFor is Tab for a test that drives one tab longer than 90 seconds (the
// crawl): every action of the tab must end within timeout.
func (e *Env) TabFor(t *testing.T, name string, timeout time.Duration) *Tab {
	t.Helper()
	bctx, cancel := chromedp.NewContext(e.browser, chromedp.WithNewBrowserContext())
	return e.tab(t, name, bctx, cancel, timeout)
}

// Open opens another tab in tb's browser context: the same cookies and
// the same browser-wide resources (shared workers), as a person opening a
// second tab.
func (tb *Tab) Open(name string) *Tab {
	tb.t.Helper()
	bctx, cancel := chromedp.NewContext(tb.ctx)
	return tb.env.tab(tb.t, name, bctx, cancel, 90*time.Second)
}

func (e *Env) tab(t *testing.T, name string, bctx context.Context, cancel context.CancelFunc, timeout time.Duration) *Tab {
	t.Helper()
	ctx, cancelTimeout := context.WithTimeout(bctx, timeout)
	tab := &Tab{t: t, env: e, ctx: ctx, name: name}
	if err := chromedp.Do(ctx); err != nil { // start the browser and the target
		cancelTimeout()
		cancel()
		t.Fatalf("starting Chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				msg := m.String() + " (" + m.URL + ")"
				tab.mu.Lock()
				ok := false
				for _, re := range tab.allowed {
					ok = ok || re.MatchString(msg)
				}
				if !ok {
					tab.problems = append(tab.problems, msg)
				}
				tab.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		tab.mu.Lock()
		problems := append([]string(nil), tab.problems...)
		tab.mu.Unlock()
		for _, p := range problems {
			t.Errorf("browser console (%s): %s", name, p)
		}
		cancelTimeout()
		cancel()
	})
	return tab
}

// Do runs browser actions, failing the test on error with a screenshot.
func (tb *Tab) Do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		tb.Shot("failure")
		tb.t.Fatalf("%s: %v (at %s)", tb.name, err, tb.Location())
	}
}

// Go opens path on the portal and waits for the page's main area.
func (tb *Tab) Go(path string) {
	tb.t.Helper()
	tb.Do(chromedp.Navigate(tb.env.Base+path), chromedp.WaitVisible(chromedp.CSS("main")))
}

// Location returns the current URL's path and query.
func (tb *Tab) Location() string {
	loc, err := chromedp.Run(tb.ctx, chromedp.Location())
	if err != nil {
		return "?"
	}
	return strings.TrimPrefix(loc, tb.env.Base)
}

// Text returns the visible text of the first element matching sel.
//
// It is read by one script, retried until the element exists, so a page
// that is still being replaced (after a click, a live refresh) is read once
// it is there rather than failing on a node that has gone.
func (tb *Tab) Text(sel string) string {
	tb.t.Helper()
	const missing = "\x00missing"
	expr := fmt.Sprintf(`(function(){var e=document.querySelector(%q);return e?e.innerText:%q})()`, sel, missing)
	deadline := time.Now().Add(20 * time.Second)
	for {
		s, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](expr))
		if err == nil && s != missing {
			return s
		}
		if time.Now().After(deadline) || tb.ctx.Err() != nil {
			tb.Shot("failure")
			tb.t.Fatalf("%s: reading %s: %v", tb.name, sel, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Fill sets form fields by CSS selector.
func (tb *Tab) Fill(fields map[string]string) {
	tb.t.Helper()
	for sel, v := range fields {
		tb.Do(chromedp.SetValue(chromedp.CSS(sel), v))
	}
}

// Click clicks the element and waits for the next page's main area.
func (tb *Tab) Click(sel string) {
	tb.t.Helper()
	tb.Do(chromedp.Click(chromedp.CSS(sel)), chromedp.Sleep(150*time.Millisecond), chromedp.WaitVisible(chromedp.CSS("main")))
}

// Expect fails unless the page contains every text.
//
// The body is read again until every text is there (up to ten seconds): a
// page still being parsed after a click already has a body holding its
// top half (CI once read a car page without its last chart, which the
// screenshot taken a moment later showed).
func (tb *Tab) Expect(texts ...string) {
	tb.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		body := tb.Text("body")
		missing := ""
		for _, want := range texts {
			if !strings.Contains(body, want) {
				missing = want
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			tb.Shot("missing")
			tb.t.Fatalf("%s at %s: page lacks %q", tb.name, tb.Location(), missing)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// Shot saves a full-page screenshot under e2e/screenshots.
func (tb *Tab) Shot(label string) {
	buf, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Logf("screenshot %s: %v", label, err)
		return
	}
	dir := os.Getenv("PORTAL_E2E_SCREENSHOTS")
	if dir == "" {
		dir = "screenshots"
	}
	_ = os.MkdirAll(dir, 0o755)
	tb.shot++
	name := fmt.Sprintf("%s-%s-%02d-%s.png", unsafeName.ReplaceAllString(tb.t.Name(), "_"), tb.name, tb.shot, unsafeName.ReplaceAllString(label, "_"))
	if err := os.WriteFile(filepath.Join(dir, name), buf, 0o644); err != nil {
		tb.t.Logf("screenshot %s: %v", label, err)
	}
}

// SignIn signs in through the sign-in form.
func (tb *Tab) SignIn(org, email string) {
	tb.t.Helper()
	tb.Go("/login")
	tb.Fill(map[string]string{"#f-org": org, "#f-email": email, "#f-password": portaltest.Password})
	tb.Click("form[action='/login'] button[type=submit]")
	if loc := tb.Location(); strings.HasPrefix(loc, "/login") {
		tb.Shot("sign-in-failed")
		tb.t.Fatalf("%s: sign-in as %s failed; still at %s", tb.name, email, loc)
	}
}
