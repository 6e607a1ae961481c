package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/stats"

	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/auth"
	"github.com/procore-directory/procore-directory/service/telemetry"
)

// interceptors is the one ordered list of unary interceptors every call
// passes, over the network and on the in-process channel alike, the first
// outermost:
//
//  1. recovery: a panic becomes INTERNAL, and everything below still ran
//     in a call that answers;
//  2. the access log, which so sees every call's final code, and the retry
//     pushback trailer for clients with a retry policy (pushback.go);
//  3. metrics (calls by method and code, handling time);
//  4. the stop gate, which refuses calls once the server stops and cancels
//     those in flight at the shutdown deadline with a cause the service
//     turns into a truthful UNAVAILABLE (stop.go);
//  5. a request that did not decode (guard): INVALID_ARGUMENT;
//  6. the call time-out, which caps every deadline;
//  7. caller authentication (mutual TLS) or, in pass-through mode, the
//     caller's Procore token: nothing reaches the service unauthenticated.
func (cfg *Config) interceptors(log *slog.Logger, gate *stopGate, guard *decodeGuard) []grpc.UnaryServerInterceptor {
	chain := []grpc.UnaryServerInterceptor{
		recovery.UnaryServerInterceptor(recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
			log.ErrorContext(ctx, "panic in handler", "panic", p)
			return apierr.New(codes.Internal, apierr.ReasonInternal, "internal error", nil)
		})),
		telemetry.AccessLog(log),
		RetryPushback(), // pushback.go
	}
	if cfg.Telemetry != nil {
		chain = append(chain, cfg.Telemetry.Metrics.UnaryServerInterceptor())
	}
	chain = append(chain, gate.interceptor, guard.Unary, CallTimeout(cfg.Limits.CallTimeout))
	if cfg.MutualTLS {
		chain = append(chain, auth.CallerAuthentication())
	}
	if cfg.passThrough() {
		chain = append(chain, auth.PassThroughAuth())
	}
	return chain
}

// streamInterceptors apply to the server's streams (Health/Watch,
// reflection): malformed messages are INVALID_ARGUMENT, and Watch streams
// are capped for the whole process.
func (cfg *Config) streamInterceptors(guard *decodeGuard) []grpc.StreamServerInterceptor {
	return []grpc.StreamServerInterceptor{
		guard.Stream,
		StreamCap(healthpb.Health_Watch_FullMethodName, cfg.Limits.MaxWatchStreams),
	}
}

// statsHandlers instrument every call (server spans), in process too.
func (cfg *Config) statsHandlers() []stats.Handler {
	if cfg.Telemetry == nil {
		return nil
	}
	return []stats.Handler{cfg.Telemetry.StatsHandler()}
}

// passThrough reports pass-through mode: the Procore client is built here
// (no Upstream given) and has no credential of its own.
func (cfg *Config) passThrough() bool {
	return cfg.Upstream == nil && cfg.ClientCredentials == nil
}

// CallTimeout returns the interceptor that caps every call's deadline at
// max from its start: a caller without a deadline, or with a longer one,
// cannot hold a goroutine, a connection and an upstream slot for ever.
// A shorter deadline of the caller's is kept.
func CallTimeout(max time.Duration) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if max <= 0 {
			return handler(ctx, req)
		}
		ctx, cancel := context.WithTimeout(ctx, max)
		defer cancel()
		return handler(ctx, req)
	}
}
