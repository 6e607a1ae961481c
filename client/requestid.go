package client

import (
	"context"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// RequestIDs returns the interceptor that gives every UpdateCompanyUser a
// request_id (a new UUID) when the caller set none. grpc-go's retry policy
// is per method, not per request, and its retries resend the same message:
// with an id, a retried update is answered from the server's idempotency
// record (or waits for the first attempt) instead of writing a second
// time. The caller's message is not changed (a copy carries the id).
//
// It covers the retries of one call. A caller that retries by calling again
// sets request_id itself and sends the same one with every retry.
func RequestIDs() grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if u, ok := req.(*directoryv1.UpdateCompanyUserRequest); ok && u.GetRequestId() == "" {
			c := proto.CloneOf(u)
			c.RequestId = uuid.NewString()
			req = c
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}
