package admission

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestPacing drives one credential's Budget with a frozen clock: each
// step is an acquire (with or without a short deadline) or a release, and
// says what the acquire must do. Refusals are decided from the frozen clock,
// so no step waits for real time except "blocked" ones, which wait for
// their own short deadline.
func TestPacing(t *testing.T) {
	type step struct {
		release  bool          // release one request (answered, no report)
		deadline time.Duration // acquire's deadline from now; 0: none
		want     string        // "admit", "spent" or "blocked"
		// retryAfter bounds a "spent" step's RetryAfter.
		minRetry, maxRetry time.Duration
	}
	base := time.Now()
	live := func(remaining int) RateLimit {
		return RateLimit{Limit: 25, Remaining: remaining, Reset: base.Add(10 * time.Second), Known: true}
	}
	tests := []struct {
		name     string
		burst    int
		rl       RateLimit
		answered bool
		steps    []step
	}{
		{
			name: "burst of one spreads the budget over the window", burst: 1, rl: live(10),
			steps: []step{
				{want: "admit"},
				// 9 left for 10s: the next turn is 1/0.9 s away.
				{deadline: 500 * time.Millisecond, want: "spent", minRetry: 1100 * time.Millisecond, maxRetry: 1120 * time.Millisecond},
				{deadline: 5 * time.Second, want: "admit"}, // waits for its turn (~1.1s), then goes: the refused turn was given back
			},
		},
		{
			name: "burst goes at once, then pacing", burst: 3, rl: live(10),
			steps: []step{
				{want: "admit"}, {want: "admit"}, {want: "admit"},
				{deadline: 100 * time.Millisecond, want: "spent", minRetry: 500 * time.Millisecond, maxRetry: 10 * time.Second},
			},
		},
		{
			name: "pacing off admits up to the budget", burst: 0, rl: live(3),
			steps: []step{
				{want: "admit"}, {want: "admit"}, {want: "admit"},
				{deadline: 20 * time.Millisecond, want: "blocked"},
			},
		},
		{
			name: "unknown budget is probed one request at a time", burst: 5,
			steps: []step{
				{want: "admit"},
				{deadline: 20 * time.Millisecond, want: "blocked"},
				{release: true},
				// The answer had no rate-limit headers: no limit to pace.
				{want: "admit"}, {want: "admit"}, {want: "admit"},
			},
		},
		{
			name: "ended window is probed one request at a time", burst: 5, answered: true,
			rl: RateLimit{Limit: 25, Remaining: 0, Reset: base.Add(-time.Second), Known: true},
			steps: []step{
				{want: "admit"},
				{deadline: 20 * time.Millisecond, want: "blocked"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Budget{changed: make(chan struct{}), pace: newPacer(tt.burst), rl: tt.rl, answered: tt.answered}
			now := func() time.Time { return base }
			for i, st := range tt.steps {
				if st.release {
					s.Release(RateLimit{}, false, true)
					continue
				}
				ctx := context.Background()
				if st.deadline > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithDeadline(ctx, base.Add(st.deadline))
					defer cancel()
				}
				spent, err := s.Acquire(ctx, now)
				got := "admit"
				switch {
				case spent != nil:
					got = "spent"
				case errors.Is(err, context.DeadlineExceeded):
					got = "blocked"
				case err != nil:
					t.Fatalf("step %d: %v", i, err)
				}
				if got != st.want {
					t.Fatalf("step %d: %s, want %s (spent %+v)", i, got, st.want, spent)
				}
				if got == "spent" && (spent.RetryAfter < st.minRetry || spent.RetryAfter > st.maxRetry) {
					t.Fatalf("step %d: retry after %v, want in [%v, %v]", i, spent.RetryAfter, st.minRetry, st.maxRetry)
				}
			}
		})
	}
}

// TestPacingGivesBackCancelledTurns: a caller whose paced wait is cut short
// by its context frees its slot, so the in-flight count stays exact.
func TestPacingGivesBackCancelledTurns(t *testing.T) {
	base := time.Now()
	s := &Budget{changed: make(chan struct{}), pace: newPacer(1),
		rl: RateLimit{Limit: 25, Remaining: 2, Reset: base.Add(time.Hour), Known: true}}
	now := func() time.Time { return base }
	if spent, err := s.Acquire(context.Background(), now); spent != nil || err != nil {
		t.Fatalf("first: %+v %v", spent, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Acquire(ctx, now); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v", err)
	}
	s.mu.Lock()
	inflight := s.inflight
	s.mu.Unlock()
	if inflight != 1 {
		t.Fatalf("in flight %d, want 1", inflight)
	}
}
