package upstream

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

// TestConcurrencyLimit holds the only slot with a call Procore has not
// answered yet, then checks what the next call hears, and that it sent
// nothing: the queue timeout gives KindOverloaded with a RetryAfter of at
// least a second, the caller's deadline gives the context's error.
func TestConcurrencyLimit(t *testing.T) {
	tests := []struct {
		name      string
		callerTTL time.Duration
		queue     time.Duration
		wantKind  ErrorKind
		wantCause error
	}{
		{name: "queue time-out: overloaded", queue: 20 * time.Millisecond, wantKind: KindOverloaded},
		{name: "caller deadline first", callerTTL: 20 * time.Millisecond, queue: time.Hour, wantKind: KindUnavailable, wantCause: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entered, release := make(chan struct{}), make(chan struct{})
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
				entered <- struct{}{}
				<-release
				writeUser(w)
			})
			c, _, ctx := newTestClient(t, f.URL, WithConcurrencyLimit(1, tt.queue))
			first := make(chan error)
			go func() {
				_, err := c.GetCompanyUser(ctx, 1, 1)
				first <- err
			}()
			<-entered // the slot is taken
			cctx := ctx
			if tt.callerTTL > 0 {
				var cancel context.CancelFunc
				cctx, cancel = context.WithTimeout(ctx, tt.callerTTL)
				defer cancel()
			}
			_, err := c.GetCompanyUser(cctx, 1, 1)
			e := asError(t, err)
			if e.Kind != tt.wantKind || e.Attempts != 0 {
				t.Fatalf("kind %v after %d attempts (%v), want %v after none", e.Kind, e.Attempts, e, tt.wantKind)
			}
			if tt.wantKind == KindOverloaded && e.RetryAfter != time.Second {
				t.Errorf("retry after %v, want 1s", e.RetryAfter)
			}
			if tt.wantCause != nil && !errors.Is(err, tt.wantCause) {
				t.Errorf("cause %v, want %v", err, tt.wantCause)
			}
			close(release)
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			if n := len(f.requests()); n != 1 {
				t.Fatalf("%d requests sent, want 1", n)
			}
			// The slot is free again.
			go func() { <-entered }()
			if _, err := c.GetCompanyUser(ctx, 1, 1); err != nil {
				t.Fatalf("after release: %v", err)
			}
		})
	}
}
