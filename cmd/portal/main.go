// Command portal is PortalKit's one binary: it serves the portal, the JSON
// API and the MQTT gateway, migrates the database, creates demo data and
// administers the deployment. Bundled verticals come in through
// verticals/all; a custom build adds its own modules with one blank import.
package main

import (
	"os"

	_ "github.com/portalkit/portalkit/verticals/all"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
