package admission

import (
	"context"
	"testing"
	"time"
)

// TestBudgetKeepsLowestRemaining: reports of the same window arriving out
// of order keep the lowest Remaining; a new window replaces it.
func TestBudgetKeepsLowestRemaining(t *testing.T) {
	s := NewLimits(0).For("cred", time.Now())
	reset := time.Now().Add(time.Hour).Truncate(time.Second)
	report := func(remaining int, reset time.Time) {
		t.Helper()
		if spent, err := s.Acquire(context.Background(), time.Now); spent != nil || err != nil {
			t.Fatalf("acquire: %+v %v", spent, err)
		}
		s.Release(RateLimit{Limit: 25, Remaining: remaining, Reset: reset, Known: true}, true, true)
	}
	report(3, reset)
	report(7, reset)
	if got := s.Snapshot().Remaining; got != 3 {
		t.Fatalf("remaining %d, want 3", got)
	}
	report(25, reset.Add(10*time.Second))
	if got := s.Snapshot().Remaining; got != 25 {
		t.Fatalf("new window: remaining %d, want 25", got)
	}
}
