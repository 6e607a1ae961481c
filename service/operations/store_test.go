package operations

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/procore-directory/procore-directory/service/state/redisstate/redistest"
)

// fakeClock is a settable clock shared by the stores of a test.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

const testRetention = time.Hour

// replicas is two stores that share their state: the same MemoryStore
// twice, or two RedisStores (two clients) on one Redis, as two replicas.
type replicas struct {
	a, b  Store
	clock *fakeClock
	// blocked receives each time a Wait of either store blocks.
	blocked chan struct{}
}

// signalBlocking is the test hook that reports a blocking Wait on ch.
func signalBlocking(ch chan struct{}) StoreOption {
	return func(c *storeConfig) { c.blocking = func() { ch <- struct{}{} } }
}

// implementations returns a constructor per Store implementation.
func implementations() []struct {
	name string
	new  func(t *testing.T) replicas
} {
	return []struct {
		name string
		new  func(t *testing.T) replicas
	}{
		{"memory", func(t *testing.T) replicas {
			clock, blocked := newFakeClock(), make(chan struct{}, 16)
			s := NewMemoryStore(WithRetention(testRetention), WithClock(clock.Now), signalBlocking(blocked))
			return replicas{a: s, b: s, clock: clock, blocked: blocked}
		}},
		{"redis", func(t *testing.T) replicas {
			srv := redistest.Start(t)
			clock, blocked := newFakeClock(), make(chan struct{}, 16)
			open := func() Store {
				o, err := redis.ParseURL(srv.URL())
				if err != nil {
					t.Fatal(err)
				}
				c := redis.NewClient(o)
				t.Cleanup(func() { c.Close() })
				// The poll is long: only pub/sub can wake a Wait in time.
				return NewRedisStore(c, WithRetention(testRetention), WithClock(clock.Now), WithWaitPoll(time.Hour), WithKeyPrefix("test:"),
					signalBlocking(blocked))
			}
			return replicas{a: open(), b: open(), clock: clock, blocked: blocked}
		}},
	}
}

// forEach runs f against every implementation.
func forEach(t *testing.T, f func(t *testing.T, r replicas)) {
	for _, impl := range implementations() {
		t.Run(impl.name, func(t *testing.T) { f(t, impl.new(t)) })
	}
}

func counter(n int64) *anypb.Any {
	a, err := anypb.New(wrapperspb.Int64(n))
	if err != nil {
		panic(err)
	}
	return a
}

func counterOf(t *testing.T, op *longrunningpb.Operation) int64 {
	t.Helper()
	var v wrapperspb.Int64Value
	if err := op.GetMetadata().UnmarshalTo(&v); err != nil {
		t.Fatal(err)
	}
	return v.Value
}

func mustCreate(t *testing.T, s Store, n CreateRequest) *longrunningpb.Operation {
	t.Helper()
	op, created, err := s.Create(context.Background(), n)
	if err != nil || !created {
		t.Fatalf("Create(%+v) = %v, created %v, %v", n, op, created, err)
	}
	return op
}

func finish(op *longrunningpb.Operation) error {
	op.Done = true
	op.Result = &longrunningpb.Operation_Response{Response: counter(42)}
	return nil
}

func TestCreateGetAcrossReplicas(t *testing.T) {
	forEach(t, func(t *testing.T, r replicas) {
		ctx := context.Background()
		op := mustCreate(t, r.a, CreateRequest{Scope: "alice", Metadata: counter(1)})
		if _, ok := operationID(op.GetName()); !ok || op.GetDone() {
			t.Fatalf("created %v: want a running operations/{uuid}", op)
		}
		tests := []struct {
			name, scope, opName string
			wantErr             error
		}{
			{"own scope on the other replica", "alice", op.GetName(), nil},
			{"another scope", "bob", op.GetName(), ErrNotFound},
			{"empty scope", "", op.GetName(), ErrNotFound},
			{"unknown id", "alice", "operations/00000000-0000-0000-0000-000000000000", ErrNotFound},
			{"malformed", "alice", "operations/../x", ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := r.b.Get(ctx, tt.scope, tt.opName)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Get = %v, %v; want error %v", got, err, tt.wantErr)
				}
				if err == nil && !proto.Equal(got, op) {
					t.Errorf("Get = %v, want %v", got, op)
				}
			})
		}
	})
}

