package redisqueue_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/procore-directory/procore-directory/service/batch"
	"github.com/procore-directory/procore-directory/service/batch/redisqueue"
	"github.com/procore-directory/procore-directory/service/state/redisstate/redistest"
)

const prefix = "test:"

// Keys the tests look at (redisqueue.Queue's doc).
const (
	streamKey  = prefix + "batch:{queue}:chunks"
	markersKey = prefix + "batch:{queue}:sending"
	deadKey    = prefix + "batch:{queue}:dead"
)

// client is one replica's Redis client; closing it is the replica's
// death as Redis sees it.
func client(t testing.TB, srv *redistest.Server) *redis.Client {
	t.Helper()
	o, err := redis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	o.MaxRetries = -1
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// queue is one replica's queue, closed at the test's end.
func queue(t testing.TB, c *redis.Client, name string, opts ...redisqueue.Option) *redisqueue.Queue {
	t.Helper()
	q := redisqueue.New(c, append([]redisqueue.Option{redisqueue.WithKeyPrefix(prefix), redisqueue.WithConsumer(name),
		redisqueue.WithPoll(20 * time.Millisecond)}, opts...)...)
	t.Cleanup(func() { _ = q.Close() })
	return q
}

// chunks makes n chunks of op, each of items items.
func chunks(op string, n, items int) []batch.Chunk {
	out := make([]batch.Chunk, n)
	for s := range out {
		c := batch.Chunk{Operation: op, Seq: s, CompanyID: 42}
		for i := range items {
			idx := int32(s*items + i)
			c.Items = append(c.Items, batch.Item{Index: idx, Request: fmt.Appendf(nil, "\x08%c request %d \x00\xff", byte(idx), idx)})
		}
		out[s] = c
	}
	return out
}

func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func claim(t testing.TB, q *redisqueue.Queue, d time.Duration) batch.Claim {
	t.Helper()
	c, err := q.Claim(ctxFor(t, d))
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	return c
}

// empty checks that nothing is claimable now (a Claim waits its whole
// short context).
func empty(t *testing.T, q *redisqueue.Queue) {
	t.Helper()
	if c, err := q.Claim(ctxFor(t, 100*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Claim on an empty queue = %v, %v; want DeadlineExceeded", c, err)
	}
}

// must fails the test on err.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func key(c batch.Chunk) string { return fmt.Sprintf("%s#%d", c.Operation, c.Seq) }

// TestPushClaimDone: chunks come back as pushed, in order, not marked;
// Done removes them and their markers for good.
func TestPushClaimDone(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rc := client(t, srv)
	q := queue(t, rc, "a")
	ctx := ctxFor(t, 10*time.Second)
	want := chunks("operations/one", 3, 4)
	must(t, q.Push(ctx, want))
	for i := range want {
		c := claim(t, q, 5*time.Second)
		if !reflect.DeepEqual(c.Chunk(), want[i]) {
			t.Fatalf("claim %d = %+v, want %+v", i, c.Chunk(), want[i])
		}
		if c.MaybeSent() {
			t.Fatalf("a new chunk says MaybeSent")
		}
		if i == 1 {
			must(t, c.MarkSending(ctx))
		}
		must(t, c.Done(ctx))
		if err := c.Done(ctx); !errors.Is(err, redisqueue.ErrFinished) {
			t.Fatalf("second Done = %v, want ErrFinished", err)
		}
	}
	empty(t, q)
	if n := rc.XLen(ctx, streamKey).Val(); n != 0 {
		t.Errorf("stream holds %d entries after Done", n)
	}
	if n := rc.HLen(ctx, markersKey).Val(); n != 0 {
		t.Errorf("%d sending markers left after Done", n)
	}
	if err := q.Push(ctx, nil); err != nil {
		t.Errorf("Push(nil) = %v", err)
	}
}

// TestReplicasClaimEachChunkOnce: two replicas (two queues, two workers
// each) on one Redis take every chunk exactly once.
func TestReplicasClaimEachChunkOnce(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	qs := []*redisqueue.Queue{queue(t, client(t, srv), "a"), queue(t, client(t, srv), "b")}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const ops, per = 4, 25
	for o := range ops {
		must(t, qs[o%2].Push(ctx, chunks(fmt.Sprintf("operations/%d", o), per, 2)))
	}
	var mu sync.Mutex
	seen := map[string][]string{} // chunk -> the queues that got it
	perQueue := map[string]int{}
	var wg sync.WaitGroup
	for w := range 4 {
		q := qs[w%2]
		wg.Go(func() {
			for {
				c, err := q.Claim(ctx)
				if err != nil {
					return // ctx: all seen, or the deadline (checked below)
				}
				mu.Lock()
				seen[key(c.Chunk())] = append(seen[key(c.Chunk())], q.Consumer())
				perQueue[q.Consumer()]++
				all := len(seen) == ops*per
				mu.Unlock()
				if err := c.Done(ctx); err != nil {
					t.Error(err)
				}
				if all {
					cancel()
				}
			}
		})
	}
	wg.Wait()
	if len(seen) != ops*per {
		t.Fatalf("%d chunks claimed, want %d", len(seen), ops*per)
	}
	for k, by := range seen {
		if len(by) != 1 {
			t.Errorf("chunk %s claimed %d times (%v)", k, len(by), by)
		}
	}
	t.Logf("chunks per replica: %v", perQueue)
}

// TestKilledHolder: a replica that dies holding chunks (its connection
// gone, no Release, no renewal) loses them to another after the lease;
// the chunk it marked sending says MaybeSent there, the other does not.
func TestKilledHolder(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	const lease = 300 * time.Millisecond
	deadClient := client(t, srv)
	dead := queue(t, deadClient, "dead", redisqueue.WithLease(lease))
	live := queue(t, client(t, srv), "live", redisqueue.WithLease(lease))
	ctx := ctxFor(t, 20*time.Second)
	must(t, dead.Push(ctx, chunks("operations/k", 2, 3)))
	sent := claim(t, dead, 5*time.Second)
	must(t, sent.MarkSending(ctx))
	unsent := claim(t, dead, 5*time.Second)
	died := time.Now()
	_ = deadClient.Close() // SIGKILL, as Redis sees it: no more commands

	got := map[int]bool{}
	for range 2 {
		c := claim(t, live, 10*time.Second)
		// The lease runs from the last renewal, at most a third of it
		// before the death.
		if waited := time.Since(died); waited < lease/2 {
			t.Errorf("chunk %d claimed %v after its holder died, before the lease (%v)", c.Chunk().Seq, waited, lease)
		}
		got[c.Chunk().Seq] = c.MaybeSent()
		must(t, c.Done(ctx))
	}
	want := map[int]bool{sent.Chunk().Seq: true, unsent.Chunk().Seq: false}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("MaybeSent by chunk = %v, want %v", got, want)
	}
	empty(t, live)
}

// TestCloseStopsRenewals: after Close a replica's chunks go to another
// after the lease, and the old holder can neither mark, finish nor
// release them (it would send a chunk another sends, or delete the
// other's marker).
func TestCloseStopsRenewals(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	const lease = 300 * time.Millisecond
	rc := client(t, srv)
	old := queue(t, client(t, srv), "old", redisqueue.WithLease(lease))
	other := queue(t, rc, "other", redisqueue.WithLease(lease))
	ctx := ctxFor(t, 20*time.Second)
	must(t, old.Push(ctx, chunks("operations/c", 1, 1)))
	stale := claim(t, old, 5*time.Second)

	// Held past several leases while renewed: nobody else gets it.
	if c, err := other.Claim(ctxFor(t, 3*lease)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a renewed chunk was claimed by another replica: %v, %v", c, err)
	}
	must(t, old.Close())
	if c, err := old.Claim(ctx); !errors.Is(err, redisqueue.ErrClosed) {
		t.Fatalf("Claim after Close = %v, %v; want ErrClosed", c, err)
	}
	taken := claim(t, other, 10*time.Second)
	must(t, taken.MarkSending(ctx))
	for name, f := range map[string]func(context.Context) error{"MarkSending": stale.MarkSending, "Done": stale.Done, "Release": stale.Release} {
		if err := f(ctx); !errors.Is(err, redisqueue.ErrLeaseLost) {
			t.Errorf("old holder's %s = %v, want ErrLeaseLost", name, err)
		}
	}
	if n := rc.HLen(ctx, markersKey).Val(); n != 1 {
		t.Errorf("the new holder's marker is gone (%d markers)", n)
	}
	must(t, taken.Done(ctx))
}

// TestRelease: a released chunk is claimable at once (long before the
// lease) by another replica, with MaybeSent as it was.
func TestRelease(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	a := queue(t, client(t, srv), "a", redisqueue.WithLease(time.Hour))
	b := queue(t, client(t, srv), "b", redisqueue.WithLease(time.Hour))
	ctx := ctxFor(t, 20*time.Second)
	must(t, a.Push(ctx, chunks("operations/r", 2, 1)))
	marked, plain := claim(t, a, 5*time.Second), claim(t, a, 5*time.Second)
	must(t, marked.MarkSending(ctx))
	for _, c := range []batch.Claim{marked, plain} {
		must(t, c.Release(ctx))
		if err := c.MarkSending(ctx); !errors.Is(err, redisqueue.ErrFinished) {
			t.Errorf("MarkSending after Release = %v, want ErrFinished", err)
		}
	}
	got := map[int]bool{}
	for range 2 {
		c := claim(t, b, 5*time.Second) // the lease is an hour
		got[c.Chunk().Seq] = c.MaybeSent()
		must(t, c.Done(ctx))
	}
	if want := map[int]bool{marked.Chunk().Seq: true, plain.Chunk().Seq: false}; !reflect.DeepEqual(got, want) {
		t.Fatalf("MaybeSent by chunk after Release = %v, want %v", got, want)
	}
}

// TestOrderWithinOperation: one claimer gets each operation's chunks in
// order, also when operations were pushed concurrently, and a released
// chunk comes back before the later ones.
func TestOrderWithinOperation(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rc := client(t, srv)
	q := queue(t, rc, "a", redisqueue.WithLease(time.Hour))
	ctx := ctxFor(t, 20*time.Second)
	const ops, per = 5, 20
	var wg sync.WaitGroup
	for o := range ops {
		p := queue(t, client(t, srv), fmt.Sprintf("pusher%d", o))
		wg.Go(func() {
			if err := p.Push(ctx, chunks(fmt.Sprintf("operations/%d", o), per, 1)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	first := claim(t, q, 5*time.Second)
	must(t, first.Release(ctx))
	next := map[string]int{}
	for range ops * per {
		c := claim(t, q, 5*time.Second)
		ch := c.Chunk()
		if ch.Seq != next[ch.Operation] {
			t.Fatalf("%s: chunk %d claimed, want %d next", ch.Operation, ch.Seq, next[ch.Operation])
		}
		next[ch.Operation]++
		must(t, c.Done(ctx))
	}
	empty(t, q)
}

// blocked waits until Redis has n clients blocked (in XREADGROUP).
func blocked(t *testing.T, rc *redis.Client, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info := rc.Info(context.Background(), "clients").Val()
		if strings.Contains(info, fmt.Sprintf("blocked_clients:%d\r", n)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("want %d blocked clients: %s", n, info)
		}
		time.Sleep(5 * time.Millisecond) // polling Redis's own count
	}
}

// TestClaimCancel: a Claim blocked on an empty queue returns as soon as
// its context ends or the queue closes, without waiting out its read; a
// chunk that read gets afterwards is not lost.
func TestClaimCancel(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rc := client(t, srv)
	const poll = 2 * time.Second
	q := queue(t, client(t, srv), "a", redisqueue.WithPoll(poll), redisqueue.WithLease(time.Hour))

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := q.Claim(ctx); errc <- err }()
	blocked(t, rc, 1)
	cancel()
	start := time.Now()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Claim = %v, want Canceled", err)
	}
	if d := time.Since(start); d > poll/2 {
		t.Errorf("cancelled Claim returned after %v (poll %v)", d, poll)
	}
	// The abandoned read may still be blocked: it gets this chunk and
	// gives it back, or it ended and the next Claim reads it.
	ctx2 := ctxFor(t, 10*time.Second)
	must(t, q.Push(ctx2, chunks("operations/x", 1, 1)))
	c := claim(t, q, 10*time.Second)
	must(t, c.Done(ctx2))

	go func() { _, err := q.Claim(context.Background()); errc <- err }()
	blocked(t, rc, 1)
	closed := make(chan error, 1)
	go func() { closed <- q.Close() }()
	if err := <-errc; !errors.Is(err, redisqueue.ErrClosed) {
		t.Fatalf("Claim blocked at Close = %v, want ErrClosed", err)
	}
	must(t, <-closed)
}

// TestUnreadableChunk: an entry no replica can decode is moved aside, and
// Claim goes on to the next.
func TestUnreadableChunk(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rc := client(t, srv)
	q := queue(t, rc, "a")
	ctx := ctxFor(t, 10*time.Second)
	must(t, rc.XAdd(ctx, &redis.XAddArgs{Stream: streamKey, Values: []any{"chunk", "{not json"}}).Err())
	must(t, q.Push(ctx, chunks("operations/u", 1, 1)))
	c := claim(t, q, 5*time.Second)
	if c.Chunk().Operation != "operations/u" {
		t.Fatalf("claimed %+v", c.Chunk())
	}
	if got := rc.LRange(ctx, deadKey, 0, -1).Val(); !reflect.DeepEqual(got, []string{"{not json"}) {
		t.Fatalf("dead list = %q", got)
	}
}

// TestRedisDown: without Redis every call fails at once, wrapped; when
// Redis comes back (empty: a restart) the queue makes its group again.
func TestRedisDown(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	q := queue(t, client(t, srv), "a")
	ctx := ctxFor(t, 20*time.Second)
	must(t, q.Push(ctx, chunks("operations/d", 1, 1)))
	c := claim(t, q, 5*time.Second)
	srv.Kill()
	if err := q.Push(ctx, chunks("operations/d2", 1, 1)); err == nil || !strings.HasPrefix(err.Error(), "redisqueue: push") {
		t.Errorf("Push without Redis = %v", err)
	}
	if _, err := q.Claim(ctx); err == nil || ctx.Err() != nil {
		t.Errorf("Claim without Redis = %v", err)
	}
	if err := c.MarkSending(ctx); err == nil || errors.Is(err, redisqueue.ErrLeaseLost) {
		t.Errorf("MarkSending without Redis = %v, want a Redis error", err)
	}
	srv.Restart()
	must(t, q.Push(ctx, chunks("operations/d3", 1, 1)))
	if got := claim(t, q, 5*time.Second).Chunk().Operation; got != "operations/d3" {
		t.Fatalf("after the restart claimed %s", got)
	}
}

// TestDepartedConsumersSwept: a killed replica's consumer, once its
// chunks are taken over, is removed from the group by the others.
func TestDepartedConsumersSwept(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rc := client(t, srv)
	const lease = 50 * time.Millisecond
	deadClient := client(t, srv)
	dead := queue(t, deadClient, "dead", redisqueue.WithLease(lease))
	live := queue(t, rc, "live", redisqueue.WithLease(lease))
	ctx := ctxFor(t, 20*time.Second)
	must(t, dead.Push(ctx, chunks("operations/s", 1, 1)))
	claim(t, dead, 5*time.Second)
	_ = deadClient.Close()
	must(t, claim(t, live, 5*time.Second).Done(ctx))
	for {
		cs, err := rc.XInfoConsumers(ctx, streamKey, "runners").Result()
		if err != nil {
			t.Fatal(err)
		}
		names := []string{}
		for _, c := range cs {
			names = append(names, c.Name)
		}
		if !strings.Contains(strings.Join(names, ","), "dead") {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("departed consumer still in the group: %v", names)
		}
		time.Sleep(lease) // polling the sweep, which runs on its own clock
	}
}
