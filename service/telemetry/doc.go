// Package telemetry is what operators see of directoryd: Prometheus
// metrics (gRPC calls and the Procore client, through upstream.Observer),
// the access log (one line per call, with its request id), and
// OpenTelemetry tracing (server spans for gRPC and HTTP, client spans for
// Procore, exported with OTLP only when configured).
//
// Nothing is registered on Prometheus's or OpenTelemetry's globals: one
// Telemetry is built by the caller and handed to every component. It must
// not import the service core, the gateway or the policy: they are
// instrumented from outside, through interceptors, middleware and stats
// handlers.
package telemetry
