// Package module is the contract between PortalKit's kernel and the modules
// it hosts (the bundled verticals and any integrator's module). A module
// registers itself in init() with Register, and during Init declares through
// its Host everything it contributes: tables and migrations, API operations,
// portal pages, navigation, event handlers and demo data. The kernel
// (core/app) collects the declarations and wires them; a module never
// reaches into the kernel.
//
// Capabilities are added to Host one method at a time, so a new kind of
// contribution never changes existing modules.
//
// module imports only the public types of core packages below it.
package module

import (
	"errors"
	"fmt"
	"github.com/portalkit/portalkit/core/names"
	"sort"
	"strings"
	"sync"
)

// Module is a unit of functionality hosted by PortalKit.
type Module interface {
	// Info describes the module. It must not depend on Init having run.
	Info() Info
	// Init declares what the module contributes through h. It runs once,
	// after every module the module Requires.
	Init(h Host) error
}

// Info identifies a module.
type Info struct {
	// ID is the module's stable identifier: lowercase letters, digits and
	// underscores, starting with a letter ("automotive"). It prefixes the
	// module's tables, API paths (/api/v1/<id>/...), pages (/m/<id>/...),
	// migrations and notification kinds.
	ID string
	// Name is shown to people ("Automotive").
	Name string
	// Version is the module's version ("1.0.0").
	Version string
	// Description says in one sentence what the module does.
	Description string
	// Requires lists the IDs of modules that must be initialised first.
	Requires []string
}

// reserved are names of core services, tables and URL areas that a module
// ID would collide with.
var reserved = map[string]bool{
	"accounts": true, "notify": true, "notifications": true, "schedule": true, "jobs": true, "devices": true,
	"dashboard": true, "experience": true, "web": true, "app": true, "store": true, "portal": true, "admin": true,
	"platform": true, "api": true, "static": true, "branding": true, "core": true, "module": true, "auth": true,
	"me": true, "users": true, "tokens": true, "audit": true, "org": true, "orgs": true, "help": true, "messages": true,
	"feedback": true, "timeline": true, "drafts": true, "chart": true, "i18n": true,
}

// ValidateID reports whether id is a valid module ID.
func ValidateID(id string) error {
	if err := names.ID(id); err != nil {
		return err
	}
	if reserved[id] {
		return fmt.Errorf("module ID %q is reserved for a core service", id)
	}
	return nil
}

// registry holds modules registered by init(). Tests never read it: they
// build apps from explicit lists.
var registry = struct {
	sync.Mutex
	mods map[string]Module
}{mods: map[string]Module{}}

// Register adds m to the modules compiled into this binary. It is called
// from a module's init(); registering an invalid or duplicate ID panics,
// because that is a programming error found at the first start.
func Register(m Module) {
	id := m.Info().ID
	if err := ValidateID(id); err != nil {
		panic("module.Register: " + err.Error())
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.mods[id]; dup {
		panic(fmt.Sprintf("module.Register: module %q registered twice", id))
	}
	registry.mods[id] = m
}

// Registered returns the modules registered with Register, sorted by ID.
func Registered() []Module {
	registry.Lock()
	defer registry.Unlock()
	out := make([]Module, 0, len(registry.mods))
	for _, m := range registry.mods {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Info().ID < out[j].Info().ID })
	return out
}

// Order returns mods sorted so that every module comes after the modules it
// Requires (ties broken by ID, so the order is stable). A missing or cyclic
// requirement, an invalid ID or a duplicate ID is an error that names it.
func Order(mods []Module) ([]Module, error) {
	byID := map[string]Module{}
	for _, m := range mods {
		info := m.Info()
		if err := ValidateID(info.ID); err != nil {
			return nil, err
		}
		if _, dup := byID[info.ID]; dup {
			return nil, fmt.Errorf("module %q is listed twice", info.ID)
		}
		byID[info.ID] = m
	}
	for _, m := range mods {
		for _, r := range m.Info().Requires {
			if _, ok := byID[r]; !ok {
				return nil, fmt.Errorf("module %q requires module %q, which is not loaded", m.Info().ID, r)
			}
		}
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)

	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var out []Module
	var path []string
	var visit func(id string) error
	visit = func(id string) error {
		switch state[id] {
		case done:
			return nil
		case visiting:
			i := 0
			for path[i] != id {
				i++
			}
			return fmt.Errorf("modules require each other in a cycle: %s -> %s", strings.Join(path[i:], " -> "), id)
		}
		state[id] = visiting
		path = append(path, id)
		reqs := append([]string(nil), byID[id].Info().Requires...)
		sort.Strings(reqs)
		for _, r := range reqs {
			if err := visit(r); err != nil {
				return err
			}
		}
		path = path[:len(path)-1]
		state[id] = done
		out = append(out, byID[id])
		return nil
	}
	for _, id := range ids {
		if err := visit(id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ErrSkip may be returned by Init to say the module chose not to load in
// this deployment (for example, missing optional configuration). The
// kernel logs it and continues.
var ErrSkip = errors.New("module skipped")
