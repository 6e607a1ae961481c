package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"google.golang.org/grpc/stats"

	"github.com/procore-directory/procore-directory/upstream"
)

// Telemetry is directoryd's metrics registry and tracer provider, built
// once and passed to every component.
type Telemetry struct {
	// Registry holds every metric, with the Go runtime and process
	// collectors; /metrics serves it.
	Registry *prometheus.Registry
	// Metrics are the gRPC server's and the Procore client's.
	Metrics *Metrics
	// TracerProvider makes every span; it exports only when an OTLP
	// endpoint is configured.
	TracerProvider *sdktrace.TracerProvider
	// Propagator reads and writes W3C trace context and baggage.
	Propagator propagation.TextMapPropagator

	// recording: some processor or exporter reads the spans.
	recording bool
}

// Option configures New.
type Option func(*options)

type options struct {
	otlpEndpoint string
	log          *slog.Logger
	spans        []sdktrace.SpanProcessor
}

// WithOTLPEndpoint exports spans with OTLP/gRPC to endpoint (a URL, from
// the standard OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
// OTEL_EXPORTER_OTLP_ENDPOINT; the exporter reads the other
// OTEL_EXPORTER_OTLP_* variables itself). Without it nothing leaves the
// process.
func WithOTLPEndpoint(endpoint string) Option {
	return func(o *options) { o.otlpEndpoint = endpoint }
}

// WithSpanProcessor adds a span processor (tests record spans with one).
func WithSpanProcessor(p sdktrace.SpanProcessor) Option {
	return func(o *options) { o.spans = append(o.spans, p) }
}

// WithLogger sets the logger of start-up messages; the default discards.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.log = l }
}

// New builds the registry (with the Go runtime and process collectors)
// and the tracer provider. Spans are always created, so that trace ids
// reach the access log and Procore's traceparent header, but they are
// recorded only for a span processor and exported only with
// WithOTLPEndpoint.
func New(ctx context.Context, opts ...Option) (*Telemetry, error) {
	o := options{log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	reg := prometheus.NewRegistry()
	if err := errors.Join(
		reg.Register(collectors.NewGoCollector()),
		reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})),
	); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	m, err := NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	res, err := sdkresource.Merge(sdkresource.Default(), sdkresource.NewSchemaless(semconv.ServiceName("directoryd")))
	if err != nil {
		return nil, fmt.Errorf("tracing resource: %w", err)
	}
	tpOpts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	for _, p := range o.spans {
		tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(p))
	}
	if o.otlpEndpoint != "" {
		exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(o.otlpEndpoint))
		if err != nil {
			return nil, fmt.Errorf("OTLP trace exporter: %w", err)
		}
		tpOpts = append(tpOpts, sdktrace.WithBatcher(exp))
		o.log.Info("exporting traces with OTLP", "endpoint", o.otlpEndpoint)
	}
	recording := len(o.spans) > 0 || o.otlpEndpoint != ""
	if !recording {
		// Nothing would ever read a recorded span: keep the ids (the
		// access log's trace_id, Procore's traceparent) and record
		// nothing. The sampled flag sent on is then cleared, which is
		// what it means: this hop recorded no trace data. Recording
		// would build every span's attributes and events on every call
		// for no reader (BENCHMARKS.md, #15 second round).
		tpOpts = append(tpOpts, sdktrace.WithSampler(sdktrace.NeverSample()))
	}
	return &Telemetry{
		Registry:       reg,
		Metrics:        m,
		TracerProvider: sdktrace.NewTracerProvider(tpOpts...),
		Propagator:     propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		recording:      recording,
	}, nil
}

// Shutdown flushes spans still buffered.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	return t.TracerProvider.Shutdown(ctx)
}

// ClientOptions instrument the Procore client: metrics through its
// Observer, a client span per request, and the W3C traceparent header.
func (t *Telemetry) ClientOptions() []upstream.Option {
	return []upstream.Option{
		upstream.WithObserver(t.Metrics),
		upstream.WithTracerProvider(t.TracerProvider),
		upstream.WithPropagator(t.Propagator),
	}
}

// StatsHandler starts a server span for every gRPC call (otelgrpc),
// continuing the caller's W3C trace context; the span is in the handler's
// context, so the Procore client's spans are its children.
func (t *Telemetry) StatsHandler() stats.Handler {
	return otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(t.TracerProvider), otelgrpc.WithPropagators(t.Propagator))
}

// HTTPTracing is middleware that starts a server span for every HTTP
// request (otelhttp), continuing the caller's W3C trace context. When no
// span is recorded (no exporter, no processor) it only continues the
// caller's trace context: otelhttp's span, attributes and metrics would
// be computed for nothing: 13 % of a REST call's CPU (BENCHMARKS.md, #15
// second round). The ids are then the gRPC server span's, which the gateway's
// in-process call starts in that context, as it does under otelhttp's.
func (t *Telemetry) HTTPTracing(next http.Handler) http.Handler {
	if !t.recording {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(t.Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))))
		})
	}
	return otelhttp.NewHandler(next, "directoryd.gateway",
		otelhttp.WithTracerProvider(t.TracerProvider), otelhttp.WithPropagators(t.Propagator),
		// One low-cardinality name: the path carries ids.
		otelhttp.WithSpanNameFormatter(func(operation string, _ *http.Request) string { return operation }))
}

// MetricsHandler serves the registry in the Prometheus text format, for
// /metrics.
func (t *Telemetry) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(t.Registry, promhttp.HandlerOpts{})
}
