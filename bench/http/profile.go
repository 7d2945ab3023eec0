package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/portalkit/portalkit/core/app"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/module"
	// The bundled verticals, as in cmd/portal: the demo customer's
	// dashboard shows their widgets.
	_ "github.com/portalkit/portalkit/verticals/all"
)

// profileRoute runs the portal inside this process (same configuration as
// `portal serve --demo`, logs discarded by default) and loads one route
// while writing a CPU profile, so `go tool pprof` shows where a request's
// time goes. The load generator's own work is in the profile too; look at
// the server's functions (fasthttp.(*Server), fiber, huma, gorm, accounts,
// dashboard).
func profileRoute(o options, route, file string) error {
	tmp, err := os.MkdirTemp("", "portal-profile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cfg := config.Default()
	cfg.DataDir = filepath.Join(tmp, "data")
	cfg.Log.Format, cfg.Log.Level = "json", o.logLevel
	if o.cacheTTL >= 0 {
		cfg.Dashboard.CacheTTL = o.cacheTTL
	}
	if o.db == "postgres" {
		dbURL, drop, err := freshDatabase(o.pgURL)
		if err != nil {
			return err
		}
		defer drop()
		cfg.Database.URL = dbURL
	}
	ln, err := listen()
	if err != nil {
		return err
	}
	cfg.HTTP.Addr = ln.Addr().String()
	logs, err := os.Create(filepath.Join(tmp, "portal.log"))
	if err != nil {
		return err
	}
	defer logs.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := app.New(ctx, app.Options{Config: cfg, Modules: module.Registered(), LogOutput: logs})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.RunDemo(ctx, demoPassword); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	addr := ln.Addr().String()
	if err := waitReady("http://"+addr+"/readyz", 10*time.Second); err != nil {
		return err
	}
	token, err := login(addr)
	if err != nil {
		return err
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	sm, err := load(addr, route, "Bearer "+token, o.conns, o.warmup, o.duration, func(time.Duration) {})
	pprof.StopCPUProfile()
	if err != nil {
		return err
	}
	r, err := summarise([]sample{sm})
	if err != nil {
		return err
	}
	fmt.Printf("%s %s: %.0f requests/s, p50 %s, p99 %s (in-process, profile in %s)\n", o.db, route, r.RPS, ms(r.P50), ms(r.P99), file)
	cancel()
	<-done
	return nil
}
