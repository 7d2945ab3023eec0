package devices_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/devices/mosquittotest"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
)

// The broker helpers live in core/devices/mosquittotest, which other
// packages' tests use too; these names keep this package's tests short.
const portalPassword = mosquittotest.PortalPassword

type mosquitto struct {
	*mosquittotest.Broker
	url string
	cmd *exec.Cmd
}

func (m *mosquitto) export()                 { m.Export() }
func (m *mosquitto) stop(sig syscall.Signal) { m.Stop(sig) }
func (m *mosquitto) restart()                { m.Restart(); m.cmd = m.Process() }

func startMosquitto(t testing.TB, svc *devices.Service, port int, portalUsers ...string) *mosquitto {
	t.Helper()
	return startMosquittoIn(t, t.TempDir(), svc, port, portalUsers...)
}

func startMosquittoIn(t testing.TB, dir string, svc *devices.Service, port int, portalUsers ...string) *mosquitto {
	t.Helper()
	b := mosquittotest.StartIn(t, dir, svc, port, portalUsers...)
	return &mosquitto{Broker: b, url: b.URL, cmd: b.Process()}
}

func freePort(t testing.TB) int { return mosquittotest.FreePort(t) }

func useMosquitto(port int, user string) portaltest.Option { return mosquittotest.Use(port, user) }

func requireMosquitto(t testing.TB) { mosquittotest.Require(t) }

