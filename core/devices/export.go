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
// commands. The files are written to temporary names and
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
	for _, p := range portal {
		fmt.Fprintf(&pw, "%s:%s\n", p.Username, p.Hash)
		fmt.Fprintf(&acl, "user %s\ntopic read t/+/d/+/#\ntopic read $share/+/t/+/d/+/#\ntopic write t/+/d/+/cmd/#\n\n", p.Username)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	for _, d := range list {
		fmt.Fprintf(&pw, "%s:%s\n", d.ID, d.SecretHash)
		base := "t/" + d.OrgSlug + "/d/" + d.ID
		fmt.Fprintf(&acl, "user %s\ntopic write %s/%s/#\ntopic read %s/cmd/#\n\n", d.ID, base, d.Module, base)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return 0, false, err
	}
	// The ACL first: a broker reloading between the two files then never
	// accepts a new device it has no ACL entry for (Mosquitto acknowledges
	// and drops a publish its ACL denies).
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
