package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portalkit/portalkit/core/devices"
)

// The -fleet mode measures the production path with many devices: a
// portal reading Mosquitto (deploy/mosquitto/mosquitto.conf) on
// PostgreSQL, while child processes hold idle device connections to that
// Mosquitto, growing in steps. At each step a few devices publish readings
// for a while; the bench records the portal's RSS, Go heap and goroutines,
// Mosquitto's RSS, the readings stored and /proc/loadavg.
//
//	PORTAL_BENCH_DATABASE_URL=postgres://... go run ./bench/ingest -fleet 1000,10000,50000,100000 -mosquitto /usr/sbin/mosquitto
//
// Each idle-device child holds at most fleetPerChild connections, all from
// a loopback source address of its own (127.0.0.2, 127.0.0.3, …), so no
// address runs out of ephemeral ports. A device is a raw MQTT 3.1.1
// client: CONNECT, CONNACK, then a PINGREQ every keepalive/2 — no Paho
// (its goroutines and buffers per client would make the load generator
// the bottleneck).

// fleetPerChild bounds one child's connections (and file descriptors).
const fleetPerChild = 15000

// fleetKeepAlive is the idle devices' MQTT keepalive.
const fleetKeepAlive = 120 * time.Second

// fleetPublishers is how many devices publish at each step.
const fleetPublishers = 5

func runFleet(steps []int, dur time.Duration) error {
	if mosquittoBin == "" {
		return errors.New("-fleet needs -mosquitto (the broker the devices connect to)")
	}
	total := steps[len(steps)-1]
	ctx := context.Background()
	cfg, tmp, cleanup, err := benchConfig()
	if err != nil {
		return err
	}
	defer cleanup()

	// Register the devices (and the publishers) and export Mosquitto's
	// password file and ACL with an app that is closed before the
	// measured portal starts.
	reg, org, owner, err := benchApp(ctx, cfg)
	if err != nil {
		return err
	}
	t0 := time.Now()
	creds, err := register(ctx, reg.Store, org, owner.ID, total+fleetPublishers)
	if err != nil {
		return err
	}
	idlePath, pubPath := filepath.Join(tmp, "fleet.json"), filepath.Join(tmp, "publishers.json")
	if err := writeJSON(idlePath, creds[:total]); err != nil {
		return err
	}
	if err := writeJSON(pubPath, creds[total:]); err != nil {
		return err
	}
	pw := randHex(16)
	hash, err := devices.HashSecret(pw)
	if err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(tmp, "mosquitto.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	mosquittoLog = logf
	broker, err := startMosquitto(ctx, reg, filepath.Join(tmp, "mosquitto"), devices.PortalAccount{Username: "portal-bench", Hash: hash})
	reg.Close()
	if err != nil {
		return err
	}
	defer broker.stop()
	fmt.Printf("bench/ingest -fleet: %d devices registered and exported to Mosquitto in %s; %d CPUs; Mosquitto %s, %s\n",
		total+fleetPublishers, time.Since(t0).Round(time.Millisecond), runtime.NumCPU(), mosquittoBin, nofile(broker.cmd.Process.Pid))

	// The measured portal: Mosquitto's client, as in production.
	a, stop, err := portalOnMosquitto(ctx, cfg, broker.url, pw)
	if err != nil {
		return err
	}
	defer stop()
	var stored atomic.Int64
	a.Devices.ObserveCommits(func(rows []devices.Reading, _ time.Time) { stored.Add(int64(len(rows))) })

	fmt.Printf("%9s %9s %11s %10s %10s %11s %14s %9s %s\n", "devices", "connect", "portal RSS", "Go heap", "goroutines", "Mosq. RSS", "readings", "stored/s", "load average")
	measure := func(connected int, took time.Duration) error {
		before := stored.Load()
		published, _, err := child("load", pubPath, broker.url, dur, 1)
		if err != nil {
			return err
		}
		until := time.Now().Add(30 * time.Second)
		for stored.Load()-before < published && time.Now().Before(until) {
			time.Sleep(20 * time.Millisecond)
		}
		got := stored.Load() - before
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		load, _ := os.ReadFile("/proc/loadavg")
		fmt.Printf("%9d %9s %7d MiB %6d MiB %10d %7d MiB %6d of %6d %9.0f %s\n", connected, took.Round(100*time.Millisecond),
			rss()>>20, ms.HeapInuse>>20, runtime.NumGoroutine(), rssOf(broker.cmd.Process.Pid)>>20, got, published,
			float64(got)/dur.Seconds(), strings.Join(strings.Fields(string(load))[:3], " "))
		if got != published {
			return fmt.Errorf("%d readings published at %d devices, %d stored", published, connected, got)
		}
		return nil
	}
	if err := measure(0, 0); err != nil {
		return err
	}
	var fleets []*rawFleet
	defer func() {
		for _, f := range fleets {
			f.close()
		}
	}()
	connected := 0
	for _, step := range steps {
		t := time.Now()
		for connected < step {
			n := min(step-connected, fleetPerChild)
			src := fmt.Sprintf("127.0.0.%d", 2+len(fleets))
			f, err := startRawFleet(idlePath, broker.url, src, connected, connected+n)
			if f != nil {
				fleets = append(fleets, f)
			}
			if err != nil {
				connected += f.connected()
				// The broker refuses more (no publisher could connect
				// either): the last step measured is the result.
				fmt.Printf("stopped at %d connected devices on the way to %d: %v; Mosquitto %s\n", connected, step, err, nofile(broker.cmd.Process.Pid))
				return nil
			}
			connected += n
		}
		time.Sleep(2 * time.Second) // the broker settles
		if err := measure(connected, time.Since(t)); err != nil {
			return err
		}
	}
	return nil
}

// nofile reads a process's open-files limit from /proc.
func nofile(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return "open files limit unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "Max open files") {
			f := strings.Fields(line)
			return "open files limit " + f[3] + " (hard " + f[4] + ")"
		}
	}
	return "open files limit unknown"
}

