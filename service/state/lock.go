package state

import (
	"context"
	"sync"
)

// Locker serialises writes to one key (a company user): while one holder
// runs its read-modify-write, the others wait. It exists because Procore's
// PATCH has no precondition (no ETag, no If-Match): two writers that read,
// then write, overwrite each other, and a non-admin's fill of email_address
// can put back a value an admin just replaced.
type Locker interface {
	// Lock waits until key is free or ctx ends (then it returns ctx's
	// error, wrapped, and holds nothing). unlock releases the key; it must
	// be called exactly once.
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// MemoryLocker is a Locker for one process. Idle keys take no memory: an
// entry lives only while some call holds or waits for its key.
type MemoryLocker struct {
	mu   sync.Mutex
	keys map[string]*keyLock
}

// keyLock is one key's lock: a one-slot semaphore (a channel, so waiting
// can be abandoned when ctx ends) and how many calls hold or wait for it.
type keyLock struct {
	sem  chan struct{}
	refs int
}

// NewMemoryLocker returns an empty MemoryLocker.
func NewMemoryLocker() *MemoryLocker {
	return &MemoryLocker{keys: make(map[string]*keyLock)}
}

// Lock implements Locker.
func (l *MemoryLocker) Lock(ctx context.Context, key string) (func(), error) {
	l.mu.Lock()
	k := l.keys[key]
	if k == nil {
		k = &keyLock{sem: make(chan struct{}, 1)}
		l.keys[key] = k
	}
	k.refs++
	l.mu.Unlock()

	select {
	case k.sem <- struct{}{}:
	case <-ctx.Done():
		l.release(key, k)
		return nil, &WaitError{What: "the lock of a user", Err: context.Cause(ctx)}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-k.sem
			l.release(key, k)
		})
	}, nil
}

func (l *MemoryLocker) release(key string, k *keyLock) {
	l.mu.Lock()
	if k.refs--; k.refs == 0 {
		delete(l.keys, key)
	}
	l.mu.Unlock()
}

// Len reports how many keys are held or waited for, for tests that check
// idle keys are forgotten.
func (l *MemoryLocker) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}
