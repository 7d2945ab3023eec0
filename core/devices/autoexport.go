package devices

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The exporter keeps an external Mosquitto's password file and ACL in step
// with the registry (mqtt.export_dir): once at start, before the portal
// connects (its own account comes from mqtt.export_accounts), then after
// every change this instance makes and every mqtt.export_interval, for
// changes made by the CLI or other instances. When a file changed it sends
// Mosquitto SIGHUP (mqtt.export_pid_file): a new device can connect, and a
// disabled, rotated or deleted one is dropped.

// startExporter exports once and starts the loop; it fails only when the
// first export does.
func (s *Service) startExporter(ctx context.Context) error {
	if s.cfg.MQTT.ExportDir == "" {
		return nil
	}
	if err := s.exportNow(ctx); err != nil {
		return err
	}
	kick, stop, done := make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	s.exportKick.Store(&kick)
	s.exportStop = func() { s.exportKick.Store(nil); close(stop); <-done }
	go func() {
		defer close(done)
		tick := time.NewTicker(s.cfg.MQTT.ExportInterval)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-kick:
			case <-tick.C:
			}
			if err := s.exportNow(context.Background()); err != nil {
				s.log.Error("keeping the broker's password file and ACL in step failed; retrying", "dir", s.cfg.MQTT.ExportDir, "err", err)
			}
		}
	}()
	return nil
}

// stopExporter stops the loop (if it runs).
func (s *Service) stopExporter() {
	if s.exportStop != nil {
		s.exportStop()
		s.exportStop = nil
	}
}

// exportSoon asks the exporter to write the files now (after a change
// committed); a burst of changes makes one export.
func (s *Service) exportSoon() {
	if k := s.exportKick.Load(); k != nil {
		select {
		case *k <- struct{}{}:
		default:
		}
	}
}

// exportNow writes the files and, when one changed, makes Mosquitto reload.
func (s *Service) exportNow(ctx context.Context) error {
	m := s.cfg.MQTT
	var accounts []PortalAccount
	if m.ExportAccounts != "" {
		var err error
		if accounts, err = readPortalAccounts(m.ExportAccounts); err != nil {
			return err
		}
	}
	_, changed, err := s.exportMosquitto(ctx, m.ExportDir, accounts...)
	if err != nil || !changed || m.ExportPIDFile == "" {
		return err
	}
	return signalReload(m.ExportPIDFile)
}

// readPortalAccounts reads "user:hash" lines (blank lines and # comments
// skipped), naming the file and line of a malformed one.
func readPortalAccounts(path string) ([]PortalAccount, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mqtt.export_accounts: %w", err)
	}
	defer f.Close()
	var out []PortalAccount
	lines := bufio.NewScanner(f)
	for n := 1; lines.Scan(); n++ {
		line := strings.TrimSpace(lines.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" || !strings.HasPrefix(hash, "$") {
			return nil, fmt.Errorf("mqtt.export_accounts: %s line %d: want user:hash as mosquitto_passwd writes it", path, n)
		}
		out = append(out, PortalAccount{Username: user, Hash: hash})
	}
	return out, lines.Err()
}

// signalReload sends SIGHUP to the process named in pidFile.
func signalReload(pidFile string) error {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return fmt.Errorf("mqtt.export_pid_file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return fmt.Errorf("mqtt.export_pid_file: %s does not hold a process ID", pidFile)
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		return fmt.Errorf("mqtt.export_pid_file: reloading process %d: %w", pid, err)
	}
	return nil
}
