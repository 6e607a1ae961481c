package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/upstream"
)

// run serves until ctx is done, then shuts down gracefully.
func run(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))

	if cfg.Dev {
		emu, err := startEmulator(log)
		if err != nil {
			return err
		}
		defer emu.close()
		cfg.UpstreamURL, cfg.TokenURL = emu.url, emu.url+"/oauth/token"
		cfg.ClientID, cfg.ClientSecret = emu.clientID, emu.clientSecret
	}

	var ts upstream.TokenSource = upstream.PassThrough()
	if cfg.Auth == authClientCredentials {
		ts = upstream.ClientCredentials(clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			TokenURL:     cfg.TokenURL,
		})
	}
	client, err := upstream.New(cfg.UpstreamURL, upstream.WithTokenSource(ts), upstream.WithLogger(log))
	if err != nil {
		return err
	}
	svc, err := service.New(client, service.WithRequiredFields(cfg.RequiredFields), service.WithLogger(log))
	if err != nil {
		return err
	}
	serverOpts := []service.ServerOption{service.WithServerLogger(log)}
	if cfg.Auth == authPassThrough {
		serverOpts = append(serverOpts, service.WithPassThroughAuth())
	}
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

	// The gateway reaches the gRPC server through an in-process listener:
	// every REST call passes the same interceptors, without a socket hop.
	inproc := bufconn.Listen(1 << 20)
	conn, err := grpc.NewClient("passthrough:///directoryd-inprocess",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return inproc.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	)
	if err != nil {
		return fmt.Errorf("gateway connection: %w", err)
	}
	defer conn.Close()
	gw, err := service.NewGateway(ctx, conn)
	if err != nil {
		return err
	}
	httpSrv := &http.Server{
		Handler:           gw,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	errc := make(chan error, 3)
	go func() { errc <- srv.Serve(grpcLis) }()
	go func() { errc <- srv.Serve(inproc) }()
	go func() {
		if err := httpSrv.Serve(httpLis); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	log.Info("directoryd serving", "grpc", grpcLis.Addr().String(), "http", httpLis.Addr().String(),
		"upstream", cfg.UpstreamURL, "auth", cfg.Auth, "required_fields", cfg.RequiredFields.String(), "dev", cfg.Dev)
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
	return serveErr
}
