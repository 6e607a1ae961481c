// Package deploy holds the tests of directoryd's container and Kubernetes
// manifests, of its Prometheus rules (the PrometheusRule is the rules
// file, every alert has a runbook section and promtool cases that fire
// and stay silent), and of the metric names the dashboard and the rules
// use (directoryd, run as a process, must expose them). It is a Go module
// of its own, so that the Kubernetes API types, Grafana's foundation SDK
// and Prometheus's PromQL parser stay out of the service's go.mod; it
// uses the service's module (replaced by ../) only in tests.
package deploy
