// Package cluster is the scale-out test (`make test-cluster`): two portal
// processes built as the container image builds them, behind HAProxy with
// the shipped configuration, on a real PostgreSQL and Mosquitto, with no
// sticky sessions. It runs only when PORTAL_TEST_CLUSTER=1 (make
// test-cluster sets it; .ci/run runs it).
package cluster

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
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

	"github.com/jackc/pgx/v5"
)

// cluster is everything one test run starts.
type cluster struct {
	t        *testing.T
	dir      string
	bin      string
	dbURL    string
	db       *pgx.Conn
	mqttAddr string
	mqttPID  string
	lbURL    string
	portals  map[string]*portal
	env      []string
	started  time.Time // both instances were serving
}

type portal struct {
	name string
	addr string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func (p *portal) url() string { return "http://" + p.addr }

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func need(t *testing.T, bin string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		t.Fatalf("%s not found: the cluster test needs it (apt-get install %s)", bin, bin)
	}
	return p
}

// startCluster builds the binary, makes a fresh database, and starts
// Mosquitto, two portals and HAProxy.
func startCluster(t *testing.T) *cluster {
	if os.Getenv("PORTAL_TEST_CLUSTER") != "1" {
		t.Skip("*** SKIPPED: the cluster test runs with PORTAL_TEST_CLUSTER=1 (make test-cluster) ***")
	}
	base := os.Getenv("PORTAL_TEST_DATABASE_URL")
	if base == "" {
		t.Fatal("the cluster test needs PostgreSQL: set PORTAL_TEST_DATABASE_URL (bash .ci/run starts one)")
	}
	c := &cluster{t: t, dir: t.TempDir(), portals: map[string]*portal{}}
	t.Cleanup(func() {
		if t.Failed() {
			for _, f := range []string{"portal-a.log", "portal-b.log", "haproxy.log", "mosquitto/log"} {
				t.Logf("--- %s:\n%s", f, tail(filepath.Join(c.dir, f)))
			}
		}
	})

	// The binary, static as in the container image (CGO_ENABLED=0; the
	// production start in .ci/run builds it alike, so CI compiles it once).
	c.bin = filepath.Join(c.dir, "portal")
	build := exec.Command("go", "build", "-o", c.bin, "./cmd/portal")
	build.Dir = "../.."
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the portal: %v\n%s", err, out)
	}

	c.dbURL = freshDatabase(t, base)
	conn, err := pgx.Connect(context.Background(), c.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	c.db = conn
	t.Cleanup(func() { conn.Close(context.Background()) })

	c.startMosquitto()
	blobs := filepath.Join(c.dir, "blobs")
	c.env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + c.dir,
		"PORTAL_MODE=production",
		"PORTAL_DATABASE_URL=" + c.dbURL,
		"PORTAL_SECRET_KEY=cluster-test-secret-" + randHex(16),
		"PORTAL_LOG_FORMAT=json",
		"PORTAL_MESSAGES_BLOB_DIR=" + blobs,
		"PORTAL_MQTT_URL=tcp://" + c.mqttAddr,
		"PORTAL_MQTT_PASSWORD=cluster-mqtt",
		"PORTAL_MQTT_EXPORT_DIR=" + filepath.Join(c.dir, "mosquitto"),
		"PORTAL_MQTT_EXPORT_ACCOUNTS=" + filepath.Join(c.dir, "mosquitto", "accounts"),
		"PORTAL_MQTT_EXPORT_PID_FILE=" + c.mqttPID,
		"PORTAL_MQTT_EXPORT_INTERVAL=1s",
		// A cheap job every minute, to see each slot run once.
		"PORTAL_SCHEDULE_OVERRIDES=drafts.purge=* * * * *",
	}
	// Migrations and demo data once, as an operator's release step would.
	c.run("migrate", "--config", "../../configs/production.yaml")
	c.run("demo", "--config", "../../configs/production.yaml", "--demo-password", demoPassword)

	lbPort := freePort(t)
	for _, name := range []string{"portal-a", "portal-b"} {
		c.startPortal(name)
	}
	c.started = time.Now()
	c.startHAProxy(lbPort)
	return c
}

const demoPassword = "cluster-demo-password-1"

// freshDatabase creates a database of its own for this run on the server
// of base and returns its URL; it is dropped when the test ends.
func freshDatabase(t *testing.T, base string) string {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("PostgreSQL at PORTAL_TEST_DATABASE_URL: %v", err)
	}
	defer admin.Close(ctx)
	name := "portal_cluster_" + randHex(4)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a, err := pgx.Connect(context.Background(), base)
		if err == nil {
			_, _ = a.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			a.Close(context.Background())
		}
	})
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
}

