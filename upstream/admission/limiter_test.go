package admission

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestLimiter fills every slot, then checks what the next caller hears:
// the queue timeout gives an *OverloadedError with its RetryAfter, the
// caller's deadline (or cancellation) gives the context's error; and the
// slots are free again once released.
func TestLimiter(t *testing.T) {
	tests := []struct {
		name      string
		callerTTL time.Duration // 0: no deadline
		cancel    bool
		queue     time.Duration
		wantErr   error // a context error, or nil for an *OverloadedError
		wantRetry time.Duration
	}{
		{name: "queue time-out: overloaded", queue: 20 * time.Millisecond, wantRetry: time.Second},
		{name: "long queue time-out is the retry delay", queue: 1100 * time.Millisecond, callerTTL: time.Hour, wantRetry: 1100 * time.Millisecond},
		{name: "caller deadline first", callerTTL: 20 * time.Millisecond, queue: time.Hour, wantErr: context.DeadlineExceeded},
		{name: "caller cancels", cancel: true, queue: time.Hour, wantErr: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 2
			l := NewLimiter(n, tt.queue)
			for range n {
				if err := l.Acquire(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.callerTTL > 0 {
				ctx, cancel = context.WithTimeout(ctx, tt.callerTTL)
				defer cancel()
			}
			if tt.cancel {
				cancel()
			}
			err := l.Acquire(ctx)
			var over *OverloadedError
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) || errors.As(err, &over) {
					t.Fatalf("err %v, want %v", err, tt.wantErr)
				}
			case !errors.As(err, &over):
				t.Fatalf("err %v, want an *OverloadedError", err)
			case over.RetryAfter() != tt.wantRetry || over.Slots != n:
				t.Fatalf("%+v: retry after %v, want %v", over, over.RetryAfter(), tt.wantRetry)
			}
			for range n {
				l.Release()
			}
			// The slots are free again.
			for range n {
				if err := l.Acquire(context.Background()); err != nil {
					t.Fatalf("after release: %v", err)
				}
			}
		})
	}
}

// TestLimiterWaiterGetsReleasedSlot: a caller queued for a slot gets it as
// soon as one is released, well before its queue timeout.
func TestLimiterWaiterGetsReleasedSlot(t *testing.T) {
	l := NewLimiter(1, time.Hour)
	if err := l.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := make(chan error)
	go func() { got <- l.Acquire(context.Background()) }()
	l.Release()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	l.Release()
}

// TestLimiterOff: n <= 0 is no limit.
func TestLimiterOff(t *testing.T) {
	l := NewLimiter(0, time.Second)
	for range 100 {
		if err := l.Acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	l.Release()
}

// TestLimiterFastPathAllocates: a free slot costs no allocation.
func TestLimiterFastPathAllocates(t *testing.T) {
	l := NewLimiter(4, time.Second)
	ctx := context.Background()
	if n := testing.AllocsPerRun(1000, func() {
		if err := l.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
		l.Release()
	}); n != 0 {
		t.Errorf("%v allocations per Acquire/Release, want 0", n)
	}
}

func BenchmarkLimiter(b *testing.B) {
	l := NewLimiter(32, time.Second)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Acquire(ctx); err != nil {
				b.Fatal(err)
			}
			l.Release()
		}
	})
}
