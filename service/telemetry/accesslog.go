package telemetry

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/procore-directory/procore-directory/upstream"
)

// AccessLog returns the interceptor that writes one structured line per
// call: request id, method, gRPC code, duration (duration_ms: milliseconds,
// fractional, which a person reads and a log query compares), what Procore answered (the
// last status, the number of requests sent, Procore's X-Request-Id) and the
// trace id when the call is traced. The request id is the caller's
// x-request-id when valid, else a new one, and is returned to the caller
// in the x-request-id metadata (returnRequestID). Nothing from the request or response
// body, and no credential, is logged.
func AccessLog(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		md, _ := metadata.FromIncomingContext(ctx)
		id := requestIDFromMetadata(md)
		ctx, stats := upstream.WithCallStats(ctx)
		resp, err := handler(ctx, req)
		returnRequestID(ctx, id, err)
		code := status.Code(err)
		level := slog.LevelInfo
		if isServerFault(code) {
			level = slog.LevelWarn
		}
		attrs := []slog.Attr{
			slog.String("request_id", id),
			slog.String("method", info.FullMethod),
			slog.String("code", code.String()),
			slog.Float64("duration_ms", durationMS(time.Since(start))),
			slog.Int("upstream_status", stats.StatusCode()),
			slog.Int("upstream_attempts", stats.Attempts()),
		}
		if rid := stats.RequestID(); rid != "" {
			attrs = append(attrs, slog.String("upstream_request_id", rid))
		}
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
		}
		log.LogAttrs(ctx, level, "call", attrs...)
		return resp, err
	}
}

// returnRequestID returns the request id to the caller: in the header
// metadata of a successful call, in the trailer of a failed one. A failed
// call must send no header metadata, so that it is a Trailers-Only
// response: gRPC clients never retry a call once response headers have
// arrived (gRFC A6), and a client's retry policy for UNAVAILABLE (the
// README's "Calling it from Go") would otherwise never take effect.
func returnRequestID(ctx context.Context, id string, err error) {
	md := metadata.Pairs(RequestIDHeader, id)
	if err != nil {
		_ = grpc.SetTrailer(ctx, md)
		return
	}
	_ = grpc.SetHeader(ctx, md)
}

// isServerFault reports the codes that point at this service or Procore
// rather than at the caller.
func isServerFault(code codes.Code) bool {
	switch code {
	case codes.Internal, codes.Unavailable, codes.DataLoss, codes.Unknown, codes.DeadlineExceeded:
		return true
	}
	return false
}

// durationMS is d in milliseconds, to the microsecond.
func durationMS(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}
