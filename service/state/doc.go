// Package state has one job: hold what the update pipeline must share
// between calls to tell the truth: which write holds a user (Locker) and
// which answer an idempotency key already got (IdempotencyStore).
//
// Each is a small interface with an in-memory implementation, which is
// right for one replica; a fleet of replicas shares a store behind the
// same interfaces (service/state/redisstate) without the pipeline
// changing. It must not import anything but the standard library: not
// Redis, not the service core, not telemetry.
package state
