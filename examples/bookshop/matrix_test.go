package bookshop_test

import (
	"testing"

	"github.com/portalkit/portalkit/core/portaltest"
)

// TestAuthorizationMatrix: every route with an {id} refuses other
// customers, other organisations, anonymous and revoked callers, and
// unrelated staff, or says why it does not apply.
func TestAuthorizationMatrix(t *testing.T) {
	ta, _ := newApp(t)
	portaltest.AuthorizationMatrix(t, ta)
}
