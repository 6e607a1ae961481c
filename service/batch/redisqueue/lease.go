package redisqueue

import (
	"context"
	"time"
)

// sweepEvery is how many leases pass between sweeps of departed
// consumers; a consumer is departed when it held nothing for as long.
const sweepEvery = 10

// renewLoop renews the leases of the held claims every third of the
// lease, and now and then deletes the group's departed consumers (killed
// replicas, whose chunks others took over), until Close.
func (q *Queue) renewLoop(ctx context.Context) {
	defer q.wg.Done()
	renew := time.NewTicker(q.cfg.lease / 3)
	defer renew.Stop()
	sweep := time.NewTicker(sweepEvery * q.cfg.lease)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-renew.C:
			q.renew(ctx)
		case <-sweep.C:
			q.sweep(ctx)
		}
	}
}

// renew resets the idle time of the held entries; those another replica
// took over (this replica stalled past the lease) are marked finished, so
// that their holder's MarkSending and Done fail with ErrLeaseLost.
func (q *Queue) renew(ctx context.Context) {
	q.renewMu.Lock()
	defer q.renewMu.Unlock()
	q.mu.Lock()
	ids := make([]string, 0, len(q.held))
	for id := range q.held {
		ids = append(ids, id)
	}
	q.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, q.cfg.lease/3)
	defer cancel()
	gone, err := renewScript.Run(rctx, q.c, q.keys(), q.args(ids...)...).StringSlice()
	if err != nil {
		q.report(rctx, err)
		if ctx.Err() == nil { // not Close
			q.cfg.log.Warn("batch queue: could not renew leases; another replica may take the chunks over", "chunks", len(ids), "err", err)
		}
		return
	}
	for _, id := range gone {
		q.mu.Lock()
		c := q.held[id]
		q.mu.Unlock()
		if c != nil {
			q.lose(c)
		}
	}
}

// lose records that another replica took c over (unless its holder
// finished it meanwhile).
func (q *Queue) lose(c *claim) {
	q.forget(c)
	if c.state.CompareAndSwap(held, lost) {
		q.cfg.log.Warn("batch queue: lease lost to another replica", "operation", c.chunk.Operation, "chunk", c.chunk.Seq)
	}
}

// sweep deletes consumers that held nothing for sweepEvery leases.
func (q *Queue) sweep(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, q.cfg.lease/3)
	defer cancel()
	if n, err := sweepScript.Run(ctx, q.c, []string{q.stream}, group, (sweepEvery * q.cfg.lease).Milliseconds()).Int(); err == nil && n > 0 {
		q.cfg.log.Info("batch queue: departed consumers removed", "consumers", n)
	}
}
