package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/app/testdata/sample"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/notify/notifytest"
	"github.com/portalkit/portalkit/core/portaltest"
)

// TestMain lets the test binary act as the portal binary (hosting the
// sample module) when re-executed by a test, so real signals can be sent.
func TestMain(m *testing.M) {
	if os.Getenv("GO_TEST_PORTAL_MAIN") == "1" {
		env := &cliEnv{
			stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ(),
			modules: func() []module.Module { return []module.Module{&sample.Module{}} },
			signals: signalContext,
		}
		os.Exit(runWith(env, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// testEnv runs commands in process with a controlled environment.
func testEnv(t *testing.T, environ ...string) (*cliEnv, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &cliEnv{
		stdout: &out, stderr: &errb, environ: environ,
		modules: func() []module.Module { return []module.Module{&sample.Module{}} },
		signals: func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) },
	}, &out, &errb
}

func TestUsageErrorsExitTwoWithOneLine(t *testing.T) {
	cases := [][]string{
		{},
		{"nosuch"},
		{"serve", "--bogus"},
		{"serve", "stray"},
		{"serve", "--addr", "8080"},
		{"config"},
		{"config", "show"},
		{"version", "extra"},
		{"modules", "--x"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			env, _, errb := testEnv(t)
			if code := runWith(env, args); code != exitUsage {
				t.Fatalf("exit %d, want %d", code, exitUsage)
			}
			if len(args) == 0 {
				return // bare `portal` prints usage to stdout
			}
			msg := errb.String()
			if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "portal") {
				t.Fatalf("want one line on stderr, got %q", msg)
			}
		})
	}
}

func TestHelpEverywhere(t *testing.T) {
	for _, c := range commands() {
		env, out, _ := testEnv(t)
		if code := runWith(env, []string{c.name, "--help"}); code != exitOK {
			t.Errorf("%s --help: exit %d", c.name, code)
		}
		if !strings.Contains(out.String(), "Usage: portal "+c.name) {
			t.Errorf("%s --help printed %q", c.name, out.String())
		}
	}
}

func TestModulesAndVersion(t *testing.T) {
	env, out, _ := testEnv(t)
	if code := runWith(env, []string{"modules"}); code != 0 {
		t.Fatal(code)
	}
	if !regexp.MustCompile(`sample\s+1\.0\.0\s+-\s+Notes, to prove`).MatchString(out.String()) {
		t.Fatalf("modules output: %q", out.String())
	}
	// A module whose requirement is not compiled in is listed, and the
	// command fails naming it.
	env, out, errOut := testEnv(t)
	env.modules = func() []module.Module { return []module.Module{needsBilling{}} }
	if code := runWith(env, []string{"modules"}); code != exitError {
		t.Errorf("missing requirement: exit %d, want %d", code, exitError)
	}
	if !strings.Contains(out.String(), "shop") || !strings.Contains(errOut.String(), `module "shop" requires module "billing", which is not loaded`) {
		t.Errorf("missing requirement: out %q, err %q", out.String(), errOut.String())
	}
	env, out, _ = testEnv(t)
	runWith(env, []string{"version"})
	if !strings.HasPrefix(out.String(), "portal ") {
		t.Fatalf("version: %q", out.String())
	}
}

func TestBadConfigWritesNothing(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	badFile := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badFile, []byte("http:\n  adress: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	cases := []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"unknown key in file", []string{"serve", "--config", badFile}, nil, `unknown key "adress"`},
		{"unknown env key", []string{"serve"}, []string{"PORTAL_HTTP_ADRESS=x"}, "PORTAL_HTTP_ADRESS"},
		{"malformed URL", []string{"serve"}, []string{"PORTAL_DATABASE_URL=postgres//nohost"}, "database.url"},
		{"port in use", []string{"serve", "--addr", busy.Addr().String()}, nil, "address already in use"},
		{"MQTT port in use", []string{"serve", "--addr", "127.0.0.1:0"}, []string{"PORTAL_MQTT_LISTEN=" + busy.Addr().String()}, "mqtt.listen"},
		{"demo on a public address", []string{"serve", "--demo", "--addr", "0.0.0.0:0"}, nil, "refusing --demo"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, _, errb := testEnv(t, append([]string{"PORTAL_DATA_DIR=" + data}, tc.env...)...)
			code := runWith(env, tc.args)
			if code == 0 {
				t.Fatal("exit 0 on bad config")
			}
			msg := errb.String()
			if !strings.Contains(msg, tc.want) || strings.Count(msg, "\n") != 1 {
				t.Fatalf("stderr %q: want one line naming %q", msg, tc.want)
			}
			if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("data dir was written despite the bad config")
			}
		})
	}
}

