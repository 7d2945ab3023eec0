package education_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/verticals/education"
)

func rosterSize(t *testing.T, s *school) int {
	t.Helper()
	var r struct {
		Students []education.Student `json:"students"`
	}
	do(t, s.ta, "GET", fmt.Sprintf("/api/v1/education/courses/%d/students", s.course), nil, s.admin, 200).JSON(t, &r)
	return len(r.Students)
}

// TestEnrolmentCSVImport: the preview names each line's fate (will enrol,
// already enrolled, or an error with its reason); a file with any error
// enrols nobody; a clean file enrols everyone; importing it again enrols
// nobody twice; staff of another course and students cannot import.
func TestEnrolmentCSVImport(t *testing.T) {
	ta, _ := newApp(t)
	s := newSchool(t, ta)
	for _, e := range []string{"ada@uni.example", "bob@uni.example", "cy@uni.example"} {
		ta.User(t, "uni", e, accounts.Customer)
	}
	ta.User(t, "uni", "teller@uni.example", accounts.Staff)
	_, cyID := s.student(t, "cy@uni.example") // already on the course
	_ = cyID
	path := fmt.Sprintf("/m/education/courses/%d/import", s.course)

	prof := ta.Browser()
	prof.SignIn(t, "uni", "prof@uni.example")
	if res := prof.Get(t, path); res.Status != 200 || !strings.Contains(res.Body, `name="file"`) {
		t.Fatalf("import page: %d", res.Status)
	}

	bad := "email,external_id,name\n" +
		"ada@uni.example,S-1,Ada\n" +
		"nobody@uni.example,S-2,Nobody\n" +
		"not-an-address,S-3\n" +
		"ada@uni.example,S-4,Ada again\n" +
		"teller@uni.example,S-5\n" +
		"cy@uni.example,sis-cy@uni.example\n" +
		"bob@uni.example\n"
	res := prof.Post(t, path, url.Values{"csv": {bad}, "action": {"preview"}})
	if res.Status != 200 {
		t.Fatalf("preview: %d %s", res.Status, res.Body)
	}
	rows := regexp.MustCompile(`(?s)<tr( class="row-error")?><td data-label="Line">(\d+)</td>.*?</tr>`).FindAllStringSubmatch(res.Body, -1)
	want := map[string]string{
		"2": "Will enrol",
		"3": "no student of this organisation has this e-mail",
		"4": "is not a valid e-mail address",
		"5": "repeats an earlier line",
		"6": "no student of this organisation has this e-mail", // staff, not a student
		"7": "Already enrolled",
		"8": "needs an e-mail address and an external ID",
	}
	if len(rows) != len(want) {
		t.Fatalf("preview shows %d lines, want %d:\n%s", len(rows), len(want), res.Body)
	}
	for _, r := range rows {
		if w := want[r[2]]; !strings.Contains(r[0], w) || (r[1] != "") != (w != "Will enrol" && w != "Already enrolled") {
			t.Errorf("line %s: %s (want %q)", r[2], r[0], w)
		}
	}
	if !strings.Contains(res.Body, "Will enrol: 1. Already enrolled: 1. Errors: 5.") || strings.Contains(res.Body, `value="import"`) {
		t.Errorf("preview summary or a confirm button with errors:\n%s", res.Body)
	}

	// Confirming a file with errors (a forged form) enrols nobody.
	res = prof.Post(t, path, url.Values{"csv": {bad}, "action": {"import"}})
	if res.Status != 200 || !strings.Contains(res.Body, "Nobody was enrolled") {
		t.Fatalf("import with errors: %d %s", res.Status, res.Body)
	}
	if n := rosterSize(t, s); n != 1 {
		t.Fatalf("an import with errors enrolled students: roster %d", n)
	}

	good := "e-mail;name;external id\nADA@uni.example;Ada;S-1\nbob@uni.example;Bob;S-2\ncy@uni.example;Cy;sis-cy@uni.example\n"
	res = prof.Post(t, path, url.Values{"csv": {good}, "action": {"preview"}})
	if !strings.Contains(res.Body, "Will enrol: 2. Already enrolled: 1. Errors: 0.") || !strings.Contains(res.Body, `value="import"`) {
		t.Fatalf("clean preview:\n%s", res.Body)
	}
	res = prof.Post(t, path, url.Values{"csv": {good}, "action": {"import"}})
	if res.Status != 303 || !strings.Contains(res.Header.Get("Location"), "msg=imported") {
		t.Fatalf("import: %d %s", res.Status, res.Body)
	}
	if n := rosterSize(t, s); n != 3 {
		t.Fatalf("roster after import: %d, want 3", n)
	}
	// Again: idempotent by external ID.
	res = prof.Post(t, path, url.Values{"csv": {good}, "action": {"preview"}})
	if !strings.Contains(res.Body, "Will enrol: 0. Already enrolled: 3. Errors: 0.") {
		t.Fatalf("re-import preview:\n%s", res.Body)
	}
	if res = prof.Post(t, path, url.Values{"csv": {good}, "action": {"import"}}); res.Status != 303 {
		t.Fatalf("re-import: %d", res.Status)
	}
	if n := rosterSize(t, s); n != 3 {
		t.Fatalf("roster after re-import: %d, want 3", n)
	}

	// Staff of another course: not found, nothing enrolled; a student: refused.
	other := ta.Browser()
	ta.User(t, "uni", "history@uni.example", accounts.Staff)
	other.SignIn(t, "uni", "history@uni.example")
	if res := other.Get(t, path); res.Status != 404 {
		t.Fatalf("another course's professor opens the import: %d", res.Status)
	}
	ta.User(t, "uni", "dan@uni.example", accounts.Customer)
	if res := other.Post(t, path, url.Values{"csv": {"dan@uni.example,S-9\n"}, "action": {"import"}}); res.Status != 404 {
		t.Fatalf("another course's professor imports: %d", res.Status)
	}
	stud := ta.Browser()
	stud.SignIn(t, "uni", "ada@uni.example")
	if res := stud.Post(t, path, url.Values{"csv": {"dan@uni.example,S-9\n"}, "action": {"import"}}); res.Status != 403 && res.Status != 404 {
		t.Fatalf("a student imports: %d", res.Status)
	}
	if n := rosterSize(t, s); n != 3 {
		t.Fatalf("roster after refused imports: %d, want 3", n)
	}
}

