package upstream

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"
)

// recorder is an Observer keeping every event, for tests.
type recorder struct {
	mu        sync.Mutex
	attempts  []AttemptInfo
	calls     []CallInfo
	limits    []RateLimit
	refreshes []error
	states    []BreakerState
}

func (r *recorder) ObserveAttempt(_ context.Context, a AttemptInfo) {
	r.mu.Lock()
	r.attempts = append(r.attempts, a)
	r.mu.Unlock()
}
func (r *recorder) ObserveCall(_ context.Context, c CallInfo) {
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
}
func (r *recorder) ObserveRateLimit(_ string, rl RateLimit) {
	r.mu.Lock()
	r.limits = append(r.limits, rl)
	r.mu.Unlock()
}
func (r *recorder) ObserveTokenRefresh(_ string, err error) {
	r.mu.Lock()
	r.refreshes = append(r.refreshes, err)
	r.mu.Unlock()
}
func (r *recorder) ObserveBreakerState(_, to BreakerState) {
	r.mu.Lock()
	r.states = append(r.states, to)
	r.mu.Unlock()
}

func (r *recorder) breakerStates() []BreakerState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]BreakerState(nil), r.states...)
}

// TestBreakerCountsOnlyUpstreamFailures: which answers trip the breaker.
// With a threshold of 3, three attempts of the given kind in a row (one
// call of three attempts) open it or not.
func TestBreakerCountsOnlyUpstreamFailures(t *testing.T) {
	tests := []struct {
		name     string
		handle   func(w http.ResponseWriter, r *http.Request)
		wantOpen bool
	}{
		{"5xx", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }, true},
		{"dropped connection", func(w http.ResponseWriter, _ *http.Request) { dropConn(w) }, true},
		{"404 is an answer", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) }, false},
		{"422 is an answer", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusUnprocessableEntity) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { tt.handle(w, r) })
			rec := &recorder{}
			c, _, ctx := newTestClient(t, f.URL, WithMaxAttempts(3), WithObserver(rec),
				WithCircuitBreaker(BreakerConfig{ConsecutiveFailures: 3, OpenTimeout: time.Hour}))
			for range 3 {
				if _, err := c.GetCompanyUser(ctx, 8089, 1001); err == nil {
					t.Fatal("want an error")
				}
				if c.BreakerState() == BreakerOpen {
					break
				}
			}
			if got := c.BreakerState() == BreakerOpen; got != tt.wantOpen {
				t.Fatalf("open %v, want %v (states %v)", got, tt.wantOpen, rec.breakerStates())
			}
			if !tt.wantOpen {
				return
			}
			sent := len(f.requests())
			_, err := c.GetCompanyUser(ctx, 8089, 1001)
			e := asError(t, err)
			if e.Kind != KindCircuitOpen || e.RetryAfter <= 0 || e.RetryAfter > time.Hour || e.Attempts != 0 {
				t.Fatalf("open breaker: %+v", e)
			}
			if len(f.requests()) != sent {
				t.Fatal("a call went upstream through an open breaker")
			}
		})
	}
}

// TestBreakerIgnoresCallerCancellation: the caller's own deadline is not
// an upstream failure.
func TestBreakerIgnoresCallerCancellation(t *testing.T) {
	arrived := make(chan struct{}, 1)
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		arrived <- struct{}{}
		<-r.Context().Done()
	})
	c, _, ctx := newTestClient(t, f.URL, WithCircuitBreaker(BreakerConfig{ConsecutiveFailures: 1, OpenTimeout: time.Hour}))
	for range 3 {
		short, cancel := context.WithCancel(ctx)
		go func() {
			<-arrived // the request is in flight
			cancel()
		}()
		_, err := c.GetCompanyUser(short, 8089, 1001)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("want context.Canceled, got %v", err)
		}
	}
	if s := c.BreakerState(); s != BreakerClosed {
		t.Fatalf("breaker %v after cancellations", s)
	}
}

// TestBreakerRecovers: once its open time is over, one probe goes through
// and, succeeding, closes the breaker.
func TestBreakerRecovers(t *testing.T) {
	var mu sync.Mutex
	failing := true
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		writeUser(w)
	})
	rec := &recorder{}
	// An open time of 1ns: the breaker is half-open by the next call.
	c, _, ctx := newTestClient(t, f.URL, WithMaxAttempts(2), WithObserver(rec),
		WithCircuitBreaker(BreakerConfig{ConsecutiveFailures: 2, OpenTimeout: time.Nanosecond}))
	if _, err := c.GetCompanyUser(ctx, 8089, 1001); err == nil {
		t.Fatal("want an error")
	}
	mu.Lock()
	failing = false
	mu.Unlock()
	if _, err := c.GetCompanyUser(ctx, 8089, 1001); err != nil {
		t.Fatalf("probe: %v", err)
	}
	want := []BreakerState{BreakerOpen, BreakerHalfOpen, BreakerClosed}
	got := rec.breakerStates()
	if len(got) != len(want) {
		t.Fatalf("states %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("states %v, want %v", got, want)
		}
	}
}

func dropConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("no hijacker")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		conn.Close()
	}
}
