package redisqueue

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/procore-directory/procore-directory/service/batch"
)

// claim is this queue's hold on one stream entry; the queue renews its
// lease until Done or Release.
type claim struct {
	q         *Queue
	id        string // the stream entry
	chunk     batch.Chunk
	maybeSent bool
	state     atomic.Int32 // held, finished or lost
}

// A claim's states.
const (
	held     int32 = iota
	finished       // Done or Released by its holder
	lost           // taken over by another replica
)

var _ batch.Claim = (*claim)(nil)

// Chunk implements batch.Claim.
func (c *claim) Chunk() batch.Chunk { return c.chunk }

// MaybeSent implements batch.Claim: an earlier holder marked the chunk
// sending before this queue claimed it.
func (c *claim) MaybeSent() bool { return c.maybeSent }

// MarkSending implements batch.Claim. It fails with ErrLeaseLost when
// another replica took the chunk over: then this one must not send it.
func (c *claim) MarkSending(ctx context.Context) error {
	return c.run(ctx, "mark sending", markScript, false)
}

// Done implements batch.Claim. With ErrLeaseLost the chunk stays with its
// new holder (which skips the items this one recorded).
func (c *claim) Done(ctx context.Context) error {
	return c.run(ctx, "finish", doneScript, true)
}

// Release implements batch.Claim: the chunk is claimable at once by any
// replica (the next Claim to look, within the poll interval), its marker
// unchanged.
func (c *claim) Release(ctx context.Context) error {
	// Not while a renewal runs: it would undo the backdating.
	c.q.renewMu.Lock()
	defer c.q.renewMu.Unlock()
	return c.run(ctx, "release", releaseScript, true, strconv.FormatInt(releasedIdle.Milliseconds(), 10))
}

// run runs one of the holder's scripts on the entry. A Redis error leaves
// the claim as it was (the caller may retry; the lease is still renewed).
func (c *claim) run(ctx context.Context, what string, s *redis.Script, final bool, extra ...any) error {
	switch c.state.Load() {
	case finished:
		return fmt.Errorf("redisqueue: %s chunk %d of %s: %w", what, c.chunk.Seq, c.chunk.Operation, ErrFinished)
	case lost:
		return fmt.Errorf("redisqueue: %s chunk %d of %s: %w", what, c.chunk.Seq, c.chunk.Operation, ErrLeaseLost)
	}
	holds, err := s.Run(ctx, c.q.c, c.q.keys(), append(c.q.args(c.id), extra...)...).Int()
	if err != nil {
		c.q.report(ctx, err)
		return fmt.Errorf("redisqueue: %s chunk %d of %s: %w", what, c.chunk.Seq, c.chunk.Operation, err)
	}
	if holds == 0 {
		c.q.lose(c)
		return fmt.Errorf("redisqueue: %s chunk %d of %s: %w", what, c.chunk.Seq, c.chunk.Operation, ErrLeaseLost)
	}
	if final {
		c.state.Store(finished)
		c.q.forget(c)
	}
	return nil
}
