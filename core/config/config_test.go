package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "portal.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPrecedenceDefaultsFileEnv(t *testing.T) {
	p := writeFile(t, "http:\n  addr: 127.0.0.1:9000\n  shutdown_timeout: 3s\nlog:\n  level: debug\n")
	cfg, err := Load(p, false, []string{"PORTAL_LOG_LEVEL=warn", "PORTAL_HTTP_TRUSTED_PROXIES=10.0.0.0/8, 192.168.1.1", "HOME=/root"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Addr != "127.0.0.1:9000" {
		t.Errorf("file should override default addr, got %q", cfg.HTTP.Addr)
	}
	if cfg.HTTP.ShutdownTimeout != 3*time.Second {
		t.Errorf("duration from file: got %v", cfg.HTTP.ShutdownTimeout)
	}
	if cfg.Log.Level != "warn" {
		t.Errorf("env should override file, got %q", cfg.Log.Level)
	}
	if got := strings.Join(cfg.HTTP.TrustedProxies, "|"); got != "10.0.0.0/8|192.168.1.1" {
		t.Errorf("list from env: %q", got)
	}
	if cfg.DataDir != "./data" {
		t.Errorf("default data dir lost: %q", cfg.DataDir)
	}
}

func TestErrorsNameTheKey(t *testing.T) {
	cases := []struct {
		name, file string
		env        []string
		want       string
	}{
		{"unknown file key", "http:\n  adr: x\n", nil, `unknown key "adr"`},
		{"unknown top key", "databse:\n  url: x\n", nil, `unknown key "databse"`},
		{"malformed duration", "http:\n  shutdown_timeout: soon\n", nil, "malformed value"},
		{"unknown env", "", []string{"PORTAL_HTTP_ADR=1"}, "PORTAL_HTTP_ADR"},
		{"malformed env int", "", []string{"PORTAL_DATABASE_MAX_OPEN_CONNS=many"}, "database.max_open_conns"},
		{"malformed env duration", "", []string{"PORTAL_HTTP_SHUTDOWN_TIMEOUT=5"}, "http.shutdown_timeout"},
		{"bad db url", "", []string{"PORTAL_DATABASE_URL=mysql://x"}, "database.url"},
		{"bad addr", "", []string{"PORTAL_HTTP_ADDR=8080"}, "http.addr"},
		{"bad proxy", "", []string{"PORTAL_HTTP_TRUSTED_PROXIES=notanip"}, "http.trusted_proxies"},
		{"production needs database", "mode: production\n", []string{"PORTAL_SECRET_KEY=0123456789abcdef0123456789abcdef"}, "database.url: required"},
		{"production needs secret", "mode: production\n", []string{"PORTAL_DATABASE_URL=postgres://u:p@h:5432/d"}, "secret_key: required"},
		{"bad mode", "mode: staging\n", nil, "mode:"},
		{"certificate without key", "", []string{"PORTAL_HTTP_TLS_CERT=/etc/portal/cert.pem"}, "http.tls_cert, http.tls_key: set both"},
		{"malformed insecure cookies", "", []string{"PORTAL_HTTP_INSECURE_COOKIES=maybe"}, "http.insecure_cookies"},
		{"negative start wait", "", []string{"PORTAL_DATABASE_START_WAIT=-1s"}, "database.start_wait: must not be negative"},
		{"export without a broker", "", []string{"PORTAL_MQTT_EXPORT_DIR=/etc/mosquitto/portal"}, "mqtt.export_dir: only with mqtt.url"},
		{"pid file without export", "", []string{"PORTAL_MQTT_URL=tcp://broker:1883", "PORTAL_MQTT_EXPORT_PID_FILE=/run/mosquitto.pid"}, "mqtt.export_accounts, mqtt.export_pid_file: only with mqtt.export_dir"},
		{"export without the portal's accounts", "", []string{"PORTAL_MQTT_URL=tcp://broker:1883", "PORTAL_MQTT_USERNAME=portal-1", "PORTAL_MQTT_EXPORT_DIR=/etc/mosquitto/portal"}, "mqtt.export_accounts, mqtt.username: mqtt.export_dir needs both"},
		{"replica without a primary", "", []string{"PORTAL_DATABASE_REPLICA_URL=postgres://u:p@replica:5432/d"}, "database.replica_url: needs database.url"},
		{"replica not PostgreSQL", "", []string{"PORTAL_DATABASE_URL=postgres://u:p@h:5432/d", "PORTAL_DATABASE_REPLICA_URL=mysql://replica/d"}, "database.replica_url: not a PostgreSQL URL"},
		{"writers exhaust the pool", "", []string{"PORTAL_DATABASE_URL=postgres://u:p@h:5432/d", "PORTAL_DATABASE_MAX_OPEN_CONNS=4", "PORTAL_MQTT_WRITERS=4"}, "mqtt.writers: 4 writers need more than database.max_open_conns (4)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := ""
			if tc.file != "" {
				p = writeFile(t, tc.file)
			}
			_, err := Load(p, false, tc.env)
			if err == nil {
				t.Fatalf("want error containing %q, got nil", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not name %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	if _, err := Load("/nonexistent/portal.yaml", true, nil); err != nil {
		t.Fatalf("optional missing file should be fine: %v", err)
	}
	_, err := Load("/nonexistent/portal.yaml", false, nil)
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/portal.yaml") {
		t.Fatalf("required missing file should name it: %v", err)
	}
}

func TestTestVariablesAreNotUnknownKeys(t *testing.T) {
	if _, err := Load("", false, []string{"PORTAL_TEST_DATABASE_URL=postgres://x", "PORTAL_REQUIRE_SERVICES=1", "PORTAL_TEST_REPLICA_URL=postgres://y"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load("", false, []string{"PORTAL_DATABASE_URL=postgres://u:p@h:5432/d", "PORTAL_DATABASE_REPLICA_URL=postgres://u:p@replica:5432/d"})
	if err != nil || cfg.Database.ReplicaURL != "postgres://u:p@replica:5432/d" {
		t.Fatalf("PORTAL_DATABASE_REPLICA_URL: %q, %v", cfg.Database.ReplicaURL, err)
	}
}

func TestPrintMasksSecrets(t *testing.T) {
	cfg, err := Load("", false, []string{
		"PORTAL_DATABASE_URL=postgres://portal:hunter2@db:5432/portal",
		"PORTAL_SECRET_KEY=supersecretsupersecretsupersecret",
	})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	cfg.Print(&b)
	out := b.String()
	for _, leak := range []string{"hunter2", "supersecret"} {
		if strings.Contains(out, leak) {
			t.Fatalf("secret %q printed:\n%s", leak, out)
		}
	}
	for _, want := range []string{"postgres://portal:****@db:5432/portal", "secret_key", "PORTAL_HTTP_ADDR", "127.0.0.1:8080"} {
		if !strings.Contains(out, want) {
			t.Fatalf("print lacks %q:\n%s", want, out)
		}
	}
}

func TestShippedConfigsLoad(t *testing.T) {
	for _, f := range []string{"../../configs/portal.yaml", "../../configs/production.yaml"} {
		env := []string{"PORTAL_DATABASE_URL=postgres://u:p@localhost:5432/portal", "PORTAL_SECRET_KEY=0123456789abcdef0123456789abcdef"}
		if _, err := Load(f, false, env); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestPublicURLFollowsAddrUnlessSet(t *testing.T) {
	for _, c := range []struct{ addr, base, want string }{
		{"127.0.0.1:21234", "", "http://127.0.0.1:21234"},
		{"0.0.0.0:8080", "", "http://localhost:8080"},
		{"[::]:8080", "", "http://localhost:8080"},
		{":9000", "", "http://localhost:9000"},
		{"[::1]:9000", "", "http://[::1]:9000"},
		{"127.0.0.1:21234", "https://portal.example.com/", "https://portal.example.com"},
	} {
		if got := (HTTP{Addr: c.addr, BaseURL: c.base}).PublicURL(); got != c.want {
			t.Errorf("PublicURL(addr %q, base_url %q) = %q, want %q", c.addr, c.base, got, c.want)
		}
	}
	// The embedded defaults leave base_url unset, so it follows the address.
	cfg, err := Load("", true, []string{"PORTAL_HTTP_ADDR=127.0.0.1:21299"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.BaseURL != "" || cfg.HTTP.PublicURL() != "http://127.0.0.1:21299" {
		t.Fatalf("defaults: base_url %q, public URL %q", cfg.HTTP.BaseURL, cfg.HTTP.PublicURL())
	}
}
