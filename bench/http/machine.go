package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// busyLoad is the 1-minute load average above which a run is reported as
// taken on a busy machine (issue 18: "a run above load 4 is repeated").
const busyLoad = 4.0

// loadAvg is /proc/loadavg's 1, 5 and 15 minute averages ("" when the
// system does not offer it).
type loadAvg struct {
	one, five, fifteen string
}

func (l loadAvg) String() string {
	if l.one == "" {
		return "unknown"
	}
	return l.one + " / " + l.five + " / " + l.fifteen
}

// busy reports whether the 1-minute average is above busyLoad.
func (l loadAvg) busy() bool {
	v, err := strconv.ParseFloat(l.one, 64)
	return err == nil && v > busyLoad
}

func readLoad() loadAvg {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return loadAvg{}
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return loadAvg{}
	}
	return loadAvg{f[0], f[1], f[2]}
}

// warnLoad tells the operator when the machine is too busy for the figures
// to be recorded as they are.
func warnLoad(db, when string, l loadAvg) {
	if l.busy() {
		fmt.Fprintf(os.Stderr, "bench: warning: load average %s %s the %s routes, above %g: other work shares the CPU; repeat the run on a quieter machine\n", l, when, db, busyLoad)
	}
}

// portRange is -ports: the bench's listeners (the portals, their MQTT
// brokers, the baseline) take ports from it, for a machine whose users
// share out port ranges. Unset: any free port.
var portRange struct {
	sync.Mutex
	lo, hi, next int
}

func setPorts(spec string) error {
	if spec == "" {
		return nil
	}
	lo, hi, ok := strings.Cut(spec, "-")
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	if !ok || err1 != nil || err2 != nil || a < 1 || b > 65535 || a > b {
		return fmt.Errorf("-ports %q: want a range such as 22800-22899", spec)
	}
	portRange.lo, portRange.hi, portRange.next = a, b, a
	return nil
}

// listen opens a loopback listener: on a free port of -ports when it is
// set (each port tried once per run, so a port handed out is not handed
// out again), else on any free port.
func listen() (net.Listener, error) {
	portRange.Lock()
	defer portRange.Unlock()
	if portRange.lo == 0 {
		return net.Listen("tcp", "127.0.0.1:0")
	}
	for portRange.next <= portRange.hi {
		p := portRange.next
		portRange.next++
		if ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
			return ln, nil
		}
	}
	return nil, errors.New("-ports: no free port left in the range")
}

// pgSettings names the durability settings of the PostgreSQL server at
// serverURL, which every PostgreSQL figure depends on (a server with fsync
// off commits without flushing: its numbers are optimistic).
func pgSettings(serverURL string) (string, error) {
	db, err := gorm.Open(postgres.Open(serverURL), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return "", err
	}
	if d, err := db.DB(); err == nil {
		defer d.Close()
	}
	var s string
	err = db.Raw("SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings " +
		"WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes')").Scan(&s).Error
	if err != nil {
		return "", fmt.Errorf("reading the server's settings: %w", err)
	}
	if strings.Contains(s, "=off") {
		return s + " (not durable: figures are optimistic)", nil
	}
	return s + " (durable)", nil
}