// run runs one portal command to completion with the cluster's environment.
func (c *cluster) run(args ...string) string {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = append(c.env, "PORTAL_DATA_DIR="+filepath.Join(c.dir, "cli"), "PORTAL_HTTP_ADDR=127.0.0.1:0",
		"PORTAL_MQTT_USERNAME=portal-a", "PORTAL_MQTT_CLIENT_ID=portal-cli")
	out, err := cmd.CombinedOutput()
	if err != nil {
		c.t.Fatalf("portal %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// startMosquitto runs Mosquitto with the shipped configuration on a free
// port, with the instances' accounts file the exporter needs.
func (c *cluster) startMosquitto() {
	t := c.t
	bin := need(t, "mosquitto")
	passwd := need(t, "mosquitto_passwd")
	dir := filepath.Join(c.dir, "mosquitto")
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"passwd", "acl"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	accounts := filepath.Join(dir, "accounts")
	for i, u := range []string{"portal-a", "portal-b"} {
		args := []string{"-b", accounts, u, "cluster-mqtt"}
		if i == 0 {
			args = append([]string{"-c"}, args...)
		}
		if out, err := exec.Command(passwd, args...).CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_passwd: %v\n%s", err, out)
		}
	}
	shipped, err := os.ReadFile("../../deploy/mosquitto/mosquitto.conf")
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	conf := string(shipped)
	conf = strings.ReplaceAll(conf, "/etc/mosquitto/portal", dir)
	conf = strings.ReplaceAll(conf, "/var/lib/mosquitto/", filepath.Join(dir, "data")+"/")
	conf = regexp.MustCompile(`(?m)^listener 1883 127\.0\.0\.1$`).ReplaceAllString(conf, fmt.Sprintf("listener %d 127.0.0.1", port))
	c.mqttPID = filepath.Join(dir, "mosquitto.pid")
	conf += "\npid_file " + c.mqttPID + "\n"
	if os.Geteuid() == 0 {
		conf += "user root\n"
	}
	cfgPath := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(cfgPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", cfgPath)
	logf, _ := os.Create(filepath.Join(dir, "log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	c.mqttAddr = fmt.Sprintf("127.0.0.1:%d", port)
	waitTCP(t, c.mqttAddr, "Mosquitto")
}

// startPortal starts (or restarts) one instance under its name.
func (c *cluster) startPortal(name string) *portal {
	t := c.t
	p := c.portals[name]
	if p == nil {
		p = &portal{name: name, addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), log: filepath.Join(c.dir, name+".log")}
		c.portals[name] = p
	}
	cmd := exec.Command(c.bin, "serve", "--config", "../../configs/production.yaml")
	cmd.Env = append(c.env,
		"PORTAL_DATA_DIR="+filepath.Join(c.dir, name),
		"PORTAL_HTTP_ADDR="+p.addr,
		"PORTAL_HTTP_BASE_URL=http://"+p.addr,
		"PORTAL_MQTT_USERNAME="+name,
		"PORTAL_MQTT_CLIENT_ID="+name,
		// Two instances split the devices' readings (docs/devices.md).
		"PORTAL_MQTT_GROUP=portal",
	)
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); logf.Close(); close(done) }(p.done)
	t.Cleanup(func() { c.stop(p, syscall.SIGKILL) })
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get(p.url() + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited at start:\n%s", name, tail(p.log))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 60 s:\n%s", name, tail(p.log))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop ends an instance with sig and waits for it.
func (c *cluster) stop(p *portal, sig syscall.Signal) {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(45 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// startHAProxy runs HAProxy with deploy/compose/haproxy.cfg, its servers
// pointed at the two instances' loopback addresses.
func (c *cluster) startHAProxy(port int) {
	t := c.t
	bin := need(t, "haproxy")
	shipped, err := os.ReadFile("../../deploy/compose/haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	conf := string(shipped)
	conf = strings.Replace(conf, "bind :8080", fmt.Sprintf("bind 127.0.0.1:%d", port), 1)
	for name, p := range c.portals {
		conf = strings.Replace(conf, name+":8080", p.addr, 1)
	}
	path := filepath.Join(c.dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-c", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("haproxy refuses deploy/compose/haproxy.cfg: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-db", "-f", path)
	logf, _ := os.Create(filepath.Join(c.dir, "haproxy.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	c.lbURL = fmt.Sprintf("http://127.0.0.1:%d", port)
	waitTCP(t, fmt.Sprintf("127.0.0.1:%d", port), "HAProxy")
	// Both servers pass their first health checks.
	deadline := time.Now().Add(15 * time.Second)
	seen := map[string]bool{}
	for len(seen) < 2 && time.Now().Before(deadline) {
		if resp, err := http.Get(c.lbURL + "/healthz"); err == nil {
			seen[resp.Header.Get("X-Served-By")] = true
			resp.Body.Close()
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(seen) < 2 {
		t.Fatalf("HAProxy did not reach both instances: %v", seen)
	}
}

func waitTCP(t *testing.T, addr, what string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not listen on %s", what, addr)
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// client is one person's API client: a bearer token, and the instance
// that served each request.
type client struct {
	t     *testing.T
	token string
}

// login signs in through base and returns a client for the session.
func login(t *testing.T, base, email string) (*client, string) {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	served := do(t, http.MethodPost, base+"/api/v1/auth/login", "", map[string]string{
		"org": "demo", "email": email, "password": demoPassword}, http.StatusOK, &out)
	if out.Token == "" {
		t.Fatal("login returned no token")
	}
	return &client{t: t, token: out.Token}, served
}

// do sends one JSON request and decodes the answer; it returns the
// instance that served it (HAProxy's X-Served-By).
func do(t *testing.T, method, url, token string, body any, want int, out any) string {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, url, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
	return resp.Header.Get("X-Served-By")
}

// sseEvents reads a text/event-stream and sends each event's data.
func sseEvents(ctx context.Context, t *testing.T, url, token string) <-chan string {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: status %d", resp.StatusCode)
	}
	ch := make(chan string, 100)
	go func() {
		defer resp.Body.Close()
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		var data strings.Builder
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "data:"):
				data.WriteString(strings.TrimSpace(strings.TrimPrefix(line, "data:")))
			case line == "" && data.Len() > 0:
				ch <- data.String()
				data.Reset()
			}
		}
	}()
	return ch
}
