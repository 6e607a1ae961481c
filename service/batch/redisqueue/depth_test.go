package redisqueue_test

import (
	"strings"
	"testing"
	"time"

	"github.com/procore-directory/procore-directory/service/batch/redisqueue"
	"github.com/procore-directory/procore-directory/service/state/redisstate/redistest"
)

// TestDepth: the depth is the chunks pushed and not done, claimed or not,
// released or not, the same from every replica (the fleet's stream); 0
// before the first push; a Redis error without Redis.
func TestDepth(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	a, b := queue(t, client(t, srv), "a"), queue(t, client(t, srv), "b")
	ctx := ctxFor(t, 20*time.Second)
	depths := func(step string, want int) {
		t.Helper()
		for name, q := range map[string]*redisqueue.Queue{"a": a, "b": b} {
			if n, err := q.Depth(ctx); err != nil || n != want {
				t.Errorf("%s: replica %s's depth = %d, %v; want %d", step, name, n, err, want)
			}
		}
	}
	depths("before any push", 0)
	must(t, a.Push(ctx, chunks("operations/depth", 4, 2)))
	depths("pushed 4", 4)
	held := claim(t, a, 5*time.Second)
	depths("one claimed", 4)
	must(t, held.Release(ctx))
	depths("one released", 4)
	for _, q := range []*redisqueue.Queue{b, a} {
		c := claim(t, q, 5*time.Second)
		must(t, c.MarkSending(ctx))
		must(t, c.Done(ctx))
	}
	depths("two done, one by each replica", 2)
	srv.Kill()
	if _, err := a.Depth(ctx); err == nil || !strings.HasPrefix(err.Error(), "redisqueue: length of the stream") {
		t.Errorf("Depth without Redis = %v, want a wrapped Redis error", err)
	}
}
