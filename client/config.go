package client

import (
	_ "embed"

	"google.golang.org/grpc"
)

// serviceConfig is the README's service config, byte for byte (a test
// checks the README includes it).
//
//go:embed serviceconfig.json
var serviceConfig string

// ServiceConfig returns the gRPC service config (JSON) of the recipe: both
// methods retried on UNAVAILABLE (up to 3 attempts, 0.2 s to 2 s apart,
// throttled when most calls fail), with default deadlines of 10 s for a read
// and 30 s for an update (directoryd's --call-timeout), all attempts
// included. Retrying UpdateCompanyUser is safe only because every update
// carries a request_id (RequestIDs); the server also refuses an automatic
// retry of an update without one, or of one whose outcome is unknown
// (grpc-retry-pushback-ms: -1).
func ServiceConfig() string { return serviceConfig }

// DialOptions are the recipe's options for grpc.NewClient: the service
// config as the default (a resolver's own config would replace it) and the
// RequestIDs interceptor. Add transport credentials.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithDefaultServiceConfig(ServiceConfig()),
		grpc.WithChainUnaryInterceptor(RequestIDs()),
	}
}
