package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/server"
	"github.com/procore-directory/procore-directory/service/servicetest"
)

// TestProbes: the probe listener answers kubelet's native gRPC probe
// (plaintext h2c) and its HTTP probes, reaches nothing else, and stops
// with the server.
func TestProbes(t *testing.T) {
	cfg := server.DefaultConfig()
	cfg.Upstream = &servicetest.Upstream{Current: servicetest.SeedUser()}
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.ServeProbes(lis) }()
	addr := lis.Addr().String()

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	for _, svc := range []string{"", directoryv1.DirectoryService_ServiceDesc.ServiceName} {
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("gRPC health %q: %v %v", svc, resp.GetStatus(), err)
		}
	}
	_, err = directoryv1.NewDirectoryServiceClient(conn).GetCompanyUser(ctx, &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001})
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("DirectoryService on the probe listener: %v, want UNIMPLEMENTED", err)
	}

	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/healthz", http.StatusOK},
		{http.MethodGet, "/readyz", http.StatusOK},
		{http.MethodGet, "/v1/companies/8089/users/1001", http.StatusNotFound},
		{http.MethodGet, "/metrics", http.StatusNotFound},
		{http.MethodPatch, "/healthz", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, "http://"+addr+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, resp.StatusCode, tt.want)
		}
	}

	srv.Shutdown(ctx)
	if err := <-served; err != nil {
		t.Errorf("ServeProbes after Shutdown: %v", err)
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Error("the probe listener still accepts after Shutdown")
	}
}
