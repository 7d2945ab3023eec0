package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// TestDockerfile reads the image's Dockerfile with BuildKit's own parser and
// checks what docs/scaling.md promises of the image: a multi-stage build of a
// static binary, a non-root user, a health check through the binary itself,
// and only configuration variables the portal knows.
func TestDockerfile(t *testing.T) {
	f, err := os.Open(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("Dockerfile does not parse: %v", err)
	}
	stages, _, err := instructions.Parse(res.AST, nil)
	if err != nil {
		t.Fatalf("Dockerfile instructions: %v", err)
	}
	if len(stages) < 2 {
		t.Fatalf("want a multi-stage build, got %d stage(s)", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]

	var built bool
	for _, cmd := range build.Commands {
		if run, ok := cmd.(*instructions.RunCommand); ok {
			line := strings.Join(run.CmdLine, " ")
			if strings.Contains(line, "go build") && strings.Contains(line, "./cmd/portal") {
				built = true
				if !strings.Contains(line, "CGO_ENABLED=0") {
					t.Errorf("the binary must be static: build with CGO_ENABLED=0, got %q", line)
				}
			}
		}
	}
	if !built {
		t.Error("the build stage never runs go build ./cmd/portal")
	}
	if !strings.Contains(final.BaseName, "distroless/static") {
		t.Errorf("final stage should be a static distroless base, got %q", final.BaseName)
	}

	var user string
	var health *instructions.HealthCheckCommand
	var envNames []string
	var copiesConfig bool
	for _, cmd := range final.Commands {
		switch c := cmd.(type) {
		case *instructions.UserCommand:
			user = c.User
		case *instructions.HealthCheckCommand:
			health = c
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				envNames = append(envNames, kv.Key)
			}
		case *instructions.CopyCommand:
			for _, src := range c.SourcePaths {
				if src == "configs/production.yaml" {
					copiesConfig = true
				}
			}
		}
	}
	if user == "" || strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("the image must run as a non-root user, USER is %q", user)
	}
	if health == nil || health.Health == nil {
		t.Fatal("the image has no HEALTHCHECK")
	}
	if got := strings.Join(health.Health.Test, " "); !strings.Contains(got, "portal health") {
		t.Errorf("HEALTHCHECK should run `portal health` (no shell or curl in a distroless image), got %q", got)
	}
	if !copiesConfig {
		t.Error("the image should carry configs/production.yaml")
	}
	if bad := unknownEnv(envNames); len(bad) > 0 {
		t.Errorf("Dockerfile sets variables the portal does not read: %v", bad)
	}
}
