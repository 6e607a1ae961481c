package batch_test

import (
	"context"
	"sync"
	"testing"

	"github.com/procore-directory/procore-directory/service/batch"
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
