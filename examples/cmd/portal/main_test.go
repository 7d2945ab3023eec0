package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/portaltest"
)

// modulePages are a page and an API path of each of this repository's own
// modules: the binary must serve them all.
var modulePages = map[string]struct{ page, api string }{
	"notes":     {"/m/notes/", "/api/v1/notes/notes/{id}"},
	"cityworks": {"/m/cityworks/", "/api/v1/cityworks/reports/{id}"},
	"bookshop":  {"/m/bookshop/", "/api/v1/bookshop/books/{id}"},
}

// TestBuiltOutsideTheKit does what an integrator does: it copies examples/
// out of the PortalKit repository, points its replace lines at the kit,
// builds the ten-line main there, starts it with demo data and signs in
// as the demo customer, who gets every module's page; the OpenAPI document
// lists every module's operations.
func TestBuiltOutsideTheKit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the whole portal (-short)")
	}
	kit, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	repo := filepath.Join(dir, "acme-portal")
	if err := os.CopyFS(repo, os.DirFS(filepath.Join(kit, "examples"))); err != nil {
		t.Fatal(err)
	}
	_ = filepath.WalkDir(repo, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			return os.Chmod(p, 0o755)
		}
		return err
	})
	gocmd := func(args ...string) {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	gocmd("mod", "edit", "-replace", "github.com/portalkit/portalkit="+kit,
		"-replace", "github.com/portalkit/portalkit/sdk/go="+filepath.Join(kit, "sdk", "go"))
	bin := filepath.Join(dir, "portal")
	gocmd("build", "-o", bin, "./cmd/portal")

	env := []string{"PATH=" + os.Getenv("PATH"), "PORTAL_DATA_DIR=" + filepath.Join(dir, "data"), "PORTAL_MQTT_LISTEN=127.0.0.1:0", "PORTAL_LOG_LEVEL=info"}
	if portaltest.Dialect() == "postgres" {
		env = append(env, "PORTAL_DATABASE_URL="+portaltest.NewPostgresSchema(t))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--addr", "127.0.0.1:0", "--demo", "--demo-password", "Examples-demo-2026!")
	cmd.Env = env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`serving on (https?://\S+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	var base string
	select {
	case base = <-addrc:
	case <-time.After(60 * time.Second):
		t.Fatalf("the portal did not start; stderr:\n%s", stderr.String())
	}

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	get := func(path string) (int, string) {
		t.Helper()
		res, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	_, doc := get("/api/openapi.json")
	_, login := get("/login")
	csrf := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindStringSubmatch(login)
	if csrf == nil {
		t.Fatalf("no CSRF token on the sign-in page:\n%s", login)
	}
	res, err := client.PostForm(base+"/login", url.Values{"_csrf": {csrf[1]}, "org": {"demo"}, "email": {"customer@demo.example"}, "password": {"Examples-demo-2026!"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for id, want := range modulePages {
		if !strings.Contains(doc, `"`+want.api+`"`) {
			t.Errorf("module %s: the OpenAPI document lacks %s", id, want.api)
		}
		if status, body := get(want.page); status != 200 || !strings.Contains(body, `href="`+want.page+`"`) {
			t.Errorf("module %s: %s answered %d for the demo customer, or its navigation lacks the page:\n%.600s", id, want.page, status, body)
		}
	}
	if status, body := get("/m/automotive/"); status != 200 {
		t.Errorf("the bundled verticals are not served: /m/automotive/ answered %d\n%.300s", status, body)
	}
}
