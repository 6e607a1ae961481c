package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// debugAddr checks --debug-addr: an empty host means loopback, and any
// other host that is not a loopback address is refused unless
// --debug-allow-remote. The profiles show the code's paths and can cost a
// replica CPU (a 30 s CPU profile, a trace), so they are for an operator on
// the host (or a port-forward), never for the network by accident.
func debugAddr(addr string, allowRemote bool) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--debug-addr: %w", err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); !allowRemote && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("--debug-addr %q is not a loopback address: pprof exposes profiles of the process; set --debug-allow-remote to serve it there anyway", addr)
	}
	return net.JoinHostPort(host, port), nil
}

// debugHandler serves net/http/pprof under /debug/pprof/ on a mux of its
// own: importing net/http/pprof also registers on http.DefaultServeMux,
// which directoryd never serves.
func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// debugServer is the --debug-addr listener and its server.
type debugServer struct {
	lis net.Listener
	srv *http.Server
}

// startDebug listens on addr and serves pprof until shutdown. Its errors
// are logged, never fatal: profiling is not the service.
func startDebug(addr string, log *slog.Logger) (*debugServer, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("debug listener: %w", err)
	}
	d := &debugServer{lis: lis, srv: &http.Server{
		Handler:           debugHandler(),
		ReadHeaderTimeout: 10 * time.Second,
		// No WriteTimeout: /debug/pprof/profile?seconds=30 writes after 30 s.
	}}
	go func() {
		if err := d.srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("debug server stopped", "err", err)
		}
	}()
	return d, nil
}

// close stops the debug server at once: a profile in progress is cut
// short rather than holding up the shutdown.
func (d *debugServer) close() {
	if d != nil {
		_ = d.srv.Close()
	}
}
