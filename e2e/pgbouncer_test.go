package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
)

// startPgBouncer runs Debian's PgBouncer (1.18 here: before 1.21 it keeps
// no prepared statements across transactions) in transaction mode in front
// of the test server, with a server pool smaller than the portal's so
// client connections really share server connections. It returns its URL
// for db and the direct URL.
func startPgBouncer(t *testing.T) (viaBouncer, direct string) {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	portaltest.RequireService(t, "PgBouncer", err == nil, "pgbouncer not found (apt-get install pgbouncer)")
	base := os.Getenv(portaltest.EnvDatabaseURL)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	db := fmt.Sprintf("pgbouncer_%d", time.Now().UnixNano()%1_000_000_000)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if a, err := pgx.Connect(context.Background(), base); err == nil {
			_, _ = a.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
			a.Close(context.Background())
		}
	})
	pc, err := pgx.ParseConfig(base)
	if err != nil {
		t.Fatal(err)
	}
	// PgBouncer refuses to run as root: the files must be readable by the
	// user it switches to.
	dir, err := os.MkdirTemp("", "pgbouncer")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	_ = os.Chmod(dir, 0o755)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ini := fmt.Sprintf(`[databases]
* = host=%s port=%d
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s/users.txt
pool_mode = transaction
default_pool_size = 4
max_client_conn = 200
ignore_startup_parameters = extra_float_digits
`, pc.Host, pc.Port, port, dir)
	if err := os.WriteFile(filepath.Join(dir, "pgbouncer.ini"), []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.txt"), []byte(fmt.Sprintf("%q \"\"\n", pc.User)), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{filepath.Join(dir, "pgbouncer.ini")}
	if os.Geteuid() == 0 {
		args = append([]string{"-u", "nobody"}, args...)
	}
	cmd := exec.Command(bin, args...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			log.WriteString(sc.Text() + "\n")
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			mu.Lock()
			t.Logf("pgbouncer:\n%s", log.String())
			mu.Unlock()
		}
	})
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			break
		}
		if i == 100 {
			t.Fatal("PgBouncer did not start listening")
		}
		time.Sleep(50 * time.Millisecond)
	}
	viaBouncer = fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", pc.User, port, db)
	direct = fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", pc.User, pc.Host, pc.Port, db)
	return viaBouncer, direct
}

// TestPortalThroughPgBouncerInTransactionMode runs the portal through
// PgBouncer in transaction mode (database.pool_mode: transaction): the
// migrations, the demo data, concurrent signed-in requests, a notification
// written and read back, and its live push, which LISTENs on
// database.direct_url. It also shows why the setting exists: with pgx's
// default statement cache the same pooler breaks queries.
func TestPortalThroughPgBouncerInTransactionMode(t *testing.T) {
	if portaltest.Dialect() != "postgres" {
		t.Skip("runs in the PostgreSQL pass")
	}
	viaBouncer, direct := startPgBouncer(t)

	t.Run("without pool_mode transaction the statement cache breaks", func(t *testing.T) {
		cfg := config.Default()
		cfg.DataDir = t.TempDir()
		cfg.Database.URL = viaBouncer
		cfg.Database.MaxOpenConns = 16
		cfg.Database.StatementTimeout = 0 // PgBouncer refuses it at start-up: leave only the statements to fail
		st, err := store.Open(context.Background(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var failed error
		for w := 0; w < 16; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < 30; i++ {
					var n int
					if err := st.DB.Raw(fmt.Sprintf("SELECT %d + ?", i%5), w).Scan(&n).Error; err != nil {
						mu.Lock()
						failed = err
						mu.Unlock()
						return
					}
				}
			}(w)
		}
		wg.Wait()
		if failed == nil {
			t.Fatal("the statement cache worked through PgBouncer 1.18 in transaction mode; is pool_mode transaction still needed?")
		}
		t.Logf("as expected: %v", failed)
	})

	cfg := portaltest.Config(t, portaltest.WithConfig(func(c *config.Config) {
		c.Database.URL = viaBouncer
		c.Database.DirectURL = direct
		c.Database.PoolMode = config.PoolTransaction
		c.Database.MaxOpenConns = 16
		c.Database.MaxIdleConns = 16
	}))
	ta := portaltest.NewWithConfig(t, cfg, module.Registered())
	ta.Demo(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ta.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	base := "http://" + ln.Addr().String()
	token := ta.Login(t, "demo", "customer@demo.example")

	get := func(path string) error {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %d", path, resp.StatusCode)
		}
		return nil
	}
	var wg sync.WaitGroup
	errc := make(chan error, 200)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				for _, p := range []string{"/api/v1/me", "/api/v1/dashboard", "/api/v1/notifications", "/api/v1/automotive/vehicles"} {
					if err := get(p); err != nil {
						errc <- err
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Errorf("through PgBouncer: %v", err)
	}

	// A notification sent now reaches the open stream: the hub LISTENs on
	// the direct connection (LISTEN through a transaction pooler is lost).
	sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer scancel()
	req, _ := http.NewRequestWithContext(sctx, http.MethodGet, base+"/api/v1/notifications/stream", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	time.Sleep(300 * time.Millisecond)
	marker := fmt.Sprintf("through-pgbouncer-%d", time.Now().UnixNano())
	r := ta.Do(t, http.MethodPost, "/api/v1/notifications/test", map[string]string{"message": marker}, portaltest.Bearer(token))
	if r.Status != http.StatusAccepted {
		t.Fatalf("send test notification: %d %s", r.Status, r.Body)
	}
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended before the notification arrived")
			}
			if strings.Contains(l, marker) {
				return
			}
		case <-sctx.Done():
			t.Fatal("the notification never reached the live stream: is the hub LISTENing on database.direct_url?")
		}
	}
}
