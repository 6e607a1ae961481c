package admission

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestBatchWaitsForInteractive drives one credential's Budget step by step
// with a frozen clock: attempts named I… are interactive, B… batch; each
// step looks at the budget once (as Acquire does each time it wakes), ends
// a paced wait ("turn") or ends a request ("release"), and says what the
// look must decide: "admit" (go now), "paced" (admitted, go after a paced
// wait) or "wait" (not admitted).
func TestBatchWaitsForInteractive(t *testing.T) {
	type step struct {
		who  string
		op   string // "try" (default), "turn", "release"
		want string
	}
	tests := []struct {
		name      string
		burst     int
		share     float64
		remaining int
		steps     []step
	}{
		{
			name: "a freed slot goes to the waiting interactive attempt", burst: 0, share: 0.5, remaining: 1,
			steps: []step{
				{who: "B1", want: "admit"},
				{who: "I1", want: "wait"},
				{who: "B2", want: "wait"},
				{who: "B1", op: "release"},
				{who: "B2", want: "wait"}, // looks first, but I1 waits
				{who: "I1", want: "admit"},
				{who: "B2", want: "wait"},
				{who: "I1", op: "release"},
				{who: "B2", want: "admit"}, // no one waits any more
			},
		},
		{
			name: "an interactive paced turn holds batch back", burst: 1, share: 0.5, remaining: 10,
			steps: []step{
				{who: "B1", want: "admit"},
				{who: "I1", want: "paced"},
				{who: "B2", want: "wait"},
				{who: "I1", op: "turn"},
				{who: "B2", want: "wait"}, // the clock is frozen: no turn is free yet
			},
		},
		{
			name: "with no interactive waiting batch takes free turns but reserves none", burst: 2, share: 0.5, remaining: 10,
			steps: []step{
				{who: "B1", want: "admit"},
				{who: "B2", want: "admit"},
				{who: "B3", want: "wait"},
				{who: "I1", want: "paced"}, // the next turn, not the one after B3's
				{who: "B3", want: "paced"}, // spends the turn I1 earned it, behind I1
			},
		},
		{
			name: "an interactive admission earns batch one turn at share 0.5", burst: 1, share: 0.5, remaining: 10,
			steps: []step{
				{who: "I1", want: "admit"},
				{who: "B1", want: "wait"},
				{who: "I2", want: "paced"}, // B1 waits: I2 earns it a turn
				{who: "B1", want: "paced"}, // spends it, behind I2
				{who: "B2", want: "wait"},
				{who: "I3", want: "paced"},
				{who: "B2", want: "paced"},
			},
		},
		{
			name: "share 0: batch never goes while interactive attempts wait", burst: 1, share: 0, remaining: 10,
			steps: []step{
				{who: "I1", want: "admit"},
				{who: "B1", want: "wait"},
				{who: "I2", want: "paced"},
				{who: "B1", want: "wait"},
				{who: "I3", want: "paced"},
				{who: "B1", want: "wait"},
			},
		},
		{
			name: "share 1: no priority, batch reserves turns as interactive attempts do", burst: 1, share: 1, remaining: 10,
			steps: []step{
				{who: "B1", want: "admit"},
				{who: "B2", want: "paced"},
				{who: "I1", want: "paced"},
				{who: "B3", want: "paced"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := simEpoch
			b := NewLimits(tt.burst, WithBatchBudgetShare(tt.share)).For("cred", now)
			b.rl = RateLimit{Limit: 25, Remaining: tt.remaining, Reset: now.Add(10 * time.Second), Known: true}
			b.answered = true
			waiting := map[string]*bool{}
			for i, st := range tt.steps {
				c := Interactive
				if strings.HasPrefix(st.who, "B") {
					c = Batch
				}
				if waiting[st.who] == nil {
					waiting[st.who] = new(bool)
				}
				switch st.op {
				case "release":
					b.Release(RateLimit{}, false, true)
					continue
				case "turn":
					b.mu.Lock()
					b.leaveLocked(c, waiting[st.who])
					b.mu.Unlock()
					continue
				}
				b.mu.Lock()
				got := b.stepLocked(c, now, time.Time{}, waiting[st.who])
				b.mu.Unlock()
				if d := decision(got); d != st.want {
					t.Fatalf("step %d (%s): %s, want %s", i, st.who, d, st.want)
				}
			}
		})
	}
}

func decision(s step) string {
	switch {
	case s.spent != nil:
		return "spent"
	case s.admitted && s.wait > 0:
		return "paced"
	case s.admitted:
		return "admit"
	}
	return "wait"
}

// simScenario is a credential under load: Procore's limit per window, how
// long it takes to answer, and the callers.
type simScenario struct {
	name          string
	limit         int
	window        time.Duration
	latency       time.Duration
	batch         int           // batch callers, always busy
	period, start time.Duration // one interactive caller's arrivals
}

func (sc simScenario) run(t *testing.T, batch int, share float64, d time.Duration) (simRun, *simCaller) {
	t.Helper()
	b := NewLimits(DefaultPacingBurst, WithBatchBudgetShare(share)).For("cred", simEpoch)
	var cs []*simCaller
	for range batch {
		cs = append(cs, &simCaller{class: Batch, busy: true}) // first: they win every tie
	}
	single := &simCaller{class: Interactive, start: sc.start, period: sc.period}
	cs = append(cs, single)
	return simulate(t, b, &simProcore{limit: sc.limit, window: sc.window}, cs, d, sc.latency), single
}

// TestInteractiveFirstUnderBatch is the promise with a batch of
// single PATCHes saturating the spike limit: each single call waits at most
// one pacing interval more than the same call on an idle service (the
// interval as tuned at its arrival, or the window's nominal one at a
// window's end, where the pacer waits for the new window's first answer),
// none is refused or gets a 429, and the batch still sends at least 90% of
// what the single calls leave of the budget.
func TestInteractiveFirstUnderBatch(t *testing.T) {
	const d = 30 * time.Minute
	tests := []simScenario{
		{name: "spike 25/10s, 16 batch callers, a call every 3.7s", limit: 25, window: 10 * time.Second,
			latency: 150 * time.Millisecond, batch: 16, period: 3700 * time.Millisecond, start: 1300 * time.Millisecond},
		{name: "spike 25/10s, slow answers", limit: 25, window: 10 * time.Second,
			latency: 350 * time.Millisecond, batch: 16, period: 2900 * time.Millisecond, start: 700 * time.Millisecond},
		{name: "spike 100/10s, a call a second", limit: 100, window: 10 * time.Second,
			latency: 200 * time.Millisecond, batch: 16, period: time.Second, start: 450 * time.Millisecond},
		{name: "one batch caller", limit: 25, window: 10 * time.Second,
			latency: 100 * time.Millisecond, batch: 1, period: 1700 * time.Millisecond, start: 300 * time.Millisecond},
	}
	for _, sc := range tests {
		t.Run(sc.name, func(t *testing.T) {
			idle, idleCall := sc.run(t, 0, DefaultBatchBudgetShare, d)
			busy, call := sc.run(t, sc.batch, DefaultBatchBudgetShare, d)
			if busy.rejected != 0 || busy.spent != 0 || idle.rejected != 0 {
				t.Fatalf("429s %d (idle %d), refused %d: want none", busy.rejected, idle.rejected, busy.spent)
			}
			if len(call.waits) != len(idleCall.waits) {
				t.Fatalf("%d single calls sent, %d on the idle service", len(call.waits), len(idleCall.waits))
			}
			nominal := sc.window / time.Duration(sc.limit)
			var worst time.Duration
			for i, w := range call.waits {
				bound := idleCall.waits[i] + max(call.intervals[i], nominal)
				if w > bound {
					t.Errorf("call %d waited %v, idle %v, bound %v", i, w, idleCall.waits[i], bound)
				}
				worst = max(worst, w-idleCall.waits[i])
			}
			capacity := sc.limit * int(d/sc.window)
			left := capacity - busy.sent[Interactive]
			if busy.sent[Batch] < left*9/10 {
				t.Errorf("batch sent %d of the %d the single calls left (%.1f%%), want >= 90%%",
					busy.sent[Batch], left, 100*float64(busy.sent[Batch])/float64(left))
			}
			t.Logf("worst extra wait %v (nominal interval %v); batch used %.1f%% of what %d single calls left",
				worst, nominal, 100*float64(busy.sent[Batch])/float64(left), busy.sent[Interactive])
		})
	}
}

// TestBatchAloneUsesWholeBudget: with no interactive attempt waiting,
// batch work is admitted at the full rate: as much as the same callers
// sending interactive attempts, and at least 95% of Procore's limit.
func TestBatchAloneUsesWholeBudget(t *testing.T) {
	const d = 30 * time.Minute
	for _, n := range []int{1, 4, 16} {
		t.Run(fmt.Sprintf("%d callers", n), func(t *testing.T) {
			sent := map[Class]int{}
			for _, c := range []Class{Interactive, Batch} {
				b := NewLimits(DefaultPacingBurst).For("cred", simEpoch)
				var cs []*simCaller
				for range n {
					cs = append(cs, &simCaller{class: c, busy: true})
				}
				p := &simProcore{limit: 25, window: 10 * time.Second}
				r := simulate(t, b, p, cs, d, 100*time.Millisecond)
				if r.rejected != 0 || r.spent != 0 {
					t.Fatalf("%v: 429s %d, refused %d", c, r.rejected, r.spent)
				}
				sent[c] = r.sent[c]
			}
			capacity := 25 * int(d/(10*time.Second))
			if sent[Batch] < sent[Interactive]*99/100 || sent[Batch] < capacity*95/100 {
				t.Fatalf("batch sent %d, interactive %d, capacity %d", sent[Batch], sent[Interactive], capacity)
			}
		})
	}
}

// TestBatchBudgetShare: with interactive callers always waiting (a steady
// stream that alone would take the whole budget), batch work gets its share
// of the turns, no more, and is not starved.
func TestBatchBudgetShare(t *testing.T) {
	const d = 30 * time.Minute
	for _, share := range []float64{0, 0.25, 0.5, 0.75, 1} {
		t.Run(fmt.Sprint(share), func(t *testing.T) {
			b := NewLimits(DefaultPacingBurst, WithBatchBudgetShare(share)).For("cred", simEpoch)
			var cs []*simCaller
			for range 8 {
				cs = append(cs, &simCaller{class: Batch, busy: true})
			}
			for range 8 {
				cs = append(cs, &simCaller{class: Interactive, busy: true})
			}
			r := simulate(t, b, &simProcore{limit: 25, window: 10 * time.Second}, cs, d, 150*time.Millisecond)
			if r.rejected != 0 || r.spent != 0 {
				t.Fatalf("429s %d, refused %d", r.rejected, r.spent)
			}
			got := float64(r.sent[Batch]) / float64(r.sent[Batch]+r.sent[Interactive])
			lo, hi := 0.75*share, share+0.02 // up to the share; credit lost at its ceiling costs some
			if share == 1 {
				lo = 0.47 // no priority: at least what 8 callers of each class get alike
			}
			if got > hi || got < lo {
				t.Fatalf("batch took %.3f of %d requests, want within [%.2f, %.2f]", got, r.sent[Batch]+r.sent[Interactive], lo, hi)
			}
			t.Logf("batch took %.3f", got)
		})
	}
}

// TestBatchHeldAcquire runs the blocking Acquire: a batch attempt that
// waits beside an interactive one for a slot is admitted only after it,
// whichever wakes first.
func TestBatchHeldAcquire(t *testing.T) {
	b := NewLimits(0).For("cred", time.Now())
	b.rl = RateLimit{Limit: 25, Remaining: 1, Reset: time.Now().Add(time.Hour), Known: true}
	bg := context.Background()
	if spent, err := b.Acquire(WithBatch(bg), time.Now); spent != nil || err != nil {
		t.Fatalf("first: %+v %v", spent, err)
	}
	waitFor := func(c Class) {
		for {
			b.mu.Lock()
			n := b.prio.waiting[c]
			b.mu.Unlock()
			if n == 1 {
				return
			}
			runtime.Gosched() // until the goroutine counts itself waiting
		}
	}
	acquire := func(ctx context.Context) <-chan error {
		done := make(chan error, 1)
		go func() {
			_, err := b.Acquire(ctx, time.Now)
			done <- err
		}()
		return done
	}
	interactive := acquire(bg)
	waitFor(Interactive)
	batch := acquire(WithBatch(bg))
	waitFor(Batch)
	b.Release(RateLimit{}, false, true) // one slot: both wake
	if err := <-interactive; err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-batch:
		t.Fatalf("batch admitted (%v) while the slot is the interactive attempt's", err)
	default:
	}
	b.Release(RateLimit{}, false, true)
	if err := <-batch; err != nil {
		t.Fatal(err)
	}
	b.Release(RateLimit{}, false, true)
}

// TestBatchHeldGivesUpWithContext: a held batch attempt whose context ends
// stops counting as waiting.
func TestBatchHeldGivesUpWithContext(t *testing.T) {
	b := NewLimits(0).For("cred", time.Now())
	b.prio.waiting[Interactive] = 1 // an interactive attempt waits
	ctx, cancel := context.WithCancel(WithBatch(context.Background()))
	cancel()
	if _, err := b.Acquire(ctx, time.Now); err == nil {
		t.Fatal("admitted while an interactive attempt waits")
	}
	if n := b.prio.waiting[Batch]; n != 0 {
		t.Fatalf("%d batch attempts counted waiting, want 0", n)
	}
}
