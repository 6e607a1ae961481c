package admission

import "context"

// Class is the priority of an attempt for its credential's budget. A
// person waiting on a single update must not queue behind a batch of
// thousands that shares the credential, so batch work marks its context
// and takes the budget only after interactive attempts waiting for it (see
// WithBatchBudgetShare for how much it may still take while they wait).
type Class uint8

const (
	// Interactive is the default: a caller is waiting for the answer.
	Interactive Class = iota
	// Batch is work no one waits on call by call (a long-running batch).
	Batch
	numClasses
)

// String names the class.
func (c Class) String() string {
	if c == Batch {
		return "batch"
	}
	return "interactive"
}

// classKey is the context key of an attempt's class.
type classKey struct{}

// WithBatch marks every attempt made under ctx as batch work. It travels in
// the context so that callers of the upstream client (the batch runner)
// choose the class without the client, which only passes ctx to
// Admission.Acquire, knowing about it.
func WithBatch(ctx context.Context) context.Context {
	return context.WithValue(ctx, classKey{}, Batch)
}

// ClassOf returns the class of attempts made under ctx: Batch under
// WithBatch, Interactive otherwise.
func ClassOf(ctx context.Context) Class {
	if c, ok := ctx.Value(classKey{}).(Class); ok {
		return c
	}
	return Interactive
}
