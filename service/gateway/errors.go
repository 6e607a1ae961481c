package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/procore-directory/procore-directory/service/apierr"
)

// gatewayErrorHandler writes errors as google.rpc.Status JSON with details.
// Errors the gateway makes itself (a body it cannot decode, a malformed
// path) get the same shape as the service's: INVALID_ARGUMENT with a
// BadRequest, and every error an ErrorInfo. RetryInfo becomes Retry-After.
// An HTTP status chosen by the gateway (405, a 400 from the router) is kept.
func gatewayErrorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	st, httpStatus := normalizedStatus(err)
	if secs := retryAfter(st); secs != "" {
		w.Header().Set("Retry-After", secs)
	}
	out := st.Err()
	if httpStatus != 0 {
		out = &runtime.HTTPStatusError{HTTPStatus: httpStatus, Err: out}
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, out)
}

// normalizedStatus is err as the service's one error shape, whoever raised
// it: a gRPC status with an ErrorInfo (INVALID_REQUEST for an
// INVALID_ARGUMENT, else INTERNAL, when it has none) and, for
// INVALID_ARGUMENT, a BadRequest; httpStatus is the HTTP status the
// gateway chose (405, 415, the router's 400), 0 for none.
func normalizedStatus(err error) (st *status.Status, httpStatus int) {
	var httpErr *runtime.HTTPStatusError
	if errors.As(err, &httpErr) {
		httpStatus, err = httpErr.HTTPStatus, httpErr.Err
	}
	st, isStatus := status.FromError(err)
	if !isStatus && httpStatus == http.StatusBadRequest {
		// The router's own 400 (a malformed escape in the path).
		st = status.Convert(apierr.InvalidArgument([]*errdetails.BadRequest_FieldViolation{{
			Field: "path", Description: "the URL path is malformed", Reason: "MALFORMED_PATH",
		}}))
	}
	var hasInfo, hasBadRequest bool
	for _, d := range st.Details() {
		switch d.(type) {
		case *errdetails.ErrorInfo:
			hasInfo = true
		case *errdetails.BadRequest:
			hasBadRequest = true
		}
	}
	if !hasInfo {
		reason := apierr.ReasonInternal
		if st.Code() == codes.InvalidArgument {
			reason = apierr.ReasonInvalidRequest
		}
		if info, e := st.WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: apierr.Domain}); e == nil {
			st = info
		}
	}
	if st.Code() == codes.InvalidArgument && !hasBadRequest {
		if br, e := st.WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{
			Field: "body", Description: st.Message(), Reason: "MALFORMED_REQUEST",
		}}}); e == nil {
			st = br
		}
	}
	return st, httpStatus
}

// retryAfter is st's RetryInfo as a Retry-After value in whole seconds
// (at least 1), or "" when st has none.
func retryAfter(st *status.Status) string {
	for _, d := range st.Details() {
		if d, ok := d.(*errdetails.RetryInfo); ok {
			if secs := d.GetRetryDelay().AsDuration().Seconds(); secs > 0 {
				return fmt.Sprintf("%.0f", max(1, secs+0.5))
			}
		}
	}
	return ""
}

// routingErrorHandler answers requests that reach no handler: a known
// path with a method it does not serve gets 405 with an Allow header
// (UNIMPLEMENTED, METHOD_NOT_ALLOWED), an unknown path 404 (NOT_FOUND,
// NOT_FOUND), each with an ErrorInfo a program can branch on rather than
// grpc-gateway's INTERNAL-looking defaults.
func routingErrorHandler(routes *routeTable) runtime.RoutingErrorHandlerFunc {
	return func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
		var err error
		switch allow := routes.allowed(r.URL.Path); {
		case httpStatus == http.StatusMethodNotAllowed || (httpStatus == http.StatusNotFound && len(allow) > 0):
			err = methodNotAllowed(w, r, allow)
		case httpStatus == http.StatusNotFound:
			err = apierr.New(codes.NotFound, apierr.ReasonNotFound, "no such route: see /openapi.json for the routes", nil)
		default:
			err = &runtime.HTTPStatusError{HTTPStatus: httpStatus, Err: fmt.Errorf("routing error %d", httpStatus)}
		}
		runtime.HTTPError(ctx, mux, m, w, r, err)
	}
}

// methodNotAllowed is 405 (METHOD_NOT_ALLOWED) with Allow naming allow.
func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow []string) error {
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
	}
	return &runtime.HTTPStatusError{HTTPStatus: http.StatusMethodNotAllowed, Err: apierr.New(codes.Unimplemented, apierr.ReasonMethodNotAllowed,
		fmt.Sprintf("method %s is not allowed on this route; allowed: %s", r.Method, strings.Join(allow, ", ")),
		map[string]string{"method": r.Method, "allow": strings.Join(allow, ", ")})}
}
