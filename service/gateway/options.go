package gateway

import "net/http"

// Option configures New.
type Option func(*config)

// config collects Options.
type config struct {
	handlers   []route
	middleware []func(http.Handler) http.Handler
	// readyDetail adds lines to /readyz's body (nil: none).
	readyDetail func() string
	// identity forwards the caller's certificate identity (nil: none).
	identity *callerIdentity
}

type route struct {
	pattern string
	h       http.Handler
}

// WithHandler serves h at pattern (http.ServeMux syntax, e.g.
// "GET /metrics") beside the API routes.
func WithHandler(pattern string, h http.Handler) Option {
	return func(c *config) { c.handlers = append(c.handlers, route{pattern, h}) }
}

// WithMiddleware wraps the whole gateway in mw (tracing, request ids,
// caller identity); the first given is the outermost.
func WithMiddleware(mw func(http.Handler) http.Handler) Option {
	return func(c *config) { c.middleware = append(c.middleware, mw) }
}

// WithReadinessDetail adds detail() as a second line to /readyz's body,
// whatever the answer: the state of what the replica depends on without
// being unready for it (the fleet's shared state, degraded or not), for
// the operator reading the probe.
func WithReadinessDetail(detail func() string) Option {
	return func(c *config) { c.readyDetail = detail }
}

// wrap wraps h in the middleware, the first given outermost, and the
// caller identity's innermost.
func (c *config) wrap(h http.Handler) http.Handler {
	if c.identity != nil {
		h = c.identity.middleware(h)
	}
	for i := len(c.middleware) - 1; i >= 0; i-- {
		h = c.middleware[i](h)
	}
	return h
}

// readyDetail is detail's line for /readyz ("" without one).
func readyDetail(detail func() string) string {
	if detail == nil {
		return ""
	}
	return detail() + "\n"
}