// rawFleet is one child holding idle raw-MQTT device connections.
type rawFleet struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  atomic.Int64
}

func (f *rawFleet) connected() int {
	if f == nil {
		return 0
	}
	return int(f.done.Load())
}

func (f *rawFleet) close() {
	f.stdin.Close()
	_ = f.cmd.Wait()
}

// startRawFleet starts a child connecting devices [from, to) of credsPath
// from source address src, and waits until all are connected or it
// reports an error.
func startRawFleet(credsPath, url, src string, from, to int) (*rawFleet, error) {
	cmd, stdin, stdout, err := startChild("-role", "fleet", "-creds", credsPath, "-url", url,
		"-fleet-src", src, "-fleet-range", fmt.Sprintf("%d:%d", from, to))
	if err != nil {
		return nil, err
	}
	f := &rawFleet{cmd: cmd, stdin: stdin}
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		line := lines.Text()
		if n, err := strconv.Atoi(line); err == nil {
			f.done.Store(int64(n))
			if n == to-from {
				go func() { _, _ = io.Copy(io.Discard, stdout) }()
				return f, nil
			}
			continue
		}
		go func() { _, _ = io.Copy(io.Discard, stdout) }()
		return f, errors.New(line)
	}
	return f, errors.New("the device process stopped before its devices were connected")
}

// fleetChild is the -role fleet process: it connects its range of devices
// with raw MQTT from src, printing the count connected every thousand and
// at the end (or one error line), then keeps them alive until stdin closes.
func fleetChild(credsPath, url, src, span string) error {
	var creds []cred
	if err := readJSON(credsPath, &creds); err != nil {
		return err
	}
	var from, to int
	if _, err := fmt.Sscanf(span, "%d:%d", &from, &to); err != nil || from < 0 || to > len(creds) || from >= to {
		return fmt.Errorf("-fleet-range %q: want from:to within the %d devices", span, len(creds))
	}
	addr := strings.TrimPrefix(url, "tcp://")
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 30 * time.Second}
	conns := make([]net.Conn, to-from)
	var count atomic.Int64
	var firstErr atomic.Value
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := from; i < to && firstErr.Load() == nil; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			c, err := rawConnect(dialer, addr, creds[i])
			if err != nil {
				firstErr.CompareAndSwap(nil, fmt.Errorf("device %d: %v", i, err))
				return
			}
			conns[i-from] = c
			if n := count.Add(1); n%1000 == 0 {
				fmt.Println(n)
			}
		}(i)
	}
	wg.Wait()
	fmt.Println(count.Load())
	if err, ok := firstErr.Load().(error); ok {
		fmt.Println(strings.ReplaceAll(err.Error(), "\n", " "))
	}
	// Keep them alive: a PINGREQ each keepalive/2 (the answers are two
	// bytes each, left in the socket buffers).
	stop := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(stop) }()
	tick := time.NewTicker(fleetKeepAlive / 2)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			for _, c := range conns {
				if c != nil {
					_, _ = c.Write([]byte{0xe0, 0x00}) // DISCONNECT
					c.Close()
				}
			}
			return nil
		case <-tick.C:
			for _, c := range conns {
				if c != nil {
					_, _ = c.Write([]byte{0xc0, 0x00}) // PINGREQ
				}
			}
		}
	}
}

// rawConnect opens one MQTT 3.1.1 session: CONNECT with username and
// password, clean session, and waits for a CONNACK that accepts it.
func rawConnect(d *net.Dialer, addr string, c cred) (net.Conn, error) {
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	str := func(b []byte, s string) []byte {
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		return append(b, s...)
	}
	body := str(nil, "MQTT")
	body = append(body, 4, 0xc2) // level 4; username, password, clean session
	body = binary.BigEndian.AppendUint16(body, uint16(fleetKeepAlive/time.Second))
	body = str(body, c.ID)
	body = str(body, c.ID)
	body = str(body, c.Secret)
	pkt := []byte{0x10}
	for n := len(body); ; {
		b := byte(n % 128)
		if n /= 128; n > 0 {
			pkt = append(pkt, b|0x80)
			continue
		}
		pkt = append(pkt, b)
		break
	}
	pkt = append(pkt, body...)
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Write(pkt); err != nil {
		conn.Close()
		return nil, err
	}
	var ack [4]byte
	if _, err := io.ReadFull(conn, ack[:]); err != nil {
		conn.Close()
		return nil, fmt.Errorf("no CONNACK: %w", err)
	}
	if ack[0] != 0x20 || ack[3] != 0 {
		conn.Close()
		return nil, fmt.Errorf("CONNACK refused (return code %d)", ack[3])
	}
	_ = conn.SetDeadline(time.Time{})
	return conn, nil
}

// parseSteps reads -fleet: increasing device counts separated by commas.
func parseSteps(s string) ([]int, error) {
	var steps []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || (len(steps) > 0 && n <= steps[len(steps)-1]) {
			return nil, fmt.Errorf("-fleet %q: want increasing device counts, e.g. 1000,10000,50000,100000", s)
		}
		steps = append(steps, n)
	}
	return steps, nil
}
