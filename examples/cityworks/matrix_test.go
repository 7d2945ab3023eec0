package cityworks_test

import (
	"testing"

	"github.com/portalkit/portalkit/core/portaltest"
)

// TestAuthorizationMatrix: every operation with an {id} is refused to
// customers of the same or another organisation, other organisations'
// admins, anonymous callers and revoked tokens, and allowed to its owner;
// a report is readable by staff reaching its reporter and by no other
// staff.
func TestAuthorizationMatrix(t *testing.T) {
	ta, _ := newApp(t)
	portaltest.AuthorizationMatrix(t, ta)
}
