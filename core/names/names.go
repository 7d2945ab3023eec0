// Package names is the one naming rule for everything a module declares, so
// that operations, notification kinds, jobs, journey steps, widgets and
// group kinds are spelled alike and a mistake stops start-up with the same
// message wherever it is made:
//
//   - a module ID is 2 to 32 lowercase letters, digits or underscores,
//     starting with a letter ("automotive", "city_works");
//   - a name a module gives is "<module id>.<name>", the name 1 to 64
//     lowercase letters, digits or underscores starting with a letter
//     ("banking.monthly_report"); a widget's ID is the name alone (it is
//     addressed as "<module id>.<widget id>");
//   - an API operation ID is "<module id>-<words>", words in lowercase
//     letters and digits joined by hyphens ("banking-goal-add").
//
// names imports nothing of PortalKit.
package names

import (
	"fmt"
	"regexp"
	"strings"
)

const (
	idPart    = `[a-z][a-z0-9_]{1,31}`
	localPart = `[a-z][a-z0-9_]{0,63}`
)

var (
	idRE        = regexp.MustCompile(`^` + idPart + `$`)
	localRE     = regexp.MustCompile(`^` + localPart + `$`)
	qualifiedRE = regexp.MustCompile(`^` + idPart + `\.` + localPart + `$`)
	operationRE = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
)

// MaxQualified is the longest "<module id>.<name>" (for column sizes).
const MaxQualified = 32 + 1 + 64

// ID reports whether id is a valid module ID.
func ID(id string) error {
	if !idRE.MatchString(id) {
		return fmt.Errorf("module ID %q: want 2-32 lowercase letters, digits or underscores, starting with a letter", id)
	}
	return nil
}

// Local reports whether name is a valid unqualified name (a widget's ID);
// what says what it names ("widget").
func Local(what, name string) error {
	if !localRE.MatchString(name) {
		return fmt.Errorf("%s %q: want 1-64 lowercase letters, digits or underscores, starting with a letter", what, name)
	}
	return nil
}

// Qualified reports whether name is "<owner>.<name>" by the rule; what says
// what it names ("job", "notification kind"). An empty owner accepts any
// module ID.
func Qualified(what, name, owner string) error {
	if !qualifiedRE.MatchString(name) {
		return fmt.Errorf("%s %q: want \"<module id>.<name>\", the name 1-64 lowercase letters, digits or underscores, starting with a letter", what, name)
	}
	if owner != "" && !strings.HasPrefix(name, owner+".") {
		return fmt.Errorf("%s %q: must be named %s.<name>", what, name, owner)
	}
	return nil
}

// Operation reports whether id is a valid API operation ID; with an owner,
// it must start with "<owner>-" (module IDs' underscores become hyphens:
// "city_works" → "city-works-").
func Operation(id, owner string) error {
	if !operationRE.MatchString(id) {
		return fmt.Errorf("operation ID %q: want lowercase words of letters and digits joined by hyphens, such as \"notes-create\"", id)
	}
	if owner != "" {
		prefix := strings.ReplaceAll(owner, "_", "-") + "-"
		if !strings.HasPrefix(id, prefix) {
			return fmt.Errorf("operation ID %q: must start with %q", id, prefix)
		}
	}
	return nil
}
