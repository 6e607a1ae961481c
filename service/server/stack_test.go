package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/server"
	"github.com/procore-directory/procore-directory/service/telemetry"
	"github.com/procore-directory/procore-directory/upstream"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
	"github.com/procore-directory/procore-directory/upstream/procoretest/logsink"
)

// stack is the whole service in one process, built by server.New as
// directoryd builds it: the emulator on loopback, the real upstream client,
// the gRPC server on an in-memory listener and the REST gateway on an
// httptest server. startStack builds every stack of this package's tests
// and benchmarks; its options say how this one differs from directoryd's
// default configuration.
type stack struct {
	emu    *procoretest.Server // nil with withUpstream
	srv    *server.Server
	conn   *grpc.ClientConn // to srv's gRPC server, over an in-memory listener
	client directoryv1.DirectoryServiceClient
	rest   *httptest.Server
	// clientID is directoryd's own Procore client in client-credentials
	// mode ("" in pass-through mode).
	clientID string

	// With withLoopback: a connection to srv's gRPC server on loopback TCP.
	tcp *grpc.ClientConn

	// With withOps: the JSON logs, and (unless unrecorded) the ended spans.
	logs  *logsink.Buffer
	spans *tracetest.InMemoryExporter
	ended *spanWaiter
}

// stackOptions is what the options set; the zero value is directoryd's
// default configuration in client-credentials mode with the seed's
// Directory Admin client, against an emulator with its default options.
type stackOptions struct {
	emuOpts     []procoretest.Option
	emu         *procoretest.Server // shared emulator (benchmarks)
	upstream    service.Upstream    // replaces the Procore client: no emulator
	passThrough bool
	required    *service.RequiredFieldsMode
	upOpts      []upstream.Option
	configure   []func(*server.Config)
	ops         bool
	unrecorded  bool
	loopback    bool
}

// stackOption changes how startStack builds a stack.
type stackOption func(*stackOptions)

// withEmulator adds options to the emulator the stack starts (after any
// given before, so a later one wins).
func withEmulator(opts ...procoretest.Option) stackOption {
	return func(o *stackOptions) { o.emuOpts = append(o.emuOpts, opts...) }
}

// withoutRateLimits turns off the emulator's hourly and spike limits.
func withoutRateLimits() stackOption {
	return withEmulator(procoretest.WithHourlyLimit(0), procoretest.WithSpikeLimit(0))
}

// withSharedEmulator runs the stack against emu, which the caller started
// and stops, instead of an emulator of its own.
func withSharedEmulator(emu *procoretest.Server) stackOption {
	return func(o *stackOptions) { o.emu = emu }
}

// withUpstream replaces the Procore client with up (server.Config's
// Upstream): no emulator, no credential.
func withUpstream(up service.Upstream) stackOption {
	return func(o *stackOptions) { o.upstream = up }
}

// withPassThrough runs in pass-through mode: every call carries the
// caller's own Procore token.
func withPassThrough() stackOption { return func(o *stackOptions) { o.passThrough = true } }

// withRequired sets the required-fields mode (directoryd's default: auto).
func withRequired(mode service.RequiredFieldsMode) stackOption {
	return func(o *stackOptions) { o.required = &mode }
}

// withUpstreamOptions adds options to the Procore client (after the
// HTTP client withOps gives it).
func withUpstreamOptions(opts ...upstream.Option) stackOption {
	return func(o *stackOptions) { o.upOpts = append(o.upOpts, opts...) }
}

// withConfig changes the server.Config last, after every other option.
func withConfig(f func(*server.Config)) stackOption {
	return func(o *stackOptions) { o.configure = append(o.configure, f) }
}

// withOps wires the stack as directoryd wires it for operations
// (server.New with a telemetry.Telemetry): metrics on a private registry
// served at /metrics through the gateway, tracing into an in-memory
// exporter (s.spans, s.ended), JSON access logs into s.logs, request ids,
// pacing and the circuit breaker. Everything it starts is stopped at the
// end of the test, and goleak then checks that no goroutine is left
// behind.
func withOps() stackOption { return func(o *stackOptions) { o.ops = true } }

// withOpsUnrecorded is withOps without a span processor, as directoryd
// runs without an exporter (s.spans and s.ended are then nil).
func withOpsUnrecorded() stackOption {
	return func(o *stackOptions) { o.ops, o.unrecorded = true, true }
}

// withLoopback also serves gRPC on a loopback TCP listener (s.tcp).
func withLoopback() stackOption { return func(o *stackOptions) { o.loopback = true } }