func TestConfigPrintMasksSecrets(t *testing.T) {
	env, out, _ := testEnv(t, "PORTAL_DATABASE_URL=postgres://portal:topsecret@db/portal", "PORTAL_SECRET_KEY=abcdefabcdefabcdefabcdefabcdefabcdef")
	if code := runWith(env, []string{"config", "print"}); code != 0 {
		t.Fatal(code)
	}
	if strings.Contains(out.String(), "topsecret") || strings.Contains(out.String(), "abcdefabcdef") {
		t.Fatalf("secret printed:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "database.url") {
		t.Fatalf("no database.url line:\n%s", out.String())
	}
}

// TestConfigPrintWithConfigFlagAfterPrint: the form the usage text gives,
// `config print --config FILE`, reads FILE (as does the flag first).
func TestConfigPrintWithConfigFlagAfterPrint(t *testing.T) {
	file := filepath.Join(t.TempDir(), "portal.yaml")
	if err := os.WriteFile(file, []byte("http:\n  addr: 127.0.0.1:22150\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"config", "print", "--config", file}, {"config", "--config", file, "print"}} {
		env, out, errb := testEnv(t)
		if code := runWith(env, args); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		if !strings.Contains(out.String(), "127.0.0.1:22150") {
			t.Fatalf("%v: the file's http.addr is not in the output:\n%s", args, out.String())
		}
	}
	env, _, errb := testEnv(t)
	if code := runWith(env, []string{"config", "print", "extra"}); code == 0 || !strings.Contains(errb.String(), "extra") {
		t.Fatalf("a stray argument: exit %d, %q", code, errb.String())
	}
}

// portalEnv is the environment of a portal subprocess on the test run's
// database.
func portalEnv(t *testing.T) []string {
	env := []string{"PORTAL_DATA_DIR=" + t.TempDir(), "PORTAL_LOG_LEVEL=info", "PATH=" + os.Getenv("PATH"), "PORTAL_MQTT_LISTEN=127.0.0.1:0"}
	if portaltest.Dialect() == "postgres" {
		env = append(env, "PORTAL_DATABASE_URL="+portaltest.NewPostgresSchema(t))
	}
	return env
}

// startPortal runs the test binary as the portal and returns its address.
func startPortal(t *testing.T, args ...string) (*exec.Cmd, string, *bytes.Buffer) {
	t.Helper()
	return startPortalEnv(t, nil, args...)
}

// startPortalEnv is startPortal with more environment variables.
func startPortalEnv(t *testing.T, env []string, args ...string) (*exec.Cmd, string, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(portalEnv(t), env...), "GO_TEST_PORTAL_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`serving on https?://(\S+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case addr := <-addrc:
		t.Logf("portal started in %v", time.Since(start).Round(time.Millisecond))
		return cmd, addr, &stderr
	case <-time.After(20 * time.Second):
		t.Fatalf("portal did not start; stderr:\n%s", stderr.String())
	}
	return nil, "", nil
}

func TestServeAnswersAndStopsGracefullyOnSIGTERM(t *testing.T) {
	cmd, addr, stderr := startPortal(t, "serve", "--addr", "127.0.0.1:0", "--demo")
	base := "http://" + addr
	for _, path := range []string{"/healthz", "/readyz", "/api/openapi.json", "/login"} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
	}

	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		res, err := http.Get(base + "/api/v1/sample/slow?ms=1500")
		if err != nil {
			done <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		done <- result{status: res.StatusCode, body: string(b)}
	}()
	time.Sleep(300 * time.Millisecond) // the slow request is in flight
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.status != 200 {
		t.Fatalf("in-flight request did not complete: %d %v", r.status, r.err)
	}
	var body struct {
		Slept int `json:"slept_ms"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil || body.Slept != 1500 {
		t.Fatalf("body %q", r.body)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("portal exited with %v; stderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "shutting down") {
		t.Errorf("no shutdown log line:\n%s", stderr.String())
	}
	// New connections are refused after shutdown.
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("still accepting connections after exit")
	}
}

func TestMigrateCommand(t *testing.T) {
	env, out, errb := testEnv(t, portalEnv(t)...)
	if code := runWith(env, []string{"migrate"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	first := regexp.MustCompile(`up to date: (\d+) migrations applied`).FindStringSubmatch(out.String())
	if first == nil || first[1] == "0" {
		t.Fatalf("migrate output %q", out.String())
	}
	env, out, _ = testEnv(t, env.environ...)
	runWith(env, []string{"migrate"})
	if !strings.Contains(out.String(), first[1]+" migrations applied") {
		t.Fatalf("second migrate output %q, want the same count %s", out.String(), first[1])
	}
}

func TestOrgsAndUsersCommands(t *testing.T) {
	environ := portalEnv(t)
	run := func(args ...string) (int, string, string) {
		env, out, errb := testEnv(t, environ...)
		return runWith(env, args), out.String(), errb.String()
	}
	if code, out, errs := run("orgs", "add", "--slug", "acme-bank", "--name", "Acme Bank", "--time-zone", "Europe/Rome"); code != 0 || !strings.Contains(out, "created organisation acme-bank") {
		t.Fatalf("orgs add: %d %q %q", code, out, errs)
	}
	code, _, errs := run("orgs", "add", "--slug", "acme-bank", "--name", "Again")
	if code != 1 || !strings.Contains(errs, "slug: is already taken") || strings.Count(errs, "\n") != 1 {
		t.Fatalf("duplicate org: %d %q", code, errs)
	}
	if code, _, errs := run("orgs", "add", "--name", "No slug"); code != 2 || !strings.Contains(errs, "--slug and --name are required") {
		t.Fatalf("missing slug: %d %q", code, errs)
	}
	if code, out, _ := run("orgs", "list"); code != 0 || !regexp.MustCompile(`acme-bank\s+Acme Bank`).MatchString(out) {
		t.Fatalf("orgs list: %d %q", code, out)
	}
	code, out, errs := run("users", "add", "--org", "acme-bank", "--email", "boss@acme.example", "--role", "admin")
	m := regexp.MustCompile(`initial password: (\S+)`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("users add: %d %q %q", code, out, errs)
	}
	if code, _, errs := run("users", "add", "--org", "acme-bank", "--email", "x@acme.example", "--role", "king"); code != 2 || !strings.Contains(errs, `--role "king"`) {
		t.Fatalf("bad role: %d %q", code, errs)
	}
	if code, out, _ := run("users", "add", "--org", "platform", "--email", "ops@portal.example", "--role", "platform_admin"); code != 0 || !strings.Contains(out, "platform_admin ops@portal.example in platform") {
		t.Fatalf("platform admin: %d %q", code, out)
	}
	// The printed password signs in.
	env, _, _ := testEnv(t, environ...)
	load := func() (config.Config, error) { return config.Load("", true, env.environ) }
	a, err := openApp(context.Background(), env, load)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Accounts.Login(context.Background(), accounts.LoginInput{Org: "acme-bank", Email: "boss@acme.example", Password: m[1]}, ""); err != nil {
		t.Fatalf("the printed password does not sign in: %v", err)
	}
}

func TestDevicesCommands(t *testing.T) {
	environ := portalEnv(t)
	run := func(args ...string) (int, string, string) {
		env, out, errb := testEnv(t, environ...)
		return runWith(env, args), out.String(), errb.String()
	}
	if code, _, errs := run("orgs", "add", "--slug", "demo", "--name", "Demo"); code != 0 {
		t.Fatalf("orgs add: %s", errs)
	}
	if code, _, errs := run("users", "add", "--org", "demo", "--email", "customer@demo.example", "--role", "customer"); code != 0 {
		t.Fatalf("users add: %s", errs)
	}
	mods := strings.Split(strings.TrimSpace(func() string { _, out, _ := run("modules"); return out }()), "\n")
	if len(mods) < 2 {
		t.Skip("no module compiled in to own a device")
	}
	mod := strings.Fields(mods[1])[0]
	code, out, errs := run("devices", "add", "--org", "demo", "--owner", "customer@demo.example", "--module", mod, "--name", "My car")
	m := regexp.MustCompile(`username: (\S+)\nsecret:\s+(\S+)`).FindStringSubmatch(out)
	if code != 0 || m == nil || !strings.Contains(out, "publish:  t/demo/d/"+m[1]+"/"+mod) {
		t.Fatalf("devices add: %d %q %q", code, out, errs)
	}
	if code, _, errs := run("devices", "add", "--org", "demo", "--owner", "nobody@demo.example", "--module", mod, "--name", "X"); code != 1 || !strings.Contains(errs, "no user nobody@demo.example") || strings.Count(errs, "\n") != 1 {
		t.Errorf("unknown owner: %d %q", code, errs)
	}
	if code, out, _ := run("devices", "list", "--org", "demo"); code != 0 || !strings.Contains(out, m[1]) {
		t.Errorf("devices list: %d %q", code, out)
	}
	dir := t.TempDir()
	if code, out, errs := run("devices", "export", "--format", "mosquitto", "--out", dir); code != 0 || !strings.Contains(out, "1 active devices") {
		t.Fatalf("export: %d %q %q", code, out, errs)
	}
	pw, _ := os.ReadFile(filepath.Join(dir, "passwd"))
	acl, _ := os.ReadFile(filepath.Join(dir, "acl"))
	if !strings.HasPrefix(string(pw), m[1]+":$7$101$") || !strings.Contains(string(acl), "pattern write t/+/d/%u/#") || strings.Contains(string(acl), m[1]) {
		t.Errorf("export files:\n%s\n%s", pw, acl)
	}
	if code, out, _ := run("devices", "disable", "--org", "demo", m[1]); code != 0 || !strings.Contains(out, "disabled device") {
		t.Errorf("disable: %d %q", code, out)
	}
	if code, out, _ := run("devices", "export", "--format", "mosquitto", "--out", dir); code != 0 || !strings.Contains(out, "0 active devices") {
		t.Errorf("export after disable: %d %q", code, out)
	}
	if code, _, errs := run("devices", "export", "--format", "emqx", "--out", dir); code != 2 || !strings.Contains(errs, "only mosquitto") {
		t.Errorf("bad format: %d %q", code, errs)
	}
}

func TestSimulateCommandErrors(t *testing.T) {
	environ := portalEnv(t)
	run := func(args ...string) (int, string) {
		env, _, errb := testEnv(t, environ...)
		return runWith(env, args), errb.String()
	}
	if code, errs := run("simulate", "--devices", "3"); code != 2 || !strings.Contains(errs, "--org is required") {
		t.Errorf("no org: %d %q", code, errs)
	}
	if code, errs := run("simulate", "--org", "demo", "--rate", "0"); code != 2 || !strings.Contains(errs, "must be positive") {
		t.Errorf("zero rate: %d %q", code, errs)
	}
	// The sample module declares no device stream: a clear one-line error.
	run("orgs", "add", "--slug", "demo", "--name", "Demo")
	if code, errs := run("simulate", "--org", "demo", "--duration", "1s"); code != 1 || !strings.Contains(errs, "declares a simulated stream") || strings.Count(errs, "\n") != 1 {
		t.Errorf("nothing to simulate: %d %q", code, errs)
	}
}

// needsBilling requires a module that is not compiled in.
type needsBilling struct{}

func (needsBilling) Info() module.Info {
	return module.Info{ID: "shop", Name: "Shop", Version: "1.0.0", Requires: []string{"billing"}}
}
func (needsBilling) Init(module.Host) error { return nil }

// TestEmailLinkOpensThePage starts the portal on a port the system picks,
// with no base_url and a real SMTP server, asks for a password reset, and
// follows the link in the e-mail: it names the port the portal listens on
// (base_url follows --addr) and opens the reset form for that token.
func TestEmailLinkOpensThePage(t *testing.T) {
	sink, err := notifytest.NewSMTPSink()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sink.Close)
	_, addr, stderr := startPortalEnv(t, []string{"PORTAL_NOTIFY_SMTP_HOST=127.0.0.1", fmt.Sprintf("PORTAL_NOTIFY_SMTP_PORT=%d", sink.Port),
		"PORTAL_NOTIFY_SMTP_TLS=none", "PORTAL_NOTIFY_POLL_INTERVAL=100ms"}, "serve", "--addr", "127.0.0.1:0", "--demo")
	base := "http://" + addr
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) (int, string) {
		t.Helper()
		res, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	_, form := get(base + "/password/forgot?org=demo")
	csrf := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindStringSubmatch(form)
	if csrf == nil {
		t.Fatalf("no CSRF token on the form: %s", form)
	}
	res, err := client.PostForm(base+"/password/forgot", url.Values{"_csrf": {csrf[1]}, "org": {"demo"}, "email": {"customer@demo.example"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 303 {
		t.Fatalf("reset request: %d", res.StatusCode)
	}
	// The demo's own notifications arrive too; wait for the reset e-mail.
	resetLink := regexp.MustCompile(`https?://[^\s"<>]+/password/reset\?token=[A-Za-z0-9_%-]+`)
	var link string
	for deadline := time.Now().Add(15 * time.Second); link == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		for _, m := range sink.Messages() {
			if l := resetLink.FindString(mailText(t, m.Raw)); l != "" && slices.Contains(m.To, "customer@demo.example") {
				link = l
			}
		}
	}
	if link == "" {
		t.Fatalf("no e-mail with a reset link arrived (%d e-mails); stderr:\n%s", sink.Count(), stderr.String())
	}
	if !strings.HasPrefix(link, base+"/") {
		t.Fatalf("the link %s does not point at the portal on %s", link, base)
	}
	status, page := get(link)
	token, _ := url.Parse(link)
	if status != 200 || !strings.Contains(page, "Choose a new password") || !strings.Contains(page, `value="`+token.Query().Get("token")+`"`) {
		t.Fatalf("the link opened %d:\n%s", status, page)
	}
}

