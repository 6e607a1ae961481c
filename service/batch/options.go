package batch

import (
	"log/slog"
	"time"
)

// Defaults of the batch's flags.
const (
	// DefaultMaxItems is --max-batch-items: the most items one batch may
	// hold.
	DefaultMaxItems = 10000
	// DefaultChunkSize is --sync-batch-size: the most items of one chunk,
	// Procore's limit for one sync request.
	DefaultChunkSize = 1000
	// DefaultLease is --batch-lease: how long a chunk's claim lives without
	// renewal before another replica may claim it (Redis queue).
	DefaultLease = 30 * time.Second
)

// Option configures a Batcher.
type Option func(*Batcher)

// WithMaxItems sets --max-batch-items (DefaultMaxItems); n <= 0 keeps it.
func WithMaxItems(n int) Option {
	return func(b *Batcher) {
		if n > 0 {
			b.maxItems = n
		}
	}
}

// WithChunkSize sets --sync-batch-size (DefaultChunkSize); n is clamped to
// 1..upstream.MaxSyncItems, since Procore takes no more in one sync.
func WithChunkSize(n int) Option {
	return func(b *Batcher) {
		if n > 0 {
			b.chunkSize = n
		}
	}
}

// WithQueue makes the runner take chunks from a queue shared by the fleet
// (service/batch/redisqueue). Chunks of pass-through operations still go
// to this replica's memory queue: the caller's token never leaves its
// memory. Without it every chunk uses the memory queue.
func WithQueue(q Queue) Option { return func(b *Batcher) { b.shared = q } }

// WithSyncRefusals replaces the in-process memory of the credentials
// Procore refused sync to (NewSyncRefusals) with a shared one.
func WithSyncRefusals(m SyncRefusals) Option {
	return func(b *Batcher) {
		if m != nil {
			b.refusals = m
		}
	}
}

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option {
	return func(b *Batcher) {
		if l != nil {
			b.log = l
		}
	}
}

// WithClock replaces time.Now in the operation's times.
func WithClock(now func() time.Time) Option { return func(b *Batcher) { b.now = now } }
