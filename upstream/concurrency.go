package upstream

import (
	"time"

	"github.com/procore-directory/procore-directory/upstream/admission"
)

// Defaults of WithConcurrencyLimit.
const (
	// DefaultMaxConcurrent is how many Procore operations may be in flight
	// at once.
	DefaultMaxConcurrent = admission.DefaultMaxConcurrent
	// DefaultQueueTimeout is the longest an operation waits for one of
	// those slots before failing with KindOverloaded.
	DefaultQueueTimeout = admission.DefaultQueueTimeout
)

// WithConcurrencyLimit lets at most n operations (each with all its
// attempts) talk to Procore at once, protecting Procore's per-credential
// budget and this process from a burst of callers. An operation waits for
// a slot at most queueTimeout (DefaultQueueTimeout when 0 or less) and
// never past its context's deadline: if the deadline comes first it fails
// with the context's error; if queueTimeout does, with KindOverloaded and a
// RetryAfter of max(1s, queueTimeout), nothing having been sent. n <= 0
// (the default) means no limit.
func WithConcurrencyLimit(n int, queueTimeout time.Duration) Option {
	return func(c *Client) { c.slots = admission.NewLimiter(n, queueTimeout) }
}
