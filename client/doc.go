// Package client is the recipe for calling DirectoryService from Go, as the
// README's "Calling it from Go" section gives it, in code that is tested
// against the real server: the gRPC service config (retries and default
// deadlines, serviceconfig.json), the interceptor that makes retried
// updates safe (RequestIDs), and reading ErrorInfo and RetryInfo from an
// error (Details).
//
// The generated client itself is
// github.com/procore-directory/procore-directory/gen/procore/directory/v1
// (directoryv1.NewDirectoryServiceClient); this package only configures the
// connection, so a caller may copy it instead of importing it. It imports
// only the generated code, grpc-go and the UUID package.
package client
