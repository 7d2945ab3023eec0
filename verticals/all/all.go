// Package all blank-imports every bundled vertical so that cmd/portal
// compiles them in. Removing a line here removes that vertical completely.
// An integrator's own main does the same with their modules.
package all

import (
	_ "github.com/portalkit/portalkit/verticals/automotive"
	_ "github.com/portalkit/portalkit/verticals/banking"
	_ "github.com/portalkit/portalkit/verticals/education"
	_ "github.com/portalkit/portalkit/verticals/health"
)
