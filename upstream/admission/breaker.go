package admission

import (
	"errors"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// BreakerState is the circuit breaker's state.
type BreakerState int

const (
	// BreakerClosed: requests flow; failures are counted.
	BreakerClosed BreakerState = iota
	// BreakerHalfOpen: a few probe requests test whether Procore is back.
	BreakerHalfOpen
	// BreakerOpen: requests fail at once.
	BreakerOpen
)

// String names the state.
func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerHalfOpen:
		return "half-open"
	case BreakerOpen:
		return "open"
	}
	return "unknown"
}

// BreakerConfig configures the circuit breaker around Procore. After
// ConsecutiveFailures failed attempts in a row (5xx answers and transport
// failures; not 4xx answers, not the caller's own cancellation or deadline)
// every call fails at once for OpenTimeout; then up to
// HalfOpenRequests probes are let through, and as many successes close it
// again (a failure reopens it). This spares a struggling Procore a storm of
// retries and spares callers waiting for time-outs.
type BreakerConfig struct {
	// ConsecutiveFailures trips the breaker; 0 disables it.
	ConsecutiveFailures int
	// OpenTimeout is how long it stays open before probing (default 30s).
	OpenTimeout time.Duration
	// HalfOpenRequests is how many probes run when half-open (default 1).
	HalfOpenRequests int
}

// DefaultBreakerConfig returns the breaker settings the client uses unless
// configured otherwise: trip after 10 failures in a row, probe
// after 30s with one request.
func DefaultBreakerConfig() BreakerConfig {
	return BreakerConfig{ConsecutiveFailures: 10, OpenTimeout: 30 * time.Second, HalfOpenRequests: 1}
}

// Sentinels reported to gobreaker: they are never returned to callers.
var (
	errBreakerFailure = errors.New("upstream failure")
	errBreakerIgnored = errors.New("not a sign of upstream health")
)

// Verdict is how one attempt counts for the breaker.
type Verdict uint8

const (
	// Success: Procore answered sanely (4xx included: it is up and judging).
	Success Verdict = iota
	// Failure: a 5xx answer or none.
	Failure
	// Ignore: says nothing about Procore (the caller's own cancellation,
	// a request never sent).
	Ignore
)

// Breaker wraps gobreaker's two-step breaker with the open-state deadline,
// which gobreaker does not expose, for RetryAfter.
type Breaker struct {
	cb      *gobreaker.TwoStepCircuitBreaker[struct{}]
	timeout time.Duration

	mu       sync.Mutex
	openedAt time.Time
}

// NewBreaker returns a breaker configured by cfg, which reports every
// change of state to onChange (if not nil); ConsecutiveFailures 0 or less
// returns nil, a breaker that always allows.
func NewBreaker(cfg BreakerConfig, onChange func(from, to BreakerState)) *Breaker {
	if cfg.ConsecutiveFailures <= 0 {
		return nil
	}
	if cfg.OpenTimeout <= 0 {
		cfg.OpenTimeout = DefaultBreakerConfig().OpenTimeout
	}
	if cfg.HalfOpenRequests <= 0 {
		cfg.HalfOpenRequests = 1
	}
	b := &Breaker{timeout: cfg.OpenTimeout}
	threshold := uint32(cfg.ConsecutiveFailures)
	b.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "procore",
		MaxRequests: uint32(cfg.HalfOpenRequests),
		Timeout:     cfg.OpenTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= threshold },
		IsSuccessful: func(err error) bool {
			return err == nil
		},
		IsExcluded: func(err error) bool { return errors.Is(err, errBreakerIgnored) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				b.mu.Lock()
				b.openedAt = time.Now()
				b.mu.Unlock()
			}
			if onChange != nil {
				onChange(breakerState(from), breakerState(to))
			}
		},
	})
	return b
}

func breakerState(s gobreaker.State) BreakerState {
	switch s {
	case gobreaker.StateHalfOpen:
		return BreakerHalfOpen
	case gobreaker.StateOpen:
		return BreakerOpen
	}
	return BreakerClosed
}

// Allow admits one attempt, returning the function that reports how it
// went, or ok false when the breaker is open (or its half-open probes are
// all taken) with the time until it will probe again.
func (b *Breaker) Allow() (done func(Verdict), retryAfter time.Duration, ok bool) {
	if b == nil {
		return func(Verdict) {}, 0, true
	}
	report, err := b.cb.Allow()
	if err != nil {
		b.mu.Lock()
		retryAfter = max(time.Until(b.openedAt.Add(b.timeout)), 0)
		b.mu.Unlock()
		if retryAfter == 0 {
			retryAfter = time.Second // half-open with every probe taken
		}
		return nil, retryAfter, false
	}
	return func(v Verdict) {
		switch v {
		case Success:
			report(nil)
		case Failure:
			report(errBreakerFailure)
		default:
			report(errBreakerIgnored)
		}
	}, 0, true
}

// State returns the breaker's state (BreakerClosed for the nil Breaker).
func (b *Breaker) State() BreakerState {
	if b == nil {
		return BreakerClosed
	}
	return breakerState(b.cb.State())
}