func TestCreateDedupesRequestID(t *testing.T) {
	forEach(t, func(t *testing.T, r replicas) {
		ctx := context.Background()
		first := mustCreate(t, r.a, CreateRequest{Scope: "alice", RequestID: "rid-1", Fingerprint: "f1"})
		tests := []struct {
			name        string
			n           CreateRequest
			wantSame    bool
			wantCreated bool
			wantErr     error
		}{
			{"same scope, id and request", CreateRequest{Scope: "alice", RequestID: "rid-1", Fingerprint: "f1"}, true, false, nil},
			{"same id, another request", CreateRequest{Scope: "alice", RequestID: "rid-1", Fingerprint: "f2"}, false, false, ErrRequestIDReused},
			{"same id, another scope", CreateRequest{Scope: "bob", RequestID: "rid-1", Fingerprint: "f1"}, false, true, nil},
			{"another id", CreateRequest{Scope: "alice", RequestID: "rid-2", Fingerprint: "f1"}, false, true, nil},
			{"no id", CreateRequest{Scope: "alice", Fingerprint: "f1"}, false, true, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				op, created, err := r.b.Create(ctx, tt.n)
				if !errors.Is(err, tt.wantErr) || created != tt.wantCreated {
					t.Fatalf("Create = %v, created %v, %v; want created %v, error %v", op, created, err, tt.wantCreated, tt.wantErr)
				}
				if err == nil && (op.GetName() == first.GetName()) != tt.wantSame {
					t.Errorf("Create = %s, first %s: same %v, want %v", op.GetName(), first.GetName(), !tt.wantSame, tt.wantSame)
				}
			})
		}
	})
}

func TestUpdateIsAtomicAcrossReplicas(t *testing.T) {
	forEach(t, func(t *testing.T, r replicas) {
		ctx := context.Background()
		op := mustCreate(t, r.a, CreateRequest{Scope: "alice", Metadata: counter(0)})
		const perReplica = 25
		var wg sync.WaitGroup
		errs := make(chan error, 2*perReplica)
		for _, s := range []Store{r.a, r.b} {
			for range perReplica {
				wg.Go(func() {
					_, err := s.Update(ctx, op.GetName(), func(op *longrunningpb.Operation) error {
						var v wrapperspb.Int64Value
						if err := op.GetMetadata().UnmarshalTo(&v); err != nil {
							return err
						}
						op.Metadata = counter(v.Value + 1)
						return nil
					})
					errs <- err
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got, err := r.b.Get(ctx, "alice", op.GetName())
		if err != nil {
			t.Fatal(err)
		}
		if n := counterOf(t, got); n != 2*perReplica {
			t.Errorf("counter = %d after %d increments: an update was lost", n, 2*perReplica)
		}
	})
}

func TestUpdate(t *testing.T) {
	boom := errors.New("boom")
	forEach(t, func(t *testing.T, r replicas) {
		ctx := context.Background()
		op := mustCreate(t, r.a, CreateRequest{Scope: "alice", Metadata: counter(7)})
		tests := []struct {
			name        string
			opName      string
			fn          func(*longrunningpb.Operation) error
			wantErr     error
			wantCounter int64
		}{
			{"fn fails: unchanged", op.GetName(), func(op *longrunningpb.Operation) error { op.Metadata = counter(8); return boom }, boom, 7},
			{"rename ignored", op.GetName(), func(op *longrunningpb.Operation) error {
				op.Name = "operations/x"
				op.Metadata = counter(9)
				return nil
			}, nil, 9},
			{"unknown", "operations/00000000-0000-0000-0000-000000000000", func(*longrunningpb.Operation) error { return nil }, ErrNotFound, 9},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := r.b.Update(ctx, tt.opName, tt.fn)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Update = %v, want %v", err, tt.wantErr)
				}
				got, err := r.a.Get(ctx, "alice", op.GetName())
				if err != nil {
					t.Fatal(err)
				}
				if got.GetName() != op.GetName() || counterOf(t, got) != tt.wantCounter {
					t.Errorf("after: %v, want %s with counter %d", got, op.GetName(), tt.wantCounter)
				}
			})
		}
	})
}

func TestWaitWakesOnUpdateFromAnotherReplica(t *testing.T) {
	forEach(t, func(t *testing.T, r replicas) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		op := mustCreate(t, r.a, CreateRequest{Scope: "alice"})
		type result struct {
			op  *longrunningpb.Operation
			err error
		}
		got := make(chan result, 1)
		go func() {
			op, err := r.b.Wait(ctx, "alice", op.GetName())
			got <- result{op, err}
		}()
		<-r.blocked
		// An update that does not finish the operation wakes the wait, which
		// reads it and blocks again (the poll is an hour: only the update's
		// wake-up can do this).
		if _, err := r.a.Update(ctx, op.GetName(), func(op *longrunningpb.Operation) error { op.Metadata = counter(1); return nil }); err != nil {
			t.Fatal(err)
		}
		<-r.blocked
		if _, err := r.a.Update(ctx, op.GetName(), finish); err != nil {
			t.Fatal(err)
		}
		res := <-got
		if res.err != nil || !res.op.GetDone() || counterOf(t, &longrunningpb.Operation{Metadata: res.op.GetResponse()}) != 42 {
			t.Fatalf("Wait = %v, %v; want the done operation", res.op, res.err)
		}
	})
}

