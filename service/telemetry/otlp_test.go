package telemetry_test

import (
	"context"
	"net"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"

	"github.com/procore-directory/procore-directory/service/telemetry"
)

// collector is a minimal OTLP/gRPC trace receiver.
type collector struct {
	collectortrace.UnimplementedTraceServiceServer
	got chan string // span names
}

func (c *collector) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				c.got <- sp.GetName()
			}
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

// TestTelemetryExportsWithOTLP: with an OTLP endpoint configured, spans
// reach the collector (flushed at shutdown).
func TestTelemetryExportsWithOTLP(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	col := &collector{got: make(chan string, 16)}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, col)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tel, err := telemetry.New(ctx, telemetry.WithOTLPEndpoint("http://"+lis.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	_, span := tel.TracerProvider.Tracer("test").Start(ctx, "exported-span")
	span.End()
	if err := tel.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case name := <-col.got:
		if name != "exported-span" {
			t.Fatalf("collector got %q", name)
		}
	case <-ctx.Done():
		t.Fatal("no span reached the collector")
	}
}
