package state

import "context"

// IdempotencyStore remembers, per idempotency key (AIP-155 request_id),
// the request that first used it and the answer that request got, so a
// retried update is answered without being sent to Procore again.
//
// Keys are opaque to the store (the service scopes them to the caller);
// fingerprints and answers are opaque bytes, so a shared store (Redis: SET
// NX with a TTL, and a pub/sub or poll for waiters) can back it.
type IdempotencyStore interface {
	// Claim looks key up for a request with the given fingerprint:
	//   - unknown key, or known for this fingerprint with no answer and no
	//     call running: the caller now runs the call, and must Release;
	//     Claim returns (nil, nil);
	//   - known with an answer: that answer;
	//   - a call running under it: Claim waits for its answer (a
	//     *WaitError if ctx ends first);
	//   - known for another fingerprint: ErrKeyReused, wrapped.
	Claim(ctx context.Context, key string, fingerprint []byte) (answer []byte, err error)
	// Release ends the caller's claim. A non-nil answer is kept (for the
	// retention time) and given to every later Claim of the key; nil keeps
	// the key's fingerprint but lets the next Claim run the call again:
	// the call failed in a way a retry may fix, and nothing is known to
	// have been applied.
	Release(ctx context.Context, key string, answer []byte) error
}
