package client_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/procore-directory/procore-directory/client"
	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// batchOf is a request of the given user ids.
func batchOf(ids ...int64) *directoryv1.BatchUpdateCompanyUsersRequest {
	items := make([]*directoryv1.UpdateCompanyUserRequest, len(ids))
	for i, id := range ids {
		items[i] = &directoryv1.UpdateCompanyUserRequest{Id: id, User: &directoryv1.CompanyUser{JobTitle: new("Lead")}}
	}
	return client.NewBatch(8089, items)
}

func anyOf(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// fakeOp is an operation as the server would return it.
type fakeOp struct {
	done      bool
	md        *directoryv1.BatchUpdateCompanyUsersMetadata
	users     []int64 // the response's users, by id (nil: no response)
	err       *spb.Status
	otherMeta bool // metadata of another type
}

func (f fakeOp) build(t *testing.T) *longrunningpb.Operation {
	t.Helper()
	op := &longrunningpb.Operation{Name: "operations/" + uuid.NewString(), Done: f.done}
	if f.md != nil {
		op.Metadata = anyOf(t, f.md)
	}
	if f.otherMeta {
		op.Metadata = anyOf(t, &directoryv1.CompanyUser{})
	}
	switch {
	case f.err != nil:
		op.Result = &longrunningpb.Operation_Error{Error: f.err}
	case f.users != nil:
		resp := &directoryv1.BatchUpdateCompanyUsersResponse{}
		for _, id := range f.users {
			resp.CompanyUsers = append(resp.CompanyUsers, &directoryv1.CompanyUser{Id: id, JobTitle: new("Lead")})
		}
		op.Result = &longrunningpb.Operation_Response{Response: anyOf(t, resp)}
	}
	return op
}

func statusOf(t *testing.T, c codes.Code, reason string) *spb.Status {
	t.Helper()
	st, err := status.New(c, "item failed").WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: "procore-directory"})
	if err != nil {
		t.Fatal(err)
	}
	return st.Proto()
}

func counts(total, ok, failed int32, failures map[int32]*spb.Status) *directoryv1.BatchUpdateCompanyUsersMetadata {
	return &directoryv1.BatchUpdateCompanyUsersMetadata{Total: total, Succeeded: ok, Failed: failed, Pending: total - ok - failed, FailedRequests: failures}
}

