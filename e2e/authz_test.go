package e2e

import (
	"testing"

	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
)

// TestAuthorizationMatrixOverEveryModule runs the authorization matrix over
// the routes of the portal as it ships: the core's and every bundled
// vertical's (module.Registered, through verticals/all). A new route with an
// object ID joins automatically, or fails until it declares a fixture or
// says why not.
func TestAuthorizationMatrixOverEveryModule(t *testing.T) {
	ta := portaltest.New(t, module.Registered())
	portaltest.AuthorizationMatrix(t, ta)
}
