package admission

import (
	"context"
	"testing"
	"time"
)

// BenchmarkAdmission is one attempt's admission and release on a paced,
// live budget that always has a turn free (the simulated clock moves 10ms
// per look, the budget spreads 1e9 requests over 1000 hours, a turn each 3.6ms): the cost of
// the path itself. "interactive" is the baseline; "batch" is the same
// attempt under WithBatch (it looks for a free turn before taking it).
func BenchmarkAdmission(b *testing.B) {
	for _, bc := range []struct {
		name string
		ctx  context.Context
	}{
		{"interactive", context.Background()},
		{"batch", WithBatch(context.Background())},
	} {
		b.Run(bc.name, func(b *testing.B) {
			limits := NewLimits(DefaultPacingBurst)
			clock := simEpoch
			now := func() time.Time { return clock }
			s := limits.For("cred", clock)
			s.Release(RateLimit{Limit: 1e9, Remaining: 1e9, Reset: clock.Add(1000 * time.Hour), Known: true}, true, true)
			s.inflight = 0 // the seeding Release had no Acquire
			b.ReportAllocs()
			for b.Loop() {
				clock = clock.Add(10 * time.Millisecond)
				adm := limits.Admission("cred", clock)
				spent, err := adm.Acquire(bc.ctx, now)
				if spent != nil || err != nil {
					b.Fatalf("%+v %v", spent, err)
				}
				adm.Release(RateLimit{}, false, true)
			}
		})
	}
}
