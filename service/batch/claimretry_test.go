package batch_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/procore-directory/procore-directory/service/batch"
)

// failingClaims is a queue whose first claims fail, as the shared queue's
// do while Redis is unreachable.
type failingClaims struct {
	*batch.MemoryQueue
	failures atomic.Int32 // claims still to fail
	claims   atomic.Int32
}

func (q *failingClaims) Claim(ctx context.Context) (batch.Claim, error) {
	q.claims.Add(1)
	if q.failures.Add(-1) >= 0 {
		return nil, errors.New("redis: connection refused")
	}
	return q.MemoryQueue.Claim(ctx)
}

// TestRunnerRetriesFailedClaims: a runner whose queue fails to claim
// (Redis down) keeps trying and runs the batch once claims work again,
// instead of leaving the queue unclaimed for good.
func TestRunnerRetriesFailedClaims(t *testing.T) {
	q := &failingClaims{MemoryQueue: batch.NewMemoryQueue()}
	q.failures.Store(3)
	h := newHarness(t, harnessConfig{users: 4, opts: []batch.Option{batch.WithQueue(q)}})
	op, err := h.b.Submit(context.Background(), lastNames(ids(4)...))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done, err := h.store.Wait(ctx, "", op.GetName())
	if err != nil {
		t.Fatalf("the batch did not finish after failed claims (%d claims): %v", q.claims.Load(), err)
	}
	if !done.GetDone() || done.GetError() != nil {
		t.Fatalf("operation %v", done)
	}
	if n := q.claims.Load(); n < 4 {
		t.Fatalf("%d claims, want the 3 failures and at least one success", n)
	}
}
