package upstream

import (
	"log/slog"
	"net/http"
	"time"
)

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: NewHTTPClient()). Tests pass
// an httptest server's client; production can add tracing transports.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.http = hc
		}
	}
}

// WithTokenSource sets where access tokens come from (default:
// PassThrough(), the caller's own token).
func WithTokenSource(ts TokenSource) Option {
	return func(c *Client) {
		if ts != nil {
			c.tokens = ts
		}
	}
}

// WithMaxAttempts sets the total number of attempts per call, the first
// included (default 4; values below 1 mean 1). A refresh-and-retry after a
// 401 happens at most once and is not limited by it.
func WithMaxAttempts(n int) Option {
	return func(c *Client) { c.maxAttempts = max(n, 1) }
}

// WithBackoff sets the full-jitter exponential backoff between attempts:
// the n-th retry waits a random time up to min(max, base·2ⁿ⁻¹), or longer
// when Procore said when to come back (default 100ms, 5s).
func WithBackoff(base, maxDelay time.Duration) Option {
	return func(c *Client) {
		if base > 0 {
			c.backoffBase = base
		}
		if maxDelay > 0 {
			c.backoffMax = maxDelay
		}
		c.backoffMax = max(c.backoffMax, c.backoffBase)
	}
}

// WithLogger sets the logger for per-attempt Debug records (method, route
// template, status, attempt, duration, credential ID; never a token or a
// body). Default: discard.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) {
		if l != nil {
			c.log = l
		}
	}
}

// WithMaxResponseBytes caps how much of a response body is read (default
// 1 MiB), so a misbehaving upstream cannot exhaust memory. A 2xx body over
// the cap is a KindBadResponse; an error body is truncated.
func WithMaxResponseBytes(n int64) Option {
	return func(c *Client) {
		if n > 0 {
			c.maxResponseBytes = n
		}
	}
}

// WithUserAgent sets the User-Agent header (default
// "procore-directory/upstream").
func WithUserAgent(ua string) Option {
	return func(c *Client) {
		if ua != "" {
			c.userAgent = ua
		}
	}
}
