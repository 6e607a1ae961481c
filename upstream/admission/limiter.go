package admission

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/semaphore"
)

// Defaults of the concurrency limit.
const (
	// DefaultMaxConcurrent is how many Procore requests may be in flight
	// at once.
	DefaultMaxConcurrent = 32
	// DefaultQueueTimeout is the longest a call waits for one of those
	// slots before it is told to come back later.
	DefaultQueueTimeout = 2 * time.Second
)

// Limiter bounds how many operations run at once, protecting Procore's
// per-credential budget and this process from a burst of callers. A call
// waits for a slot at most the queue timeout and never past its own
// deadline. The nil *Limiter admits everything.
type Limiter struct {
	sem   *semaphore.Weighted
	slots int
	wait  time.Duration
}

// NewLimiter returns a limiter of n slots with the given queue timeout
// (DefaultQueueTimeout when 0 or less); n <= 0 returns nil, no limit.
func NewLimiter(n int, queueTimeout time.Duration) *Limiter {
	if n <= 0 {
		return nil
	}
	if queueTimeout <= 0 {
		queueTimeout = DefaultQueueTimeout
	}
	return &Limiter{sem: semaphore.NewWeighted(int64(n)), slots: n, wait: queueTimeout}
}

// OverloadedError says every slot stayed busy for the whole queue timeout.
// Nothing was sent, so a retry is safe even for an update.
type OverloadedError struct {
	// Slots is the limiter's size.
	Slots int
	// Waited is the queue timeout that ran out.
	Waited time.Duration
}

// Error describes the overload.
func (e *OverloadedError) Error() string {
	return fmt.Sprintf("overloaded: all %d upstream slots stayed busy for %s", e.Slots, e.Waited)
}

// RetryAfter is when a retry is worth trying: the queue timeout, at least
// a second, so that refused callers do not come straight back.
func (e *OverloadedError) RetryAfter() time.Duration { return max(time.Second, e.Waited) }

// Acquire takes a slot, waiting at most the queue timeout and never past
// ctx's deadline. It returns ctx's error (wrapped) when ctx ends first and
// an *OverloadedError when the queue timeout does. Each successful Acquire
// must be followed by one Release.
func (l *Limiter) Acquire(ctx context.Context) error {
	if l == nil || l.sem.TryAcquire(1) {
		return nil // the common case: no timer, no allocation
	}
	wctx, cancel := context.WithTimeout(ctx, l.wait)
	defer cancel()
	if err := l.sem.Acquire(wctx, 1); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("waiting for an upstream slot: %w", ctxErr)
		}
		return &OverloadedError{Slots: l.slots, Waited: l.wait}
	}
	return nil
}

// Release gives back a slot taken by Acquire.
func (l *Limiter) Release() {
	if l != nil {
		l.sem.Release(1)
	}
}
