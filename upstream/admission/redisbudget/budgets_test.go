package redisbudget

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/procore-directory/procore-directory/service/state/redisstate"
	"github.com/procore-directory/procore-directory/service/state/redisstate/redistest"
	"github.com/procore-directory/procore-directory/upstream/admission"
)

// replica opens one replica's link to srv, closed at the test's end.
func replica(t *testing.T, srv *redistest.Server) *redisstate.Conn {
	t.Helper()
	c, err := redisstate.Open(context.Background(), srv.URL(), redisstate.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if !c.Up() {
		t.Fatal("redis not up")
	}
	return c
}

// TestInteractiveWaiterHoldsBatchFleetWide looks at one credential's
// fleet budget step by step from two replicas (A and B, one Redis) with a
// frozen clock: attempts named I… are interactive, B… batch; "try" runs
// the admission script once, as Acquire does each time it looks, and says
// what it must decide ("admit", "paced": admitted after a paced wait,
// "wait": not now); "release" ends a request; "later" moves the clock.
func TestInteractiveWaiterHoldsBatchFleetWide(t *testing.T) {
	srv := redistest.Start(t)
	links := map[string]*redisstate.Conn{"A": replica(t, srv), "B": replica(t, srv)}
	type step struct {
		on, who, op, want string
		later             time.Duration
	}
	tests := []struct {
		name      string
		burst     int
		share     float64
		remaining int
		steps     []step
	}{
		{
			name: "an interactive waiter on B holds a batch on A", burst: 0, share: 0.5, remaining: 1,
			steps: []step{
				{on: "A", who: "B1", want: "admit"},
				{on: "B", who: "I1", want: "wait"},
				{on: "A", who: "B1", op: "release"},
				{on: "A", who: "B2", want: "wait"}, // the slot is free, but I1 waits on B
				{on: "B", who: "I1", want: "admit"},
				{on: "A", who: "B2", want: "wait"},
				{on: "B", who: "I1", op: "release"},
				{on: "A", who: "B2", want: "admit"},
			},
		},
		{
			name: "the waiter of a replica that stopped looking expires", burst: 0, share: 0.5, remaining: 1,
			steps: []step{
				{on: "A", who: "B1", want: "admit"},
				{on: "B", who: "I1", want: "wait"},
				{on: "A", who: "B1", op: "release"},
				{on: "A", who: "B2", want: "wait"},
				{op: "later", later: DefaultWaiterTTL + time.Millisecond}, // B died: I1 looks no more
				{on: "A", who: "B2", want: "admit"},
			},
		},
		{
			name: "an interactive paced turn on B goes before batch on A, which spends the credit it earned", burst: 1, share: 0.5, remaining: 10,
			steps: []step{
				{on: "A", who: "B1", want: "admit"},
				{on: "A", who: "B2", want: "wait"}, // no turn free now: it reserves none
				{on: "B", who: "I1", want: "paced"},
				{on: "A", who: "B2", want: "paced"}, // behind I1, on I1's credit
				{on: "A", who: "B3", want: "wait"},
			},
		},
		{
			name: "share 0: no batch turn while an interactive attempt waits", burst: 1, share: 0, remaining: 10,
			steps: []step{
				{on: "A", who: "B1", want: "admit"},
				{on: "A", who: "B2", want: "wait"},
				{on: "B", who: "I1", want: "paced"},
				{on: "A", who: "B2", want: "wait"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Now().Truncate(time.Millisecond)
			budgets := map[string]*Budgets{}
			for name, l := range links {
				budgets[name] = New(l, admission.NewLimits(tt.burst, admission.WithBatchBudgetShare(tt.share)), tt.burst)
			}
			ctx := context.Background()
			cred := tt.name
			// One answer reports the window.
			seed := budgets["A"].Admission(cred, now).(*attempt)
			seed.waiter = newMember()
			if code, _, _, err := seed.take(ctx, now, "seed"); err != nil || code != 1 {
				t.Fatalf("seed: %d %v", code, err)
			}
			seed.member = "seed"
			seed.Release(admission.RateLimit{Limit: 25, Remaining: tt.remaining, Reset: now.Add(10 * time.Second), Known: true}, true, true)
			// A new window restarts pacing at the release's own (real) clock:
			// go on from after it.
			now = time.Now().Truncate(time.Millisecond).Add(time.Millisecond)
			attempts := map[string]*attempt{}
			for i, st := range tt.steps {
				if st.op == "later" {
					now = now.Add(st.later)
					continue
				}
				a := attempts[st.who]
				if a == nil {
					a = budgets[st.on].Admission(cred, now).(*attempt)
					a.batch, a.waiter = strings.HasPrefix(st.who, "B"), newMember()
					attempts[st.who] = a
				}
				if st.op == "release" {
					a.Release(admission.RateLimit{}, false, true)
					continue
				}
				member := newMember()
				code, d, _, err := a.take(ctx, now, member)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				got := map[int64]string{0: "wait", 1: "admit", 2: "spent"}[code]
				if code == 1 {
					a.member = member
					if d > 0 {
						got = "paced"
					}
				}
				if got != st.want {
					t.Fatalf("step %d (%s on %s): %s (%v), want %s", i, st.who, st.on, got, d, st.want)
				}
			}
		})
	}
}

// TestBatchAcquireYieldsAcrossReplicas runs the blocking Acquire on two
// replicas: a batch attempt on A waiting beside an interactive one on B for
// the credential's last slot is admitted only after it.
func TestBatchAcquireYieldsAcrossReplicas(t *testing.T) {
	srv := redistest.Start(t)
	a := New(replica(t, srv), admission.NewLimits(0), 0)
	b := New(replica(t, srv), admission.NewLimits(0), 0)
	ctx := context.Background()
	first := a.Admission("cred", time.Now())
	if spent, err := first.Acquire(admission.WithBatch(ctx), time.Now); spent != nil || err != nil {
		t.Fatalf("first: %+v %v", spent, err)
	}
	first.Release(admission.RateLimit{Limit: 25, Remaining: 1, Reset: time.Now().Add(time.Hour), Known: true}, true, true)
	holder := a.Admission("cred", time.Now())
	if spent, err := holder.Acquire(admission.WithBatch(ctx), time.Now); spent != nil || err != nil {
		t.Fatalf("holder: %+v %v", spent, err)
	}
	acquire := func(adm admission.Admission, ctx context.Context) <-chan error {
		done := make(chan error, 1)
		go func() {
			_, err := adm.Acquire(ctx, time.Now)
			done <- err
		}()
		return done
	}
	interactive := b.Admission("cred", time.Now())
	iDone := acquire(interactive, ctx)
	waitWaiting(t, interactive.(*attempt))
	batch := a.Admission("cred", time.Now())
	bDone := acquire(batch, admission.WithBatch(ctx))
	holder.Release(admission.RateLimit{}, false, true)
	if err := <-iDone; err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-bDone:
		t.Fatalf("batch admitted (%v) while the slot is the interactive attempt's", err)
	default:
	}
	interactive.Release(admission.RateLimit{}, false, true)
	if err := <-bDone; err != nil {
		t.Fatal(err)
	}
	batch.Release(admission.RateLimit{}, false, true)
}

// waitWaiting returns once the attempt is in the fleet's waiting set.
func waitWaiting(t *testing.T, a *attempt) {
	t.Helper()
	for i := 0; ; i++ {
		n, err := a.b.link.Client().ZCard(context.Background(), a.keys[2]).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if i > 100_000 {
			t.Fatal("the interactive attempt never waited")
		}
	}
}

// TestAttemptEndedWhileRedisWasGone: an attempt admitted in Redis whose
// end Redis could not be told is taken out of the in-flight set as soon as
// a Redis that kept its data is back, not when its lease (a minute) runs
// out: until then it holds a place, and while the budget is unknown the
// fleet's one probe.
func TestAttemptEndedWhileRedisWasGone(t *testing.T) {
	srv := redistest.Start(t, redistest.Durable())
	link := replica(t, srv)
	b := New(link, admission.NewLimits(0), 0)
	ctx := context.Background()
	a := b.Admission("cred", time.Now()).(*attempt)
	if spent, err := a.Acquire(ctx, time.Now); err != nil || spent != nil || a.member == "" {
		t.Fatalf("not admitted in Redis: %v %v (member %q)", spent, err, a.member)
	}
	rc := redis.NewClient(srv.Options())
	defer rc.Close()
	if n, err := rc.ZCard(ctx, a.keys[1]).Result(); err != nil || n != 1 {
		t.Fatalf("in flight before: %d %v", n, err)
	}
	srv.Kill()
	a.Release(admission.RateLimit{}, false, false)
	srv.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := rc.ZCard(ctx, a.keys[1]).Result()
		if err == nil && n == 0 && link.Up() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d in flight (%v) 10 s after Redis came back", n, err)
		}
		time.Sleep(20 * time.Millisecond) // polling the probe's work, with a deadline
	}
}
