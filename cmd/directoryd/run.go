package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/upstream"
)

// run serves until ctx is done, then shuts down gracefully.
func run(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if !cfg.Ops.GOGCFromEnv {
		defer debug.SetGCPercent(debug.SetGCPercent(cfg.Ops.GCPercent))
	}

	if cfg.Dev {
		emu, err := startEmulator(log, cfg.DevRateLimits)
		if err != nil {
			return err
		}
		defer emu.close()
		cfg.UpstreamURL, cfg.TokenURL = emu.url, emu.url+"/oauth/token"
		cfg.ClientID, cfg.ClientSecret = emu.clientID, emu.clientSecret
	}

	tel, err := newTelemetry(ctx, cfg.Ops.OTLPEndpoint, log)
	if err != nil {
		return err
	}

	var ts upstream.TokenSource = upstream.PassThrough()
	if cfg.Auth == authClientCredentials {
		ts = upstream.ClientCredentials(clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			TokenURL:     cfg.TokenURL,
		})
	}
	client, err := upstream.New(cfg.UpstreamURL, append([]upstream.Option{upstream.WithTokenSource(ts), upstream.WithLogger(log)}, tel.clientOptions(cfg.Ops)...)...)
	if err != nil {
		return err
	}
	sec, err := newSecurity(cfg.Security, log)
	if err != nil {
		return err
	}
	svc, err := service.New(cfg.Limits.upstream(client), append([]service.Option{service.WithRequiredFields(cfg.RequiredFields), service.WithLogger(log)}, sec.serviceOptions()...)...)
	if err != nil {
		return err
	}
	serverOpts := append([]service.ServerOption{service.WithServerLogger(log), service.WithStreamWorkers(uint32(cfg.Ops.StreamWorkers))}, tel.serverOptions(log)...)
	if cfg.Auth == authPassThrough {
		serverOpts = append(serverOpts, service.WithPassThroughAuth())
	}
	serverOpts = append(append(serverOpts, cfg.Limits.serverOptions()...), sec.serverOptions()...)
	srv := service.NewServer(svc, serverOpts...)

	grpcLis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("gRPC listener: %w", err)
	}
	httpLis, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		grpcLis.Close()
		return fmt.Errorf("HTTP listener: %w", err)
	}

	// The gateway calls the service in process: every REST call passes the
	// same interceptors as a gRPC call, without a socket or HTTP/2 hop.
	gw, err := service.NewGateway(ctx, srv.InProcess(), append(tel.gatewayOptions(), sec.gatewayOptions()...)...)
	if err != nil {
		return err
	}
	httpSrv := &http.Server{
		Handler:           gw,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    cfg.Limits.MaxHeaderBytes,
		TLSConfig:         sec.httpTLS,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(grpcLis) }()
	go func() {
		if err := serveHTTP(httpSrv, httpLis); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	log.Info("directoryd serving", "grpc", grpcLis.Addr().String(), "http", httpLis.Addr().String(),
		"upstream", cfg.UpstreamURL, "auth", cfg.Auth, "required_fields", cfg.RequiredFields.String(), "dev", cfg.Dev, "callers", cfg.Security.describe())
	fmt.Fprintf(stdout, "directoryd listening: grpc=%s http=%s\n", grpcLis.Addr(), httpLis.Addr())
	if cfg.Dev {
		printDevHelp(stdout, grpcLis.Addr().String(), httpLis.Addr().String())
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	log.Info("directoryd shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := httpSrv.Shutdown(sctx); err != nil {
		log.Warn("HTTP shutdown incomplete", "err", err)
	}
	srv.Shutdown(sctx)
	if err := tel.shutdown(sctx); err != nil {
		log.Warn("trace export incomplete", "err", err)
	}
	return serveErr
}
