// Package deploy holds the tests of directoryd's container and Kubernetes
// manifests. It is a Go module of its own, so that the Kubernetes API
// types it decodes the manifests into stay out of the service's go.mod.
package deploy
