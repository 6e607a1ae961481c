package batch_test

import (
	"context"
	"slices"
	"testing"

	"github.com/procore-directory/procore-directory/service/batch"
)

// TestMemoryQueueDepth: the depth is the chunks pushed and not done,
// claimed or not, released or not.
func TestMemoryQueueDepth(t *testing.T) {
	ctx := context.Background()
	q := batch.NewMemoryQueue()
	depth := func(step string, want int) {
		t.Helper()
		if n, err := q.Depth(ctx); err != nil || n != want {
			t.Errorf("%s: depth %d, %v; want %d", step, n, err, want)
		}
	}
	depth("empty", 0)
	if err := q.Push(ctx, []batch.Chunk{{Operation: "operations/a"}, {Operation: "operations/a", Seq: 1}, {Operation: "operations/a", Seq: 2}}); err != nil {
		t.Fatal(err)
	}
	depth("pushed 3", 3)
	first, err := q.Claim(ctx)
	if err != nil {
		t.Fatal(err)
	}
	depth("one claimed", 3)
	if err := first.Release(ctx); err != nil {
		t.Fatal(err)
	}
	depth("one released", 3)
	for range 2 {
		c, err := q.Claim(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Done(ctx); err != nil {
			t.Fatal(err)
		}
	}
	depth("two done", 1)
}

// TestQueueDepths: the local queue always tells its depth; the shared one
// only when it is a Depther, under its own name.
func TestQueueDepths(t *testing.T) {
	for _, tc := range []struct {
		name   string
		shared batch.Queue
		want   []string
	}{
		{"local only", nil, []string{batch.QueueLocal}},
		{"shared Depther", batch.NewMemoryQueue(), []string{batch.QueueLocal, batch.QueueShared}},
		{"shared without depth", noDepth{batch.NewMemoryQueue()}, []string{batch.QueueLocal}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []batch.Option
			if tc.shared != nil {
				opts = append(opts, batch.WithQueue(tc.shared))
			}
			h := newHarness(t, harnessConfig{users: 1, opts: opts, noStart: true})
			var got []string
			for name := range h.b.QueueDepths() {
				got = append(got, name)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("queues %v, want %v", got, tc.want)
			}
		})
	}
}

// noDepth is a Queue that cannot tell its depth.
type noDepth struct{ q *batch.MemoryQueue }

func (n noDepth) Push(ctx context.Context, c []batch.Chunk) error { return n.q.Push(ctx, c) }
func (n noDepth) Claim(ctx context.Context) (batch.Claim, error)  { return n.q.Claim(ctx) }
func (n noDepth) Close() error                                    { return n.q.Close() }
