package service

import (
	"context"
	"log/slog"
	"net"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/stats"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// Server is the gRPC server of directoryd: DirectoryService behind the
// interceptor chain every call passes (the REST gateway included), plus
// grpc.health.v1 and server reflection so grpcurl works with no .proto files.
type Server struct {
	grpc   *grpc.Server
	inproc *inProcessChannel
	health *health.Server
	log    *slog.Logger
}

// serverConfig collects ServerOptions.
type serverConfig struct {
	passThrough  bool
	interceptors []grpc.UnaryServerInterceptor
	stats        []stats.Handler
	workers      uint32
	grpcOptions  []grpc.ServerOption
	log          *slog.Logger
}

// ServerOption configures NewServer.
type ServerOption func(*serverConfig)

// WithPassThroughAuth makes every DirectoryService call carry the caller's
// own Procore token (see PassThroughAuth).
func WithPassThroughAuth() ServerOption {
	return func(c *serverConfig) { c.passThrough = true }
}

// WithUnaryInterceptors appends interceptors to the chain, after recovery
// and before authentication.
func WithUnaryInterceptors(i ...grpc.UnaryServerInterceptor) ServerOption {
	return func(c *serverConfig) { c.interceptors = append(c.interceptors, i...) }
}

// WithStatsHandlers adds stats handlers (instrumentation such as
// otelgrpc's) that see every call, the in-process channel's included;
// grpc.StatsHandler given through WithGRPCOptions would miss those.
func WithStatsHandlers(h ...stats.Handler) ServerOption {
	return func(c *serverConfig) { c.stats = append(c.stats, h...) }
}

// DefaultStreamWorkers is how many goroutines NewServer keeps to run gRPC
// calls. A call on a fresh goroutine grows its stack from 8 KiB to what
// protovalidate, encoding/json and the HTTP client need, copying it each
// time (~8 µs a call, 14 % of the gRPC path's own CPU in BENCHMARKS.md); a
// kept worker has grown it already. Calls beyond the workers in flight at
// once get a goroutine of their own, as without workers.
const DefaultStreamWorkers = 64

// WithStreamWorkers sets the number of kept goroutines that run gRPC calls
// (grpc.NumStreamWorkers); 0 starts a goroutine per call.
func WithStreamWorkers(n uint32) ServerOption {
	return func(c *serverConfig) { c.workers = n }
}

// WithGRPCOptions passes options to grpc.NewServer (credentials, limits).
func WithGRPCOptions(o ...grpc.ServerOption) ServerOption {
	return func(c *serverConfig) { c.grpcOptions = append(c.grpcOptions, o...) }
}

// WithServerLogger sets the logger of panics and lifecycle events.
func WithServerLogger(l *slog.Logger) ServerOption {
	return func(c *serverConfig) { c.log = l }
}

// NewServer returns a Server for svc.
func NewServer(svc *Service, opts ...ServerOption) *Server {
	cfg := serverConfig{log: slog.New(slog.DiscardHandler), workers: DefaultStreamWorkers}
	for _, o := range opts {
		o(&cfg)
	}
	log := cfg.log
	chain := []grpc.UnaryServerInterceptor{
		recovery.UnaryServerInterceptor(recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
			log.ErrorContext(ctx, "panic in handler", "panic", p)
			return newStatus(codes.Internal, ReasonInternal, "internal error", nil)
		})),
	}
	chain = append(chain, cfg.interceptors...)
	if cfg.passThrough {
		chain = append(chain, PassThroughAuth())
	}
	gopts := []grpc.ServerOption{grpc.ChainUnaryInterceptor(chain...), grpc.NumStreamWorkers(cfg.workers)}
	for _, sh := range cfg.stats {
		gopts = append(gopts, grpc.StatsHandler(sh))
	}
	g := grpc.NewServer(append(gopts, cfg.grpcOptions...)...)
	inproc := newInProcessChannel(chainUnary(chain), cfg.stats)
	h := health.NewServer()
	for _, r := range []grpc.ServiceRegistrar{g, inproc} {
		directoryv1.RegisterDirectoryServiceServer(r, svc)
		healthpb.RegisterHealthServer(r, h)
	}
	h.SetServingStatus(directoryv1.DirectoryService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	if err := registerReflection(g); err != nil {
		log.Warn("server reflection without comments", "err", err)
	}
	return &Server{grpc: g, inproc: inproc, health: h, log: log}
}

// InProcess returns a channel to this server for callers in the same
// process, the REST gateway above all: its calls run the same interceptors
// and stats handlers and the same handlers as network calls, without a
// socket, HTTP/2 or protobuf encoding. A caller identity forwarded in
// CallerIdentityHeader metadata is believed on this channel only (see
// CallerAuthentication), so hand it to nothing that relays calls for
// others without authenticating them first. It carries unary calls
// (DirectoryService and grpc.health.v1.Health/Check); after Shutdown it
// refuses calls with UNAVAILABLE.
func (s *Server) InProcess() grpc.ClientConnInterface { return s.inproc }

// Serve accepts connections on l until Shutdown; several listeners may be
// served at once.
func (s *Server) Serve(l net.Listener) error { return s.grpc.Serve(l) }

// Shutdown reports NOT_SERVING, stops accepting calls (network and
// in-process) and waits for calls in flight until ctx is done; then it
// cancels what is left.
func (s *Server) Shutdown(ctx context.Context) {
	s.health.Shutdown()
	inprocDone := make(chan bool, 1)
	go func() { inprocDone <- s.inproc.stop(ctx) }()
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.log.Warn("graceful stop timed out; cancelling calls in flight")
		s.grpc.Stop()
		<-done
	}
	if !<-inprocDone {
		s.log.Warn("graceful stop timed out; cancelled in-process calls in flight")
	}
}
