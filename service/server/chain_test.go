package server

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
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