// publishMany publishes n QoS 1 readings spread over devs, seq 0..n-1, and
// returns once every PUBACK has arrived.
func publishMany(t testing.TB, url string, devs []*devices.Created, n int, sent *atomic.Int64) {
	t.Helper()
	var wg sync.WaitGroup
	errc := make(chan error, len(devs))
	for i, d := range devs {
		wg.Add(1)
		go func(i int, d *devices.Created) {
			defer wg.Done()
			o := paho.NewClientOptions().AddBroker(url).SetClientID(d.ID).SetUsername(d.Username).SetPassword(d.Secret).
				SetCleanSession(false).SetAutoReconnect(true).SetMaxResumePubInFlight(100)
			c := paho.NewClient(o)
			if tk := c.Connect(); !tk.WaitTimeout(10*time.Second) || tk.Error() != nil {
				errc <- fmt.Errorf("device connect: %v", tk.Error())
				return
			}
			defer c.Disconnect(250)
			var toks []paho.Token
			for seq := i; seq < n; seq += len(devs) {
				toks = append(toks, c.Publish(topicOf(d, "temp"), 1, false, gaugeJSON(seq, 20)))
				sent.Add(1)
				if len(toks) == 100 {
					for _, tk := range toks {
						if !tk.WaitTimeout(60*time.Second) || tk.Error() != nil {
							errc <- fmt.Errorf("publish: %v", tk.Error())
							return
						}
					}
					toks = toks[:0]
				}
			}
			for _, tk := range toks {
				if !tk.WaitTimeout(60*time.Second) || tk.Error() != nil {
					errc <- fmt.Errorf("publish: %v", tk.Error())
					return
				}
			}
		}(i, d)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
}

func countAll(t testing.TB, ta *portaltest.TestApp) int64 {
	t.Helper()
	var n int64
	if err := ta.Store.DB.Raw("SELECT COUNT(*) FROM device_readings").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// distinctSeqs counts distinct payloads: each seq is one message.
func distinctSeqs(t testing.TB, ta *portaltest.TestApp) int64 {
	t.Helper()
	var n int64
	if err := ta.Store.DB.Raw("SELECT COUNT(DISTINCT payload) FROM device_readings").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestNoLossAcrossPortalRestart publishes 20 000 QoS 1 messages through
// Mosquitto while the portal is stopped and started again mid-stream:
// every message is stored exactly once.
func TestNoLossAcrossPortalRestart(t *testing.T) {
	requireMosquitto(t)
	const total = 20000
	port := freePort(t)
	ta := newApp(t, useMosquitto(port, "portal-1"), portaltest.WithConfig(func(c *config.Config) { c.MQTT.Group = "portal" }))
	var devs []*devices.Created
	for i := 0; i < 4; i++ {
		devs = append(devs, provision(t, ta, "acme", fmt.Sprintf("c%d@acme.example", i)))
	}
	startMosquitto(t, ta.Devices, port, "portal-1")
	if err := ta.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var sent atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		publishMany(t, fmt.Sprintf("tcp://127.0.0.1:%d", port), devs, total, &sent)
	}()
	eventually(t, 30*time.Second, "the first readings stored", func() bool { return sent.Load() >= total/4 && countAll(t, ta) > 0 })
	ta.Close() // the portal goes away mid-stream
	stoppedAt := sent.Load()
	time.Sleep(500 * time.Millisecond)
	ta2 := portaltest.NewWithConfig(t, ta.Config, []module.Module{gaugeModule{}})
	if err := ta2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer ta2.Stop(context.Background())
	<-done
	eventually(t, 40*time.Second, "every message stored", func() bool { return countAll(t, ta2) >= total })
	time.Sleep(300 * time.Millisecond)
	if n, d := countAll(t, ta2), distinctSeqs(t, ta2); n != total || d != total {
		t.Fatalf("stored %d rows, %d distinct messages; want %d of each", n, d, total)
	}
	if stoppedAt >= total {
		t.Logf("note: the publisher had sent everything before the portal stopped")
	}
	t.Logf("sent %d before the stop; all %d stored once", stoppedAt, total)
}

// TestTwoInstancesShareTheLoad runs two portals on one shared
// subscription: every message is stored once and both did work.
func TestTwoInstancesShareTheLoad(t *testing.T) {
	requireMosquitto(t)
	const total = 4000
	port := freePort(t)
	ta := newApp(t, useMosquitto(port, "portal-1"), portaltest.WithConfig(func(c *config.Config) { c.MQTT.Group = "portal" }))
	var devs []*devices.Created
	for i := 0; i < 4; i++ {
		devs = append(devs, provision(t, ta, "acme", fmt.Sprintf("c%d@acme.example", i)))
	}
	startMosquitto(t, ta.Devices, port, "portal-1", "portal-2")
	cfg2 := ta.Config
	cfg2.MQTT.Username = "portal-2"
	tb := portaltest.NewWithConfig(t, cfg2, []module.Module{gaugeModule{}})
	started(t, ta)
	started(t, tb)
	var sent atomic.Int64
	publishMany(t, fmt.Sprintf("tcp://127.0.0.1:%d", port), devs, total, &sent)
	eventually(t, 30*time.Second, "every message stored", func() bool { return countAll(t, ta) >= total })
	time.Sleep(300 * time.Millisecond)
	if n := countAll(t, ta); n != total {
		t.Fatalf("stored %d, want %d", n, total)
	}
	a, b := ta.Devices.Stats().Stored.Load(), tb.Devices.Stats().Stored.Load()
	if a == 0 || b == 0 {
		t.Fatalf("one instance did no work: %d and %d", a, b)
	}
	if a+b != total {
		t.Errorf("instances stored %d + %d = %d, want %d (each message once)", a, b, a+b, total)
	}
	t.Logf("instance 1 stored %d, instance 2 stored %d", a, b)
}

// TestMosquittoPubToTheEmbeddedBroker publishes with the real
// mosquitto_pub client, as a device owner would try it by hand.
func TestMosquittoPubToTheEmbeddedBroker(t *testing.T) {
	pub, err := exec.LookPath("mosquitto_pub")
	portaltest.RequireService(t, "mosquitto_pub", err == nil, "install mosquitto-clients")
	ta := newApp(t)
	d := provision(t, ta, "acme", "carla@acme.example")
	started(t, ta)
	host, port, _ := net.SplitHostPort(ta.Devices.BrokerAddr())
	args := []string{"-h", host, "-p", port, "-u", d.Username, "-P", d.Secret, "-i", d.ID, "-q", "1", "-t", topicOf(d, "temp")}
	if out, err := exec.Command(pub, append(args, "-m", gaugeJSON(1, 19.5))...).CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_pub: %v %s", err, out)
	}
	eventually(t, 10*time.Second, "the reading", func() bool { return countReadings(t, ta, d.ID) == 1 })
	bad := []string{"-h", host, "-p", port, "-u", d.Username, "-P", "wrong", "-i", d.ID, "-q", "1", "-t", topicOf(d, "temp"), "-m", gaugeJSON(2, 19.5)}
	if out, err := exec.Command(pub, bad...).CombinedOutput(); err == nil {
		t.Errorf("mosquitto_pub with a wrong secret succeeded: %s", out)
	}
}

// With mqtt.export_dir the portal keeps Mosquitto's files in step by
// itself: a device registered in the portal connects with no export by
// hand, and a disabled one is dropped.
func TestPortalKeepsMosquittoInStep(t *testing.T) {
	requireMosquitto(t)
	port := freePort(t)
	dir := t.TempDir()
	ta := newApp(t, useMosquitto(port, "portal-1"), portaltest.WithConfig(func(c *config.Config) {
		c.MQTT.ExportDir = dir
		c.MQTT.ExportAccounts = filepath.Join(dir, "portal-accounts")
		c.MQTT.ExportPIDFile = filepath.Join(dir, "mosquitto.pid")
		c.MQTT.ExportInterval = time.Second
	}))
	m := startMosquittoIn(t, dir, ta.Devices, port, "portal-1")
	h, err := devices.HashSecret(portalPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "portal-accounts"), []byte("# the portal instances\nportal-1:"+h+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// No pid file yet: the portal starts anyway, and the reload it could
	// not do after the new device is retried once the file is there.
	started(t, ta)
	x := provision(t, ta, "acme", "carla@acme.example") // no m.export() from here on
	time.Sleep(1500 * time.Millisecond)
	if c, err := connect(m.url, x.Username, x.Secret, x.ID, nil); err == nil {
		c.Disconnect(10)
		t.Fatal("the device connected before Mosquitto could have reloaded")
	}
	if err := os.WriteFile(filepath.Join(dir, "mosquitto.pid"), []byte(fmt.Sprintf("%d\n", m.cmd.Process.Pid)), 0o600); err != nil {
		t.Fatal(err)
	}
	var c paho.Client
	eventually(t, 10*time.Second, "the new device connects", func() bool {
		c, err = connect(m.url, x.Username, x.Secret, x.ID, nil)
		return err == nil
	})
	lost := &lostRecorder{}
	c.Disconnect(10)
	c, err = connect(m.url, x.Username, x.Secret, x.ID, lost.set)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(10)
	if err := publish(t, c, topicOf(x, "temp"), gaugeJSON(1, 20)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "its reading stored", func() bool { return countReadings(t, ta, x.ID) == 1 })

	admin := devices.Actor{OrgID: x.Device.OrgID, UserID: 1, Role: "admin"}
	if _, err := ta.Devices.Disable(context.Background(), admin, x.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the disabled device dropped by Mosquitto", lost.get)
	if c2, err := connect(m.url, x.Username, x.Secret, x.ID+"-again", nil); err == nil {
		c2.Disconnect(10)
		t.Error("a disabled device connected to Mosquitto")
	}
}
