// Package reflection serves gRPC server reflection (v1 and v1alpha) that can
// resolve everything directoryd serves and sends: our API with its proto
// comments (from the embedded descriptor set, gen/descriptor), the standard
// services beside it (grpc.health.v1.Health, the reflection services) and
// the google.rpc error details every error carries (BadRequest, ErrorInfo,
// RetryInfo, QuotaFailure), so grpcurl, buf curl, evans or Python's
// reflection client work with no .proto files.
//
// It must not import the service package or any other package of this
// module except gen/descriptor: the service registers it, not the reverse.
package reflection
