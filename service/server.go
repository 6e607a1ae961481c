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

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// Server is the gRPC server of directoryd: DirectoryService behind the
// interceptor chain every call passes (the REST gateway included), plus
// grpc.health.v1 and server reflection so grpcurl works with no .proto files.
type Server struct {
	grpc   *grpc.Server
	health *health.Server
	log    *slog.Logger
}

// serverConfig collects ServerOptions.
type serverConfig struct {
	passThrough  bool
	interceptors []grpc.UnaryServerInterceptor
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
	cfg := serverConfig{log: slog.New(slog.DiscardHandler)}
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
	g := grpc.NewServer(append([]grpc.ServerOption{grpc.ChainUnaryInterceptor(chain...)}, cfg.grpcOptions...)...)
	directoryv1.RegisterDirectoryServiceServer(g, svc)
	h := health.NewServer()
	healthpb.RegisterHealthServer(g, h)
	h.SetServingStatus(directoryv1.DirectoryService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	if err := registerReflection(g); err != nil {
		log.Warn("server reflection without comments", "err", err)
	}
	return &Server{grpc: g, health: h, log: log}
}

// Serve accepts connections on l until Shutdown; several listeners may be
// served at once (the gateway's in-process one among them).
func (s *Server) Serve(l net.Listener) error { return s.grpc.Serve(l) }

// Shutdown reports NOT_SERVING, stops accepting calls and waits for calls
// in flight until ctx is done; then it cancels what is left.
func (s *Server) Shutdown(ctx context.Context) {
	s.health.Shutdown()
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
}
