package operations

import (
	"context"
	"errors"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/procore-directory/procore-directory/service/apierr"
)

// ErrorInfo reasons of the Operations service, beside apierr's.
const (
	// ReasonOperationNotFound: no operation of that name is visible to the
	// caller (never made, deleted, past its retention, or another
	// caller's: the three look the same). NOT_FOUND.
	ReasonOperationNotFound = "OPERATION_NOT_FOUND"
	// ReasonOperationNotDone: DeleteOperation on an operation that still
	// runs; cancel it, then delete it once done. FAILED_PRECONDITION.
	ReasonOperationNotDone = "OPERATION_NOT_DONE"
)

// toStatus turns a Store error into the gRPC status the caller gets.
func toStatus(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return apierr.New(codes.NotFound, ReasonOperationNotFound, "operation not found", nil)
	case errors.Is(err, ErrNotDone):
		return apierr.New(codes.FailedPrecondition, ReasonOperationNotDone,
			"the operation is still running: cancel it and delete it once it is done", nil)
	case errors.Is(err, ErrInvalidPageToken):
		return invalid("page_token", "not a page token of this list: start again without one")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return status.FromContextError(err).Err()
	}
	return apierr.New(codes.Unavailable, apierr.ReasonInternal, "the operation store failed: try again", nil)
}

// invalid is INVALID_ARGUMENT naming one field.
func invalid(field, why string) error {
	return apierr.InvalidArgument([]*errdetails.BadRequest_FieldViolation{{Field: field, Description: why}})
}
