package state

import (
	"bytes"
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"
)

// Memory store defaults.
const (
	// DefaultRetention is how long a key is remembered after its answer:
	// a day covers a client's retries, a queue's redelivery and a re-run
	// of yesterday's failed batch.
	DefaultRetention = 24 * time.Hour
	// DefaultMaxKeys bounds the memory: an answer is a user record (about
	// 2 KiB), so 20,000 keys take about 40 MiB at most.
	DefaultMaxKeys = 20000
)

// MemoryStore is an IdempotencyStore for one process, bounded: keys expire
// Retention after their answer (or their claim, while none), and when
// MaxKeys are held the oldest answered key is forgotten early to make room.
// A replica that restarts forgets everything: a fleet needs a shared store.
type MemoryStore struct {
	retention time.Duration
	maxKeys   int
	now       func() time.Time

	mu    sync.Mutex
	keys  map[string]*record
	order *list.List // of *record, oldest expiry first
}

// record is one key: its request's fingerprint, and its answer or the
// call running under it.
type record struct {
	key     string
	fp      []byte
	answer  []byte
	running chan struct{} // non-nil while a call runs; closed by Release
	expires time.Time
	elem    *list.Element
}

// MemoryOption configures a MemoryStore.
type MemoryOption func(*MemoryStore)

// WithRetention sets how long a key is remembered (DefaultRetention).
func WithRetention(d time.Duration) MemoryOption { return func(s *MemoryStore) { s.retention = d } }

// WithMaxKeys bounds how many keys are held (DefaultMaxKeys).
func WithMaxKeys(n int) MemoryOption { return func(s *MemoryStore) { s.maxKeys = n } }

// WithClock replaces time.Now, for tests of expiry.
func WithClock(now func() time.Time) MemoryOption { return func(s *MemoryStore) { s.now = now } }

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore(opts ...MemoryOption) (*MemoryStore, error) {
	s := &MemoryStore{retention: DefaultRetention, maxKeys: DefaultMaxKeys, now: time.Now,
		keys: make(map[string]*record), order: list.New()}
	for _, o := range opts {
		o(s)
	}
	if s.retention <= 0 || s.maxKeys <= 0 {
		return nil, fmt.Errorf("idempotency store: retention %v and max keys %d must be positive", s.retention, s.maxKeys)
	}
	return s, nil
}

// Claim implements IdempotencyStore.
func (s *MemoryStore) Claim(ctx context.Context, key string, fp []byte) ([]byte, error) {
	for {
		s.mu.Lock()
		now := s.now()
		s.expire(now)
		r := s.keys[key]
		if r == nil {
			if len(s.keys) >= s.maxKeys && !s.evictOne() {
				s.mu.Unlock()
				return nil, fmt.Errorf("%w: %d calls with idempotency keys in flight", ErrFull, len(s.keys))
			}
			r = &record{key: key, fp: bytes.Clone(fp), running: make(chan struct{}), expires: now.Add(s.retention)}
			r.elem = s.order.PushBack(r)
			s.keys[key] = r
			s.mu.Unlock()
			return nil, nil
		}
		if !bytes.Equal(r.fp, fp) {
			s.mu.Unlock()
			return nil, ErrKeyReused
		}
		if r.answer != nil {
			answer := r.answer
			s.mu.Unlock()
			return answer, nil
		}
		if r.running == nil { // the last call left no answer: run again
			r.running = make(chan struct{})
			s.mu.Unlock()
			return nil, nil
		}
		wait := r.running
		s.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, &WaitError{What: "the first call with this request_id", Err: context.Cause(ctx)}
		}
	}
}

// Release implements IdempotencyStore.
func (s *MemoryStore) Release(_ context.Context, key string, answer []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.keys[key]
	if r == nil || r.running == nil {
		return fmt.Errorf("idempotency store: release of a key not claimed")
	}
	close(r.running)
	r.running = nil
	r.answer = bytes.Clone(answer)
	r.expires = s.now().Add(s.retention)
	s.order.MoveToBack(r.elem)
	return nil
}

// expire forgets keys whose time is up, oldest first; a key with a call
// running stays until it is released.
func (s *MemoryStore) expire(now time.Time) {
	for e := s.order.Front(); e != nil; {
		r := e.Value.(*record)
		if r.expires.After(now) {
			return
		}
		next := e.Next()
		if r.running == nil {
			s.remove(r)
		}
		e = next
	}
}

// evictOne forgets the oldest key with no call running, to make room.
func (s *MemoryStore) evictOne() bool {
	for e := s.order.Front(); e != nil; e = e.Next() {
		if r := e.Value.(*record); r.running == nil {
			s.remove(r)
			return true
		}
	}
	return false
}

func (s *MemoryStore) remove(r *record) {
	s.order.Remove(r.elem)
	delete(s.keys, r.key)
}

// Len reports how many keys are held.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys)
}
