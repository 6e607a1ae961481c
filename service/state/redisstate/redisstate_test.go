package redisstate_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/procore-directory/procore-directory/service/state"
	"github.com/procore-directory/procore-directory/service/state/redisstate"
	"github.com/procore-directory/procore-directory/service/state/redisstate/redistest"
)

// replica is one replica's connection to the shared Redis.
func replica(t *testing.T, srv *redistest.Server) *redisstate.Conn {
	t.Helper()
	// A generous timeout: these tests run beside the whole race-enabled
	// suite on two cores, where a probe can stall past the 1 s default
	// and turn a replica local (correct, but not what is tested here).
	c, err := redisstate.Open(context.Background(), srv.URL(), redisstate.WithProbeInterval(50*time.Millisecond), redisstate.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func store(t *testing.T, c *redisstate.Conn) *redisstate.IdempotencyStore {
	t.Helper()
	mem, err := state.NewMemoryStore()
	if err != nil {
		t.Fatal(err)
	}
	return redisstate.NewIdempotencyStore(c, mem, time.Hour)
}

// waitUp waits (polling: the probe runs on its own clock) until c's state
// is want.
func waitUp(t *testing.T, c *redisstate.Conn, want bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.Up() != want {
		if time.Now().After(deadline) {
			t.Fatalf("Up() stayed %v: %s", !want, c.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestIdempotencyAcrossReplicas: a request_id claimed on one replica makes
// the other wait for its answer and get it; another request under the key
// is refused; a claim released without an answer lets the next run.
func TestIdempotencyAcrossReplicas(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	ca, cb := replica(t, srv), replica(t, srv)
	waitUp(t, ca, true)
	waitUp(t, cb, true)
	a, b := store(t, ca), store(t, cb)
	ctx := context.Background()
	fp := []byte("fp-1")
	if ans, err := a.Claim(ctx, "k", fp); ans != nil || err != nil {
		t.Fatalf("first claim: %q %v", ans, err)
	}
	got := make(chan []byte)
	go func() {
		ans, err := b.Claim(ctx, "k", fp)
		if err != nil {
			t.Error(err)
		}
		got <- ans
	}()
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err := b.Claim(short, "k", fp)
	cancel()
	var we *state.WaitError
	if !errors.As(err, &we) {
		t.Fatalf("claim while running: %v, want a WaitError", err)
	}
	if err := a.Release(ctx, "k", []byte("answer")); err != nil {
		t.Fatal(err)
	}
	if ans := <-got; string(ans) != "answer" {
		t.Fatalf("waiter got %q", ans)
	}
	if _, err := b.Claim(ctx, "k", []byte("other")); !errors.Is(err, state.ErrKeyReused) {
		t.Fatalf("other request: %v", err)
	}
	// Released without an answer: the next claim runs the call.
	if ans, err := b.Claim(ctx, "k2", fp); ans != nil || err != nil {
		t.Fatal(ans, err)
	}
	if err := b.Release(ctx, "k2", nil); err != nil {
		t.Fatal(err)
	}
	if ans, err := a.Claim(ctx, "k2", fp); ans != nil || err != nil {
		t.Fatalf("after a release without answer: %q %v", ans, err)
	}
	_ = a.Release(ctx, "k2", nil)
}

// TestLockerAcrossReplicas: one holder at a time over two replicas; a
// holder that died (its lease not renewed) frees the user when the lease
// runs out; tokens only grow.
func TestLockerAcrossReplicas(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	ca, cb := replica(t, srv), replica(t, srv)
	// Both replicas must see Redis before the first lock: until then each
	// locks locally (degraded), which is right but not what is tested here.
	waitUp(t, ca, true)
	waitUp(t, cb, true)
	// A 3 s lease, renewed every third of it: short enough that the wait
	// below spans more than two leases, long enough that a renewal delayed
	// by a starved CI machine does not let the lease lapse (a 1 s lease did:
	// under the whole race-enabled suite a renewal came over 1 s late;
	// production: 10 s).
	const lease = 3 * time.Second
	a := redisstate.NewLocker(ca, redisstate.WithLockLease(lease))
	b := redisstate.NewLocker(cb, redisstate.WithLockLease(lease))
	ctx := context.Background()
	unlock, err := a.Lock(ctx, "8089/1001")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unlock) // stops the renewal even if the test fails first
	// Held past several leases: renewal keeps it.
	short, cancel := context.WithTimeout(ctx, 7*time.Second)
	_, err = b.Lock(short, "8089/1001")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second holder: %v", err)
	}
	unlock()
	unlockB, err := b.Lock(ctx, "8089/1001")
	if err != nil {
		t.Fatal(err)
	}
	unlockB()

	// A dead holder: a lock key nobody renews.
	rc := redis.NewClient(srv.Options())
	defer rc.Close()
	if err := rc.Set(ctx, redisstate.DefaultPrefix+"lock:8089/1002", "1", 300*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	unlock, err = a.Lock(ctx, "8089/1002")
	if err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 200*time.Millisecond || waited > 2*time.Second {
		t.Errorf("waited %v for a dead holder's lease (300ms)", waited)
	}
	unlock()
}

// TestDegradedAndRecovered: with Redis killed, calls go on with local
// state and Up turns false; with Redis back, Up turns true and the state
// is shared again.
func TestDegradedAndRecovered(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	c := replica(t, srv)
	s := store(t, c)
	l := redisstate.NewLocker(c)
	ctx := context.Background()
	waitUp(t, c, true)
	srv.Kill()
	for i := range 3 {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if ans, err := s.Claim(cctx, "down", []byte{byte(i)}); err != nil && !errors.Is(err, state.ErrKeyReused) {
			t.Fatalf("claim with Redis down: %q %v", ans, err)
		} else if err == nil {
			_ = s.Release(ctx, "down", []byte("x"))
		}
		unlock, err := l.Lock(cctx, "8089/1001")
		cancel()
		if err != nil {
			t.Fatalf("lock with Redis down: %v", err)
		}
		unlock()
	}
	waitUp(t, c, false)
	if st := c.Status(); len(st) == 0 || st[:22] != "shared state: degraded" {
		t.Errorf("status %q", st)
	}
	srv.Restart()
	waitUp(t, c, true)
	oc := replica(t, srv)
	waitUp(t, oc, true)
	other := store(t, oc)
	if ans, err := s.Claim(ctx, "up", []byte("f")); ans != nil || err != nil {
		t.Fatal(ans, err)
	}
	if err := s.Release(ctx, "up", []byte("shared")); err != nil {
		t.Fatal(err)
	}
	if ans, err := other.Claim(ctx, "up", []byte("f")); string(ans) != "shared" || err != nil {
		t.Fatalf("after recovery, the other replica got %q %v", ans, err)
	}
}

// TestLockReleasedWhenRedisIsBack: a lock let go of while Redis was gone
// is released as soon as a Redis that kept its data is back, not when its
// lease runs out (a minute here), so the user's next writer, on another
// replica, does not wait for it.
func TestLockReleasedWhenRedisIsBack(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Durable())
	ca, cb := replica(t, srv), replica(t, srv)
	waitUp(t, ca, true)
	waitUp(t, cb, true)
	a := redisstate.NewLocker(ca, redisstate.WithLockLease(time.Minute))
	b := redisstate.NewLocker(cb, redisstate.WithLockLease(time.Minute))
	ctx := context.Background()
	unlock, err := a.Lock(ctx, "8089/1001")
	if err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(srv.Options())
	defer rc.Close()
	if err := rc.Set(ctx, "kept", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	unlock() // Redis cannot be told
	srv.Restart()
	// The lock itself may be released by now; a key written beside it
	// shows Redis came back with its data.
	if n, err := rc.Exists(ctx, "kept").Result(); err != nil || n != 1 {
		t.Fatalf("Redis came back without its data (%d, %v)", n, err)
	}
	waitUp(t, ca, true)
	waitUp(t, cb, true)
	short, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	unlockB, err := b.Lock(short, "8089/1001")
	if err != nil {
		t.Fatalf("the other replica waited for a lock released while Redis was gone: %v", err)
	}
	unlockB()
}

// lateContext is a context whose deadline has passed but which does not
// say so yet: the moment between a command's i/o time-out (set from the
// deadline) and the context's own timer firing, held still.
type lateContext struct{ context.Context }

func (lateContext) Deadline() (time.Time, bool) { return time.Now().Add(-time.Millisecond), true }

// TestCallerDeadlineIsNotRedisDown: a command cut off by the caller's
// deadline is the caller giving up, not Redis gone: the waiter gets a
// WaitError, never a local claim or lock while another replica holds the
// shared one, and the connection stays up.
func TestCallerDeadlineIsNotRedisDown(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	ca, cb := replica(t, srv), replica(t, srv)
	waitUp(t, ca, true)
	waitUp(t, cb, true)
	ctx := context.Background()
	late := lateContext{ctx}

	if ans, err := store(t, ca).Claim(ctx, "k", []byte("fp")); ans != nil || err != nil {
		t.Fatalf("first claim: %q %v", ans, err)
	}
	var we *state.WaitError
	if _, err := store(t, cb).Claim(late, "k", []byte("fp")); !errors.As(err, &we) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("claim past the deadline: %v, want a WaitError for the deadline", err)
	}

	unlock, err := redisstate.NewLocker(ca).Lock(ctx, "8089/1001")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if unlockB, err := redisstate.NewLocker(cb).Lock(late, "8089/1001"); !errors.As(err, &we) || !errors.Is(err, context.DeadlineExceeded) {
		if err == nil {
			unlockB()
		}
		t.Errorf("lock past the deadline: %v, want a WaitError for the deadline", err)
	}
	if !cb.Up() {
		t.Errorf("the caller's deadline turned the connection down: %s", cb.Status())
	}
}
