// Command portal is an integrator's whole portal binary: PortalKit's
// command (serve, migrate, demo, jobs, devices, simulate, ...) with this
// repository's own modules and every bundled vertical.
package main

import (
	"github.com/portalkit/portalkit/core/cli"
	_ "github.com/portalkit/portalkit/verticals/all"

	"example.com/portal-examples/bookshop"
	"example.com/portal-examples/cityworks"
	"example.com/portal-examples/notes"
)

func main() { cli.Main(notes.New(), bookshop.New(), cityworks.New()) }
