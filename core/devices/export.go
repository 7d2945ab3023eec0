package devices

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/portalkit/portalkit/core/store"
)

// PortalAccount is a portal instance's account at an external broker:
// Hash is its password in $7$ format (HashSecret).
type PortalAccount struct{ Username, Hash string }

// ExportMosquitto writes a Mosquitto password file and ACL file for every
// active device of the deployment into dir (passwd and acl), plus the
// portal's own accounts: they may read every device topic and publish
// commands. Devices share two pattern rules keyed on their username (the
// device ID): each publishes only under t/+/d/<its ID>/ and reads only its
// own commands. One rule for every device keeps the ACL the same size
// whatever the fleet (Mosquitto 2.0 loads per-user blocks in quadratic
// time: 48 s for 40 000 devices, docs/scaling.md); the organisation and
// module segments, which the rule leaves open, are checked by the portal's
// router, which refuses another organisation's topic and records another
// module's in the device's reject log. The files are written to temporary names and
// renamed, so a broker reloading them never sees half a file. It returns
// how many devices were exported.
func (s *Service) ExportMosquitto(ctx context.Context, dir string, portal ...PortalAccount) (int, error) {
	n, _, err := s.exportMosquitto(ctx, dir, portal...)
	return n, err
}

// exportMosquitto is ExportMosquitto that leaves a file alone when its
// content is already what it would write, and reports whether any
// changed.
func (s *Service) exportMosquitto(ctx context.Context, dir string, portal ...PortalAccount) (int, bool, error) {
	var list []Device
	// The broker serves every organisation of the deployment.
	if err := store.AllOrgs(s.st.DB.WithContext(ctx)).Where("status = ?", StatusActive).Order("id").Find(&list).Error; err != nil {
		return 0, false, err
	}
	var pw, acl strings.Builder
	acl.WriteString("# Every device: publish under its own ID, read its own commands.\n" +
		"pattern write t/+/d/%u/#\npattern read t/+/d/%u/cmd/#\n\n")
	for _, p := range portal {
		fmt.Fprintf(&pw, "%s:%s\n", p.Username, p.Hash)
		fmt.Fprintf(&acl, "user %s\ntopic read t/+/d/+/#\ntopic read $share/+/t/+/d/+/#\ntopic write t/+/d/+/cmd/#\n\n", p.Username)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	for _, d := range list {
		fmt.Fprintf(&pw, "%s:%s\n", d.ID, d.SecretHash)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return 0, false, err
	}
	// The ACL first (it changes only with the portal's accounts now; the
	// order still matters for them).
	changed := false
	for _, f := range []struct{ name, body string }{{"acl", acl.String()}, {"passwd", pw.String()}} {
		ok, err := replaceFile(filepath.Join(dir, f.name), f.body)
		if err != nil {
			return 0, false, err
		}
		changed = changed || ok
	}
	return len(list), changed, nil
}

// replaceFile makes path hold body, unless it already does (false). It
// writes a temporary file of its own (several writers may share the
// directory), syncs it and renames it over path, keeping the old file's
// mode and group (Mosquitto reads the files as its own user).
func replaceFile(path, body string) (bool, error) {
	mode, gid := os.FileMode(0o640), -1
	if old, err := os.ReadFile(path); err == nil {
		if string(old) == body {
			return false, nil
		}
		if fi, err := os.Stat(path); err == nil {
			mode = fi.Mode().Perm()
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				gid = int(st.Gid)
			}
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name()) // gone after the rename; cleans up on failure
	if _, err := tmp.WriteString(body); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return false, err
	}
	if gid >= 0 {
		_ = os.Chown(tmp.Name(), -1, gid) // best effort: needs the group or root
	}
	return true, os.Rename(tmp.Name(), path)
}
