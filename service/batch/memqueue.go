package batch

import (
	"context"
	"errors"
	"sync"
)

// ErrQueueClosed is returned by Claim and Push once the queue is closed.
var ErrQueueClosed = errors.New("batch: queue closed")

// MemoryQueue is the Queue of one replica: chunks live in this process
// only, so a restart loses them (the runner fails the operations it held,
// with their progress). A claim's lease never expires while the process
// lives, so a chunk is claimed again only after Release. Chunks are handed
// out in the order pushed.
type MemoryQueue struct {
	mu      sync.Mutex
	ready   []*memEntry
	wake    chan struct{}
	closed  bool
	claimed int
}

type memEntry struct {
	chunk   Chunk
	sending bool
}

var (
	_ Queue   = (*MemoryQueue)(nil)
	_ Depther = (*MemoryQueue)(nil)
)

// NewMemoryQueue returns an empty MemoryQueue.
func NewMemoryQueue() *MemoryQueue { return &MemoryQueue{wake: make(chan struct{})} }

// Push implements Queue.
func (q *MemoryQueue) Push(_ context.Context, chunks []Chunk) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrQueueClosed
	}
	for _, c := range chunks {
		q.ready = append(q.ready, &memEntry{chunk: c})
	}
	q.signalLocked()
	return nil
}

// signalLocked wakes every Claim waiting. Call with mu held.
func (q *MemoryQueue) signalLocked() {
	close(q.wake)
	q.wake = make(chan struct{})
}

// Claim implements Queue.
func (q *MemoryQueue) Claim(ctx context.Context) (Claim, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return nil, ErrQueueClosed
		}
		if len(q.ready) > 0 {
			e := q.ready[0]
			q.ready[0] = nil
			q.ready = q.ready[1:]
			q.claimed++
			q.mu.Unlock()
			return &memClaim{q: q, e: e, maybeSent: e.sending}, nil
		}
		wake := q.wake
		q.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Close implements Queue: Claim and Push fail from now on.
func (q *MemoryQueue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		q.signalLocked()
	}
	return nil
}

// Len returns the chunks not claimed, and those claimed and not yet done
// or released.
func (q *MemoryQueue) Len() (ready, claimed int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.ready), q.claimed
}

// Depth implements Depther: the chunks not claimed and those claimed and
// not yet done or released (Len's two counts).
func (q *MemoryQueue) Depth(context.Context) (int, error) {
	ready, claimed := q.Len()
	return ready + claimed, nil
}

// memClaim is a MemoryQueue claim.
type memClaim struct {
	q         *MemoryQueue
	e         *memEntry
	maybeSent bool
	once      sync.Once
}

func (c *memClaim) Chunk() Chunk { return c.e.chunk }

func (c *memClaim) MaybeSent() bool { return c.maybeSent }

func (c *memClaim) MarkSending(context.Context) error {
	c.q.mu.Lock()
	defer c.q.mu.Unlock()
	c.e.sending = true
	return nil
}

func (c *memClaim) Done(context.Context) error {
	c.once.Do(func() {
		c.q.mu.Lock()
		defer c.q.mu.Unlock()
		c.q.claimed--
	})
	return nil
}

// Release puts the chunk back first in line, its sending mark kept.
func (c *memClaim) Release(context.Context) error {
	c.once.Do(func() {
		c.q.mu.Lock()
		defer c.q.mu.Unlock()
		c.q.claimed--
		c.q.ready = append([]*memEntry{c.e}, c.q.ready...)
		c.q.signalLocked()
	})
	return nil
}
