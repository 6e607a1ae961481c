// Package server assembles directoryd's serving stack from a Config: the
// Procore client, the DirectoryService core, the gRPC server with its one
// interceptor chain (chain.go), health and reflection, the in-process
// channel and the REST gateway on an HTTP server. cmd/directoryd builds a
// Config from its flags and calls New; tests call the same New, so they
// run the stack production runs.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/gateway"
	"github.com/procore-directory/procore-directory/service/inprocess"
	"github.com/procore-directory/procore-directory/service/reflection"
	"github.com/procore-directory/procore-directory/service/telemetry"
	"github.com/procore-directory/procore-directory/upstream"
)

// Server is directoryd's serving stack: DirectoryService behind the
// interceptor chain, over gRPC and over REST.
type Server struct {
	grpc    *grpc.Server
	inproc  *inprocess.Channel
	health  *health.Server
	http    *http.Server
	handler http.Handler
	log     *slog.Logger
}

// New builds the stack cfg describes. Nothing listens until ServeGRPC and
// ServeREST.
func New(ctx context.Context, cfg Config) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	up, err := cfg.upstream(log)
	if err != nil {
		return nil, err
	}
	svcOpts := []service.Option{service.WithRequiredFields(cfg.RequiredFields), service.WithAdminFields(cfg.AdminFields), service.WithLogger(log)}
	if cfg.Authorizer != nil {
		svcOpts = append(svcOpts, service.WithAuthorizer(cfg.Authorizer))
	}
	if cfg.ClientCredentials != nil {
		// directoryd's own credential: a Directory Admin's, so that callers
		// the policy grants directory_admin can do their job (README).
		svcOpts = append(svcOpts, service.WithDirectoryAdminCredential())
	}
	svc, err := service.New(up, svcOpts...)
	if err != nil {
		return nil, err
	}

	chain, sh := cfg.interceptors(log), cfg.statsHandlers()
	gopts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(chain...),
		grpc.NumStreamWorkers(uint32(cfg.StreamWorkers)),
		grpc.MaxRecvMsgSize(cfg.Limits.MaxRecvMsgSize),
		grpc.MaxHeaderListSize(uint32(cfg.Limits.MaxHeaderListSize)),
	}
	for _, h := range sh {
		gopts = append(gopts, grpc.StatsHandler(h))
	}
	if cfg.GRPCCredentials != nil {
		gopts = append(gopts, grpc.Creds(cfg.GRPCCredentials))
	}
	g := grpc.NewServer(gopts...)
	inproc := inprocess.New(chain, sh)
	h := health.NewServer()
	for _, r := range []grpc.ServiceRegistrar{g, inproc} {
		directoryv1.RegisterDirectoryServiceServer(r, svc)
		healthpb.RegisterHealthServer(r, h)
	}
	h.SetServingStatus(directoryv1.DirectoryService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	if err := reflection.Register(g); err != nil {
		return nil, fmt.Errorf("server reflection: %w", err)
	}

	gw, err := gateway.New(ctx, inproc, cfg.gatewayOptions()...)
	if err != nil {
		return nil, err
	}
	return &Server{
		grpc:    g,
		inproc:  inproc,
		health:  h,
		handler: gw,
		http: &http.Server{
			Handler:           gw,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    cfg.Limits.MaxHeaderBytes,
			TLSConfig:         cfg.HTTPTLS,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		log: log,
	}, nil
}

// upstream is the Procore client cfg describes, or cfg.Upstream.
func (cfg *Config) upstream(log *slog.Logger) (service.Upstream, error) {
	if cfg.Upstream != nil {
		return cfg.Upstream, nil
	}
	ts := upstream.PassThrough()
	if cfg.ClientCredentials != nil {
		ts = upstream.ClientCredentials(*cfg.ClientCredentials, cfg.TokenOptions...)
	}
	opts := []upstream.Option{
		upstream.WithTokenSource(ts),
		upstream.WithLogger(log),
		upstream.WithPacing(cfg.PacingBurst),
		upstream.WithCircuitBreaker(cfg.Breaker),
		upstream.WithConcurrencyLimit(cfg.Limits.MaxConcurrentUpstream, cfg.Limits.UpstreamQueueTimeout),
	}
	if cfg.Telemetry != nil {
		opts = append(opts, cfg.Telemetry.ClientOptions()...)
	}
	return upstream.New(cfg.UpstreamURL, append(opts, cfg.UpstreamOptions...)...)
}

// gatewayOptions are /metrics and the gateway's middleware, outermost
// first: request ids, HTTP server spans, and the caller's verified
// identity (with the removal of forged ones), which is always on.
func (cfg *Config) gatewayOptions() []gateway.Option {
	var opts []gateway.Option
	if t := cfg.Telemetry; t != nil {
		opts = append(opts,
			gateway.WithHandler("GET /metrics", t.MetricsHandler()),
			gateway.WithMiddleware(telemetry.RequestIDMiddleware),
			gateway.WithMiddleware(t.HTTPTracing))
	}
	return append(opts, gateway.WithMiddleware(gateway.ForwardCallerIdentity))
}

// InProcess returns a channel to this server for callers in the same
// process, the REST gateway above all: its calls run the same interceptors
// and stats handlers and the same handlers as network calls, without a
// socket, HTTP/2 or protobuf encoding. A caller identity forwarded in
// auth.CallerIdentityHeader metadata is believed on this channel only, so
// hand it to nothing that relays calls for others without authenticating
// them first. After Shutdown it refuses calls with UNAVAILABLE.
func (s *Server) InProcess() grpc.ClientConnInterface { return s.inproc }

// Handler is the REST gateway, for tests that serve it with httptest.
func (s *Server) Handler() http.Handler { return s.handler }

// ServeGRPC accepts gRPC connections on l until Shutdown.
func (s *Server) ServeGRPC(l net.Listener) error { return s.grpc.Serve(l) }

// ServeREST serves the REST gateway on l (over TLS when Config.HTTPTLS is
// set) until Shutdown, which makes it return nil.
func (s *Server) ServeREST(l net.Listener) error {
	var err error
	if s.http.TLSConfig == nil {
		err = s.http.Serve(l)
	} else {
		err = s.http.ServeTLS(l, "", "")
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("HTTP server: %w", err)
}

// Shutdown reports NOT_SERVING, stops accepting calls (HTTP, gRPC and
// in-process) and waits for calls in flight until ctx is done; then it
// cancels what is left. drained reports whether every call in flight
// finished by itself before ctx was done (false: some were cancelled),
// for the last log line of a process.
func (s *Server) Shutdown(ctx context.Context) (drained bool) {
	drained = true
	s.health.Shutdown()
	if err := s.http.Shutdown(ctx); err != nil {
		s.log.Warn("HTTP shutdown incomplete", "err", err)
		drained = false
	}
	inprocDone := make(chan bool, 1)
	go func() { inprocDone <- s.inproc.Stop(ctx) }()
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		select {
		case <-done: // finished as ctx ran out: nothing was cancelled
		default:
			s.log.Warn("graceful stop timed out; cancelling calls in flight")
			drained = false
			s.grpc.Stop()
			<-done
		}
	}
	if !<-inprocDone {
		s.log.Warn("graceful stop timed out; cancelled in-process calls in flight")
		drained = false
	}
	return drained
}
