package batch

import (
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/apierr"
)

// msgNoneSucceeded is AIP-234's error of a batch in which no item
// succeeded.
const msgNoneSucceeded = "None of the requests succeeded, refer to the BatchUpdateCompanyUsersMetadata.failed_requests field for details"

// opState is a batch operation's record as the runner reads and writes
// it: the metadata, and, while it runs, the working response, whose
// company_users has one entry per item, in request order, the user for an
// item applied and an empty CompanyUser (id 0) for one not (yet). An item
// is settled once it is applied or in failed_requests: a runner never
// sends a settled item again. PublicStore hides the working response of a
// running operation (operations.proto: neither error nor response before
// done).
type opState struct {
	meta  *directoryv1.BatchUpdateCompanyUsersMetadata
	users []*directoryv1.CompanyUser
}

// readState decodes op's record.
func readState(op *longrunningpb.Operation) (*opState, error) {
	st := &opState{meta: &directoryv1.BatchUpdateCompanyUsersMetadata{}}
	if err := op.GetMetadata().UnmarshalTo(st.meta); err != nil {
		return nil, err
	}
	if r := op.GetResponse(); r != nil && !op.GetDone() {
		resp := &directoryv1.BatchUpdateCompanyUsersResponse{}
		if err := r.UnmarshalTo(resp); err != nil {
			return nil, err
		}
		st.users = resp.GetCompanyUsers()
	}
	if n := int(st.meta.GetTotal()); len(st.users) != n {
		users := make([]*directoryv1.CompanyUser, n)
		copy(users, st.users)
		for i := range users {
			if users[i] == nil {
				users[i] = &directoryv1.CompanyUser{}
			}
		}
		st.users = users
	}
	if st.meta.FailedRequests == nil {
		st.meta.FailedRequests = map[int32]*spb.Status{}
	}
	return st, nil
}

// settled reports whether item i has its outcome.
func (s *opState) settled(i int32) bool {
	if int(i) < len(s.users) && s.users[i].GetId() != 0 {
		return true
	}
	_, failed := s.meta.FailedRequests[i]
	return failed
}

// outcome is one item's result: its user (applied) or its error.
type outcome struct {
	index int32
	user  *directoryv1.CompanyUser
	err   error
}

// applied reports whether the outcome is the item applied: no error, and
// the user with its id (an answer without it cannot be trusted).
func (o outcome) applied() bool { return o.err == nil && o.user.GetId() != 0 }

// settle records outcomes of items not settled yet (a settled item keeps
// its first outcome) and recounts.
func (s *opState) settle(outs []outcome) {
	for _, o := range outs {
		if s.settled(o.index) || int(o.index) >= len(s.users) {
			continue
		}
		if o.applied() {
			s.users[o.index] = o.user
			continue
		}
		err := o.err
		if err == nil { // an answer without the user's id cannot be trusted as applied
			err = apierr.New(codes.Internal, apierr.ReasonUpstreamBadResponse, "update company user: Procore answered without the user's id", nil)
		}
		s.meta.FailedRequests[o.index] = status.Convert(err).Proto()
	}
	s.recount()
}

// recount sets the counts from the outcomes.
func (s *opState) recount() {
	var ok int32
	for _, u := range s.users {
		if u.GetId() != 0 {
			ok++
		}
	}
	s.meta.Succeeded = ok
	s.meta.Failed = int32(len(s.meta.FailedRequests))
	s.meta.Pending = s.meta.GetTotal() - ok - s.meta.Failed
}

// failUnsettled gives every item not settled the error err.
func (s *opState) failUnsettled(err error) {
	var outs []outcome
	for i := range s.users {
		if !s.settled(int32(i)) {
			outs = append(outs, outcome{index: int32(i), err: err})
		}
	}
	s.settle(outs)
}

// estimate sets estimated_completion_time: the requests still to send
// (a sync per chunk left, or a PATCH per item after a fallback) at the
// pace the credential's budget has allowed so far (the time per Procore
// request spent), or unset when nothing is known yet.
func (s *opState) estimate(now time.Time, chunkSize int) {
	s.meta.EstimatedCompletionTime = nil
	spent, pending := s.meta.GetProcoreRequests(), int(s.meta.GetPending())
	if pending == 0 || spent == 0 || s.meta.GetCreateTime() == nil {
		return
	}
	left := (pending + chunkSize - 1) / chunkSize
	if s.meta.GetSingleUpdateFallback() {
		left = pending
	}
	per := now.Sub(s.meta.GetCreateTime().AsTime()) / time.Duration(spent)
	s.meta.EstimatedCompletionTime = timestamppb.New(now.Add(per * time.Duration(left)))
}

// write stores the state into op; when nothing is pending, op is done:
// its response holds the users applied, in request order, or, when none
// was, its error is ABORTED (AIP-234). final, when set, is the error of an
// operation ended early (cancelled, the server stopping), whatever
// succeeded.
func (s *opState) write(op *longrunningpb.Operation, now time.Time, final error) error {
	s.meta.UpdateTime = timestamppb.New(now)
	done := s.meta.GetPending() == 0
	if done {
		s.meta.EstimatedCompletionTime = nil
	}
	md, err := anypb.New(s.meta)
	if err != nil {
		return err
	}
	op.Metadata = md
	if !done {
		resp, err := anypb.New(&directoryv1.BatchUpdateCompanyUsersResponse{CompanyUsers: s.users})
		if err != nil {
			return err
		}
		op.Result = &longrunningpb.Operation_Response{Response: resp}
		return nil
	}
	op.Done = true
	switch applied := s.applied(); {
	case final != nil:
		op.Result = &longrunningpb.Operation_Error{Error: status.Convert(final).Proto()}
	case len(applied) == 0:
		op.Result = &longrunningpb.Operation_Error{Error: status.Convert(
			apierr.New(codes.Aborted, apierr.ReasonBatchNoneSucceeded, msgNoneSucceeded, nil)).Proto()}
	default:
		resp, err := anypb.New(&directoryv1.BatchUpdateCompanyUsersResponse{CompanyUsers: applied})
		if err != nil {
			return err
		}
		op.Result = &longrunningpb.Operation_Response{Response: resp}
	}
	return nil
}

// applied are the users of the items applied, in request order.
func (s *opState) applied() []*directoryv1.CompanyUser {
	var out []*directoryv1.CompanyUser
	for _, u := range s.users {
		if u.GetId() != 0 {
			out = append(out, u)
		}
	}
	return out
}
