// Package e2e holds PortalKit's black-box tests: the real portal (every
// bundled vertical, demo data) served on a real port and driven by a real
// Chromium through chromedp, real MQTT clients and a real SMTP sink. Tests
// save screenshots under e2e/screenshots (kept out of git) and fail on any
// console error, uncaught exception or CSP violation in the browser.
//
// Chromium comes from CHROME_BIN (default /usr/bin/chromium); without it the
// tests skip loudly, or fail under PORTAL_REQUIRE_SERVICES=1.
package e2e
