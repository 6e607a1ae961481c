// Package server has one job: assemble directoryd's serving stack from a
// Config. That is the Procore client, the DirectoryService core, the gRPC
// server with its one interceptor chain (chain.go), health and reflection,
// the in-process channel and the REST gateway on an HTTP server.
// cmd/directoryd builds a Config from its flags and calls New; tests call
// the same New, so they run the stack production runs.
//
// It must not import cmd/ or read flags, the environment or files (a
// Config carries everything), nor the test emulator (upstream/procoretest).
// The service core and the packages it assembles must not import it: it
// is the top of the stack, below only cmd/directoryd and bench/.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/auth"
	"github.com/procore-directory/procore-directory/service/batch"
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
	probes  *probes
	http    *http.Server
	handler http.Handler
	gate    *stopGate
	grace   time.Duration
	log     *slog.Logger
	batch   *batch.Batcher
}

// New builds the stack cfg describes. Nothing listens until ServeGRPC and
// ServeREST.
func New(ctx context.Context, cfg Config) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.Limits = cfg.Limits.withDefaults()
	up, err := cfg.upstream(log)
	if err != nil {
		return nil, err
	}
	svcOpts, err := cfg.serviceOptions(log)
	if err != nil {
		return nil, err
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

	gate, guard := newStopGate(), newDecodeGuard()
	chain, sh := cfg.interceptors(log, gate, guard), cfg.statsHandlers()
	gopts := []grpc.ServerOption{
		grpc.ForceServerCodecV2(guard),
		grpc.ChainUnaryInterceptor(chain...),
		grpc.ChainStreamInterceptor(cfg.streamInterceptors(guard)...),
		grpc.NumStreamWorkers(uint32(cfg.StreamWorkers)),
		grpc.MaxRecvMsgSize(cfg.Limits.MaxRecvMsgSize),
		grpc.MaxHeaderListSize(uint32(cfg.Limits.MaxHeaderListSize)),
		grpc.MaxConcurrentStreams(cfg.Limits.GRPCMaxConcurrentStreams),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             cfg.Limits.GRPCKeepaliveMinTime,
			PermitWithoutStream: cfg.Limits.GRPCKeepalivePermitWithoutStream,
		}),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: cfg.Limits.GRPCMaxConnectionIdle}),
	}
	for _, h := range sh {
		gopts = append(gopts, grpc.StatsHandler(h))
	}
	if cfg.GRPCCredentials != nil {
		gopts = append(gopts, grpc.Creds(cfg.GRPCCredentials))
	}
	g := grpc.NewServer(gopts...)
	inproc := inprocess.New(chain, sh)
	b, ops, err := cfg.batchParts(svc, up, log)
	if err != nil {
		return nil, err
	}
	h := health.NewServer()
	for _, r := range []grpc.ServiceRegistrar{g, inproc} {
		directoryv1.RegisterDirectoryServiceServer(r, directoryServer{Service: svc, batch: b, auditLister: cfg.auditLister(svc)})
		longrunningpb.RegisterOperationsServer(r, ops)
		healthpb.RegisterHealthServer(r, h)
	}
	h.SetServingStatus(directoryv1.DirectoryService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	if err := reflection.Register(g); err != nil {
		b.Stop(ctx, apierr.ErrStopping)
		return nil, fmt.Errorf("server reflection: %w", err)
	}

	gw, err := gateway.New(ctx, inproc, cfg.gatewayOptions()...)
	if err != nil {
		b.Stop(ctx, apierr.ErrStopping)
		return nil, err
	}
	return &Server{
		grpc:    g,
		inproc:  inproc,
		health:  h,
		probes:  newProbes(h, cfg.readinessDetail()),
		handler: gw,
		http: &http.Server{
			Handler:           gw,
			ReadHeaderTimeout: cfg.Limits.HTTPReadHeaderTimeout,
			ReadTimeout:       cfg.Limits.HTTPReadTimeout,
			IdleTimeout:       cfg.Limits.HTTPIdleTimeout,
			MaxHeaderBytes:    cfg.Limits.MaxHeaderBytes,
			HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: int(cfg.Limits.HTTPMaxConcurrentStreams)},
			TLSConfig:         cfg.HTTPTLS,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		gate:  gate,
		grace: cfg.StopAnswerGrace,
		log:   log,
		batch: b,
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
		upstream.WithBatchBudgetShare(cfg.Batch.BudgetShare),
		upstream.WithHTTPClient(upstream.NewHTTPClient(upstream.WithMaxResponseHeaderBytes(cfg.Limits.UpstreamMaxResponseHeaderBytes))),
	}
	if cfg.Telemetry != nil {
		opts = append(opts, cfg.Telemetry.ClientOptions()...)
	}
	opts = append(opts, cfg.sharedBudgets()...)
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
	if d := cfg.readinessDetail(); d != nil {
		opts = append(opts, gateway.WithReadinessDetail(d))
	}
	return append(opts, gateway.WithCallerIdentity(auth.CallerIdentityHeader, auth.IdentityFromCertificate))
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

// Shutdown stops the server without misinforming any caller:
//
//  1. at once, health reports NOT_SERVING (so /readyz answers 503), and
//     both listeners and the in-process channel stop admitting calls, in
//     parallel; a DirectoryService call that still arrives on an open
//     connection gets UNAVAILABLE (SHUTTING_DOWN), nothing sent;
//  2. calls in flight run to their upstream answer and get it, until ctx
//     is done;
//  3. then the calls still in flight are cancelled with apierr.ErrStopping:
//     each answers UNAVAILABLE (UPSTREAM_OUTCOME_UNKNOWN when its PATCH was
//     sent), written while the transports are open, within the answer
//     grace (Config.StopAnswerGrace);
//  4. only what is left after the grace is cut off.
//
// drained reports whether every call in flight finished by itself before
// ctx was done (false: some were cancelled), for the last log line.
func (s *Server) Shutdown(ctx context.Context) (drained bool) {
	s.gate.close()
	s.health.Shutdown()

	// One deadline for every transport: ctx's, plus the grace in which the
	// cancelled calls write their answers.
	hardCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	httpDone, grpcDone, inprocDone := make(chan error, 1), make(chan struct{}), make(chan bool, 1)
	batchDone := make(chan struct{})
	// The batch chunk in flight finishes and is recorded, within ctx.
	go func() { s.batch.Stop(ctx, apierr.ErrStopping); close(batchDone) }()
	go func() { httpDone <- s.http.Shutdown(hardCtx) }()
	go func() { s.grpc.GracefulStop(); close(grpcDone) }()
	go func() { inprocDone <- s.inproc.Stop(hardCtx) }()
	all := make(chan struct{})
	var httpErr error
	inprocDrained := true
	go func() {
		httpErr = <-httpDone
		<-grpcDone
		inprocDrained = <-inprocDone
		<-batchDone
		close(all)
	}()

	drained = true
	select {
	case <-all:
	case <-ctx.Done():
		select {
		case <-all: // finished as ctx ran out: nothing was cancelled
		default:
			drained = false
			s.log.Warn("graceful stop timed out; answering the calls in flight UNAVAILABLE")
			s.gate.abortInFlight()
			grace := time.NewTimer(s.grace)
			defer grace.Stop()
			select {
			case <-all:
			case <-grace.C:
				s.log.Warn("calls still in flight after the answer grace; closing their connections")
				cancel()
				s.grpc.Stop()
				_ = s.http.Close()
				<-all
			}
		}
	}
	if httpErr != nil && drained {
		s.log.Warn("HTTP shutdown incomplete", "err", httpErr)
		drained = false
	}
	if !inprocDrained {
		drained = false
	}
	s.probes.close(ctx)
	return drained
}
