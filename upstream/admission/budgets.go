package admission

import (
	"context"
	"time"
)

// Admission is the rate-limit admission of one attempt to Procore: Acquire
// admits it (or says the budget is spent), one Release ends it with what
// the response reported. The in-process Budget is one; a fleet's shared
// budget (a store that every replica's attempts take from) is another.
type Admission interface {
	// Acquire admits the attempt or waits for its turn; see Budget.Acquire.
	Acquire(ctx context.Context, now func() time.Time) (*Spent, error)
	// Release ends an admitted attempt; see Budget.Release.
	Release(rl RateLimit, reported, answered bool)
	// Snapshot returns the credential's budget as last reported.
	Snapshot() RateLimit
}

// Budgets gives the admission of each attempt of a credential. It exists so
// that the client applies one policy whether its replica spends the budget
// alone (Limits, the default) or shares it with others (a shared store that
// falls back to Limits when unreachable), without knowing which.
type Budgets interface {
	// Admission returns the admission of one attempt of credential id:
	// Acquire, then exactly one Release.
	Admission(id string, now time.Time) Admission
}
