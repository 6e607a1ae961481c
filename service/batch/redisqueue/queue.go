package redisqueue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/procore-directory/procore-directory/service/batch"
)

// Errors a Queue and its claims return (wrapped).
var (
	// ErrClosed: Claim on a closed Queue.
	ErrClosed = errors.New("redisqueue: queue closed")
	// ErrLeaseLost: the chunk's lease ran out and another replica claimed
	// it; this holder must not send it (MarkSending) nor remove it (Done).
	// Outcomes it recorded in the operation stand: the new holder skips
	// settled items.
	ErrLeaseLost = errors.New("redisqueue: lease lost to another replica")
	// ErrFinished: the claim was already Done or Released.
	ErrFinished = errors.New("redisqueue: claim already done or released")
)

// group is the consumer group every replica reads through.
const group = "runners"

// readSlack is how much longer than its block a read may take (a loaded
// Redis, a slow network) before its context ends it.
const readSlack = 5 * time.Second

// releasedIdle backdates a released entry's delivery by ten years, past
// any lease, so that the next XAUTOCLAIM takes it.
const releasedIdle = 10 * 365 * 24 * time.Hour

// Queue is batch.Queue in Redis. Keys (after the prefix; the {queue} hash
// tag keeps them in one Redis Cluster slot, as the scripts need):
// `batch:{queue}:chunks` the stream (fields op, seq, chunk: the chunk as
// deterministic JSON), `batch:{queue}:sending` a hash of the entries
// marked sending (entry id -> the consumer that marked it) and
// `batch:{queue}:dead` a list of payloads no replica can decode (moved
// aside rather than failing every Claim; logged).
type Queue struct {
	c       redis.Cmdable
	cfg     config
	stream  string
	markers string
	dead    string

	mu   sync.Mutex
	held map[string]*claim // entry id -> the claim whose lease is renewed
	// renewMu keeps Release and a renewal apart (a renewal would reset
	// the idle time Release backdates).
	renewMu sync.Mutex
	closed  bool
	done    chan struct{} // closed by Close
	wg      sync.WaitGroup
	stop    context.CancelFunc
}

var (
	_ batch.Queue   = (*Queue)(nil)
	_ batch.Depther = (*Queue)(nil)
)

// New returns a Queue on c (a redisstate.Conn's Client; WithKeyPrefix its
// prefix) and starts renewing the leases of its claims until Close. Redis
// need not be reachable: the stream and the group are made when first
// needed.
func New(c redis.Cmdable, opts ...Option) *Queue {
	cfg := newConfig(opts)
	base := cfg.prefix + "batch:{queue}:"
	q := &Queue{c: c, cfg: cfg, stream: base + "chunks", markers: base + "sending", dead: base + "dead",
		held: map[string]*claim{}, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	q.stop = cancel
	q.wg.Add(1)
	go q.renewLoop(ctx)
	return q
}

// Consumer is this queue's name in the group, for logs.
func (q *Queue) Consumer() string { return q.cfg.consumer }

// Push implements batch.Queue: the chunks are added in one transaction,
// so their entries are consecutive and claimed in order.
func (q *Queue) Push(ctx context.Context, chunks []batch.Chunk) error {
	if len(chunks) == 0 {
		return nil
	}
	raw := make([][]byte, len(chunks))
	for i, c := range chunks {
		b, err := encodeChunk(c)
		if err != nil {
			return err
		}
		raw[i] = b
	}
	_, err := q.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range chunks {
			p.XAdd(ctx, &redis.XAddArgs{Stream: q.stream, Values: []any{"op", c.Operation, "seq", c.Seq, "chunk", raw[i]}})
		}
		return nil
	})
	if err != nil {
		q.report(ctx, err)
		return fmt.Errorf("redisqueue: push %d chunks of %s: %w", len(chunks), chunks[0].Operation, err)
	}
	return nil
}

// Depth implements batch.Depther: the stream's length (XLEN), the chunks
// pushed and not done, claimed or not, by any replica, since Done deletes
// its entry (0 before the first push). It is the fleet's depth, the same
// from every replica. A failure is returned, not reported to the
// connection's health: a metrics scrape, with its own short deadline, is
// not the queue's work.
func (q *Queue) Depth(ctx context.Context) (int, error) {
	n, err := q.c.XLen(ctx, q.stream).Result()
	if err != nil {
		return 0, fmt.Errorf("redisqueue: length of the stream: %w", err)
	}
	return int(n), nil
}

// Claim implements batch.Queue. It takes, oldest first, a chunk whose
// lease ran out or that was released, else waits up to the poll interval
// for a new one, and again until ctx ends or the queue is closed. A Redis
// error is returned at once.
func (q *Queue) Claim(ctx context.Context) (batch.Claim, error) {
	for {
		if q.isClosed() {
			return nil, ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c, err := q.claimExpired(ctx)
		if err == nil && c == nil {
			c, err = q.awaitNew(ctx)
		}
		switch {
		case err != nil:
			return nil, err // not a typed nil *claim
		case c != nil:
			return c, nil
		}
	}
}

// claimExpired takes over the oldest entry idle longer than the lease.
func (q *Queue) claimExpired(ctx context.Context) (*claim, error) {
	start := "0-0"
	for {
		var msgs []redis.XMessage
		next := start
		err := q.withGroup(ctx, func() error {
			var err error
			msgs, next, err = q.c.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: q.stream, Group: group, Consumer: q.cfg.consumer,
				MinIdle: q.cfg.lease, Start: start, Count: 1}).Result()
			return err
		})
		if err != nil {
			q.report(ctx, err)
			return nil, fmt.Errorf("redisqueue: claim expired chunks: %w", err)
		}
		start = next
		for _, m := range msgs {
			c, err := q.take(ctx, m, true)
			if err != nil || c != nil {
				return c, err
			}
		}
		if start == "0-0" {
			return nil, nil
		}
	}
}

