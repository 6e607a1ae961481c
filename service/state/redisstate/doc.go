// Package redisstate keeps the update pipeline's shared state in Redis, so
// that a fleet of directoryd replicas behaves as one: idempotency records
// (IdempotencyStore), per-user write locks with a lease and a fencing token
// (Locker), and what the service learned about Procore (NewPartialBodies,
// NewSyncRefusals: one SharedMemory).
// Conn is the connection they share, and its health: when Redis cannot be
// reached, each falls back to the in-process implementation of the same
// interface (degraded: the fleet no longer sees one state), a background
// probe notices when Redis is back, and the shared mode resumes. No call
// fails only because Redis is down.
//
// Its one job is that sharing. It exists apart from service/state so that
// the in-process default, and the service core, do not depend on Redis.
// Of this module it imports only service/state: it must not import the
// service core, service/server, net/http, Prometheus or OpenTelemetry
// (Conn reports its state through a callback).
// Keys hold no personal data or secrets: idempotency keys (which carry the
// caller's identity) are stored as their SHA-256.
package redisstate
