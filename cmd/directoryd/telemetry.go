package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/upstream"
)

// telemetry is directoryd's metrics registry and tracer provider, built
// once in run and passed to every component (nothing is registered on
// Prometheus's or OpenTelemetry's globals).
type telemetry struct {
	registry   *prometheus.Registry
	metrics    *service.Metrics
	tracer     *sdktrace.TracerProvider
	propagator propagation.TextMapPropagator
}

// newTelemetry builds the registry (with the Go runtime and process
// collectors) and the tracer provider. Spans are always created, so that
// trace ids reach the access log and Procore's traceparent header, but they
// are exported only when an OTLP endpoint is configured (the standard
// OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; the
// exporter reads the other OTEL_EXPORTER_OTLP_* variables itself).
func newTelemetry(ctx context.Context, otlpEndpoint string, log *slog.Logger) (*telemetry, error) {
	reg := prometheus.NewRegistry()
	if err := errors.Join(
		reg.Register(collectors.NewGoCollector()),
		reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})),
	); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	m, err := service.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	res, err := sdkresource.Merge(sdkresource.Default(), sdkresource.NewSchemaless(semconv.ServiceName("directoryd")))
	if err != nil {
		return nil, fmt.Errorf("tracing resource: %w", err)
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if otlpEndpoint != "" {
		exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(otlpEndpoint))
		if err != nil {
			return nil, fmt.Errorf("OTLP trace exporter: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
		log.Info("exporting traces with OTLP", "endpoint", otlpEndpoint)
	}
	return &telemetry{
		registry:   reg,
		metrics:    m,
		tracer:     sdktrace.NewTracerProvider(opts...),
		propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}, nil
}

// shutdown flushes spans still buffered.
func (t *telemetry) shutdown(ctx context.Context) error {
	return t.tracer.Shutdown(ctx)
}

// clientOptions instrument the Procore client and apply the operations
// configuration (pacing, circuit breaker).
func (t *telemetry) clientOptions(ops OpsConfig) []upstream.Option {
	return append(ops.upstreamOptions(),
		upstream.WithObserver(t.metrics),
		upstream.WithTracerProvider(t.tracer),
		upstream.WithPropagator(t.propagator))
}

// serverOptions add, in this order, the access log, the gRPC metrics and
// server spans.
func (t *telemetry) serverOptions(log *slog.Logger) []service.ServerOption {
	return []service.ServerOption{
		service.WithAccessLog(log),
		service.WithMetrics(t.metrics),
		service.WithTracing(t.tracer, t.propagator),
	}
}

// gatewayOptions serve /metrics and add request ids and HTTP server spans.
func (t *telemetry) gatewayOptions() []service.GatewayOption {
	return []service.GatewayOption{
		service.WithGatewayHandler("GET /metrics", service.MetricsHandler(t.registry)),
		service.WithGatewayRequestID(),
		service.WithGatewayTracing(t.tracer, t.propagator),
	}
}
