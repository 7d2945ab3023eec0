// Command portal is PortalKit's one binary: it serves the portal, the JSON
// API and the MQTT gateway, migrates the database, creates demo data and
// administers the deployment. It is core/cli with every bundled vertical
// (verticals/all); an integrator's own binary is this file with their
// modules passed to cli.Main (docs/writing-a-module.md).
package main

import (
	"github.com/portalkit/portalkit/core/cli"
	_ "github.com/portalkit/portalkit/verticals/all"
)

func main() { cli.Main() }
