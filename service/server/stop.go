package server

import (
	"context"
	"strings"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/apierr"
)

// stopGate is what lets a stopping server tell every caller the truth. It
// refuses DirectoryService calls from the moment Shutdown starts, on any
// connection (a call on a connection opened before the stop would
// otherwise still be admitted), and at the shutdown deadline it cancels
// the calls still in flight with apierr.ErrStopping as the cause, so each
// answers UNAVAILABLE (UPSTREAM_OUTCOME_UNKNOWN when its PATCH was sent)
// through its transport while the transport is still open, instead of
// being cut off with a bare EOF.
type stopGate struct {
	closed atomic.Bool
	abort  context.Context
	cancel context.CancelCauseFunc
}

func newStopGate() *stopGate {
	ctx, cancel := context.WithCancelCause(context.Background())
	return &stopGate{abort: ctx, cancel: cancel}
}

// close refuses calls from now on.
func (g *stopGate) close() { g.closed.Store(true) }

// abortInFlight cancels every call in flight with apierr.ErrStopping.
func (g *stopGate) abortInFlight() { g.cancel(apierr.ErrStopping) }

var directoryPrefix = "/" + directoryv1.DirectoryService_ServiceDesc.ServiceName + "/"

// interceptor is the gate in the interceptor chain. Health and reflection
// are not gated: health answers NOT_SERVING while the server drains.
func (g *stopGate) interceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if !strings.HasPrefix(info.FullMethod, directoryPrefix) {
		return handler(ctx, req)
	}
	if g.closed.Load() {
		return nil, apierr.New(codes.Unavailable, apierr.ReasonShuttingDown,
			"the server is stopping and admits no new calls; nothing was sent to Procore: retry", nil)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(g.abort, func() { cancel(context.Cause(g.abort)) })
	defer stop()
	return handler(ctx, req)
}
