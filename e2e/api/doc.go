// Package api holds the API end-to-end tests: a real portal with every
// bundled module and the demo data, served on a loopback port, driven only
// through the Go SDK (sdk/go) the way an integrator's program would.
package api
