package service

import (
	"context"
	"testing"
)

// TestPartialBodyMemoryBound: the in-process memory remembers companies up
// to its bound and nothing past it.
func TestPartialBodyMemoryBound(t *testing.T) {
	ctx := context.Background()
	m := NewPartialBodyMemory(2)
	for _, id := range []int64{1, 2, 3} {
		if m.Has(ctx, id) {
			t.Fatalf("company %d known before it refused", id)
		}
		m.Remember(ctx, id)
	}
	for id, want := range map[int64]bool{1: true, 2: true, 3: false, 4: false} {
		if got := m.Has(ctx, id); got != want {
			t.Errorf("company %d: RefusesPartial = %v, want %v", id, got, want)
		}
	}
}
