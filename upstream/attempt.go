package upstream

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"

	"github.com/procore-directory/procore-directory/upstream/admission"
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
	answer     answer
	err        *Error
	verdict    verdict
	retryAfter time.Duration     // the least wait before a retry can succeed
	status     int               // Procore's status, 0 when none came back
	health     admission.Verdict // how the attempt counts for the breaker
}

// attempt sends one request and classifies the result. It always releases
// the rate-limit admission, recording what the response reported.
func (c *Client) attempt(ctx context.Context, cl *call, cred Credential, lim admission.Admission, n int) (out outcome) {
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
		c.observers.attempt(ctx, AttemptInfo{Method: cl.method, Route: cl.route, StatusCode: out.status,
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
		lim.Release(RateLimit{}, false, false)
		return outcome{err: &Error{Op: cl.op, Kind: KindInvalidRequest, Message: "cannot build the request", Err: err}}
	}
	c.injectTrace(ctx, req.Header)
	resp, err := c.http.Do(req)
	if err != nil {
		lim.Release(RateLimit{}, false, false)
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
		prev := lim.Snapshot()
		rl, reported = RateLimit{Limit: prev.Limit, Remaining: 0, Reset: now.Add(retryAfter), Known: true}, true
	}
	body, tooBig, readErr := c.readBody(resp, c.bodyCap(cl))
	lim.Release(rl, reported, true)
	if reported {
		c.observers.rateLimit(cred.ID, rl)
	}
	c.logAttempt(ctx, cl, cred, n, resp.StatusCode, time.Since(start), readErr)
	if !reported {
		rl = lim.Snapshot()
	}
	if !hasRetryAfter && rl.Known && rl.Remaining == 0 && rl.Reset.After(now) {
		retryAfter = rl.Reset.Sub(now)
	}

	e := &Error{
		Op: cl.op, StatusCode: resp.StatusCode, RateLimit: rl, RetryAfter: retryAfter,
		RequestID: resp.Header.Get("X-Request-Id"), Body: body,
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return c.success(ctx, cl, e, body, tooBig, readErr, cred.Token)
	}
	if a, ok := failedSyncAnswer(cl, resp.StatusCode, body, tooBig, cred.Token); ok {
		return outcome{answer: a}
	}
	d := parseErrorBody(body)
	e.Kind = KindStatus
	e.Message = redact(d.message, cred.Token)
	e.FieldErrors = redactFields(d.fields, cred.Token)
	e.RedactedBody = redactBody(body, tooBig, cred.Token)
	if readErr != nil && ctx.Err() != nil {
		e.Err = ctx.Err()
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized:
		return outcome{err: e, verdict: refresh}
	case code == http.StatusTooManyRequests, code == http.StatusServiceUnavailable:
		// Refused before being processed: safe to replay, even a PATCH.
		return outcome{err: e, verdict: retry, retryAfter: retryAfter}
	case code >= 500 && code <= 599:
		if !cl.idempotent() {
			// Only 503 says "not processed". Any other 5xx (500 after a
			// failed commit or callback, a proxy's 502/504, a CDN's
			// 520/524) can come after Procore applied the PATCH: the
			// outcome is unknown, and it is never replayed.
			e.Kind = KindOutcomeUnknown
			return outcome{err: e}
		}
		return outcome{err: e, verdict: retry, retryAfter: retryAfter}
	}
	return outcome{err: e}
}

// success decodes a 2xx answer. A GET whose body is unreadable is retried;
// a PATCH's is not, and its outcome is unknown.
func (c *Client) success(ctx context.Context, cl *call, e *Error, body []byte, tooBig bool, readErr error, token string) outcome {
	var cause error
	switch {
	case readErr != nil:
		cause = fmt.Errorf("reading the response: %w", readErr)
		if ctx.Err() != nil {
			cause = ctx.Err()
		}
	case tooBig:
		cause = fmt.Errorf("response body exceeds %d bytes", c.bodyCap(cl))
	default:
		a, err := decodeAnswer(cl, body, token)
		if err == nil {
			return outcome{answer: a}
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

// answer is what a successful call decoded: a user, or a sync's answer.
type answer struct {
	user *User
	sync *syncAnswer
}

// decodeAnswer decodes a 2xx body as the call expects it.
func decodeAnswer(cl *call, body []byte, token string) (answer, error) {
	if cl.answer == answerSync {
		s, err := decodeSyncAnswer(body, token)
		return answer{sync: s}, err
	}
	u, err := decodeUser(body)
	return answer{user: u}, err
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

// drainLimit bounds how much of an unread body is discarded to let the
// connection be reused; beyond it, closing is cheaper.
const drainLimit = 64 << 10

// readBody reads up to the cap, then drains (bounded) and closes.
func (c *Client) readBody(resp *http.Response, limit int64) (body []byte, tooBig bool, err error) {
	defer func() {
		_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
		_ = resp.Body.Close()
	}()
	limited := io.LimitReader(resp.Body, limit+1)
	if n := resp.ContentLength; n > 0 && n <= limit {
		// The declared length in one allocation, with MinRead spare so
		// that ReadFrom reads the end without growing.
		var buf bytes.Buffer
		buf.Grow(int(n) + bytes.MinRead)
		_, err = buf.ReadFrom(limited)
		body = buf.Bytes()
	} else {
		body, err = io.ReadAll(limited)
	}
	if int64(len(body)) > limit {
		body, tooBig = body[:limit], true
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
		slog.String("route", cl.route),
		slog.Int("status", status),
		slog.Int("attempt", n),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
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
func attemptHealth(ctx context.Context, out outcome, transportErr error) admission.Verdict {
	switch {
	case ctx.Err() != nil:
		return admission.Ignore
	case transportErr != nil:
		return admission.Failure
	case out.status >= 500:
		return admission.Failure
	case out.status == 0:
		return admission.Ignore
	case out.status < 300 && out.err != nil:
		return admission.Ignore // a 2xx with an unreadable body
	}
	return admission.Success
}
