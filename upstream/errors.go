package upstream

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrNoToken is returned (wrapped) when PassThrough finds no token in the
// context: the caller did not authenticate, so nothing is sent to Procore.
var ErrNoToken = errors.New("no Procore access token in the context")

// ErrorKind classifies a failure by what the caller can do about it, which
// an HTTP status alone does not say (a 502 after a PATCH means something
// else than a 502 after a GET).
type ErrorKind uint8

const (
	// KindStatus: Procore answered with a non-2xx status; StatusCode says
	// which.
	KindStatus ErrorKind = iota + 1
	// KindRateLimited: refused locally, nothing sent, because the
	// credential's rate limit is spent until after the caller's deadline.
	// RetryAfter says when it resets.
	KindRateLimited
	// KindOutcomeUnknown: a PATCH was sent and no reliable answer came back
	// (time-out or reset after the request was written, any 5xx but 503,
	// an unreadable 2xx body). It may or may not have been applied and was not
	// replayed: read the record back before retrying.
	KindOutcomeUnknown
	// KindUnavailable: Procore could not be reached, or a token could not be
	// obtained, and retries did not help. A PATCH failing this way was
	// certainly not applied.
	KindUnavailable
	// KindBadResponse: Procore's answer could not be read or decoded.
	KindBadResponse
	// KindInvalidRequest: the request was refused before anything was sent
	// (unknown patch field, wrong field type, bad id).
	KindInvalidRequest
	// KindCircuitOpen: refused locally, nothing sent, because the circuit
	// breaker is open after sustained upstream failures (see
	// WithCircuitBreaker). RetryAfter says when it will probe again.
	KindCircuitOpen
	// KindOverloaded: refused locally, nothing sent, because every
	// concurrency slot stayed busy for the queue timeout (see
	// WithConcurrencyLimit). The overload is this process's and transient:
	// RetryAfter says when to come back, and a retry is safe even for an
	// update.
	KindOverloaded
)

// String names the kind.
func (k ErrorKind) String() string {
	switch k {
	case KindStatus:
		return "status"
	case KindRateLimited:
		return "rate limited"
	case KindOutcomeUnknown:
		return "outcome unknown"
	case KindUnavailable:
		return "unavailable"
	case KindBadResponse:
		return "bad response"
	case KindInvalidRequest:
		return "invalid request"
	case KindCircuitOpen:
		return "circuit open"
	case KindOverloaded:
		return "overloaded"
	}
	return "ErrorKind(" + strconv.Itoa(int(k)) + ")"
}

// FieldError is Procore's complaint about one field (a 422 or 400
// `{"errors": {field: [messages]}}`).
type FieldError struct {
	Field    string
	Messages []string
}

// Error is the only error type the client returns for a failed call (besides
// a wrapped ErrNoToken), so callers need one errors.As to map every failure.
// Its Error text is safe to log: it never contains a token, a secret, the
// raw body, an e-mail address or a phone number.
type Error struct {
	// Op is the operation: "get company user", "update company user" or
	// "sync company users".
	Op string
	// Kind classifies the failure.
	Kind ErrorKind
	// StatusCode is Procore's HTTP status, 0 when there was none.
	StatusCode int
	// Message is Procore's message(s), joined, with e-mail-like and
	// phone-like text redacted.
	Message string
	// FieldErrors are Procore's per-field messages, sorted by field.
	FieldErrors []FieldError
	// RateLimit is the credential's rate-limit state as last seen.
	RateLimit RateLimit
	// RetryAfter is when a retry may succeed (Retry-After, or the rate-limit
	// reset); 0 when unknown.
	RetryAfter time.Duration
	// RequestID is Procore's X-Request-Id, for support tickets.
	RequestID string
	// Body is the raw response body, capped. It may hold personal data and
	// is never part of Error().
	Body []byte
	// RedactedBody is Procore's error body redacted as Message is, a JSON
	// body keeping its shape (see redactBody): what the Procore-compatible
	// route passes back to the caller. Nil for a 2xx, an empty body, or
	// one cut at the response cap.
	RedactedBody []byte
	// Attempts is how many requests were sent.
	Attempts int
	// Err is the cause, if any (a transport error, a context error, a decode
	// error).
	Err error
}

// Error describes the failure without personal data or secrets: Procore's
// messages and the cause are redacted when printed (they may echo submitted
// values), and the raw body is never included.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("procore")
	if e.Op != "" {
		b.WriteString(" ")
		b.WriteString(e.Op)
	}
	b.WriteString(": ")
	switch e.Kind {
	case KindStatus:
		b.WriteString("status ")
		b.WriteString(strconv.Itoa(e.StatusCode))
		if t := http.StatusText(e.StatusCode); t != "" {
			b.WriteString(" ")
			b.WriteString(t)
		}
	case KindOutcomeUnknown:
		b.WriteString("outcome unknown: the update may or may not have been applied and was not retried; read the record back before retrying")
		if e.StatusCode != 0 {
			b.WriteString(" (status ")
			b.WriteString(strconv.Itoa(e.StatusCode))
			b.WriteString(")")
		}
	case KindRateLimited:
		b.WriteString("rate limit spent, request not sent")
	case KindCircuitOpen:
		b.WriteString("circuit open after sustained upstream failures, request not sent")
	case KindOverloaded:
		b.WriteString("overloaded, request not sent")
	default:
		b.WriteString(e.Kind.String())
		if e.StatusCode != 0 {
			b.WriteString(" (status ")
			b.WriteString(strconv.Itoa(e.StatusCode))
			b.WriteString(")")
		}
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(redact(e.Message, ""))
	} else if len(e.FieldErrors) > 0 {
		b.WriteString(": ")
		b.WriteString(redact(joinFieldErrors(e.FieldErrors), ""))
	}
	if e.RetryAfter > 0 {
		b.WriteString("; retry after ")
		b.WriteString(e.RetryAfter.Round(time.Millisecond).String())
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(redact(causeText(e.Err), ""))
	}
	if e.RequestID != "" {
		b.WriteString(" [request id ")
		b.WriteString(e.RequestID)
		b.WriteString("]")
	}
	if e.Attempts > 1 {
		b.WriteString(" [")
		b.WriteString(strconv.Itoa(e.Attempts))
		b.WriteString(" attempts]")
	}
	return b.String()
}

// causeText prints a cause without the request URL net/http puts in its
// errors: the route is known, and the text stays short.
func causeText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err.Error()
	}
	return err.Error()
}

// Unwrap returns the cause, so errors.Is(err, context.DeadlineExceeded)
// holds when the caller's deadline ran out.
func (e *Error) Unwrap() error { return e.Err }

func joinFieldErrors(fes []FieldError) string {
	var b strings.Builder
	for i, fe := range fes {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(fe.Field)
		for j, m := range fe.Messages {
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString(" ")
			b.WriteString(m)
		}
	}
	return b.String()
}
