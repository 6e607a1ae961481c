// Package operations keeps long-running operations (AIP-151) and serves
// them as google.longrunning.Operations: the Store (in memory for one
// replica, in Redis for a fleet, so that any replica answers Get, Wait and
// Cancel), and the Server that implements longrunningpb.OperationsServer
// over it with caller scoping (a name outside the caller's scope is
// NOT_FOUND, as if it did not exist).
//
// The work an operation stands for (the batch runner) writes through the
// Store's Create, Update and CancelRequested; this package knows nothing of
// what the operation does, its metadata or its response.
//
// Wiring: register the Server with longrunningpb.RegisterOperationsServer
// on the gRPC server, and its REST routes with gen/google/longrunning's
// RegisterOperationsHandlerServer (or ...HandlerClient) on a
// runtime.ServeMux built with runtime.WithStrictDeepWildcardMatching():
// without it operations.proto's `GET /v1/{name=operations/**}` also matches
// `GET /v1/operations` (an empty `**`) and, registered after ListOperations,
// takes it.
//
// It must not import the service core (service), the server, the gateway or
// upstream: they import it. It imports service/apierr for its errors.
package operations
