package audit

import "context"

// callKey is the context key of what a call carries for its events.
type callKey struct{}

// call is what the layers around the core know of a call that its events
// name: the access log's request id, and for the batch runner, which runs
// without the caller's context, the caller and the operation.
type call struct {
	callID    string
	caller    string
	operation string
}

func callFrom(ctx context.Context) call {
	c, _ := ctx.Value(callKey{}).(call)
	return c
}

// WithCallID returns ctx carrying the access log's request id, which every
// event of the call names as call_id, so that the trail and the access log
// join.
func WithCallID(ctx context.Context, id string) context.Context {
	c := callFrom(ctx)
	c.callID = id
	return context.WithValue(ctx, callKey{}, c)
}

// WithBatch returns ctx carrying the caller who submitted a batch and its
// operation's name: the runner sends the batch's items long after the
// caller's own context ended, and their events must still name both.
func WithBatch(ctx context.Context, caller, operation string) context.Context {
	c := callFrom(ctx)
	c.caller, c.operation = caller, operation
	return context.WithValue(ctx, callKey{}, c)
}

// CallID is the call id of ctx (WithCallID), or "".
func CallID(ctx context.Context) string { return callFrom(ctx).callID }
