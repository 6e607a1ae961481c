package upstream

import "github.com/procore-directory/procore-directory/upstream/admission"

// BreakerConfig configures the circuit breaker around Procore (see
// admission.BreakerConfig): after ConsecutiveFailures upstream failures in
// a row, calls fail at once with KindCircuitOpen for OpenTimeout.
type BreakerConfig = admission.BreakerConfig

// BreakerState is the circuit breaker's state.
type BreakerState = admission.BreakerState

// The breaker's states.
const (
	BreakerClosed   = admission.BreakerClosed
	BreakerHalfOpen = admission.BreakerHalfOpen
	BreakerOpen     = admission.BreakerOpen
)

// DefaultBreakerConfig returns the breaker settings New uses unless
// WithCircuitBreaker says otherwise: trip after 10 failures in a row, probe
// after 30s with one request.
func DefaultBreakerConfig() BreakerConfig { return admission.DefaultBreakerConfig() }

// WithCircuitBreaker configures the circuit breaker (default
// DefaultBreakerConfig()); ConsecutiveFailures 0 turns it off.
func WithCircuitBreaker(cfg BreakerConfig) Option {
	return func(c *Client) { c.breakerCfg = cfg }
}

// BreakerState returns the circuit breaker's state (BreakerClosed when it
// is disabled), for health reporting.
func (c *Client) BreakerState() BreakerState { return c.breaker.State() }
