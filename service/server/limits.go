package server

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/upstream"
)

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
func LimitUpstream(up service.Upstream, n int, queueTimeout time.Duration) service.Upstream {
	if n <= 0 {
		return up
	}
	if queueTimeout <= 0 {
		queueTimeout = DefaultUpstreamQueueTimeout
	}
	return &limitedUpstream{up: up, slots: make(chan struct{}, n), wait: queueTimeout}
}

type limitedUpstream struct {
	up    service.Upstream
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
		return service.NewError(codes.Unavailable, service.ReasonOverloaded,
			fmt.Sprintf("overloaded: all %d upstream slots stayed busy for %s; retry later", cap(l.slots), l.wait), nil,
			&errdetails.RetryInfo{RetryDelay: durationpb.New(retry)})
	}
}

func (l *limitedUpstream) release() { <-l.slots }
