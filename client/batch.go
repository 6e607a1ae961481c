package client

import (
	"context"
	"fmt"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// ProcoreRequestHeader is the response metadata key in which a
// validate_only call returns, as JSON, the Procore requests it would send
// (the server's apierr.ProcoreRequestHeader, repeated here so that this
// package imports no server code).
const ProcoreRequestHeader = "x-procore-request"

// NewBatch returns the request that updates items of company companyID in
// one BatchUpdateCompanyUsers operation, with a fresh request_id (AIP-155).
// Keep the request (or at least its request_id) until the operation is
// done: sending it again, after a lost answer or a crash, returns the same
// operation instead of starting the batch a second time. The items are
// used as they are (not copied); their own company_id may stay unset.
func NewBatch(companyID int64, items []*directoryv1.UpdateCompanyUserRequest) *directoryv1.BatchUpdateCompanyUsersRequest {
	return &directoryv1.BatchUpdateCompanyUsersRequest{
		CompanyId: companyID,
		Requests:  items,
		RequestId: uuid.NewString(),
	}
}

// Submission is a batch as SubmitBatch sent it and the operation the
// server answered.
type Submission struct {
	// Request is the request as sent, with its request_id: BatchResults
	// needs it to pair outcomes with items, and resending it resumes the
	// same operation.
	Request *directoryv1.BatchUpdateCompanyUsersRequest
	// Operation is the operation as first answered (already done for a
	// validate_only request); WaitBatch follows it to the end.
	Operation *longrunningpb.Operation
	// Preview is, for a validate_only request, the JSON of the Procore
	// requests the batch would send (ProcoreRequestHeader); empty
	// otherwise, or when the server sent none.
	Preview string
}

// SubmitBatch starts req as a BatchUpdateCompanyUsers operation. A request
// without a request_id is sent as a copy with a fresh one, so that the
// returned Submission.Request can always be resent safely (better: build it
// with NewBatch and keep it). An error is either the server's refusal of
// the whole batch, with nothing sent to Procore (INVALID_ARGUMENT names the
// items as `requests[i]...` in its BadRequest; see Details), or the
// transport's: after UNAVAILABLE or a deadline the batch may have started,
// and sending the same request again (the same request_id, which the error
// names) returns its operation instead of starting a second one.
func SubmitBatch(ctx context.Context, users directoryv1.DirectoryServiceClient, req *directoryv1.BatchUpdateCompanyUsersRequest, opts ...grpc.CallOption) (*Submission, error) {
	if req.GetRequestId() == "" {
		req = proto.CloneOf(req)
		req.RequestId = uuid.NewString()
	}
	var header metadata.MD
	op, err := users.BatchUpdateCompanyUsers(ctx, req, append(opts, grpc.Header(&header))...)
	if err != nil {
		return nil, fmt.Errorf("submit batch %s: %w", req.GetRequestId(), err)
	}
	s := &Submission{Request: req, Operation: op}
	if v := header.Get(ProcoreRequestHeader); len(v) > 0 {
		s.Preview = v[0]
	}
	return s, nil
}

// BatchMetadata is the BatchUpdateCompanyUsersMetadata of op, empty (not
// nil) when op carries none yet; an error when op carries metadata of
// another type (it is not a batch operation).
func BatchMetadata(op *longrunningpb.Operation) (*directoryv1.BatchUpdateCompanyUsersMetadata, error) {
	md := &directoryv1.BatchUpdateCompanyUsersMetadata{}
	if a := op.GetMetadata(); a != nil {
		if err := a.UnmarshalTo(md); err != nil {
			return nil, fmt.Errorf("operation %s: metadata: %w", op.GetName(), err)
		}
	}
	return md, nil
}
