// Package gateway is the REST face of DirectoryService: grpc-gateway's
// routes, the Procore-compatible route (procore*.go: so a Procore caller
// only changes its base URL), strict input, errors as google.rpc.Status
// JSON, the forwarding of a verified client certificate's identity, and the
// OpenAPI, health and readiness handlers. It calls the service through a
// grpc.ClientConnInterface (normally the in-process channel), so every
// REST call passes the same interceptors as a gRPC call.
//
// Of this module it imports only the generated code (gen/...),
// service/apierr (the error vocabulary) and service/auth (the
// caller-identity header and the certificate-to-identity rule, which the
// gRPC side must read the same way); TestImports holds it to that. It must
// not import the service core (service), service/server, upstream,
// service/telemetry, Prometheus or OpenTelemetry: telemetry comes in as
// middleware (WithMiddleware).
package gateway
