// Command gen writes the OpenAPI document of a portal with every bundled
// module to the file named by its argument (go generate ./api, make api).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/portalkit/portalkit/api"
	"github.com/portalkit/portalkit/core/module"
	_ "github.com/portalkit/portalkit/verticals/all"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen FILE")
		os.Exit(2)
	}
	doc, err := api.Document(context.Background(), module.Registered())
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[1], doc, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