func TestWait(t *testing.T) {
	forEach(t, func(t *testing.T, r replicas) {
		running := mustCreate(t, r.a, CreateRequest{Scope: "alice", Metadata: counter(3)})
		done := mustCreate(t, r.a, CreateRequest{Scope: "alice"})
		if _, err := r.a.Update(context.Background(), done.GetName(), finish); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, scope, opName string
			timeout             time.Duration
			wantErr             error
			wantDone            bool
		}{
			{"done: at once", "alice", done.GetName(), 10 * time.Second, nil, true},
			{"running: the latest state at the timeout", "alice", running.GetName(), 50 * time.Millisecond, context.DeadlineExceeded, false},
			{"another scope", "bob", running.GetName(), 10 * time.Second, ErrNotFound, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
				defer cancel()
				op, err := r.b.Wait(ctx, tt.scope, tt.opName)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Wait = %v, %v; want error %v", op, err, tt.wantErr)
				}
				if tt.wantErr != ErrNotFound && (op == nil || op.GetDone() != tt.wantDone) {
					t.Errorf("Wait = %v, want done %v", op, tt.wantDone)
				}
			})
		}
	})
}

func TestCancel(t *testing.T) {
	mark := func(op *longrunningpb.Operation) error { op.Metadata = counter(-1); return nil }
	forEach(t, func(t *testing.T, r replicas) {
		ctx := context.Background()
		running := mustCreate(t, r.a, CreateRequest{Scope: "alice", Metadata: counter(1)})
		done := mustCreate(t, r.a, CreateRequest{Scope: "alice", Metadata: counter(1)})
		if _, err := r.a.Update(ctx, done.GetName(), finish); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, scope, opName string
			wantErr             error
			wantRequested       bool
			wantCounter         int64
		}{
			{"another scope: nothing", "bob", running.GetName(), ErrNotFound, false, 1},
			{"running: requested and marked", "alice", running.GetName(), nil, true, -1},
			{"again: still fine", "alice", running.GetName(), nil, true, -1},
			{"done: a no-op success", "alice", done.GetName(), nil, false, 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := r.b.Cancel(ctx, tt.scope, tt.opName, mark); !errors.Is(err, tt.wantErr) {
					t.Fatalf("Cancel = %v, want %v", err, tt.wantErr)
				}
				requested, err := r.a.CancelRequested(ctx, tt.opName)
				if err != nil || requested != tt.wantRequested {
					t.Errorf("CancelRequested = %v, %v; want %v", requested, err, tt.wantRequested)
				}
				got, err := r.a.Get(ctx, "alice", tt.opName)
				if err != nil {
					t.Fatal(err)
				}
				if c := counterOf(t, got); c != tt.wantCounter {
					t.Errorf("metadata counter = %d, want %d", c, tt.wantCounter)
				}
			})
		}
	})
}

func TestDelete(t *testing.T) {
	forEach(t, func(t *testing.T, r replicas) {
		ctx := context.Background()
		running := mustCreate(t, r.a, CreateRequest{Scope: "alice"})
		done := mustCreate(t, r.a, CreateRequest{Scope: "alice", RequestID: "rid", Fingerprint: "f"})
		if _, err := r.a.Update(ctx, done.GetName(), finish); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, scope, opName string
			wantErr             error
		}{
			{"running", "alice", running.GetName(), ErrNotDone},
			{"another scope", "bob", done.GetName(), ErrNotFound},
			{"done", "alice", done.GetName(), nil},
			{"again", "alice", done.GetName(), ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := r.b.Delete(ctx, tt.scope, tt.opName); !errors.Is(err, tt.wantErr) {
					t.Fatalf("Delete = %v, want %v", err, tt.wantErr)
				}
			})
		}
		if _, err := r.a.Get(ctx, "alice", done.GetName()); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get after Delete = %v, want ErrNotFound", err)
		}
		// The request_id is free again: the same request starts anew.
		again := mustCreate(t, r.a, CreateRequest{Scope: "alice", RequestID: "rid", Fingerprint: "f"})
		if again.GetName() == done.GetName() {
			t.Error("Create after Delete returned the deleted operation")
		}
	})
}

