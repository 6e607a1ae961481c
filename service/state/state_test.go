package state

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestMemoryStore(t *testing.T) {
	now := time.Unix(0, 0)
	clock := func() time.Time { return now }
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, s *MemoryStore)
	}{
		{"first claim runs, repeat gets the answer", func(t *testing.T, s *MemoryStore) {
			if a, err := s.Claim(ctx, "k", []byte("fp")); a != nil || err != nil {
				t.Fatalf("first claim: %q %v", a, err)
			}
			if err := s.Release(ctx, "k", []byte("answer")); err != nil {
				t.Fatal(err)
			}
			if a, err := s.Claim(ctx, "k", []byte("fp")); string(a) != "answer" || err != nil {
				t.Fatalf("repeat: %q %v", a, err)
			}
		}},
		{"other fingerprint: ErrKeyReused", func(t *testing.T, s *MemoryStore) {
			_, _ = s.Claim(ctx, "k", []byte("fp"))
			_ = s.Release(ctx, "k", nil)
			if _, err := s.Claim(ctx, "k", []byte("other")); !errors.Is(err, ErrKeyReused) {
				t.Fatalf("%v, want ErrKeyReused", err)
			}
		}},
		{"released without answer: runs again", func(t *testing.T, s *MemoryStore) {
			_, _ = s.Claim(ctx, "k", []byte("fp"))
			_ = s.Release(ctx, "k", nil)
			if a, err := s.Claim(ctx, "k", []byte("fp")); a != nil || err != nil {
				t.Fatalf("%q %v, want a new claim", a, err)
			}
		}},
		{"expires after the retention", func(t *testing.T, s *MemoryStore) {
			_, _ = s.Claim(ctx, "k", []byte("fp"))
			_ = s.Release(ctx, "k", []byte("answer"))
			now = now.Add(time.Hour + time.Second)
			if a, err := s.Claim(ctx, "k", []byte("other")); a != nil || err != nil {
				t.Fatalf("%q %v, want the key forgotten", a, err)
			}
		}},
		{"bounded: the oldest answered key goes first; running keys stay", func(t *testing.T, s *MemoryStore) {
			_, _ = s.Claim(ctx, "a", []byte("fp"))
			_ = s.Release(ctx, "a", []byte("A"))
			_, _ = s.Claim(ctx, "b", []byte("fp")) // running
			_, _ = s.Claim(ctx, "c", []byte("fp")) // evicts a
			if s.Len() != 2 {
				t.Fatalf("%d keys, want 2", s.Len())
			}
			if _, err := s.Claim(ctx, "d", []byte("fp")); !errors.Is(err, ErrFull) {
				t.Fatalf("%v, want ErrFull with every key running", err)
			}
		}},
		{"a repeat waits for the running call", func(t *testing.T, s *MemoryStore) {
			_, _ = s.Claim(ctx, "k", []byte("fp"))
			got := make(chan string)
			go func() {
				a, _ := s.Claim(ctx, "k", []byte("fp"))
				got <- string(a)
			}()
			_ = s.Release(ctx, "k", []byte("late"))
			if a := <-got; a != "late" {
				t.Fatalf("waiter got %q", a)
			}
		}},
		{"a wait ends with ctx, naming the cause", func(t *testing.T, s *MemoryStore) {
			_, _ = s.Claim(ctx, "k", []byte("fp"))
			cause := errors.New("stopping")
			c, cancel := context.WithCancelCause(ctx)
			cancel(cause)
			var we *WaitError
			if _, err := s.Claim(c, "k", []byte("fp")); !errors.As(err, &we) || !errors.Is(err, cause) {
				t.Fatalf("%v, want a WaitError with the cause", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now = time.Unix(0, 0)
			s, err := NewMemoryStore(WithRetention(time.Hour), WithMaxKeys(2), WithClock(clock))
			if err != nil {
				t.Fatal(err)
			}
			tt.run(t, s)
		})
	}
}

// TestMemoryLocker: one holder per key at a time, other keys free, idle
// keys forgotten, and a wait that ends with ctx holds nothing.
func TestMemoryLocker(t *testing.T) {
	l := NewMemoryLocker()
	ctx := context.Background()
	var (
		mu       sync.Mutex
		inside   int
		overlaps int
		wg       sync.WaitGroup
	)
	for range 16 {
		wg.Go(func() {
			unlock, err := l.Lock(ctx, "8089/1001")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			if inside++; inside > 1 {
				overlaps++
			}
			mu.Unlock()
			other, err := l.Lock(ctx, "8089/1002") // another user is free
			if err != nil {
				t.Error(err)
			}
			other()
			mu.Lock()
			inside--
			mu.Unlock()
			unlock()
		})
	}
	wg.Wait()
	if overlaps > 0 {
		t.Fatalf("%d overlapping holders", overlaps)
	}
	if l.Len() != 0 {
		t.Fatalf("%d idle keys kept", l.Len())
	}
	unlock, _ := l.Lock(ctx, "k")
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Lock(c, "k"); err == nil {
		t.Fatal("a cancelled wait got the lock")
	}
	unlock()
	if l.Len() != 0 {
		t.Fatalf("%d keys kept after a cancelled wait", l.Len())
	}
}

var (
	_ IdempotencyStore = (*MemoryStore)(nil)
	_ Locker           = (*MemoryLocker)(nil)
)