// mailText returns the text parts of a raw e-mail, decoded.
func mailText(t *testing.T, raw []byte) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	var walk func(ct string, body io.Reader)
	walk = func(ct string, body io.Reader) {
		mt, params, _ := mime.ParseMediaType(ct)
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextPart()
				if err != nil {
					return
				}
				walk(p.Header.Get("Content-Type"), p)
			}
		}
		b, _ := io.ReadAll(body)
		out.Write(b)
		out.WriteString("\n")
	}
	body := io.Reader(msg.Body)
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	walk(msg.Header.Get("Content-Type"), body)
	return out.String()
}

// TestPublicEntryPoint: Run (and so Main) hosts the modules it is given
// beside the registered ones, with every command.
func TestPublicEntryPoint(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Run([]string{"modules"}, &out, &errOut, &sample.Module{}); code != exitOK {
		t.Fatalf("modules: exit %d: %s", code, errOut.String())
	}
	if !regexp.MustCompile(`(?m)^sample\s+1\.0\.0`).MatchString(out.String()) {
		t.Errorf("the given module is not listed: %q", out.String())
	}
	out.Reset()
	errOut.Reset()
	if code := Run([]string{"modules"}, &out, &errOut, needsBilling{}); code != exitError || !strings.Contains(errOut.String(), `requires module "billing"`) {
		t.Errorf("a missing requirement: exit %d, %q", code, errOut.String())
	}
	out.Reset()
	if code := Run([]string{"--help"}, &out, &errOut); code != exitOK {
		t.Errorf("--help: exit %d", code)
	}
	for _, c := range []string{"serve", "migrate", "demo", "jobs", "devices", "simulate", "modules", "config", "orgs", "users", "version"} {
		if !regexp.MustCompile(`(?m)^  ` + c + `\s`).MatchString(out.String()) {
			t.Errorf("the public entry point lacks the %s command", c)
		}
	}
}
