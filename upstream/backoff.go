package upstream

import (
	"context"
	"math/rand/v2"
	"time"
)

// backoff returns the full-jitter delay before retry number n (1-based): a
// uniformly random duration in [0, min(max, base·2ⁿ⁻¹)]. Full jitter
// spreads the retries of many callers that failed together, instead of
// bringing them back in lock-step.
func (c *Client) backoff(n int) time.Duration {
	ceiling := c.backoffBase
	for i := 1; i < n && ceiling < c.backoffMax; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, c.backoffMax)
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(c.jitter(int64(ceiling) + 1))
}

func randInt64N(n int64) int64 { return rand.Int64N(n) }

// sleepContext waits d or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// fitsDeadline reports whether waiting d still leaves ctx time: the client
// never sleeps past the caller's deadline only to fail after it.
func (c *Client) fitsDeadline(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || c.now().Add(d).Before(dl)
}
