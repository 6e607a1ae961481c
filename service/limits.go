package service

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/procore-directory/procore-directory/upstream"
)

// Limits' defaults.
const (
	// DefaultMaxRecvMsgSize is just above the largest request: a 10 MiB
	// avatar plus the user's other fields.
	DefaultMaxRecvMsgSize = 10<<20 + 256<<10
	// DefaultMaxHeaderListSize bounds a call's metadata (gRPC) and, as
	// DefaultMaxHeaderBytes, an HTTP request's headers: room for a bearer
	// token, trace context and request id, not for abuse.
	DefaultMaxHeaderListSize = 64 << 10
	// DefaultMaxHeaderBytes is the HTTP server's header limit.
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultCallTimeout is the longest a call may run, whatever deadline
	// the caller asked for (or none).
	DefaultCallTimeout = 30 * time.Second
	// DefaultMaxConcurrentUpstream is how many Procore requests may be in
	// flight at once.
	DefaultMaxConcurrentUpstream = 32
	// DefaultUpstreamQueueTimeout is the longest a call waits for one of
	// those slots before it is told to come back later.
	DefaultUpstreamQueueTimeout = 2 * time.Second
)

// ReasonOverloaded is the ErrorInfo reason of a call refused because every
// upstream slot stayed busy (see LimitUpstream).
const ReasonOverloaded = "OVERLOADED"

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

// LimitUpstream decorates up so that at most n requests are in flight at
// once, protecting Procore's per-credential rate limit and this process
// from a burst of callers. A call waits for a slot at most queueTimeout
// and never past its own deadline. If its deadline runs out first the
// caller hears DEADLINE_EXCEEDED as usual; if queueTimeout runs out, it
// hears UNAVAILABLE (reason OVERLOADED) with a RetryInfo: UNAVAILABLE
// because the overload is this server's and transient, nothing was sent
// upstream so a retry is safe even for an update, and RESOURCE_EXHAUSTED
// stays reserved for Procore's own rate limit (UPSTREAM_RATE_LIMITED),
// which callers must be able to tell apart. n <= 0 returns up unchanged.
func LimitUpstream(up Upstream, n int, queueTimeout time.Duration) Upstream {
	if n <= 0 {
		return up
	}
	if queueTimeout <= 0 {
		queueTimeout = DefaultUpstreamQueueTimeout
	}
	return &limitedUpstream{up: up, slots: make(chan struct{}, n), wait: queueTimeout}
}

type limitedUpstream struct {
	up    Upstream
	slots chan struct{}
	wait  time.Duration
}

func (l *limitedUpstream) GetCompanyUser(ctx context.Context, companyID, userID int64) (*upstream.User, error) {
	if err := l.acquire(ctx); err != nil {
		return nil, err
	}
	defer l.release()
	return l.up.GetCompanyUser(ctx, companyID, userID)
}

func (l *limitedUpstream) UpdateCompanyUser(ctx context.Context, req upstream.UpdateRequest) (*upstream.User, error) {
	if err := l.acquire(ctx); err != nil {
		return nil, err
	}
	defer l.release()
	return l.up.UpdateCompanyUser(ctx, req)
}

func (l *limitedUpstream) acquire(ctx context.Context) error {
	select {
	case l.slots <- struct{}{}:
		return nil
	default:
	}
	timer := time.NewTimer(l.wait)
	defer timer.Stop()
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for an upstream slot: %w", ctx.Err())
	case <-timer.C:
		retry := max(time.Second, l.wait)
		return newStatus(codes.Unavailable, ReasonOverloaded,
			fmt.Sprintf("overloaded: all %d upstream slots stayed busy for %s; retry later", cap(l.slots), l.wait), nil,
			&errdetails.RetryInfo{RetryDelay: durationpb.New(retry)})
	}
}

func (l *limitedUpstream) release() { <-l.slots }
