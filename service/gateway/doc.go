// Package gateway is the REST face of DirectoryService: grpc-gateway's
// routes, the Procore-compatible route (procore*.go: so a Procore caller
// only changes its base URL, errors included: procore_errors.go), strict
// input, errors as google.rpc.Status JSON elsewhere, the forwarding of a
// verified client certificate's identity (WithCallerIdentity), and the
// OpenAPI, health and readiness handlers. It
// calls the service through a grpc.ClientConnInterface (normally the
// in-process channel), so every REST call passes the same interceptors as
// a gRPC call.
//
// Of this module it imports only the generated code (gen/...) and
// service/apierr, the error vocabulary; TestImports holds it to that. It
// must not import the service core (service), service/auth (the caller
// identity's header and rule come in through WithCallerIdentity),
// service/server, upstream, service/telemetry, Prometheus or
// OpenTelemetry (telemetry comes in as middleware, WithMiddleware).
package gateway
