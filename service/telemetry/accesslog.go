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

	"github.com/procore-directory/procore-directory/service/audit"
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
		id := requestIDFromContext(ctx)
		ctx, stats := upstream.WithCallStats(audit.WithCallID(ctx, id))
		resp, err := handler(ctx, req)
		returnRequestID(ctx, id, err)
		code := status.Code(err)
		level := slog.LevelInfo
		if isServerFault(code) {
			level = slog.LevelWarn
		}
		if !log.Enabled(ctx, level) {
			return resp, err
		}
		// The record is built here rather than by log.LogAttrs, which
		// walks the stack for a caller PC on every call (runtime.Callers)
		// that only HandlerOptions.AddSource uses, and directoryd's logger
		// does not; the interceptor's own line would be no use as a source
		// anyway. The end time is read once, for the record and the
		// duration.
		end := time.Now()
		// The attributes go to the record in one AddAttrs call: a record
		// holds five inline and grows a slice for the rest, once per call
		// of AddAttrs that overflows.
		attrs := [8]slog.Attr{
			slog.String("request_id", id),
			slog.String("method", info.FullMethod),
			slog.String("code", code.String()),
			slog.Float64("duration_ms", durationMS(end.Sub(start))),
			slog.Int("upstream_status", stats.StatusCode()),
			slog.Int("upstream_attempts", stats.Attempts()),
		}
		n := 6
		if rid := stats.RequestID(); rid != "" {
			attrs[n] = slog.String("upstream_request_id", rid)
			n++
		}
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			attrs[n] = slog.String("trace_id", sc.TraceID().String())
			n++
		}
		r := slog.NewRecord(end, level, "call", 0)
		r.AddAttrs(attrs[:n]...)
		_ = log.Handler().Handle(ctx, r)
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
