package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync/atomic"
	"time"
)

// verdict is what one attempt leads to.
type verdict uint8

const (
	done    verdict = iota // success or final failure
	retry                  // transient and safe to replay
	refresh                // 401: refresh the token, then replay once
)

// outcome is the result of one attempt.
type outcome struct {
	user       *User
	err        *Error
	verdict    verdict
	retryAfter time.Duration  // the least wait before a retry can succeed
	status     int            // Procore's status, 0 when none came back
	health     breakerVerdict // how the attempt counts for the breaker
}

// do runs a call: credential, rate-limit admission, attempt, and the retry
// policy, bounded by the attempt budget and ctx's deadline.
func (c *Client) do(ctx context.Context, cl *call) (*User, error) {
	start := time.Now()
	var attempts, status int
	u, e := c.run(ctx, cl, &attempts, &status)
	if len(c.observers) > 0 {
		info := CallInfo{Method: cl.method, Route: routeTemplate, StatusCode: status, Attempts: attempts, Duration: time.Since(start)}
		if e != nil {
			info.Kind = e.Kind
		}
		c.observers.call(ctx, info)
	}
	if e != nil {
		return nil, e // never a typed nil in the error interface
	}
	return u, nil
}

// run is do's loop; it keeps the attempt count and last status where do's
// observers read them.
func (c *Client) run(ctx context.Context, cl *call, attempts, lastStatus *int) (*User, *Error) {
	var (
		last      *Error
		refreshed bool
	)
	fail := func(e *Error) (*User, *Error) {
		e.Attempts = *attempts
		return nil, e
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
		breakerDone, openFor, ok := c.breaker.allow()
		if !ok {
			e := &Error{Op: cl.op, Kind: KindCircuitOpen, RetryAfter: openFor,
				Message: "Procore failed repeatedly; calls fail fast until a probe succeeds"}
			if last != nil {
				e.StatusCode, e.RequestID, e.Err = last.StatusCode, last.RequestID, last
			}
			return fail(e)
		}
		lim := c.limits.state(cred.ID, c.now())
		spent, err := lim.acquire(ctx, c.now)
		if err != nil || spent != nil {
			breakerDone(breakerIgnore)
		}
		if err != nil {
			return fail(&Error{Op: cl.op, Kind: KindRateLimited, RateLimit: lim.snapshot(), Err: err,
				Message: "waited for the rate limit until the context ended; request not sent"})
		}
		if spent != nil {
			return fail(&Error{Op: cl.op, Kind: KindRateLimited, RateLimit: spent.rl, RetryAfter: spent.retryAfter,
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
			return out.user, nil
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

// attempt sends one request and classifies the result. It always releases
// the rate-limit admission, recording what the response reported.
func (c *Client) attempt(ctx context.Context, cl *call, cred Credential, lim *limitState, n int) (out outcome) {
	ctx, span := c.startAttemptSpan(ctx, cl, cred, n)
	start := time.Now()
	var (
		transportErr error
		status       int
		reqID        string // Procore's X-Request-Id
	)
	defer func() {
		out.status = status
		out.health = attemptHealth(ctx, out, transportErr)
		endAttemptSpan(span, out.status, transportErr)
		callStatsFrom(ctx).record(out.status, reqID)
		c.observers.attempt(ctx, AttemptInfo{Method: cl.method, Route: routeTemplate, StatusCode: out.status,
			Attempt: n, Duration: time.Since(start), CredentialID: cred.ID})
	}()
	// written is set once the whole request reached the connection: from
	// then on a PATCH may have been applied.
	var written atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
		if info.Err == nil {
			written.Store(true)
		}
	}}
	req, err := c.newRequest(httptrace.WithClientTrace(ctx, trace), cl, cred)
	if err != nil {
		lim.release(RateLimit{}, false, false)
		return outcome{err: &Error{Op: cl.op, Kind: KindInvalidRequest, Message: "cannot build the request", Err: err}}
	}
	c.injectTrace(ctx, req.Header)
	resp, err := c.http.Do(req)
	if err != nil {
		lim.release(RateLimit{}, false, false)
		c.logAttempt(ctx, cl, cred, n, 0, time.Since(start), err)
		out := c.transportFailure(ctx, cl, err, written.Load())
		transportErr = out.err.Err
		return out
	}
	status, reqID = resp.StatusCode, resp.Header.Get("X-Request-Id")
	now := c.now()
	rl, reported := parseRateLimit(resp.Header)
	retryAfter, hasRetryAfter := parseRetryAfter(resp.Header, now)
	if resp.StatusCode == http.StatusTooManyRequests && !reported && hasRetryAfter {
		// No headers: still keep every caller of this credential away
		// until Procore said to come back.
		prev := lim.snapshot()
		rl, reported = RateLimit{Limit: prev.Limit, Remaining: 0, Reset: now.Add(retryAfter), Known: true}, true
	}
	body, tooBig, readErr := c.readBody(resp)
	lim.release(rl, reported, true)
	if reported {
		c.observers.rateLimit(cred.ID, rl)
	}
	c.logAttempt(ctx, cl, cred, n, resp.StatusCode, time.Since(start), readErr)
	if !reported {
		rl = lim.snapshot()
	}
	if !hasRetryAfter && rl.Known && rl.Remaining == 0 && rl.Reset.After(now) {
		retryAfter = rl.Reset.Sub(now)
	}

	e := &Error{
		Op: cl.op, StatusCode: resp.StatusCode, RateLimit: rl, RetryAfter: retryAfter,
		RequestID: resp.Header.Get("X-Request-Id"), Body: body,
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return c.success(ctx, cl, e, body, tooBig, readErr)
	}
	d := parseErrorBody(body)
	e.Kind = KindStatus
	e.Message = redact(d.message, cred.Token)
	e.FieldErrors = redactFields(d.fields, cred.Token)
	if readErr != nil && ctx.Err() != nil {
		e.Err = ctx.Err()
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized:
		return outcome{err: e, verdict: refresh}
	case code == http.StatusTooManyRequests, code == http.StatusServiceUnavailable:
		// Refused before being processed: safe to replay, even a PATCH.
		return outcome{err: e, verdict: retry, retryAfter: retryAfter}
	case code == http.StatusBadGateway, code == http.StatusGatewayTimeout:
		if !cl.idempotent() {
			// A proxy lost Procore's answer; Procore may have applied it.
			e.Kind = KindOutcomeUnknown
			return outcome{err: e}
		}
		return outcome{err: e, verdict: retry, retryAfter: retryAfter}
	case code == http.StatusInternalServerError:
		if !cl.idempotent() {
			return outcome{err: e}
		}
		return outcome{err: e, verdict: retry, retryAfter: retryAfter}
	}
	return outcome{err: e}
}

// success decodes a 2xx answer. A GET whose body is unreadable is retried;
// a PATCH's is not, and its outcome is unknown.
func (c *Client) success(ctx context.Context, cl *call, e *Error, body []byte, tooBig bool, readErr error) outcome {
	var cause error
	switch {
	case readErr != nil:
		cause = fmt.Errorf("reading the response: %w", readErr)
		if ctx.Err() != nil {
			cause = ctx.Err()
		}
	case tooBig:
		cause = fmt.Errorf("response body exceeds %d bytes", c.maxResponseBytes)
	default:
		u, err := decodeUser(body)
		if err == nil {
			return outcome{user: u}
		}
		cause = err
	}
	e.Err = cause
	if !cl.idempotent() {
		e.Kind = KindOutcomeUnknown
		return outcome{err: e}
	}
	e.Kind = KindBadResponse
	if tooBig || ctx.Err() != nil {
		return outcome{err: e}
	}
	return outcome{err: e, verdict: retry}
}

// transportFailure classifies an error from the HTTP client: no response.
func (c *Client) transportFailure(ctx context.Context, cl *call, err error, written bool) outcome {
	if ctxErr := ctx.Err(); ctxErr != nil {
		err = ctxErr // the caller's deadline or cancellation is the cause
	}
	if written && !cl.idempotent() {
		return outcome{err: &Error{Op: cl.op, Kind: KindOutcomeUnknown, Err: err,
			Message: "the request was sent but no answer came back"}}
	}
	e := &Error{Op: cl.op, Kind: KindUnavailable, Err: err}
	if ctx.Err() != nil {
		return outcome{err: e}
	}
	// Never written (dial failure, connection refused or reset before the
	// request went out), or a GET: safe to replay.
	return outcome{err: e, verdict: retry}
}

func (c *Client) newRequest(ctx context.Context, cl *call, cred Credential) (*http.Request, error) {
	var body io.ReadCloser
	if cl.body != nil {
		var err error
		if body, err = cl.body.open(); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, c.url(cl), body)
	if err != nil {
		if body != nil {
			body.Close()
		}
		return nil, err
	}
	if cl.body != nil {
		req.ContentLength = cl.body.length()
		req.GetBody = cl.body.open
		req.Header.Set("Content-Type", cl.body.contentType())
	}
	req.Header.Set("Authorization", "Bearer "+cred.Token)
	req.Header.Set("Procore-Company-Id", strconv.FormatInt(cl.companyID, 10))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	return req, nil
}

// drainLimit bounds how much of an unread body is discarded to let the
// connection be reused; beyond it, closing is cheaper.
const drainLimit = 64 << 10

// readBody reads up to the cap, then drains (bounded) and closes.
func (c *Client) readBody(resp *http.Response) (body []byte, tooBig bool, err error) {
	defer func() {
		_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
		_ = resp.Body.Close()
	}()
	body, err = io.ReadAll(io.LimitReader(resp.Body, c.maxResponseBytes+1))
	if int64(len(body)) > c.maxResponseBytes {
		body, tooBig = body[:c.maxResponseBytes], true
	}
	return body, tooBig, err
}

func redactFields(fes []FieldError, token string) []FieldError {
	for i := range fes {
		for j, m := range fes[i].Messages {
			fes[i].Messages[j] = redact(m, token)
		}
		fes[i].Field = redact(fes[i].Field, token)
	}
	return fes
}

func (c *Client) logAttempt(ctx context.Context, cl *call, cred Credential, n, status int, d time.Duration, err error) {
	if !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", cl.method),
		slog.String("route", routeTemplate),
		slog.Int("status", status),
		slog.Int("attempt", n),
		slog.Duration("duration", d),
		slog.String("credential", cred.ID),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", redact(err.Error(), cred.Token)))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "procore request", attrs...)
}

// attemptHealth says how an attempt counts for the circuit breaker: 5xx
// answers and transport failures are failures; any other answer (4xx
// included: Procore is up and judging) is a success; the caller's own
// cancellation or deadline, and a request never sent, say nothing.
func attemptHealth(ctx context.Context, out outcome, transportErr error) breakerVerdict {
	switch {
	case ctx.Err() != nil:
		return breakerIgnore
	case transportErr != nil:
		return breakerFailure
	case out.status >= 500:
		return breakerFailure
	case out.status == 0:
		return breakerIgnore
	case out.status < 300 && out.err != nil:
		return breakerIgnore // a 2xx with an unreadable body
	}
	return breakerSuccess
}
