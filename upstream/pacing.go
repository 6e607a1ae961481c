package upstream

import "github.com/procore-directory/procore-directory/upstream/admission"

// DefaultPacingBurst is how many requests of one credential may go at once
// before pacing spreads the rest; see WithPacing.
const DefaultPacingBurst = admission.DefaultPacingBurst

// WithPacing sets the burst of per-credential pacing (default
// DefaultPacingBurst; 0 or less turns pacing off).
//
// Callers that share one Procore credential share its budget. With pacing,
// once Procore has reported a credential's budget (X-Rate-Limit-Remaining
// until X-Rate-Limit-Reset), requests are spread over the time left at
// Remaining/(Reset-now) per second, in bursts of at most burst; the rate is
// re-tuned from every response. While the budget is not known (no report
// yet, or the reported window has ended) requests go one at a time until an
// answer reports it. A burst of internal traffic thus turns into waiting,
// bounded by each caller's deadline (a wait that would pass it fails at once
// with KindRateLimited and RetryAfter), instead of a storm of 429s.
func WithPacing(burst int) Option {
	return func(c *Client) { c.pacingBurst = max(burst, 0) }
}
