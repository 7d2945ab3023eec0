package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/app/testdata/sample"
	"github.com/portalkit/portalkit/core/module"
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

// portalEnv is the environment of a portal subprocess on the test run's
// database.
func portalEnv(t *testing.T) []string {
	env := []string{"PORTAL_DATA_DIR=" + t.TempDir(), "PORTAL_LOG_LEVEL=info", "PATH=" + os.Getenv("PATH")}
	if portaltest.Dialect() == "postgres" {
		env = append(env, "PORTAL_DATABASE_URL="+portaltest.NewPostgresSchema(t))
	}
	return env
}

// startPortal runs the test binary as the portal and returns its address.
func startPortal(t *testing.T, args ...string) (*exec.Cmd, string, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(portalEnv(t), "GO_TEST_PORTAL_MAIN=1")
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
		re := regexp.MustCompile(`serving on http://(\S+)`)
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
	for _, path := range []string{"/healthz", "/readyz", "/api/openapi.json", "/m/sample/"} {
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
	first := out.String()
	if !regexp.MustCompile(`up to date: \d+ migrations applied`).MatchString(first) {
		t.Fatalf("migrate output %q", first)
	}
	env, out, _ = testEnv(t, env.environ...)
	runWith(env, []string{"migrate"})
	if out.String() != first {
		t.Fatalf("second migrate output %q", out.String())
	}
}