// awaitNew waits up to the poll interval for a new entry. The read runs
// apart so that ctx or Close end the wait at once; an entry it gets after
// its caller left is released (claimable at once, by any replica).
func (q *Queue) awaitNew(ctx context.Context) (*claim, error) {
	type result struct {
		c   *claim
		err error
	}
	if !q.goAdd() {
		return nil, ErrClosed
	}
	var taken atomic.Bool
	out := make(chan result, 1)
	go func() {
		defer q.wg.Done()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), q.cfg.poll+readSlack)
		defer cancel()
		c, err := q.readNew(rctx)
		if taken.CompareAndSwap(false, true) {
			out <- result{c, err}
			return
		}
		if c != nil {
			_ = c.Release(rctx) // best effort: else its lease runs out
		}
	}()
	select {
	case r := <-out:
		return r.c, r.err
	case <-ctx.Done():
	case <-q.done:
	}
	if taken.CompareAndSwap(false, true) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, ErrClosed
	}
	r := <-out // the read finished first: keep what it got
	return r.c, r.err
}

func (q *Queue) readNew(ctx context.Context) (*claim, error) {
	var streams []redis.XStream
	err := q.withGroup(ctx, func() error {
		var err error
		streams, err = q.c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: q.cfg.consumer,
			Streams: []string{q.stream, ">"}, Count: 1, Block: q.cfg.poll}).Result()
		return err
	})
	switch {
	case errors.Is(err, redis.Nil):
		return nil, nil
	case err != nil:
		q.report(ctx, err)
		return nil, fmt.Errorf("redisqueue: read new chunks: %w", err)
	}
	for _, s := range streams {
		for _, m := range s.Messages {
			return q.take(ctx, m, false)
		}
	}
	return nil, nil
}

// take makes a claim of an entry this consumer now holds. A reclaimed
// entry's marker says whether an earlier holder may have sent it (only a
// holder writes it, so nobody changes it while this queue holds the
// entry). An entry that cannot be decoded is moved aside (nil, nil).
func (q *Queue) take(ctx context.Context, m redis.XMessage, reclaimed bool) (*claim, error) {
	raw, _ := m.Values["chunk"].(string)
	chunk, err := decodeChunk([]byte(raw))
	if err != nil {
		q.bury(ctx, m.ID, raw, err)
		return nil, nil
	}
	c := &claim{q: q, id: m.ID, chunk: chunk}
	if reclaimed {
		// If this fails the entry stays pending, unrenewed: claimable
		// again after the lease.
		if c.maybeSent, err = q.c.HExists(ctx, q.markers, m.ID).Result(); err != nil {
			q.report(ctx, err)
			return nil, fmt.Errorf("redisqueue: read the sending marker of chunk %d of %s: %w", chunk.Seq, chunk.Operation, err)
		}
	}
	q.mu.Lock()
	q.held[m.ID] = c
	q.mu.Unlock()
	return c, nil
}

// bury moves an undecodable entry to the dead list, so that it does not
// fail every Claim of every replica.
func (q *Queue) bury(ctx context.Context, id, raw string, cause error) {
	_, err := q.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, q.dead, raw)
		p.XAck(ctx, q.stream, group, id)
		p.XDel(ctx, q.stream, id)
		return nil
	})
	q.cfg.log.Error("batch queue: an unreadable chunk was moved aside", "entry", id, "key", q.dead, "err", cause, "move_err", err)
}

// withGroup runs fn, and again once after making the group if Redis said
// it does not exist (the first use, or Redis restarted empty). The group
// starts at the stream's beginning, so chunks pushed before it are read.
func (q *Queue) withGroup(ctx context.Context, fn func() error) error {
	err := fn()
	if err == nil || !strings.HasPrefix(err.Error(), "NOGROUP") {
		return err
	}
	if err := q.c.XGroupCreateMkStream(ctx, q.stream, group, "0").Err(); err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("create consumer group: %w", err)
	}
	return fn()
}

// keys and args are the scripts' KEYS and ARGV (before the entry ids).
func (q *Queue) keys() []string { return []string{q.stream, q.markers} }
func (q *Queue) args(ids ...string) []any {
	a := make([]any, 0, 2+len(ids))
	a = append(a, group, q.cfg.consumer)
	for _, id := range ids {
		a = append(a, id)
	}
	return a
}

// forget stops renewing c's lease.
func (q *Queue) forget(c *claim) {
	q.mu.Lock()
	if q.held[c.id] == c {
		delete(q.held, c.id)
	}
	q.mu.Unlock()
}

func (q *Queue) isClosed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}

// goAdd counts a goroutine Close must wait for, unless closed.
func (q *Queue) goAdd() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	q.wg.Add(1)
	return true
}

// Close implements batch.Queue: renewals stop (the chunks still held are
// claimable by other replicas after their lease; the runner Releases what
// it did not start), blocked Claims return ErrClosed, and this consumer
// leaves the group if it holds nothing. It does not close the client.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	close(q.done)
	q.mu.Unlock()
	q.stop()
	q.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = leaveScript.Run(ctx, q.c, q.keys(), q.args()...).Err() // best effort; the sweep of other replicas catches it
	return nil
}
