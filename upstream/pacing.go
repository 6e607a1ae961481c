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

// WithSharedBudgets replaces the client's per-credential rate limits and
// pacing with shared ones: shared receives the in-process limits (with
// WithPacing's burst) and returns the budgets every attempt takes from. A
// fleet of replicas on one credential uses it to spend Procore's budget
// together (a Redis-backed one, say), keeping the in-process limits for
// when the shared store is unreachable. Nil keeps the in-process limits.
func WithSharedBudgets(shared func(local *admission.Limits) admission.Budgets) Option {
	return func(c *Client) { c.budgets = shared }
}

// WithBatchBudgetShare sets the most of a credential's budget batch work
// (admission.WithBatch) may take while interactive calls wait for it
// (--batch-budget-share; admission.DefaultBatchBudgetShare).
func WithBatchBudgetShare(f float64) Option {
	return func(c *Client) { c.limitsOpts = append(c.limitsOpts, admission.WithBatchBudgetShare(f)) }
}
