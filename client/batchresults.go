package client

import (
	"errors"
	"fmt"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// ItemResult is the outcome of one item of a batch.
type ItemResult struct {
	// Index is the item's index in the request's `requests`.
	Index int
	// ID is the item's user id, from the request.
	ID int64
	// Status is OK when Procore applied the item; otherwise the error the
	// single UpdateCompanyUser would have returned for it (its details,
	// such as ErrorInfo and BadRequest, included: see Details), or, for an
	// item the operation never sent, why not.
	Status *status.Status
	// User is the user as Procore answered after applying the item; nil
	// unless Status is OK (and nil for a validate_only batch, which applies
	// nothing).
	User *directoryv1.CompanyUser
}

// ErrInconsistentOperation is BatchResults' error for an operation whose
// outcome cannot be paired with the request's items without guessing: a
// failure at an index the request does not have, a user in the response
// that no item (or a failed item) names, or counts of another request.
// The request given is probably not the one that made the operation.
var ErrInconsistentOperation = errors.New("the operation does not match the request")

// BatchResults pairs every item of req with its outcome in op, which must
// be done: one ItemResult per index of req.Requests, in order.
//
// The operation says it in two places (AIP-234 partial success through
// AIP-151): the response lists the users that were updated, and
// metadata.failed_requests holds each failed item's status by index. The
// response lists the users in request order but leaves the failed ones
// out, so positions do not line up with indexes; BatchResults matches them
// by user id instead, which the server guarantees is unique in a batch.
//
// An item neither failed nor in the response has no outcome in the
// operation. An operation that ended with an error has no response
// (AIP-151: one or the other), so its applied items are counted
// (metadata.succeeded) but not named: while that count is 0 the other items
// were not applied, and their status is CANCELLED ("not sent") for a
// cancelled operation, else the operation's error (a replica restarting
// without Redis fails its unfinished operations). When it is not 0 and the
// unnamed items are exactly that many (directoryd lists every item it did
// not apply in failed_requests), they are the applied ones: OK with a nil
// User. Otherwise they may have been applied, and their status is UNKNOWN
// (read the user back).
// When no item succeeded the operation's error is ABORTED and every item is
// in failed_requests with its own failure. An item missing from an
// operation that ended with a response is UNKNOWN too: BatchResults never
// reports an outcome the operation did not state.
//
// A validate_only batch applies nothing and returns an empty response: when
// req.ValidateOnly is set every item is OK (it passed validation) with a nil
// User.
func BatchResults(req *directoryv1.BatchUpdateCompanyUsersRequest, op *longrunningpb.Operation) ([]ItemResult, error) {
	if !op.GetDone() {
		return nil, fmt.Errorf("operation %s: %w", op.GetName(), errNotDone)
	}
	md, err := BatchMetadata(op)
	if err != nil {
		return nil, err
	}
	items := req.GetRequests()
	if md.GetTotal() != 0 && int(md.GetTotal()) != len(items) {
		return nil, fmt.Errorf("operation %s has %d items, the request %d: %w", op.GetName(), md.GetTotal(), len(items), ErrInconsistentOperation)
	}
	byID := make(map[int64]int, len(items))
	for i, it := range items {
		if _, dup := byID[it.GetId()]; dup {
			return nil, fmt.Errorf("user %d named twice in the request: %w", it.GetId(), ErrInconsistentOperation)
		}
		byID[it.GetId()] = i
	}
	out := make([]ItemResult, len(items))
	for i, it := range items {
		out[i] = ItemResult{Index: i, ID: it.GetId()}
	}
	for idx, st := range md.GetFailedRequests() {
		if idx < 0 || int(idx) >= len(items) {
			return nil, fmt.Errorf("failed item %d of %d: %w", idx, len(items), ErrInconsistentOperation)
		}
		out[idx].Status = status.FromProto(st)
	}
	if err := pairUsers(op, byID, out); err != nil {
		return nil, err
	}
	unnamed := 0
	for i := range out {
		if out[i].Status == nil {
			unnamed++
		}
	}
	unsent := unsentStatus(req, op, md, unnamed)
	for i := range out {
		if out[i].Status == nil {
			out[i].Status = unsent
		}
	}
	return out, nil
}

// pairUsers sets the OK results from op's response.
func pairUsers(op *longrunningpb.Operation, byID map[int64]int, out []ItemResult) error {
	if op.GetResponse() == nil {
		return nil
	}
	resp := &directoryv1.BatchUpdateCompanyUsersResponse{}
	if err := op.GetResponse().UnmarshalTo(resp); err != nil {
		return fmt.Errorf("operation %s: response: %w", op.GetName(), err)
	}
	ok := status.New(codes.OK, "")
	for _, u := range resp.GetCompanyUsers() {
		i, found := byID[u.GetId()]
		switch {
		case !found:
			return fmt.Errorf("user %d in the response is in no item: %w", u.GetId(), ErrInconsistentOperation)
		case out[i].Status != nil:
			return fmt.Errorf("item %d (user %d) is in the response and failed, or twice in the response: %w", i, u.GetId(), ErrInconsistentOperation)
		}
		out[i].Status, out[i].User = ok, u
	}
	return nil
}

// unsentStatus is the status of the items op states no outcome for (see
// BatchResults).
func unsentStatus(req *directoryv1.BatchUpdateCompanyUsersRequest, op *longrunningpb.Operation, md *directoryv1.BatchUpdateCompanyUsersMetadata, unnamed int) *status.Status {
	switch e := op.GetError(); {
	case req.GetValidateOnly() && e == nil:
		return status.New(codes.OK, "")
	case e == nil:
		return status.New(codes.Unknown, "the operation reported no outcome for this item")
	case md.GetSucceeded() > 0 && md.GetPending() == 0 && unnamed == int(md.GetSucceeded()):
		// An operation ended early puts every item it did not apply in
		// failed_requests (CANCELLED or SHUTTING_DOWN when never sent), so
		// when the unnamed items are exactly as many as it applied, they
		// are the applied ones.
		return status.New(codes.OK, "applied before the operation ended; the operation does not return the user")
	case md.GetSucceeded() > 0:
		return status.Newf(codes.Unknown, "outcome not reported: the operation ended (%s) after applying %d items without naming them; read the user back",
			codes.Code(e.GetCode()), md.GetSucceeded())
	case codes.Code(e.GetCode()) == codes.Canceled:
		return status.New(codes.Canceled, "not sent: the operation was cancelled before this item")
	default:
		return status.FromProto(e)
	}
}

// errNotDone is BatchResults' error for an operation still running.
var errNotDone = errors.New("the operation is not done: wait for it first (WaitBatch)")
