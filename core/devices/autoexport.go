package devices

import (
	"bufio"
	"context"
	"errors"
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

// startExporter exports once and starts the loop. It fails when the
// files cannot be written; a failed reload is logged and retried.
func (s *Service) startExporter(ctx context.Context) error {
	if s.cfg.MQTT.ExportDir == "" {
		return nil
	}
	if err := s.exportNow(ctx); err != nil {
		var r reloadError
		if !errors.As(err, &r) {
			return err
		}
		s.log.Error("reloading the broker after writing its password file and ACL failed; retrying", "err", err)
	}
	kick, done := make(chan struct{}, 1), make(chan struct{})
	loopCtx, cancel := context.WithCancel(context.Background())
	s.exportKick.Store(&kick)
	s.exportStop = func() { s.exportKick.Store(nil); cancel(); <-done }
	go func() {
		defer close(done)
		tick := time.NewTicker(s.cfg.MQTT.ExportInterval)
		defer tick.Stop()
		for {
			select {
			case <-loopCtx.Done():
				return
			case <-kick:
			case <-tick.C:
			}
			if err := s.exportNow(loopCtx); err != nil && loopCtx.Err() == nil {
				s.log.Error("keeping the broker's password file and ACL in step failed; retrying", "err", err)
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

// reloadError is a failure to make the broker reload: the files are
// written, and the reload is tried again on the next pass.
type reloadError struct{ error }

// exportNow writes the files and, when one changed (or an earlier reload
// failed), makes Mosquitto reload. Only the exporter calls it, one call at
// a time.
func (s *Service) exportNow(ctx context.Context) error {
	m := s.cfg.MQTT
	accounts, err := readPortalAccounts(m.ExportAccounts, m.Username)
	if err != nil {
		return err
	}
	_, changed, err := s.exportMosquitto(ctx, m.ExportDir, accounts...)
	if err != nil {
		return fmt.Errorf("mqtt.export_dir: %w", err)
	}
	s.exportReload = s.exportReload || changed
	if !s.exportReload || m.ExportPIDFile == "" {
		s.exportReload = false
		return nil
	}
	if err := signalReload(m.ExportPIDFile); err != nil {
		return reloadError{err}
	}
	s.exportReload = false
	return nil
}

// readPortalAccounts reads "user:hash" lines (blank lines and # comments
// skipped), naming the file and line of a malformed one; self (this
// instance's mqtt.username) must be among them, or the broker would shut
// the portal out after the reload.
func readPortalAccounts(path, self string) ([]PortalAccount, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mqtt.export_accounts: %w", err)
	}
	defer f.Close()
	var out []PortalAccount
	found := false
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
		found = found || user == self
		out = append(out, PortalAccount{Username: user, Hash: hash})
	}
	if err := lines.Err(); err != nil {
		return nil, fmt.Errorf("mqtt.export_accounts: %s: %w", path, err)
	}
	if !found {
		return nil, fmt.Errorf("mqtt.export_accounts: %s does not list this instance's mqtt.username %q", path, self)
	}
	return out, nil
}

// signalReload sends SIGHUP to the Mosquitto process named in pidFile,
// after checking that the process is Mosquitto (a stale pid file may name
// another process, which SIGHUP would end). The pid file only means
// something on the broker's host, in its process namespace.
func signalReload(pidFile string) error {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return fmt.Errorf("mqtt.export_pid_file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return fmt.Errorf("mqtt.export_pid_file: %s does not hold a process ID", pidFile)
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || strings.TrimSpace(string(comm)) != "mosquitto" {
		return fmt.Errorf("mqtt.export_pid_file: process %d (from %s) is not a running mosquitto", pid, pidFile)
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		return fmt.Errorf("mqtt.export_pid_file: reloading mosquitto (process %d): %w", pid, err)
	}
	return nil
}
