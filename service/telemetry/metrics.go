package telemetry

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/procore-directory/procore-directory/upstream"
)

// maxCredentialLabels bounds the credential label of the rate-limit gauges:
// in pass-through mode every caller's token is its own credential, and an
// unbounded label would grow the series without limit. Credentials beyond
// it are not reported.
const maxCredentialLabels = 64

// Metrics is directoryd's Prometheus instrumentation: the gRPC server's
// metrics (go-grpc-middleware's provider: calls by method and code, and
// handling-time histograms) and the Procore client's, fed through
// upstream.Observer so the client itself does not depend on Prometheus.
// Everything is registered on the registry given to NewMetrics, never on
// the global one. Labels never carry a token or personal data: upstream
// calls are labelled by route template, and credentials by their
// non-secret ID.
type Metrics struct {
	upstream.NopObserver

	grpc              *grpcprom.ServerMetrics
	upstreamRequests  *prometheus.CounterVec
	upstreamDuration  *prometheus.HistogramVec
	upstreamRetries   *prometheus.CounterVec
	upstreamPerCall   *prometheus.HistogramVec
	rateLimitRemain   *prometheus.GaugeVec
	rateLimitLimit    *prometheus.GaugeVec
	rateLimitReset    *prometheus.GaugeVec
	tokenRefreshes    *prometheus.CounterVec
	breakerState      prometheus.Gauge
	breakerTransition *prometheus.CounterVec
	outcomes          // service.Observer (outcomes.go)

	mu          sync.Mutex
	credentials map[string]struct{}
}

// NewMetrics creates the metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		grpc: grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(
			grpcprom.WithHistogramBuckets([]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}),
		)),
		upstreamRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "directoryd_upstream_requests_total",
			Help: "HTTP requests sent to Procore, by method, route template and status code (0: no response).",
		}, []string{"method", "route", "code"}),
		upstreamDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "directoryd_upstream_request_duration_seconds",
			Help:    "Latency of HTTP requests to Procore, by method and route template.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method", "route"}),
		upstreamRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "directoryd_upstream_retries_total",
			Help: "Requests to Procore that were retries of an earlier attempt, by method and route template.",
		}, []string{"method", "route"}),
		upstreamPerCall: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "directoryd_upstream_requests_per_call",
			Help: "Procore requests (retries and the required-fields GET and retry included) one gRPC call made, by gRPC service and method; _sum/_count is Procore's rate budget per call.",
			// Integers: a bucket per count that matters (0: refused or
			// answered before Procore; 1: auto mode's ideal; 2: a GET
			// and a PATCH; 3: auto mode's first refused update).
			Buckets: []float64{0, 1, 2, 3, 4, 6, 8},
		}, []string{"grpc_service", "grpc_method"}),
		rateLimitRemain: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "directoryd_upstream_rate_limit_remaining",
			Help: "Requests left in Procore's current rate-limit window, as last reported, by credential ID.",
		}, []string{"credential"}),
		rateLimitLimit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "directoryd_upstream_rate_limit_limit",
			Help: "Size of Procore's reported rate-limit window, by credential ID.",
		}, []string{"credential"}),
		rateLimitReset: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "directoryd_upstream_rate_limit_reset_timestamp_seconds",
			Help: "When Procore's current rate-limit window ends (Unix seconds, X-Rate-Limit-Reset), as last reported, by credential ID; minus time() is the time to reset.",
		}, []string{"credential"}),
		tokenRefreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "directoryd_upstream_token_refreshes_total",
			Help: "Access tokens replaced after Procore rejected them, by result (ok or error).",
		}, []string{"result"}),
		breakerState: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "directoryd_upstream_circuit_state",
			Help: "State of the circuit breaker around Procore: 0 closed, 1 half-open, 2 open.",
		}),
		breakerTransition: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "directoryd_upstream_circuit_transitions_total",
			Help: "Circuit breaker state changes, by the state entered.",
		}, []string{"state"}),
		outcomes:    newOutcomes(),
		credentials: make(map[string]struct{}),
	}
	for _, c := range []prometheus.Collector{m.grpc, m.upstreamRequests, m.upstreamDuration, m.upstreamRetries, m.upstreamPerCall,
		m.rateLimitRemain, m.rateLimitLimit, m.rateLimitReset, m.tokenRefreshes, m.breakerState, m.breakerTransition,
		m.reconciliations, m.replays, m.auditLost} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	for _, r := range []string{"ok", "error"} {
		m.tokenRefreshes.WithLabelValues(r) // exported at 0 before the first refresh
	}
	return m, nil
}

// UnaryServerInterceptor counts and times every gRPC call (REST calls
// included, since the gateway goes through the gRPC server), and observes
// how many Procore requests each made. The count comes from the call's
// upstream.CallStats, which the access log, outside this interceptor, puts
// in the context; a call without one is not observed.
func (m *Metrics) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	inner := m.grpc.UnaryServerInterceptor()
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := inner(ctx, req, info, handler)
		if stats := upstream.CallStatsFrom(ctx); stats != nil {
			svc, method := splitMethod(info.FullMethod)
			m.upstreamPerCall.WithLabelValues(svc, method).Observe(float64(stats.Attempts()))
		}
		return resp, err
	}
}

// splitMethod splits "/package.Service/Method" as grpc_service and
// grpc_method, the labels of the gRPC server metrics.
func splitMethod(full string) (service, method string) {
	full = strings.TrimPrefix(full, "/")
	if i := strings.LastIndexByte(full, '/'); i >= 0 {
		return full[:i], full[i+1:]
	}
	return "unknown", full
}

// ObserveAttempt implements upstream.Observer.
func (m *Metrics) ObserveAttempt(_ context.Context, a upstream.AttemptInfo) {
	m.upstreamRequests.WithLabelValues(a.Method, a.Route, strconv.Itoa(a.StatusCode)).Inc()
	m.upstreamDuration.WithLabelValues(a.Method, a.Route).Observe(a.Duration.Seconds())
	if a.Attempt > 1 {
		m.upstreamRetries.WithLabelValues(a.Method, a.Route).Inc()
	}
}

// ObserveRateLimit implements upstream.Observer.
func (m *Metrics) ObserveRateLimit(credentialID string, rl upstream.RateLimit) {
	if !rl.Known || !m.trackCredential(credentialID) {
		return
	}
	m.rateLimitRemain.WithLabelValues(credentialID).Set(float64(rl.Remaining))
	m.rateLimitLimit.WithLabelValues(credentialID).Set(float64(rl.Limit))
	m.rateLimitReset.WithLabelValues(credentialID).Set(float64(rl.Reset.Unix()))
}

// trackCredential admits a credential label, up to maxCredentialLabels.
func (m *Metrics) trackCredential(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.credentials[id]; ok {
		return true
	}
	if len(m.credentials) >= maxCredentialLabels {
		return false
	}
	m.credentials[id] = struct{}{}
	return true
}

// ObserveTokenRefresh implements upstream.Observer.
func (m *Metrics) ObserveTokenRefresh(_ string, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.tokenRefreshes.WithLabelValues(result).Inc()
}

// ObserveBreakerState implements upstream.Observer.
func (m *Metrics) ObserveBreakerState(_, to upstream.BreakerState) {
	m.breakerState.Set(float64(to))
	m.breakerTransition.WithLabelValues(to.String()).Inc()
}
