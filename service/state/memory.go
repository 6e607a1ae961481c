package state

import "context"

// Memory is what a replica learned about keys callers choose, such as the
// companies whose Procore refuses a partial PATCH body or the credentials
// Procore refused its sync endpoint to. Each such lesson only saves a
// Procore request the next time, so a memory that cannot answer (its
// store is down) reports false, which costs a request, never correctness.
// Implementations must be safe for concurrent use and must not block long:
// they are on the update's and the batch's paths.
type Memory[K comparable] interface {
	// Has reports whether k was remembered.
	Has(ctx context.Context, k K) bool
	// Remember records k.
	Remember(ctx context.Context, k K)
}

// NewLocalMemory returns a Memory kept in this process, holding at most
// max keys (def when max <= 0: see BoundedSet).
func NewLocalMemory[K comparable](max, def int) Memory[K] {
	return localMemory[K]{NewBoundedSet[K](max, def)}
}

type localMemory[K comparable] struct{ set *BoundedSet[K] }

func (m localMemory[K]) Has(_ context.Context, k K) bool { return m.set.Has(k) }

func (m localMemory[K]) Remember(_ context.Context, k K) { m.set.Add(k) }
