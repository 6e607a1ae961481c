package service

import (
	"log/slog"
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// WithAccessLog adds the access-log interceptor (see AccessLog). Give it
// before other interceptors so that it sees every call's final code.
func WithAccessLog(log *slog.Logger) ServerOption {
	return WithUnaryInterceptors(AccessLog(log))
}

// WithMetrics adds the gRPC server metrics of m (calls by method and code,
// handling time).
func WithMetrics(m *Metrics) ServerOption {
	return WithUnaryInterceptors(m.UnaryServerInterceptor())
}

// WithTracing makes the gRPC server start a server span for every call
// (otelgrpc's stats handler), continuing the caller's W3C trace context;
// the span is in the handler's context, so the Procore client's spans are
// its children. tp and prop are passed in, never taken from otel's globals.
func WithTracing(tp trace.TracerProvider, prop propagation.TextMapPropagator) ServerOption {
	return WithStatsHandlers(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(tp), otelgrpc.WithPropagators(prop)))
}

// GatewayOption configures NewGateway.
type GatewayOption func(*gatewayConfig)

// gatewayConfig collects GatewayOptions.
type gatewayConfig struct {
	handlers   []gatewayHandler
	middleware []func(http.Handler) http.Handler
}

type gatewayHandler struct {
	pattern string
	h       http.Handler
}

// WithGatewayHandler serves h at pattern (http.ServeMux syntax, e.g.
// "GET /metrics") beside the API routes.
func WithGatewayHandler(pattern string, h http.Handler) GatewayOption {
	return func(c *gatewayConfig) { c.handlers = append(c.handlers, gatewayHandler{pattern, h}) }
}

// WithGatewayMiddleware wraps the whole gateway in mw; the first given is
// the outermost.
func WithGatewayMiddleware(mw func(http.Handler) http.Handler) GatewayOption {
	return func(c *gatewayConfig) { c.middleware = append(c.middleware, mw) }
}

// WithGatewayTracing makes the gateway start a server span for every HTTP
// request (otelhttp), continuing the caller's W3C trace context.
func WithGatewayTracing(tp trace.TracerProvider, prop propagation.TextMapPropagator) GatewayOption {
	return WithGatewayMiddleware(func(h http.Handler) http.Handler {
		return otelhttp.NewHandler(h, "directoryd.gateway",
			otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(prop),
			// One low-cardinality name: the path carries ids.
			otelhttp.WithSpanNameFormatter(func(operation string, _ *http.Request) string { return operation }))
	})
}

// WithGatewayRequestID gives every HTTP request a request id (see
// RequestIDMiddleware), returned in the X-Request-Id response header.
func WithGatewayRequestID() GatewayOption {
	return WithGatewayMiddleware(RequestIDMiddleware)
}

// apply builds the extra routes into root and wraps h in the middleware.
func (c *gatewayConfig) apply(root *http.ServeMux, h http.Handler) http.Handler {
	for _, gh := range c.handlers {
		root.Handle(gh.pattern, gh.h)
	}
	for i := len(c.middleware) - 1; i >= 0; i-- {
		h = c.middleware[i](h)
	}
	return h
}
