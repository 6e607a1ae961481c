package server

import (
	"context"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/apierr"
)

// RetryPushbackTrailer is the trailer with which a gRPC server steers the
// retry policy of a client's service config (gRFC A6): a delay in
// milliseconds before the next attempt, or a negative value for "do not
// retry".
const RetryPushbackTrailer = "grpc-retry-pushback-ms"

// RetryPushback returns the interceptor that tells clients with a retry
// policy (the README's "Calling it from Go" recipe) when a retry is unsafe
// or should wait. grpc-go's retryPolicy is per method, not per request or
// error reason, so the server, which knows both, answers:
//
//   - an UpdateCompanyUser without a request_id (and not validate_only):
//     never retried automatically, whatever the error, since a second
//     attempt could write twice; with a request_id a repeat is answered from
//     the idempotency record or waits for the first call;
//   - UPSTREAM_OUTCOME_UNKNOWN: never retried automatically: the PATCH may
//     have been applied, and the record under its request_id is released,
//     so a retry would send it again; the caller reads the user back.
//
// Other errors leave the client's policy and backoff in charge. A
// RetryInfo delay is not turned into a pushback: one longer than the
// call's deadline would turn a precise UNAVAILABLE into DEADLINE_EXCEEDED.
func RetryPushback() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err == nil {
			return resp, nil
		}
		if ms, ok := pushback(req, err); ok {
			_ = grpc.SetTrailer(ctx, metadata.Pairs(RetryPushbackTrailer, ms))
		}
		return resp, err
	}
}

// pushback decides the trailer's value for a failed call.
func pushback(req any, err error) (string, bool) {
	if u, ok := req.(*directoryv1.UpdateCompanyUserRequest); ok && u.GetRequestId() == "" && !u.GetValidateOnly() {
		return "-1", true
	}
	st := status.Convert(err)
	if st.Code() != codes.Unavailable {
		return "", false
	}
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok && ei.GetReason() == apierr.ReasonUpstreamOutcomeUnknown {
			return "-1", true
		}
	}
	return "", false
}
