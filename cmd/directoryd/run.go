package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/procore-directory/procore-directory/service/server"
	"github.com/procore-directory/procore-directory/service/telemetry"
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

	var telOpts []telemetry.Option
	if cfg.Ops.OTLPEndpoint != "" {
		telOpts = append(telOpts, telemetry.WithOTLPEndpoint(cfg.Ops.OTLPEndpoint))
	}
	tel, err := telemetry.New(ctx, append(telOpts, telemetry.WithLogger(log))...)
	if err != nil {
		return err
	}
	shared, closeShared, err := cfg.State.openShared(ctx, tel, log)
	if err != nil {
		return err
	}
	defer closeShared()
	sc, err := cfg.server(tel, log)
	if err != nil {
		return err
	}
	sc.SharedState = shared
	closeAudit, err := cfg.Audit.open(&sc, cfg.Auth, shared, stderr)
	if err != nil {
		return err
	}
	defer closeAudit()
	srv, err := server.New(ctx, sc)
	if err != nil {
		return err
	}

	grpcLis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("gRPC listener: %w", err)
	}
	httpLis, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		grpcLis.Close()
		return fmt.Errorf("HTTP listener: %w", err)
	}
	var debug *debugServer
	if cfg.Ops.DebugAddr != "" {
		if debug, err = startDebug(cfg.Ops.DebugAddr, log); err != nil {
			grpcLis.Close()
			httpLis.Close()
			return err
		}
		defer debug.close()
		log.Info("serving pprof", "debug", debug.lis.Addr().String())
		fmt.Fprintf(stdout, "directoryd debug: http://%s/debug/pprof/\n", debug.lis.Addr())
	}
	errc := make(chan error, 3)
	if cfg.ProbeAddr != "" {
		probeLis, err := net.Listen("tcp", cfg.ProbeAddr)
		if err != nil {
			grpcLis.Close()
			httpLis.Close()
			return fmt.Errorf("probe listener: %w", err)
		}
		go func() {
			if err := srv.ServeProbes(probeLis); err != nil {
				errc <- err
			}
		}()
	}
	go func() { errc <- srv.ServeGRPC(grpcLis) }()
	go func() {
		if err := srv.ServeREST(httpLis); err != nil {
			errc <- err
		}
	}()
	log.Info("directoryd serving", "grpc", grpcLis.Addr().String(), "http", httpLis.Addr().String(),
		"upstream", cfg.UpstreamURL, "auth", cfg.Auth, "required_fields", cfg.RequiredFields.String(), "admin_fields", cfg.AdminFields.String(), "dev", cfg.Dev, "callers", cfg.Security.describe(), "shared_state", shared != nil)
	fmt.Fprintf(stdout, "directoryd listening: grpc=%s http=%s\n", grpcLis.Addr(), httpLis.Addr())
	if cfg.ShutdownTimeout <= cfg.Limits.CallTimeout {
		log.Warn("--shutdown-timeout is not above --call-timeout: a stop may answer calls in flight UNAVAILABLE before Procore does",
			"shutdown_timeout", cfg.ShutdownTimeout.String(), "call_timeout", cfg.Limits.CallTimeout.String())
	}
	if cfg.Dev {
		printDevHelp(stdout, grpcLis.Addr().String(), httpLis.Addr().String())
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	log.Info("directoryd shutting down", "timeout", cfg.ShutdownTimeout.String())
	stopping := time.Now()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	drained := srv.Shutdown(sctx)
	if err := tel.Shutdown(sctx); err != nil {
		log.Warn("trace export incomplete", "err", err)
	}
	// The last line: how long the stop took and whether every call in
	// flight finished (drained) or some were cancelled at the time-out.
	log.Info("directoryd stopped", "shutdown_ms", float64(time.Since(stopping).Microseconds())/1000, "drained", drained)
	return serveErr
}

// server is the serving stack's configuration the flags describe.
func (c *Config) server(tel *telemetry.Telemetry, log *slog.Logger) (server.Config, error) {
	sc := server.DefaultConfig()
	sc.UpstreamURL = c.UpstreamURL
	if c.Auth == authClientCredentials {
		sc.ClientCredentials = &clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: c.TokenURL}
	}
	sc.RequiredFields = c.RequiredFields
	sc.AdminFields = c.AdminFields
	sc.Limits = c.Limits
	sc.PacingBurst = c.Ops.PacingBurst
	sc.Breaker = c.Ops.Breaker
	sc.StreamWorkers = c.Ops.StreamWorkers
	c.State.apply(&sc)
	c.Batch.apply(&sc)
	sc.Telemetry = tel
	sc.Logger = log
	return sc, c.Security.apply(&sc, log)
}
