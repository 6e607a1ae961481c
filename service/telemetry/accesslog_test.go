package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// TestAccessLogDurationMS: the call's duration is logged as duration_ms,
// fractional milliseconds (not nanoseconds, not a Go duration string), and
// the level follows whose fault the code is.
func TestAccessLogDurationMS(t *testing.T) {
	const took = 15 * time.Millisecond
	tests := []struct {
		name      string
		err       error
		wantCode  string
		wantLevel string
	}{
		{"ok", nil, "OK", "INFO"},
		{"caller's fault", status.Error(codes.InvalidArgument, "bad"), "InvalidArgument", "INFO"},
		{"server's fault", status.Error(codes.Unavailable, "down"), "Unavailable", "WARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&buf, nil))
			handler := func(ctx context.Context, _ any) (any, error) {
				time.Sleep(took) // the duration being measured, not a synchronisation
				return nil, tt.err
			}
			_, _ = AccessLog(log)(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/x.Y/Z"}, handler)
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("%q: %v", buf.String(), err)
			}
			ms, ok := line["duration_ms"].(float64)
			if !ok {
				t.Fatalf("duration_ms %#v is not a JSON number: %s", line["duration_ms"], buf.String())
			}
			if want := float64(took.Milliseconds()); ms < want || ms > 60_000 {
				t.Errorf("duration_ms %v, want at least %v milliseconds (and not nanoseconds)", ms, want)
			}
			if _, ok := line["duration"]; ok {
				t.Errorf("the old duration key is still logged: %s", buf.String())
			}
			if line["code"] != tt.wantCode || line["level"] != tt.wantLevel || line["msg"] != "call" {
				t.Errorf("code %v level %v msg %v, want %s %s call", line["code"], line["level"], line["msg"], tt.wantCode, tt.wantLevel)
			}
		})
	}
}

func TestDurationMS(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want float64
	}{
		{0, 0},
		{1500 * time.Microsecond, 1.5},
		{2 * time.Second, 2000},
		{999 * time.Nanosecond, 0}, // below the microsecond
	}
	for _, tt := range tests {
		if got := durationMS(tt.d); got != tt.want {
			t.Errorf("durationMS(%v) = %v, want %v", tt.d, got, tt.want)
		}
	}
}

// BenchmarkAccessLog is the interceptor's own cost per call around a
// handler that does nothing: a JSON line at info (to io.Discard) with a
// trace id, as directoryd writes it.
func BenchmarkAccessLog(b *testing.B) {
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	intercept := AccessLog(log)
	info := &grpc.UnaryServerInfo{FullMethod: "/procore.directory.v1.DirectoryService/UpdateCompanyUser"}
	ctx := grpc.NewContextWithServerTransportStream(context.Background(), discardStream{})
	ctx = trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5}, TraceFlags: trace.FlagsSampled,
	}))
	handler := func(context.Context, any) (any, error) { return nil, nil }
	b.ReportAllocs()
	for b.Loop() {
		if _, err := intercept(ctx, nil, info, handler); err != nil {
			b.Fatal(err)
		}
	}
}

// discardStream is a grpc.ServerTransportStream that takes any metadata, so
// that the benchmark measures a call with a stream, as the server has.
type discardStream struct{}

func (discardStream) Method() string {
	return "/procore.directory.v1.DirectoryService/UpdateCompanyUser"
}
func (discardStream) SetHeader(metadata.MD) error  { return nil }
func (discardStream) SendHeader(metadata.MD) error { return nil }
func (discardStream) SetTrailer(metadata.MD) error { return nil }
