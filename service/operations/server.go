package operations

import (
	"context"
	"errors"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Page sizes of ListOperations (AIP-158).
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// DefaultMaxWait bounds WaitOperation when its request gives no timeout
// (or a longer one), so that a call never holds a stream forever; the
// caller's own deadline, when shorter, ends it first.
const DefaultMaxWait = 5 * time.Minute

// Server implements google.longrunning.Operations over a Store. Each call
// sees only the operations of its caller's scope.
type Server struct {
	longrunningpb.UnimplementedOperationsServer

	store   Store
	scope   func(context.Context) string
	maxWait time.Duration
	mark    func(*longrunningpb.Operation) error
}

var _ longrunningpb.OperationsServer = (*Server)(nil)

// ServerOption configures a Server.
type ServerOption func(*Server)

// WithScope names the caller of a call: the same function that scopes the
// request_id records of single updates (the verified caller, and the
// pass-through token's hash), so that a caller sees exactly the operations
// it started. Required: without it every caller would see every operation.
func WithScope(f func(context.Context) string) ServerOption {
	return func(s *Server) { s.scope = f }
}

// WithMaxWait sets DefaultMaxWait. Values <= 0 keep the default.
func WithMaxWait(d time.Duration) ServerOption {
	return func(s *Server) {
		if d > 0 {
			s.maxWait = d
		}
	}
}

// WithCancelMark sets what CancelOperation writes into the operation in
// the same atomic step as the cancel request (for a batch, its metadata's
// cancel_requested), so that Get shows the request at once.
func WithCancelMark(f func(*longrunningpb.Operation) error) ServerOption {
	return func(s *Server) { s.mark = f }
}

// NewServer returns the Operations service over store.
func NewServer(store Store, opts ...ServerOption) (*Server, error) {
	s := &Server{store: store, maxWait: DefaultMaxWait}
	for _, o := range opts {
		o(s)
	}
	if store == nil {
		return nil, errors.New("operations: NewServer needs a Store")
	}
	if s.scope == nil {
		return nil, errors.New("operations: NewServer needs WithScope: without it every caller would see every operation")
	}
	return s, nil
}

// checkName is INVALID_ARGUMENT unless name is `operations/{uuid}`.
func checkName(name string) error {
	if _, ok := operationID(name); !ok {
		return invalid("name", "must be operations/{id}, the name of an operation this service returned")
	}
	return nil
}

// GetOperation returns the operation's latest state.
func (s *Server) GetOperation(ctx context.Context, req *longrunningpb.GetOperationRequest) (*longrunningpb.Operation, error) {
	if err := checkName(req.GetName()); err != nil {
		return nil, err
	}
	op, err := s.store.Get(ctx, s.scope(ctx), req.GetName())
	return op, toStatus(err)
}

// ListOperations lists the caller's operations, newest first. `name` is
// the collection, `operations` (or empty); filters are not supported.
func (s *Server) ListOperations(ctx context.Context, req *longrunningpb.ListOperationsRequest) (*longrunningpb.ListOperationsResponse, error) {
	if n := req.GetName(); n != "" && n != "operations" {
		return nil, invalid("name", "must be operations (or empty): the collection of the caller's operations")
	}
	if req.GetFilter() != "" {
		return nil, invalid("filter", "filters are not supported: list without one")
	}
	size := int(req.GetPageSize())
	switch {
	case size < 0:
		return nil, invalid("page_size", "must not be negative")
	case size == 0:
		size = DefaultPageSize
	case size > MaxPageSize:
		size = MaxPageSize
	}
	ops, next, err := s.store.List(ctx, s.scope(ctx), size, req.GetPageToken())
	if err != nil {
		return nil, toStatus(err)
	}
	return &longrunningpb.ListOperationsResponse{Operations: ops, NextPageToken: next}, nil
}

// WaitOperation returns the operation once done, or its latest state when
// the request's timeout (at most the server's maximum wait) passes first,
// as AIP-151 says. The caller's own deadline, when shorter, ends the wait
// with DEADLINE_EXCEEDED.
func (s *Server) WaitOperation(ctx context.Context, req *longrunningpb.WaitOperationRequest) (*longrunningpb.Operation, error) {
	if err := checkName(req.GetName()); err != nil {
		return nil, err
	}
	wait := s.maxWait
	if t := req.GetTimeout(); t != nil {
		if err := t.CheckValid(); err != nil || t.AsDuration() < 0 {
			return nil, invalid("timeout", "must be a non-negative duration")
		}
		wait = min(wait, t.AsDuration())
	}
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	op, err := s.store.Wait(waitCtx, s.scope(ctx), req.GetName())
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil && op != nil {
		return op, nil // the wait's own timeout: the latest state
	}
	return op, toStatus(err)
}

// CancelOperation asks the operation to stop: the work stops before its
// next step and the operation ends with the error CANCELLED, its metadata
// telling what was done. Cancelling a done operation changes nothing and
// succeeds (operations.proto: the operation may complete despite the
// request; GetOperation tells which happened).
func (s *Server) CancelOperation(ctx context.Context, req *longrunningpb.CancelOperationRequest) (*emptypb.Empty, error) {
	if err := checkName(req.GetName()); err != nil {
		return nil, err
	}
	if _, err := s.store.Cancel(ctx, s.scope(ctx), req.GetName(), s.mark); err != nil {
		return nil, toStatus(err)
	}
	return &emptypb.Empty{}, nil
}

// DeleteOperation removes a done operation, which then reads as NOT_FOUND
// and frees its request_id. An operation that still runs is
// FAILED_PRECONDITION (OPERATION_NOT_DONE): its record is what the work
// reports into, so this service departs from operations.proto's "does not
// cancel the operation" by refusing rather than forgetting it.
func (s *Server) DeleteOperation(ctx context.Context, req *longrunningpb.DeleteOperationRequest) (*emptypb.Empty, error) {
	if err := checkName(req.GetName()); err != nil {
		return nil, err
	}
	if err := s.store.Delete(ctx, s.scope(ctx), req.GetName()); err != nil {
		return nil, toStatus(err)
	}
	return &emptypb.Empty{}, nil
}