// TestEnrolmentCSVUpload: the file input (multipart, as a browser sends
// it) previews and imports like pasted lines.
func TestEnrolmentCSVUpload(t *testing.T) {
	ta, _ := newApp(t)
	s := newSchool(t, ta)
	ta.User(t, "uni", "eve@uni.example", accounts.Customer)
	path := fmt.Sprintf("/m/education/courses/%d/import", s.course)
	prof := ta.Browser()
	prof.SignIn(t, "uni", "prof@uni.example")
	prof.Get(t, path)
	upload := func(action string) *portaltest.Response {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		_ = w.WriteField("_csrf", prof.CSRF)
		_ = w.WriteField("action", action)
		fw, _ := w.CreateFormFile("file", "roster.csv")
		_, _ = fw.Write([]byte("\xef\xbb\xbfEmail,External ID\neve@uni.example,S-77\n"))
		_ = w.Close()
		cookie := accounts.SessionCookie + "=" + prof.Cookie(accounts.SessionCookie)
		if c := prof.Cookie(accounts.CSRFCookie); c != "" {
			cookie += "; " + accounts.CSRFCookie + "=" + c
		}
		return ta.Do(t, "POST", path, body.Bytes(), map[string]string{"Content-Type": w.FormDataContentType(), "Cookie": cookie, "Accept": "text/html"})
	}
	if res := upload("preview"); res.Status != 200 || !strings.Contains(res.Body, "Will enrol: 1. Already enrolled: 0. Errors: 0.") {
		t.Fatalf("upload preview: %d %s", res.Status, res.Body)
	}
	if res := upload("import"); res.Status != 303 {
		t.Fatalf("upload import: %d %s", res.Status, res.Body)
	}
	if n := rosterSize(t, s); n != 1 {
		t.Fatalf("roster after upload: %d", n)
	}
}
