package deploy

import (
	"bufio"
	"context"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadCompose loads deploy/compose/compose.yaml with the Compose
// specification's own loader, as `docker compose` does, interpolation and
// validation included.
func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	dir := filepath.Join(repoRoot, "deploy", "compose")
	opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, "compose.yaml")},
		cli.WithWorkingDirectory(dir),
		cli.WithEnv([]string{"PORTAL_SECRET_KEY=compose-test-secret-key-0123456789abcdef"}),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("compose.yaml does not load: %v", err)
	}
	return p
}

// TestComposeCluster checks the compose cluster is what docs/scaling.md
// describes: two portal instances with a configuration the portal accepts,
// on a read-only root file system, behind HAProxy sending to both, beside
// PostgreSQL, Mosquitto and an SMTP catcher.
func TestComposeCluster(t *testing.T) {
	p := loadCompose(t)
	for _, name := range []string{"postgres", "mosquitto", "mqtt-init", "portal-a", "portal-b", "haproxy", "mailpit"} {
		if _, ok := p.Services[name]; !ok {
			t.Errorf("compose.yaml has no service %q", name)
		}
	}
	var portals []string
	for name, s := range p.Services {
		if s.Environment["PORTAL_DATABASE_URL"] == nil {
			continue
		}
		portals = append(portals, name)
		if !s.ReadOnly {
			t.Errorf("%s: the portal should run on a read-only root file system", name)
		}
		if s.User == "" || s.User == "root" || strings.HasPrefix(s.User, "0") {
			t.Errorf("%s: runs as %q, want a non-root user", name, s.User)
		}
		env := map[string]string{}
		var names []string
		for k, v := range s.Environment {
			names = append(names, k)
			if v != nil {
				env[k] = *v
			}
		}
		if bad := unknownEnv(names); len(bad) > 0 {
			t.Errorf("%s sets variables the portal does not read: %v", name, bad)
		}
		cfg := loadConfig(t, "", env)
		if cfg.UsesSQLite() || cfg.MQTT.URL == "" || cfg.Notify.SMTP.Host == "" {
			t.Errorf("%s: want PostgreSQL, an external broker and SMTP, got database %q, mqtt %q, smtp %q",
				name, cfg.Database.URL, cfg.MQTT.URL, cfg.Notify.SMTP.Host)
		}
		if cfg.MQTT.ClientID != name {
			t.Errorf("%s: MQTT client ID %q, want the instance's own name", name, cfg.MQTT.ClientID)
		}
	}
	sort.Strings(portals)
	if len(portals) < 2 {
		t.Fatalf("want at least two portal instances, got %v", portals)
	}

	// HAProxy balances over exactly the portal instances, with health checks.
	cfg := readFile(t, repoRoot, "deploy", "compose", "haproxy.cfg")
	servers := regexp.MustCompile(`(?m)^\s*server\s+(\S+)\s+(\S+):8080\s+check`).FindAllStringSubmatch(cfg, -1)
	var backends []string
	for _, m := range servers {
		backends = append(backends, m[2])
	}
	sort.Strings(backends)
	if !slices.Equal(backends, portals) {
		t.Errorf("haproxy.cfg balances over %v, compose runs portals %v", backends, portals)
	}
	if !strings.Contains(cfg, "option httpchk GET /readyz") {
		t.Error("haproxy.cfg should check /readyz")
	}
	if strings.Contains(cfg, "cookie ") || strings.Contains(cfg, "stick ") {
		t.Error("haproxy.cfg must not pin sessions to an instance: any instance serves any request")
	}
}

// TestComposeMosquittoMatchesShippedConfig keeps the compose cluster's
// Mosquitto settings equal to deploy/mosquitto/mosquitto.conf (the no-loss
// guarantee depends on them), except where a container needs another value.
func TestComposeMosquittoMatchesShippedConfig(t *testing.T) {
	shipped := directives(readFile(t, repoRoot, "deploy", "mosquitto", "mosquitto.conf"))
	compose := directives(readFile(t, repoRoot, "deploy", "compose", "mosquitto.conf"))
	containerOnly := map[string]bool{"listener": true, "pid_file": true}
	for k, v := range shipped {
		if containerOnly[k] {
			continue
		}
		if compose[k] != v {
			t.Errorf("mosquitto.conf %s: shipped %q, compose %q", k, v, compose[k])
		}
	}
	for k := range compose {
		if _, ok := shipped[k]; !ok && !containerOnly[k] {
			t.Errorf("compose mosquitto.conf sets %s, which deploy/mosquitto/mosquitto.conf does not", k)
		}
	}
	if compose["pid_file"] == "" {
		t.Error("compose mosquitto.conf needs a pid_file for the portals' exporter to reload it")
	}
}

func directives(conf string) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(conf))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, " ")
		out[k] = strings.TrimSpace(v)
	}
	return out
}
