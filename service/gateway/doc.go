// Package gateway is the REST face of DirectoryService: grpc-gateway's
// routes, the Procore-compatible route (so a Procore caller only changes
// its base URL), strict JSON decoding, errors as google.rpc.Status JSON,
// the forwarding of a verified client certificate's identity, and the
// OpenAPI, health and readiness handlers. It calls the service through a
// grpc.ClientConnInterface (normally the in-process channel), so every
// REST call passes the same interceptors as a gRPC call.
//
// It must not import the service's implementation, Prometheus or
// OpenTelemetry: telemetry comes in as middleware (WithMiddleware).
package gateway
