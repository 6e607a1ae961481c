package batch

import (
	"context"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/procore-directory/procore-directory/service/operations"
)

// PublicStore wraps the Store the runner writes for the Operations server:
// it hides the working response of a running batch (opState), so that a
// caller sees neither error nor response before the operation is done, as
// operations.proto says.
func PublicStore(s operations.Store) operations.Store { return publicStore{s} }

type publicStore struct{ operations.Store }

// public strips the working result of a running operation.
func public(op *longrunningpb.Operation) *longrunningpb.Operation {
	if op != nil && !op.GetDone() {
		op.Result = nil
	}
	return op
}

func (p publicStore) Create(ctx context.Context, n operations.CreateRequest) (*longrunningpb.Operation, bool, error) {
	op, created, err := p.Store.Create(ctx, n)
	return public(op), created, err
}

func (p publicStore) Get(ctx context.Context, scope, name string) (*longrunningpb.Operation, error) {
	op, err := p.Store.Get(ctx, scope, name)
	return public(op), err
}

func (p publicStore) List(ctx context.Context, scope string, pageSize int, pageToken string) ([]*longrunningpb.Operation, string, error) {
	ops, next, err := p.Store.List(ctx, scope, pageSize, pageToken)
	for _, op := range ops {
		public(op)
	}
	return ops, next, err
}

func (p publicStore) Wait(ctx context.Context, scope, name string) (*longrunningpb.Operation, error) {
	op, err := p.Store.Wait(ctx, scope, name)
	return public(op), err
}

func (p publicStore) Cancel(ctx context.Context, scope, name string, mark func(*longrunningpb.Operation) error) (*longrunningpb.Operation, error) {
	op, err := p.Store.Cancel(ctx, scope, name, mark)
	return public(op), err
}

// CancelMark is the operations.WithCancelMark of batch operations: it sets
// the metadata's cancel_requested in the same step as the cancel request,
// so that GetOperation shows it at once.
func CancelMark(op *longrunningpb.Operation) error {
	st, err := readState(op)
	if err != nil {
		return err
	}
	st.meta.CancelRequested = true
	md, err := anypb.New(st.meta)
	if err != nil {
		return err
	}
	op.Metadata = md
	return nil
}
