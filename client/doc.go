// Package client is the recipe for calling DirectoryService from Go, as the
// README's "Calling it from Go" section gives it, in code that is tested
// against the real server: the gRPC service config (retries and default
// deadlines, serviceconfig.json), the interceptor that makes retried
// updates safe (RequestIDs), and reading ErrorInfo and RetryInfo from an
// error (Details); and for BatchUpdateCompanyUsers, submitting a batch
// under a request_id (NewBatch, SubmitBatch), waiting for its operation
// with progress (WaitBatch) and pairing each item with its outcome
// (BatchResults).
//
// The generated client itself is
// github.com/procore-directory/procore-directory/gen/procore/directory/v1
// (directoryv1.NewDirectoryServiceClient); this package only configures the
// connection, so a caller may copy it instead of importing it. It imports
// only the generated code (with longrunningpb and genproto's), grpc-go,
// protobuf and the UUID package.
package client
