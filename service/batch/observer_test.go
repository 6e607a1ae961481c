package batch_test

import (
	"context"
	"sync"
	"testing"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/batch"
	"github.com/procore-directory/procore-directory/service/operations"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// observed records what the runner tells its Observer.
type observed struct {
	mu                   sync.Mutex
	inFlight, maxFlight  int
	succeeded, failed    int
	settleCalls, flights int
}

func (o *observed) BatchesInFlight(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.inFlight, o.maxFlight, o.flights = n, max(o.maxFlight, n), o.flights+1
}

func (o *observed) ItemsSettled(succeeded, failed int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.succeeded, o.failed, o.settleCalls = o.succeeded+succeeded, o.failed+failed, o.settleCalls+1
}

// TestObserverSeesProgress: every item's outcome is counted once, chunk by
// chunk, and the operation is in flight while a chunk of it runs, then
// not.
func TestObserverSeesProgress(t *testing.T) {
	obs := &observed{}
	h := newHarness(t, harnessConfig{opts: []batch.Option{batch.WithChunkSize(2), batch.WithObserver(obs)}})
	op, err := h.b.Submit(context.Background(), lastNames(ids(5)...))
	if err != nil {
		t.Fatal(err)
	}
	if done, md := h.wait(t, op); done.GetError() != nil || md.GetSucceeded() != 5 {
		t.Fatalf("error %v, succeeded %d", done.GetError(), md.GetSucceeded())
	}
	h.b.Stop(context.Background(), context.Canceled) // the runners are done: every call was made
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.succeeded != 5 || obs.failed != 0 || obs.settleCalls != 3 {
		t.Errorf("settled %d succeeded, %d failed in %d calls; want 5, 0 in 3 (chunks of 2)", obs.succeeded, obs.failed, obs.settleCalls)
	}
	if obs.maxFlight != 1 || obs.inFlight != 0 || obs.flights != 6 {
		t.Errorf("in flight: at most %d, last %d, %d calls; want 1, 0, 6 (a start and an end per chunk)", obs.maxFlight, obs.inFlight, obs.flights)
	}
}

// perItem records the Observer's calls that count items, and what the
// operation had recorded at each.
type perItem struct {
	store    operations.Store
	name     string
	mu       sync.Mutex
	calls    [][2]int // succeeded, failed
	recorded []int32  // items the operation had settled at each call
}

func (o *perItem) BatchesInFlight(int) {}

func (o *perItem) ItemsSettled(succeeded, failed int) {
	if succeeded+failed == 0 {
		return
	}
	op, err := o.store.Get(context.Background(), "", o.name)
	md := &directoryv1.BatchUpdateCompanyUsersMetadata{}
	if err == nil {
		err = op.GetMetadata().UnmarshalTo(md)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, [2]int{succeeded, failed})
	if err != nil {
		o.recorded = append(o.recorded, -1)
		return
	}
	o.recorded = append(o.recorded, md.GetSucceeded()+md.GetFailed())
}

// TestObserverSeesEachItemOfALongChunk: a chunk whose items take a Procore
// request each (single PATCHes after sync is refused, read-backs of a
// chunk that may have been sent) tells each item's outcome as it ends,
// before the chunk is recorded in the operation (one record at its end),
// and counts every item once.
func TestObserverSeesEachItemOfALongChunk(t *testing.T) {
	const n = 4
	for _, tc := range []struct {
		name              string
		cfg               harnessConfig
		succeeded, failed int
	}{
		{"fallback", harnessConfig{emuOpts: []procoretest.Option{procoretest.WithSync(procoretest.SyncForbidden), procoretest.WithPartialBodies(true)}}, n, 0},
		// Nothing was sent before: every item reads back not applied.
		{"read-back", harnessConfig{opts: []batch.Option{batch.WithQueue(maybeSentQueue{batch.NewMemoryQueue()})}}, 0, n},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs := &perItem{}
			tc.cfg.users, tc.cfg.noStart = n, true
			tc.cfg.opts = append(tc.cfg.opts, batch.WithObserver(obs))
			h := newHarness(t, tc.cfg)
			op, err := h.b.Submit(context.Background(), lastNames(ids(n)...))
			if err != nil {
				t.Fatal(err)
			}
			obs.store, obs.name = h.store, op.GetName()
			h.b.Start()
			if _, md := h.wait(t, op); md.GetSucceeded() != int32(tc.succeeded) || md.GetFailed() != int32(tc.failed) {
				t.Fatalf("metadata %v", md)
			}
			h.b.Stop(context.Background(), context.Canceled) // the runners are done: every call was made
			obs.mu.Lock()
			defer obs.mu.Unlock()
			var succeeded, failed int
			for i, c := range obs.calls {
				succeeded, failed = succeeded+c[0], failed+c[1]
				if c[0]+c[1] != 1 || obs.recorded[i] != 0 {
					t.Errorf("call %d told %v with %d items recorded; want one item, told before the chunk is recorded", i, c, obs.recorded[i])
				}
			}
			if len(obs.calls) != n || succeeded != tc.succeeded || failed != tc.failed {
				t.Errorf("%d calls told %d succeeded, %d failed; want %d calls, %d and %d", len(obs.calls), succeeded, failed, n, tc.succeeded, tc.failed)
			}
		})
	}
}