// TestBatchResults: every item gets exactly the outcome the operation
// states for it, whichever way the operation ended, and an operation that
// cannot be paired with the request is refused rather than guessed at.
func TestBatchResults(t *testing.T) {
	notFound := statusOf(t, codes.NotFound, "USER_NOT_FOUND")
	invalid := statusOf(t, codes.InvalidArgument, "UPSTREAM_INVALID")
	aborted := status.New(codes.Aborted, "None of the requests succeeded").Proto()
	cancelled := status.New(codes.Canceled, "cancelled").Proto()
	restarted := status.New(codes.Unavailable, "the replica restarted").Proto()
	tests := []struct {
		name       string
		req        *directoryv1.BatchUpdateCompanyUsersRequest
		op         fakeOp
		wantCodes  []codes.Code
		wantUsers  []int64 // 0: nil user
		wantReason map[int]string
	}{
		{"all applied", batchOf(1, 2, 3), fakeOp{done: true, md: counts(3, 3, 0, nil), users: []int64{1, 2, 3}},
			[]codes.Code{codes.OK, codes.OK, codes.OK}, []int64{1, 2, 3}, nil},
		{"partial: failures by index, users in request order without them", batchOf(1, 2, 3),
			fakeOp{done: true, md: counts(3, 2, 1, map[int32]*spb.Status{1: notFound}), users: []int64{1, 3}},
			[]codes.Code{codes.OK, codes.NotFound, codes.OK}, []int64{1, 0, 3}, map[int]string{1: "USER_NOT_FOUND"}},
		{"partial: users matched by id, not position", batchOf(1, 2, 3),
			fakeOp{done: true, md: counts(3, 2, 1, map[int32]*spb.Status{0: invalid}), users: []int64{3, 2}},
			[]codes.Code{codes.InvalidArgument, codes.OK, codes.OK}, []int64{0, 2, 3}, map[int]string{0: "UPSTREAM_INVALID"}},
		{"none succeeded: ABORTED, each item its own failure", batchOf(1, 2),
			fakeOp{done: true, md: counts(2, 0, 2, map[int32]*spb.Status{0: notFound, 1: invalid}), err: aborted},
			[]codes.Code{codes.NotFound, codes.InvalidArgument}, []int64{0, 0}, map[int]string{0: "USER_NOT_FOUND", 1: "UPSTREAM_INVALID"}},
		{"cancelled before anything applied: the rest not sent", batchOf(1, 2, 3),
			fakeOp{done: true, md: counts(3, 0, 1, map[int32]*spb.Status{0: notFound}), err: cancelled},
			[]codes.Code{codes.NotFound, codes.Canceled, codes.Canceled}, []int64{0, 0, 0}, nil},
		{"cancelled after items applied: the unnamed ones UNKNOWN, never CANCELLED", batchOf(1, 2, 3),
			fakeOp{done: true, md: counts(3, 1, 1, map[int32]*spb.Status{2: notFound}), err: cancelled},
			[]codes.Code{codes.Unknown, codes.Unknown, codes.NotFound}, []int64{0, 0, 0}, nil},
		{"cancelled, every unapplied item named (as directoryd does): the unnamed ones are the applied ones", batchOf(1, 2, 3),
			fakeOp{done: true, md: counts(3, 1, 2, map[int32]*spb.Status{1: cancelled, 2: notFound}), err: cancelled},
			[]codes.Code{codes.OK, codes.Canceled, codes.NotFound}, []int64{0, 0, 0}, nil},
		{"failed operation, nothing applied: its error for the rest", batchOf(1, 2),
			fakeOp{done: true, md: counts(2, 0, 0, nil), err: restarted},
			[]codes.Code{codes.Unavailable, codes.Unavailable}, []int64{0, 0}, nil},
		{"an item the response forgot: UNKNOWN", batchOf(1, 2),
			fakeOp{done: true, md: counts(2, 1, 0, nil), users: []int64{2}},
			[]codes.Code{codes.Unknown, codes.OK}, []int64{0, 2}, nil},
		{"validate_only: every item OK, no user", func() *directoryv1.BatchUpdateCompanyUsersRequest {
			r := batchOf(1, 2)
			r.ValidateOnly = true
			return r
		}(), fakeOp{done: true, md: counts(2, 0, 0, nil), users: []int64{}},
			[]codes.Code{codes.OK, codes.OK}, []int64{0, 0}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := client.BatchResults(tt.req, tt.op.build(t))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.req.GetRequests()) {
				t.Fatalf("%d results for %d items", len(got), len(tt.req.GetRequests()))
			}
			for i, r := range got {
				if r.Index != i || r.ID != tt.req.GetRequests()[i].GetId() {
					t.Errorf("result %d: index %d id %d", i, r.Index, r.ID)
				}
				if r.Status.Code() != tt.wantCodes[i] {
					t.Errorf("item %d: %v, want %v", i, r.Status.Code(), tt.wantCodes[i])
				}
				if r.User.GetId() != tt.wantUsers[i] {
					t.Errorf("item %d: user %d, want %d", i, r.User.GetId(), tt.wantUsers[i])
				}
				if want, ok := tt.wantReason[i]; ok {
					if info, _ := client.Details(r.Status.Err()); info.GetReason() != want {
						t.Errorf("item %d: reason %q, want %q", i, info.GetReason(), want)
					}
				}
			}
		})
	}
}

// TestBatchResultsRefusesWhatItCannotPair: an operation still running, or
// one that does not fit the request, is an error, never a guess.
func TestBatchResultsRefusesWhatItCannotPair(t *testing.T) {
	notFound := statusOf(t, codes.NotFound, "USER_NOT_FOUND")
	tests := []struct {
		name         string
		op           fakeOp
		inconsistent bool
	}{
		{"not done", fakeOp{md: counts(2, 0, 0, nil)}, false},
		{"a failure at an index the request lacks", fakeOp{done: true, md: counts(2, 1, 1, map[int32]*spb.Status{2: notFound}), users: []int64{1}}, true},
		{"a user no item names", fakeOp{done: true, md: counts(2, 2, 0, nil), users: []int64{1, 9}}, true},
		{"a user whose item failed", fakeOp{done: true, md: counts(2, 1, 1, map[int32]*spb.Status{0: notFound}), users: []int64{1, 2}}, true},
		{"a user twice", fakeOp{done: true, md: counts(2, 2, 0, nil), users: []int64{1, 1}}, true},
		{"another request's total", fakeOp{done: true, md: counts(3, 2, 0, nil), users: []int64{1, 2}}, true},
		{"metadata of another type", fakeOp{done: true, otherMeta: true, users: []int64{1, 2}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := client.BatchResults(batchOf(1, 2), tt.op.build(t))
			if err == nil {
				t.Fatalf("no error; results %v", got)
			}
			if errors.Is(err, client.ErrInconsistentOperation) != tt.inconsistent {
				t.Errorf("error %v: ErrInconsistentOperation %v, want %v", err, !tt.inconsistent, tt.inconsistent)
			}
		})
	}
}

