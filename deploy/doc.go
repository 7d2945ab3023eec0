// Package deploy holds no code: it is the home of the tests that keep the
// deployment files in this folder (the container image, the Compose cluster,
// the Kubernetes manifests) loadable by the tools that read them and in step
// with the portal's configuration. It is a Go module of its own so that the
// Compose and Kubernetes libraries the tests use never become dependencies of
// the portal.
package deploy
