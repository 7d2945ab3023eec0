package devices_test

import (
	"testing"

	"github.com/portalkit/portalkit/core/portaltest"
)

func mosquittoGateway(t *testing.T, ta *portaltest.TestApp) gateway {
	portaltest.RequireService(t, "Mosquitto", false, "set PORTAL_TEST_MOSQUITTO to the mosquitto binary")
	return gateway{}
}