// reply is one scripted answer of fakeOps.
type reply struct {
	op  *longrunningpb.Operation
	err error
}

// fakeOps answers WaitOperation and GetOperation from scripts; once a
// script is used up it blocks until the call's context ends.
type fakeOps struct {
	longrunningpb.OperationsClient // other methods: not called
	waits, gets                    []reply
	timeouts                       []time.Duration
	getCalls                       int
}

func (f *fakeOps) pop(ctx context.Context, script *[]reply) (*longrunningpb.Operation, error) {
	if len(*script) == 0 {
		<-ctx.Done()
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	r := (*script)[0]
	*script = (*script)[1:]
	return r.op, r.err
}

func (f *fakeOps) WaitOperation(ctx context.Context, req *longrunningpb.WaitOperationRequest, _ ...grpc.CallOption) (*longrunningpb.Operation, error) {
	f.timeouts = append(f.timeouts, req.GetTimeout().AsDuration())
	return f.pop(ctx, &f.waits)
}

func (f *fakeOps) GetOperation(ctx context.Context, _ *longrunningpb.GetOperationRequest, _ ...grpc.CallOption) (*longrunningpb.Operation, error) {
	f.getCalls++
	return f.pop(ctx, &f.gets)
}

// TestWaitBatch: WaitBatch follows the operation to its end through
// WaitOperation (or GetOperation where the server lacks it), reports each
// change of progress once, rides out brief outages, and stops when its
// context ends, returning the latest state.
func TestWaitBatch(t *testing.T) {
	running := func(done int32) fakeOp { return fakeOp{md: counts(4, done, 0, nil)} }
	finished := fakeOp{done: true, md: counts(4, 3, 1, map[int32]*spb.Status{3: statusOf(t, codes.NotFound, "X")}), users: []int64{1, 2, 3}}
	unavailable := reply{err: status.Error(codes.Unavailable, "replica restarting")}
	r := func(f fakeOp) reply { return reply{op: f.build(t)} }
	tests := []struct {
		name         string
		start        fakeOp
		waits, gets  []reply
		cancelCtx    bool
		wantCode     codes.Code // of the error
		wantCtxErr   bool
		wantProgress []int32 // succeeded+failed at each report
		wantDone     bool
		wantGets     int
	}{
		{"already done: no call", finished, nil, nil, false, codes.OK, false, []int32{4}, true, 0},
		{"each change reported once", running(0), []reply{r(running(0)), r(running(2)), r(running(2)), r(finished)}, nil, false, codes.OK, false, []int32{0, 2, 4}, true, 0},
		{"UNAVAILABLE ridden out", running(1), []reply{unavailable, unavailable, r(finished)}, nil, false, codes.OK, false, []int32{1, 4}, true, 0},
		{"UNAVAILABLE too often: given up", running(1), []reply{unavailable, unavailable, unavailable, unavailable, unavailable, unavailable}, nil, false, codes.Unavailable, false, []int32{1}, false, 0},
		{"NOT_FOUND (deleted, expired): ends the wait", running(1), []reply{{err: status.Error(codes.NotFound, "gone")}}, nil, false, codes.NotFound, false, []int32{1}, false, 0},
		{"no WaitOperation: polls GetOperation", running(0), []reply{{err: status.Error(codes.Unimplemented, "no")}}, []reply{r(running(1)), r(finished)}, false, codes.OK, false, []int32{0, 1, 4}, true, 2},
		{"context ends: the latest state and its error", running(2), []reply{r(running(3))}, nil, true, codes.OK, true, []int32{2, 3}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops := &fakeOps{waits: tt.waits, gets: tt.gets}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var progress []int32
			op, err := client.WaitBatch(ctx, ops, tt.start.build(t),
				client.WithProgressInterval(time.Millisecond),
				client.WithProgress(func(md *directoryv1.BatchUpdateCompanyUsersMetadata) {
					progress = append(progress, md.GetSucceeded()+md.GetFailed())
					if tt.cancelCtx && len(progress) == 2 {
						cancel() // the caller interrupts once progress moved
					}
				}))
			switch {
			case tt.wantCtxErr:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("error %v, want context.Canceled", err)
				}
			case status.Code(err) != tt.wantCode:
				t.Fatalf("error %v, want %v", err, tt.wantCode)
			}
			if op.GetDone() != tt.wantDone {
				t.Errorf("done %v, want %v", op.GetDone(), tt.wantDone)
			}
			if md, _ := client.BatchMetadata(op); md.GetSucceeded()+md.GetFailed() != tt.wantProgress[len(tt.wantProgress)-1] {
				t.Errorf("returned state %v, not the latest read", md)
			}
			if !slices.Equal(progress, tt.wantProgress) {
				t.Errorf("progress %v, want %v", progress, tt.wantProgress)
			}
			for _, d := range ops.timeouts {
				if d != time.Millisecond {
					t.Errorf("WaitOperation timeout %v, want the progress interval", d)
				}
			}
			if ops.getCalls != tt.wantGets {
				t.Errorf("%d GetOperation calls, want %d", ops.getCalls, tt.wantGets)
			}
		})
	}
}