// startStack builds a stack with server.New, serves gRPC on an in-memory
// listener and REST on an httptest server, and stops everything when the
// test ends.
func startStack(tb testing.TB, opts ...stackOption) *stack {
	tb.Helper()
	var o stackOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.ops {
		// Registered first, so it runs after every other cleanup.
		tb.Cleanup(func() { goleak.VerifyNone(tb, goleak.IgnoreCurrent()) })
	}
	s := &stack{}
	cfg := server.DefaultConfig()
	switch {
	case o.upstream != nil:
		cfg.Upstream = o.upstream
	default:
		s.emu = o.emu
		if s.emu == nil {
			s.emu = procoretest.NewServer(tb, o.emuOpts...)
		}
		cfg.UpstreamURL = s.emu.URL
		if !o.passThrough {
			admin, ok := s.emu.AdminClient()
			if !ok {
				tb.Fatal("the seed has no Directory Admin client")
			}
			cfg.ClientCredentials = &clientcredentials.Config{ClientID: admin.ClientID, ClientSecret: admin.ClientSecret, TokenURL: s.emu.TokenURL}
			s.clientID = admin.ClientID
		}
	}
	if o.required != nil {
		cfg.RequiredFields = *o.required
	}
	if o.ops {
		s.wireOps(tb, &cfg, o.unrecorded)
	}
	cfg.UpstreamOptions = append(cfg.UpstreamOptions, o.upOpts...)
	for _, f := range o.configure {
		f(&cfg)
	}

	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { srv.Shutdown(context.Background()) })
	s.srv = srv
	s.conn = dialBufconn(tb, srv)
	s.client = directoryv1.NewDirectoryServiceClient(s.conn)
	if o.loopback {
		s.tcp = dialLoopback(tb, srv)
	}
	s.rest = httptest.NewServer(srv.Handler())
	tb.Cleanup(s.rest.Close)
	tb.Cleanup(s.rest.Client().CloseIdleConnections)
	return s
}

// wireOps gives cfg directoryd's telemetry, a JSON logger into s.logs and
// Procore HTTP clients whose idle connections close at the test's end.
func (s *stack) wireOps(tb testing.TB, cfg *server.Config, unrecorded bool) {
	tb.Helper()
	var telOpts []telemetry.Option
	if !unrecorded {
		s.spans, s.ended = tracetest.NewInMemoryExporter(), newSpanWaiter()
		telOpts = append(telOpts, telemetry.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(s.spans)), telemetry.WithSpanProcessor(s.ended))
	}
	tel, err := telemetry.New(context.Background(), telOpts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	s.logs = &logsink.Buffer{}

	hc := upstream.NewHTTPClient()
	tb.Cleanup(hc.CloseIdleConnections)
	tokenHC := upstream.NewHTTPClient()
	tb.Cleanup(tokenHC.CloseIdleConnections)
	cfg.Telemetry = tel
	cfg.Logger = slog.New(slog.NewJSONHandler(s.logs, nil))
	cfg.TokenOptions = []upstream.ClientCredentialsOption{upstream.WithTokenHTTPClient(tokenHC)}
	cfg.UpstreamOptions = append([]upstream.Option{upstream.WithHTTPClient(hc)}, cfg.UpstreamOptions...)
}

// dialBufconn serves srv on an in-memory listener and returns a gRPC client
// connection to it: a network caller of the server, without a port.
func dialBufconn(tb testing.TB, srv *server.Server) *grpc.ClientConn {
	tb.Helper()
	lis := bufconn.Listen(1 << 20)
	go func() { _ = srv.ServeGRPC(lis) }()
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return conn
}

// dialLoopback serves srv on a loopback TCP listener it binds itself (port
// 0: the kernel picks a free one, nobody else can hold it) and returns a
// gRPC client connection to it.
func dialLoopback(tb testing.TB, srv *server.Server) *grpc.ClientConn {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go func() { _ = srv.ServeGRPC(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return conn
}

// patches returns the bodies of the PATCH requests the emulator received.
func (s *stack) patches(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, r := range s.emu.Requests() {
		if r.Method == http.MethodPatch {
			out = append(out, string(r.Body))
		}
	}
	return out
}

// do sends a REST request and returns the status and decoded JSON body.
func (s *stack) do(t *testing.T, method, path, contentType, body string, header ...string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.rest.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.rest.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, resp.Header, out
}

// doJSON is do with a JSON body.
func (s *stack) doJSON(t *testing.T, method, path, body string, header ...string) (int, http.Header, map[string]any) {
	t.Helper()
	return s.do(t, method, path, "application/json", body, header...)
}

func withToken(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}
