package redisqueue_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/procore-directory/procore-directory/service/batch"
	"github.com/procore-directory/procore-directory/service/state/redisstate/redistest"
)

// BenchmarkClaimDone is the queue's cost per chunk: Claim (a new entry),
// MarkSending and Done, against a real redis-server on loopback, for a
// chunk of one item and a full one (--sync-batch-size 1000). The pushes
// are outside the timer; b.N chunks are queued first.
func BenchmarkClaimDone(b *testing.B) {
	srv := redistest.Start(b)
	for _, items := range []int{1, 1000} {
		b.Run(fmt.Sprintf("items=%d", items), func(b *testing.B) {
			q := queue(b, client(b, srv), fmt.Sprintf("bench%d", items))
			ctx := context.Background()
			one := chunks("operations/bench", 1, items)[0]
			all := make([]batch.Chunk, 0, 100)
			for n := 0; n < b.N; n += len(all) {
				all = all[:0]
				for i := n; i < min(b.N, n+100); i++ {
					c := one
					c.Seq = i
					all = append(all, c)
				}
				if err := q.Push(ctx, all); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				c, err := q.Claim(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.MarkSending(ctx); err != nil {
					b.Fatal(err)
				}
				if err := c.Done(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
