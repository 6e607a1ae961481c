package state

import (
	"errors"
	"fmt"
)

// ErrKeyReused is returned (wrapped) by IdempotencyStore.Claim when the key
// was first used with a different request: answering either request with
// the other's answer would be a lie, so the caller must pick a new key.
var ErrKeyReused = errors.New("idempotency key already used with a different request")

// ErrFull is returned (wrapped) by IdempotencyStore.Claim when the store
// has no room for a new key: every record is a call still in flight.
var ErrFull = errors.New("idempotency store full")

// WaitError is a wait (for a lock, for another call's answer) that ended
// because its context did. Err is the context's cause, so errors.Is
// tells the caller's deadline from a server stopping.
type WaitError struct {
	What string
	Err  error
}

// Error says what was waited for.
func (e *WaitError) Error() string { return fmt.Sprintf("waiting for %s: %v", e.What, e.Err) }

// Unwrap returns the context's cause.
func (e *WaitError) Unwrap() error { return e.Err }
