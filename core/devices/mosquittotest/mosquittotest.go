// Package mosquittotest starts a real Mosquitto for a test, configured from
// deploy/mosquitto/mosquitto.conf with its own port, password file and ACL
// exported from the device registry, so any package's tests can run their
// device scenarios through the production broker. Without the binary
// (PORTAL_TEST_MOSQUITTO) the test skips, or fails when
// PORTAL_REQUIRE_SERVICES=1.
package mosquittotest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/portaltest"
)

// Env names the mosquitto binary; .ci/services.sh sets it.
const Env = "PORTAL_TEST_MOSQUITTO"

// PortalPassword is the password of the portal's own broker accounts.
const PortalPassword = "portal-test-password"

// Broker is a Mosquitto started for one test.
type Broker struct {
	t testing.TB
	// Dir holds its configuration, password file, ACL and log.
	Dir string
	// URL is where devices and the portal connect.
	URL    string
	port   int
	bin    string
	cmd    *exec.Cmd
	portal []devices.PortalAccount
	svc    *devices.Service
}

// Start starts Mosquitto on port for the registry of svc, with portalUsers
// as the portal's accounts (password PortalPassword).
func Start(t testing.TB, svc *devices.Service, port int, portalUsers ...string) *Broker {
	t.Helper()
	return StartIn(t, t.TempDir(), svc, port, portalUsers...)
}

// StartIn is Start with its files in dir.
func StartIn(t testing.TB, dir string, svc *devices.Service, port int, portalUsers ...string) *Broker {
	t.Helper()
	Require(t)
	bin := os.Getenv(Env)
	src, err := os.ReadFile(confPath())
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(dir, 0o755)
	conf := string(src)
	conf = strings.ReplaceAll(conf, "/etc/mosquitto/portal", dir)
	conf = strings.ReplaceAll(conf, "/var/lib/mosquitto/", dir+"/")
	conf = strings.Replace(conf, "listener 1883 127.0.0.1", fmt.Sprintf("listener %d 127.0.0.1", port), 1)
	if conf == string(src) || !strings.Contains(conf, fmt.Sprintf("listener %d", port)) {
		t.Fatal("deploy/mosquitto/mosquitto.conf no longer has the lines the test rewrites")
	}
	// Tests run as root in CI; keep the broker able to read the test's files.
	conf += "\nuser root\n"
	if err := os.WriteFile(filepath.Join(dir, "mosquitto.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	m := &Broker{t: t, Dir: dir, URL: fmt.Sprintf("tcp://127.0.0.1:%d", port), port: port, bin: bin, svc: svc}
	for _, u := range portalUsers {
		h, err := devices.HashSecret(PortalPassword)
		if err != nil {
			t.Fatal(err)
		}
		m.portal = append(m.portal, devices.PortalAccount{Username: u, Hash: h})
	}
	m.Export()
	m.launch()
	t.Cleanup(func() {
		m.Stop(syscall.SIGTERM)
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "mosquitto.log"))
			t.Logf("mosquitto log:\n%s", b)
		}
	})
	return m
}

// launch starts the broker process and waits until it listens.
func (m *Broker) launch() {
	m.t.Helper()
	m.cmd = exec.Command(m.bin, "-c", filepath.Join(m.Dir, "mosquitto.conf"))
	log, _ := os.OpenFile(filepath.Join(m.Dir, "mosquitto.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	m.cmd.Stdout, m.cmd.Stderr = log, log
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", m.port))
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("mosquitto is not listening on %d after 10s", m.port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends the broker with sig (SIGTERM, or SIGKILL for a crash) and waits
// for it; a stopped broker stays stopped until Restart.
func (m *Broker) Stop(sig syscall.Signal) {
	if m.cmd == nil {
		return
	}
	_ = m.cmd.Process.Signal(sig)
	_ = m.cmd.Wait()
	m.cmd = nil
}

// Restart starts the broker again on the same port, files and persistence
// directory.
func (m *Broker) Restart() {
	m.t.Helper()
	m.launch()
}

// Export writes the registry's password file and ACL and makes Mosquitto
// reload them (after a device is added, disabled or rotated).
func (m *Broker) Export() {
	if _, err := m.svc.ExportMosquitto(context.Background(), m.Dir, m.portal...); err != nil {
		m.t.Fatal(err)
	}
	if m.cmd != nil {
		_ = m.cmd.Process.Signal(syscall.SIGHUP)
		time.Sleep(300 * time.Millisecond)
	}
}

// Process is the running broker (to stop and restart it in a test).
func (m *Broker) Process() *exec.Cmd { return m.cmd }

// FreePort returns a TCP port nothing listens on.
func FreePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Use points a test app's ingest at the broker on port as user.
func Use(port int, user string) portaltest.Option {
	return portaltest.WithConfig(func(c *config.Config) {
		c.MQTT.URL = fmt.Sprintf("tcp://127.0.0.1:%d", port)
		c.MQTT.Username, c.MQTT.Password = user, PortalPassword
	})
}

// Require skips (or fails) before any app is built when there is no
// Mosquitto binary.
func Require(t testing.TB) {
	bin := os.Getenv(Env)
	_, err := os.Stat(bin)
	portaltest.RequireService(t, "Mosquitto", bin != "" && err == nil, "set "+Env+" to the mosquitto binary (.ci/services.sh start_mosquitto)")
}

// confPath is deploy/mosquitto/mosquitto.conf of this repository, found
// from this file's own path so that any package's tests can use it.
func confPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "deploy", "mosquitto", "mosquitto.conf")
}
