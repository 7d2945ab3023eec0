package devices

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

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
	changed := false
	for _, f := range []struct{ name, body string }{{"passwd", pw.String()}, {"acl", acl.String()}} {
		path := filepath.Join(dir, f.name)
		if old, err := os.ReadFile(path); err == nil && string(old) == f.body {
			continue
		}
		tmp := filepath.Join(dir, "."+f.name+".tmp")
		if err := os.WriteFile(tmp, []byte(f.body), 0o640); err != nil {
			return 0, false, err
		}
		if err := os.Rename(tmp, path); err != nil {
			return 0, false, err
		}
		changed = true
	}
	return len(list), changed, nil
}
