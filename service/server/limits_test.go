package server

import (
	"context"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/servicetest"
	"github.com/procore-directory/procore-directory/upstream"
)

func TestCallTimeout(t *testing.T) {
	tests := []struct {
		name       string
		callerTTL  time.Duration // 0: no deadline
		max        time.Duration
		wantAtMost time.Duration
	}{
		{name: "no caller deadline gets the cap", max: time.Minute, wantAtMost: time.Minute},
		{name: "longer caller deadline is capped", callerTTL: time.Hour, max: time.Minute, wantAtMost: time.Minute},
		{name: "shorter caller deadline is kept", callerTTL: time.Second, max: time.Minute, wantAtMost: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.callerTTL > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.callerTTL)
				defer cancel()
			}
			start := time.Now()
			_, _ = CallTimeout(tt.max)(ctx, nil, &grpc.UnaryServerInfo{}, func(ctx context.Context, _ any) (any, error) {
				dl, ok := ctx.Deadline()
				if !ok {
					t.Fatal("no deadline")
				}
				if got := dl.Sub(start); got > tt.wantAtMost+time.Second/2 || got < tt.wantAtMost-time.Second/2 {
					t.Errorf("deadline in %v, want about %v", got, tt.wantAtMost)
				}
				return nil, nil
			})
		})
	}
}

// blockingUpstream holds every call until release is closed, and reports
// each call's arrival on entered.
type blockingUpstream struct {
	entered chan struct{}
	release chan struct{}
}

func (b *blockingUpstream) GetCompanyUser(ctx context.Context, _, _ int64) (*upstream.User, error) {
	b.entered <- struct{}{}
	<-b.release
	return servicetest.SeedUser(), nil
}

func (b *blockingUpstream) UpdateCompanyUser(ctx context.Context, _ upstream.UpdateRequest) (*upstream.User, error) {
	return b.GetCompanyUser(ctx, 0, 0)
}

func TestLimitUpstream(t *testing.T) {
	tests := []struct {
		name      string
		callerTTL time.Duration
		queue     time.Duration
		wantCode  codes.Code
		wantRetry bool
	}{
		{name: "queue time-out: UNAVAILABLE with RetryInfo", queue: 20 * time.Millisecond, wantCode: codes.Unavailable, wantRetry: true},
		{name: "caller deadline first: DEADLINE_EXCEEDED", callerTTL: 20 * time.Millisecond, queue: time.Hour, wantCode: codes.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 2
			up := &blockingUpstream{entered: make(chan struct{}, n), release: make(chan struct{})}
			svc, err := service.New(LimitUpstream(up, n, tt.queue))
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, n)
			for range n {
				go func() {
					_, err := svc.GetCompanyUser(context.Background(), &directoryv1.GetCompanyUserRequest{CompanyId: 1, Id: 1})
					done <- err
				}()
			}
			for range n {
				<-up.entered // every slot is taken
			}
			ctx := context.Background()
			if tt.callerTTL > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.callerTTL)
				defer cancel()
			}
			_, err = svc.GetCompanyUser(ctx, &directoryv1.GetCompanyUserRequest{CompanyId: 1, Id: 1})
			if status.Code(err) != tt.wantCode {
				t.Fatalf("code %v (%v), want %v", status.Code(err), err, tt.wantCode)
			}
			var retry bool
			for _, d := range status.Convert(err).Details() {
				if _, ok := d.(*errdetails.RetryInfo); ok {
					retry = true
				}
			}
			if retry != tt.wantRetry {
				t.Errorf("RetryInfo %v, want %v", retry, tt.wantRetry)
			}
			close(up.release)
			for range n {
				if err := <-done; err != nil {
					t.Error(err)
				}
			}
			// The slots are free again.
			up.release = make(chan struct{})
			close(up.release)
			if _, err := svc.GetCompanyUser(context.Background(), &directoryv1.GetCompanyUserRequest{CompanyId: 1, Id: 1}); err != nil {
				t.Errorf("after release: %v", err)
			}
		})
	}
}
