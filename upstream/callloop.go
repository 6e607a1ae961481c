package upstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/procore-directory/procore-directory/upstream/admission"
)

// do runs a call: a concurrency slot for the whole of it, then for each
// attempt the credential, rate-limit admission and the breaker, and the
// retry policy, bounded by the attempt budget and ctx's deadline.
func (c *Client) do(ctx context.Context, cl *call) (answer, error) {
	start := time.Now()
	var attempts, status int
	var a answer
	e := c.admit(ctx, cl)
	if e == nil {
		a, e = c.run(ctx, cl, &attempts, &status)
		c.slots.Release()
	}
	if len(c.observers) > 0 {
		info := CallInfo{Method: cl.method, Route: cl.route, StatusCode: status, Attempts: attempts, Duration: time.Since(start)}
		if e != nil {
			info.Kind = e.Kind
		}
		c.observers.call(ctx, info)
	}
	if e != nil {
		return answer{}, e // never a typed nil in the error interface
	}
	return a, nil
}

// run is do's loop; it keeps the attempt count and last status where do's
// observers read them.
func (c *Client) run(ctx context.Context, cl *call, attempts, lastStatus *int) (answer, *Error) {
	var (
		last      *Error
		refreshed bool
	)
	fail := func(e *Error) (answer, *Error) {
		e.Attempts = *attempts
		return answer{}, e
	}
	for {
		if err := ctx.Err(); err != nil {
			if last != nil {
				return fail(withCause(last, err))
			}
			return fail(&Error{Op: cl.op, Kind: KindUnavailable, Err: err})
		}
		cred, err := c.tokens.Credential(ctx)
		if err != nil {
			return fail(credentialError(ctx, cl.op, err))
		}
		if cred.ID == "" {
			cred.ID = TokenID(cred.Token)
		}
		breakerDone, openFor, ok := c.breaker.Allow()
		if !ok {
			e := &Error{Op: cl.op, Kind: KindCircuitOpen, RetryAfter: openFor,
				Message: "Procore failed repeatedly; calls fail fast until a probe succeeds"}
			if last != nil {
				e.StatusCode, e.RequestID, e.Err = last.StatusCode, last.RequestID, last
			}
			return fail(e)
		}
		lim := c.limits.Admission(cred.ID, c.now())
		spent, err := lim.Acquire(ctx, c.now)
		if err != nil || spent != nil {
			breakerDone(admission.Ignore)
		}
		if err != nil {
			return fail(&Error{Op: cl.op, Kind: KindRateLimited, RateLimit: lim.Snapshot(), Err: err,
				Message: "waited for the rate limit until the context ended; request not sent"})
		}
		if spent != nil {
			return fail(&Error{Op: cl.op, Kind: KindRateLimited, RateLimit: spent.RateLimit, RetryAfter: spent.RetryAfter,
				Message: "no requests left for this credential until after the deadline"})
		}
		*attempts++
		out := c.attempt(ctx, cl, cred, lim, *attempts)
		breakerDone(out.health)
		*lastStatus = out.status
		switch out.verdict {
		case done:
			if out.err != nil {
				return fail(out.err)
			}
			return out.answer, nil
		case refresh:
			r, ok := c.tokens.(Refresher)
			if !ok || refreshed {
				return fail(out.err)
			}
			refreshed = true
			err := r.Refresh(ctx, cred)
			c.observers.tokenRefresh(cred.ID, err)
			if err != nil {
				out.err.Err = err
				return fail(out.err)
			}
			last = out.err
			continue // a 401 was not applied: replay at once
		}
		last = out.err
		if *attempts >= c.maxAttempts {
			return fail(last)
		}
		delay := max(c.backoff(*attempts), out.retryAfter)
		if !c.fitsDeadline(ctx, delay) {
			return fail(last)
		}
		if err := c.sleep(ctx, delay); err != nil {
			return fail(withCause(last, err))
		}
	}
}

// withCause adds the context's error to the last attempt's error, so that
// errors.Is(err, context.Canceled) holds when the caller gave up between
// attempts.
func withCause(e *Error, ctxErr error) *Error {
	if e.Err == nil {
		e.Err = ctxErr
	} else if !errors.Is(e.Err, ctxErr) {
		e.Err = fmt.Errorf("%w; then %w", e.Err, ctxErr)
	}
	return e
}

// credentialError wraps a TokenSource failure.
func credentialError(ctx context.Context, op string, err error) *Error {
	switch {
	case errors.Is(err, ErrNoToken):
		return &Error{Op: op, Kind: KindInvalidRequest, Message: "no access token", Err: err}
	case ctx.Err() != nil:
		return &Error{Op: op, Kind: KindUnavailable, Message: "no access token before the context ended", Err: ctx.Err()}
	}
	return &Error{Op: op, Kind: KindUnavailable, Message: "could not obtain an access token", Err: err}
}

// admit takes a concurrency slot for the whole call (see
// WithConcurrencyLimit), which do releases.
func (c *Client) admit(ctx context.Context, cl *call) *Error {
	err := c.slots.Acquire(ctx)
	if err == nil {
		return nil
	}
	var over *admission.OverloadedError
	if errors.As(err, &over) {
		return &Error{Op: cl.op, Kind: KindOverloaded, RetryAfter: over.RetryAfter(), Err: over,
			Message: "every upstream slot stayed busy; retry later"}
	}
	return &Error{Op: cl.op, Kind: KindUnavailable, Message: "no upstream slot before the context ended", Err: err}
}