// fakeUsers records the batch it is sent and answers a validate_only
// preview header.
type fakeUsers struct {
	directoryv1.DirectoryServiceClient // other methods: not called
	got                                *directoryv1.BatchUpdateCompanyUsersRequest
}

func (f *fakeUsers) BatchUpdateCompanyUsers(_ context.Context, req *directoryv1.BatchUpdateCompanyUsersRequest, opts ...grpc.CallOption) (*longrunningpb.Operation, error) {
	f.got = req
	for _, o := range opts {
		if h, ok := o.(grpc.HeaderCallOption); ok && req.GetValidateOnly() {
			*h.HeaderAddr = metadata.Pairs(client.ProcoreRequestHeader, `[{"method":"PATCH"}]`)
		}
	}
	return &longrunningpb.Operation{Name: "operations/x", Done: req.GetValidateOnly()}, nil
}

// TestSubmitBatch: every submitted batch carries a request_id (NewBatch's,
// the caller's, or a fresh one on a copy), and a validate_only batch
// returns the preview.
func TestSubmitBatch(t *testing.T) {
	a, b := batchOf(1), batchOf(1)
	if _, err := uuid.Parse(a.GetRequestId()); err != nil || a.GetRequestId() == b.GetRequestId() {
		t.Fatalf("NewBatch request ids %q, %q: want fresh UUIDs", a.GetRequestId(), b.GetRequestId())
	}
	noID := proto.CloneOf(a)
	noID.RequestId = ""
	preview := proto.CloneOf(a)
	preview.ValidateOnly = true
	tests := []struct {
		name        string
		req         *directoryv1.BatchUpdateCompanyUsersRequest
		wantID      string // "": a fresh UUID
		wantPreview string
	}{
		{"the request's own id", a, a.GetRequestId(), ""},
		{"no id: a fresh one, on a copy", noID, "", ""},
		{"validate_only: the preview", preview, a.GetRequestId(), `[{"method":"PATCH"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users := &fakeUsers{}
			before := proto.CloneOf(tt.req)
			s, err := client.SubmitBatch(context.Background(), users, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			id := users.got.GetRequestId()
			if _, err := uuid.Parse(id); err != nil || (tt.wantID != "" && id != tt.wantID) {
				t.Errorf("sent request_id %q, want %q", id, tt.wantID)
			}
			if s.Request.GetRequestId() != id || s.Operation.GetName() != "operations/x" || s.Preview != tt.wantPreview {
				t.Errorf("submission %+v", s)
			}
			if !proto.Equal(before, tt.req) {
				t.Error("the caller's request was changed")
			}
		})
	}
}