func TestRetention(t *testing.T) {
	forEach(t, func(t *testing.T, r replicas) {
		ctx := context.Background()
		running := mustCreate(t, r.a, CreateRequest{Scope: "alice"})
		done := mustCreate(t, r.a, CreateRequest{Scope: "alice", RequestID: "rid", Fingerprint: "f"})
		r.clock.Advance(10 * time.Minute) // retention counts from done, not from creation
		if _, err := r.a.Update(ctx, done.GetName(), finish); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			name        string
			advance     time.Duration
			wantDone    bool // the done operation still readable
			wantRunning bool
		}{
			{"just done", 0, true, true},
			{"a moment before the retention", testRetention - time.Millisecond, true, true},
			{"the retention over", time.Millisecond, false, true},
			{"long after: running ones stay", 100 * testRetention, false, true},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				r.clock.Advance(st.advance)
				for _, c := range []struct {
					op   *longrunningpb.Operation
					want bool
				}{{done, st.wantDone}, {running, st.wantRunning}} {
					_, err := r.b.Get(ctx, "alice", c.op.GetName())
					if (err == nil) != c.want {
						t.Errorf("Get(%s) = %v, want readable %v", c.op.GetName(), err, c.want)
					}
				}
				ops, _, err := r.b.List(ctx, "alice", 10, "")
				if err != nil {
					t.Fatal(err)
				}
				if want := map[bool]int{true: 2, false: 1}[st.wantDone]; len(ops) != want {
					t.Errorf("List = %d operations, want %d", len(ops), want)
				}
			})
		}
		again := mustCreate(t, r.a, CreateRequest{Scope: "alice", RequestID: "rid", Fingerprint: "f"})
		if again.GetName() == done.GetName() {
			t.Error("the request_id of an expired operation still dedupes")
		}
	})
}

func TestListPages(t *testing.T) {
	forEach(t, func(t *testing.T, r replicas) {
		ctx := context.Background()
		var alice []string // oldest first
		for i := range 7 {
			alice = append(alice, mustCreate(t, r.a, CreateRequest{Scope: "alice", Metadata: counter(int64(i))}).GetName())
			mustCreate(t, r.b, CreateRequest{Scope: fmt.Sprintf("bob%d", i%2)})
			r.clock.Advance(time.Millisecond)
		}
		if _, err := r.a.Update(ctx, alice[3], finish); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name      string
			scope     string
			pageSize  int
			wantPages []int
		}{
			{"pages of 3", "alice", 3, []int{3, 3, 1}},
			{"pages of 7: one", "alice", 7, []int{7}},
			{"pages of 1", "alice", 1, []int{1, 1, 1, 1, 1, 1, 1}},
			{"another scope", "bob1", 2, []int{2, 1}},
			{"nobody's", "carol", 5, []int{0}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var names, sizes []string
				token := ""
				for page := 0; ; page++ {
					store := []Store{r.a, r.b}[page%2] // pages from either replica
					ops, next, err := store.List(ctx, tt.scope, tt.pageSize, token)
					if err != nil {
						t.Fatal(err)
					}
					sizes = append(sizes, fmt.Sprint(len(ops)))
					for _, op := range ops {
						names = append(names, op.GetName())
					}
					if next == "" {
						break
					}
					token = next
				}
				if fmt.Sprint(sizes) != fmt.Sprint(toStrings(tt.wantPages)) {
					t.Errorf("page sizes %v, want %v", sizes, tt.wantPages)
				}
				if tt.scope == "alice" {
					for i, n := range names {
						if want := alice[len(alice)-1-i]; n != want {
							t.Errorf("item %d = %s, want %s (newest first)", i, n, want)
						}
					}
				}
			})
		}
		if _, _, err := r.a.List(ctx, "alice", 3, "not-a-token"); !errors.Is(err, ErrInvalidPageToken) {
			t.Errorf("List with a bad token = %v, want ErrInvalidPageToken", err)
		}
	})
}

func toStrings(ns []int) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = fmt.Sprint(n)
	}
	return out
}
