package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// probes is the plaintext listener for an orchestrator's probes. With
// mutual TLS on the API listeners, kubelet's native gRPC probe (which
// speaks plaintext HTTP/2 only) and its httpGet probe (which presents no
// client certificate) cannot reach the health endpoints there, so they get
// a listener of their own that serves grpc.health.v1 (over h2c) and
// GET /healthz and /readyz, and nothing else: no DirectoryService call and
// no data can be reached through it. It reports the same health.Server as
// the API listeners, so a drain shows on it at once.
type probes struct {
	grpc *grpc.Server
	http *http.Server
}

func newProbes(h *health.Server, detail func() string) *probes {
	g := grpc.NewServer()
	healthpb.RegisterHealthServer(g, h)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		resp, err := h.Check(r.Context(), &healthpb.HealthCheckRequest{Service: directoryv1.DirectoryService_ServiceDesc.ServiceName})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			http.Error(w, "not ready"+detailLine(detail), http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n"+strings.TrimPrefix(detailLine(detail)+"\n", "\n"))
	})
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true) // gRPC health checks, prior knowledge
	return &probes{grpc: g, http: &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
				g.ServeHTTP(w, r)
				return
			}
			mux.ServeHTTP(w, r)
		}),
		Protocols:         &protocols,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    8 << 10,
	}}
}

// ServeProbes serves the probe endpoints on l (plaintext: give it a port
// that only the orchestrator reaches) until Shutdown, which makes it
// return nil. See Config.
func (s *Server) ServeProbes(l net.Listener) error {
	err := s.probes.http.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("probe server: %w", err)
}

// close stops the probe listener; it runs last in Shutdown, so probes see
// NOT_SERVING for the whole drain.
func (p *probes) close(ctx context.Context) {
	_ = p.http.Shutdown(ctx)
	p.grpc.Stop()
}

// detailLine is "\n" and detail's line, or "" without detail.
func detailLine(detail func() string) string {
	if detail == nil {
		return ""
	}
	return "\n" + detail()
}
