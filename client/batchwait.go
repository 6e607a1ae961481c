package client

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// DefaultProgressInterval is how often WaitBatch reports progress at most:
// each WaitOperation asks the server to answer after this long even when the
// operation is not done yet, so that a progress bar moves.
const DefaultProgressInterval = time.Second

// maxTransientFailures is how many UNAVAILABLE answers in a row WaitBatch
// rides out (a replica restarting, a connection reset) before it gives up:
// the operation lives on the server, so a brief outage must not end the
// wait.
const maxTransientFailures = 5

// WaitOption configures WaitBatch.
type WaitOption func(*waitConfig)

type waitConfig struct {
	progress func(*directoryv1.BatchUpdateCompanyUsersMetadata)
	interval time.Duration
}

// WithProgress calls f with the operation's metadata each time it changes
// (and once at the start), from the goroutine that called WaitBatch: the
// counts to drive a progress bar (succeeded + failed of total).
func WithProgress(f func(*directoryv1.BatchUpdateCompanyUsersMetadata)) WaitOption {
	return func(c *waitConfig) { c.progress = f }
}

// WithProgressInterval sets DefaultProgressInterval. Values <= 0 keep the
// default.
func WithProgressInterval(d time.Duration) WaitOption {
	return func(c *waitConfig) {
		if d > 0 {
			c.interval = d
		}
	}
}

// WaitBatch follows op until it is done and returns it done. It calls
// google.longrunning.Operations' WaitOperation, which the server answers
// as soon as the operation is done (woken by the update, not by polling),
// or after the progress interval with the latest state; against a server
// without WaitOperation it polls GetOperation at that interval.
//
// When ctx ends first, WaitBatch returns the latest state it read and
// ctx's error: the operation itself goes on (cancelling it is
// CancelOperation's job), and a later WaitBatch, or SubmitBatch with the
// same request_id, picks it up again. Other errors (the operation was
// deleted or expired: NOT_FOUND; repeated UNAVAILABLE) are returned with
// the latest state too.
func WaitBatch(ctx context.Context, ops longrunningpb.OperationsClient, op *longrunningpb.Operation, opts ...WaitOption) (*longrunningpb.Operation, error) {
	cfg := waitConfig{interval: DefaultProgressInterval}
	for _, o := range opts {
		o(&cfg)
	}
	w := &waiter{cfg: cfg, ops: ops}
	if err := w.report(op); err != nil {
		return op, err
	}
	transient := 0
	for !op.GetDone() {
		next, err := w.next(ctx, op.GetName())
		switch {
		case err == nil:
			transient = 0
			op = next
			if err := w.report(op); err != nil {
				return op, err
			}
		case ctx.Err() != nil:
			return op, fmt.Errorf("wait for %s: %w", op.GetName(), ctx.Err())
		case status.Code(err) == codes.Unavailable && transient < maxTransientFailures:
			transient++
			if err := w.pause(ctx); err != nil {
				return op, fmt.Errorf("wait for %s: %w", op.GetName(), err)
			}
		default:
			return op, fmt.Errorf("wait for %s: %w", op.GetName(), err)
		}
	}
	return op, nil
}

// waiter is one WaitBatch's state.
type waiter struct {
	cfg     waitConfig
	ops     longrunningpb.OperationsClient
	polling bool // the server has no WaitOperation: GetOperation at the interval
	last    *directoryv1.BatchUpdateCompanyUsersMetadata
}

// next asks for the operation's next state.
func (w *waiter) next(ctx context.Context, name string) (*longrunningpb.Operation, error) {
	if !w.polling {
		op, err := w.ops.WaitOperation(ctx, &longrunningpb.WaitOperationRequest{Name: name, Timeout: durationpb.New(w.cfg.interval)})
		if status.Code(err) != codes.Unimplemented {
			return op, err
		}
		w.polling = true
	}
	if err := w.pause(ctx); err != nil {
		return nil, err
	}
	return w.ops.GetOperation(ctx, &longrunningpb.GetOperationRequest{Name: name})
}

// pause waits one interval, or until ctx ends (since Go 1.23 an unfired
// time.After timer is collected without Stop).
func (w *waiter) pause(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(w.cfg.interval):
		return nil
	}
}

// report calls the progress callback when op's metadata changed.
func (w *waiter) report(op *longrunningpb.Operation) error {
	md, err := BatchMetadata(op)
	if err != nil {
		return err
	}
	if w.cfg.progress == nil || (w.last != nil && proto.Equal(w.last, md)) {
		return nil
	}
	w.last = md
	w.cfg.progress(md)
	return nil
}
