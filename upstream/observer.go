package upstream

import (
	"context"
	"time"
)

// Observer receives what the client does, so that metrics (or anything
// else) can be built on it without the client depending on a metrics
// library. Every method is called synchronously on the hot path and must be
// cheap and safe for concurrent use; none receives a token, a body or any
// personal data.
//
// Embed NopObserver to implement only some methods: new methods may be
// added to this interface, and NopObserver will grow to match.
type Observer interface {
	// ObserveAttempt is called after each HTTP request to Procore.
	ObserveAttempt(ctx context.Context, a AttemptInfo)
	// ObserveCall is called once per GetCompanyUser, UpdateCompanyUser or
	// SyncCompanyUsers, after its last attempt.
	ObserveCall(ctx context.Context, c CallInfo)
	// ObserveRateLimit is called whenever a response reports a
	// credential's rate-limit state.
	ObserveRateLimit(credentialID string, rl RateLimit)
	// ObserveTokenRefresh is called after the client asked its token
	// source to replace a token Procore rejected (err is the refresh's
	// error, nil on success).
	ObserveTokenRefresh(credentialID string, err error)
	// ObserveBreakerState is called when the circuit breaker changes state.
	ObserveBreakerState(from, to BreakerState)
}

// AttemptInfo describes one HTTP request to Procore.
type AttemptInfo struct {
	// Method is the HTTP method.
	Method string
	// Route is the route template, never the concrete path.
	Route string
	// StatusCode is Procore's status; 0 when no response came back.
	StatusCode int
	// Attempt is the 1-based attempt number within the call.
	Attempt int
	// Duration is the time from sending to having read the answer.
	Duration time.Duration
	// CredentialID names the credential (never the token).
	CredentialID string
}

// CallInfo describes one call of the client, over all of its attempts.
type CallInfo struct {
	// Method is the HTTP method.
	Method string
	// Route is the route template.
	Route string
	// StatusCode is the last status Procore answered; 0 when none.
	StatusCode int
	// Attempts is how many requests were sent; Attempts-1 were retries
	// (a call refused locally sends none).
	Attempts int
	// Kind classifies the failure; 0 on success.
	Kind ErrorKind
	// Duration is the whole call, waiting included.
	Duration time.Duration
}

// NopObserver implements Observer by doing nothing; embed it to implement
// only the methods needed.
type NopObserver struct{}

// ObserveAttempt does nothing.
func (NopObserver) ObserveAttempt(context.Context, AttemptInfo) {}

// ObserveCall does nothing.
func (NopObserver) ObserveCall(context.Context, CallInfo) {}

// ObserveRateLimit does nothing.
func (NopObserver) ObserveRateLimit(string, RateLimit) {}

// ObserveTokenRefresh does nothing.
func (NopObserver) ObserveTokenRefresh(string, error) {}

// ObserveBreakerState does nothing.
func (NopObserver) ObserveBreakerState(BreakerState, BreakerState) {}

// WithObserver adds an observer of attempts, calls, rate-limit reports,
// token refreshes and circuit-breaker changes (default: none). Several
// observers may be added; each sees every event.
func WithObserver(o Observer) Option {
	return func(c *Client) {
		if o != nil {
			c.observers = append(c.observers, o)
		}
	}
}

// observers fans events out to every Observer added.
type observers []Observer

func (os observers) attempt(ctx context.Context, a AttemptInfo) {
	for _, o := range os {
		o.ObserveAttempt(ctx, a)
	}
}

func (os observers) call(ctx context.Context, c CallInfo) {
	for _, o := range os {
		o.ObserveCall(ctx, c)
	}
}

func (os observers) rateLimit(id string, rl RateLimit) {
	for _, o := range os {
		o.ObserveRateLimit(id, rl)
	}
}

func (os observers) tokenRefresh(id string, err error) {
	for _, o := range os {
		o.ObserveTokenRefresh(id, err)
	}
}

func (os observers) breakerState(from, to BreakerState) {
	for _, o := range os {
		o.ObserveBreakerState(from, to)
	}
}
