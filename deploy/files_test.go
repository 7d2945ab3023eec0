package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portalkit/portalkit/core/config"
)

// repoRoot is the repository's top folder, seen from this package.
const repoRoot = ".."

// knownEnv reports the PORTAL_* variables a deployment file sets that the
// portal's configuration does not read: a typo there would be refused at
// start ("unknown environment variable"), so it is refused here first.
func unknownEnv(names []string) []string {
	known := config.EnvNames()
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, config.EnvPrefix) && !slices.Contains(known, n) {
			out = append(out, n)
		}
	}
	return out
}

// loadConfig checks that a configuration file plus the environment a
// deployment gives the portal is one the portal accepts.
func loadConfig(t *testing.T, yaml string, env map[string]string) config.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "portal.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var list []string
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	cfg, err := config.Load(path, false, list)
	if err != nil {
		t.Fatalf("the portal refuses this deployment's configuration: %v", err)
	}
	return cfg
}

func readFile(t *testing.T, parts ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
