// Package state holds what the update pipeline must share between calls to
// tell the truth: which write holds a user (Locker) and which answer an
// idempotency key already got (IdempotencyStore).
//
// Each is a small interface with an in-memory implementation, which is
// right for one replica; a fleet of replicas needs a shared store (Redis,
// say) behind the same interfaces, which a later change adds without
// touching the pipeline. It imports nothing but the standard library.
package state
