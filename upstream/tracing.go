package upstream

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// tracerName is the instrumentation scope of the client's spans.
const tracerName = "github.com/procore-directory/procore-directory/upstream"

// WithTracerProvider makes the client start a client span for every HTTP
// request to Procore (named after the method and route template, never the
// concrete path) and send its W3C trace context (`traceparent`) upstream, so
// Procore's side can be correlated with ours. Default: no spans, and
// nothing propagated. The provider is passed in, never taken from otel's
// globals.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *Client) {
		if tp != nil {
			c.tracer = tp.Tracer(tracerName)
		}
	}
}

// WithPropagator sets how trace context is written into requests (default,
// once WithTracerProvider is given: W3C Trace Context).
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(c *Client) {
		if p != nil {
			c.propagator = p
		}
	}
}

// startAttemptSpan starts the client span of one attempt. The attributes
// are the HTTP semantic conventions' low-cardinality ones; no token, no
// body, no personal data.
func (c *Client) startAttemptSpan(ctx context.Context, cl *call, cred Credential, n int) (context.Context, trace.Span) {
	if c.tracer == nil {
		return ctx, noop.Span{}
	}
	return c.tracer.Start(ctx, cl.method+" "+cl.route,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("http.request.method", cl.method),
			attribute.String("url.template", cl.route),
			attribute.String("server.address", c.host),
			attribute.Int("http.request.resend_count", n-1),
			attribute.String("procore.credential_id", cred.ID),
		))
}

// injectTrace writes the span's context into the request headers.
func (c *Client) injectTrace(ctx context.Context, h http.Header) {
	if c.tracer == nil {
		return
	}
	c.propagator.Inject(ctx, propagation.HeaderCarrier(h))
}

// endAttemptSpan records the answer and ends the span.
func endAttemptSpan(span trace.Span, status int, err error) {
	if !span.IsRecording() {
		span.End()
		return
	}
	if status != 0 {
		span.SetAttributes(attribute.Int("http.response.status_code", status))
	}
	switch {
	case err != nil:
		span.SetAttributes(attribute.String("error.type", errorType(err)))
		span.SetStatus(codes.Error, "no response")
	case status >= 400:
		span.SetAttributes(attribute.String("error.type", strconv.Itoa(status)))
		span.SetStatus(codes.Error, "")
	}
	span.End()
}

// errorType is a low-cardinality name for a transport failure (the error's
// text may carry addresses; its type does not).
func errorType(err error) string {
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "transport"
}
