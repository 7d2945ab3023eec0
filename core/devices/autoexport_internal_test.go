package devices

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPortalAccountsFile(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "accounts")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	got, err := readPortalAccounts(write("# instances\n\nportal-1:$7$101$a$b\nportal-2:$7$101$c$d\n"), "portal-2")
	if err != nil || len(got) != 2 || got[1] != (PortalAccount{"portal-2", "$7$101$c$d"}) {
		t.Fatalf("got %+v, %v", got, err)
	}
	for _, tc := range []struct{ body, self, want string }{
		{"portal-1:$7$101$a$b\nportal-2 secret\n", "portal-1", "line 2: want user:hash"},
		{"portal-1:$7$101$a$b\n", "portal-9", `does not list this instance's mqtt.username "portal-9"`},
	} {
		if _, err := readPortalAccounts(write(tc.body), tc.self); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "mqtt.export_accounts:") {
			t.Errorf("%q: error %v, want %q", tc.body, err, tc.want)
		}
	}
	if _, err := readPortalAccounts(filepath.Join(dir, "missing"), "portal-1"); err == nil || !strings.HasPrefix(err.Error(), "mqtt.export_accounts:") {
		t.Errorf("missing file: %v", err)
	}
}

// A pid file naming a process that is not Mosquitto (a stale one) is
// refused: SIGHUP would end that process. This test process is the
// stand-in, and it survives.
func TestReloadSignalsOnlyMosquitto(t *testing.T) {
	p := filepath.Join(t.TempDir(), "mosquitto.pid")
	if err := os.WriteFile(p, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := signalReload(p); err == nil || !strings.Contains(err.Error(), "is not a running mosquitto") {
		t.Fatalf("signalling a process that is not mosquitto: %v", err)
	}
	if err := os.WriteFile(p, []byte("soon\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := signalReload(p); err == nil || !strings.Contains(err.Error(), "does not hold a process ID") {
		t.Fatalf("garbage pid file: %v", err)
	}
}
