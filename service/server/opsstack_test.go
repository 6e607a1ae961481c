package server_test

import (
	"github.com/procore-directory/procore-directory/upstream/procoretest/logsink"

	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"

	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/telemetry"
	"github.com/procore-directory/procore-directory/upstream"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// opsStack is the whole service wired as directoryd wires it for
// operations (server.New with a telemetry.Telemetry): metrics on a private
// registry served at /metrics through the gateway, tracing into an
// in-memory exporter, JSON access logs into a buffer, request ids, pacing
// and the circuit breaker.
type opsStack struct {
	*stack
	spans    *tracetest.InMemoryExporter
	ended    *spanWaiter
	logs     *logsink.Buffer
	clientID string
}

type opsConfig struct {
	emuOpts  []procoretest.Option
	upOpts   []upstream.Option
	required service.RequiredFieldsMode
	// unrecorded: no span processor, as directoryd runs without an
	// exporter (spans and ended are then nil).
	unrecorded bool
}

// newOpsStack builds the stack; everything it starts is stopped at the end
// of the test, and goleak then checks that no goroutine is left behind.
func newOpsStack(t *testing.T, cfg opsConfig) *opsStack {
	t.Helper()
	// Registered first, so it runs after every other cleanup.
	t.Cleanup(func() { goleak.VerifyNone(t, goleak.IgnoreCurrent()) })

	emu := procoretest.NewServer(t, cfg.emuOpts...)
	var (
		exp     *tracetest.InMemoryExporter
		ended   *spanWaiter
		telOpts []telemetry.Option
	)
	if !cfg.unrecorded {
		exp, ended = tracetest.NewInMemoryExporter(), newSpanWaiter()
		telOpts = append(telOpts, telemetry.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(exp)), telemetry.WithSpanProcessor(ended))
	}
	tel, err := telemetry.New(context.Background(), telOpts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	logs := &logsink.Buffer{}

	hc := upstream.NewHTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	tokenHC := upstream.NewHTTPClient()
	t.Cleanup(tokenHC.CloseIdleConnections)
	sc := stackServerConfig(t, emu, true)
	sc.RequiredFields = cfg.required
	sc.Telemetry = tel
	sc.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	sc.TokenOptions = []upstream.ClientCredentialsOption{upstream.WithTokenHTTPClient(tokenHC)}
	sc.UpstreamOptions = append([]upstream.Option{upstream.WithHTTPClient(hc)}, cfg.upOpts...)
	return &opsStack{stack: startStack(t, emu, sc), spans: exp, ended: ended, logs: logs, clientID: sc.ClientCredentials.ClientID}
}

// spanWaiter is a span processor that lets a test wait until a span has
// ended (a server span ends after the client already has its answer).
type spanWaiter struct {
	mu    sync.Mutex
	names map[string]int
	ch    chan struct{}
}

func newSpanWaiter() *spanWaiter {
	return &spanWaiter{names: map[string]int{}, ch: make(chan struct{})}
}

func (w *spanWaiter) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (w *spanWaiter) OnEnd(s sdktrace.ReadOnlySpan) {
	w.mu.Lock()
	w.names[s.Name()]++
	close(w.ch)
	w.ch = make(chan struct{})
	w.mu.Unlock()
}
func (w *spanWaiter) Shutdown(context.Context) error   { return nil }
func (w *spanWaiter) ForceFlush(context.Context) error { return nil }

// wait blocks until a span named name has ended n times, or ctx ends.
func (w *spanWaiter) wait(ctx context.Context, name string, n int) bool {
	for {
		w.mu.Lock()
		got, ch := w.names[name], w.ch
		w.mu.Unlock()
		if got >= n {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// sample is one line of the Prometheus text format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var (
	sampleRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
	labelRE  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// scrape GETs /metrics through the gateway and parses the samples.
func (s *opsStack) scrape(t *testing.T) []sample {
	t.Helper()
	resp, err := s.rest.Client().Get(s.rest.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %v", resp.StatusCode, err)
	}
	var out []sample
	for _, line := range strings.Split(string(raw), "\n") {
		m := sampleRE.FindStringSubmatch(line)
		if m == nil || strings.HasPrefix(line, "#") {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			continue
		}
		labels := map[string]string{}
		for _, l := range labelRE.FindAllStringSubmatch(m[2], -1) {
			labels[l[1]] = l[2]
		}
		out = append(out, sample{name: m[1], labels: labels, value: v})
	}
	return out
}

// value returns the value of the one sample of name whose labels include
// want; ok is false when there is none.
func value(samples []sample, name string, want map[string]string) (float64, bool) {
	for _, s := range samples {
		if s.name != name {
			continue
		}
		match := true
		for k, v := range want {
			if s.labels[k] != v {
				match = false
				break
			}
		}
		if match {
			return s.value, true
		}
	}
	return 0, false
}
