// Package redisbudget shares Procore's rate budget between the replicas of
// a fleet through Redis: every replica's attempts for one credential are
// admitted and paced from one budget, tuned by the X-Rate-Limit-* headers
// any replica sees, so that together they stay under Procore's limits as
// one process does alone.
//
// It exists apart from admission so that the in-process default has no
// Redis; it implements admission.Budgets over admission.Limits, which it
// falls back to while Redis cannot be reached (degraded: each replica
// spends the reported Remaining divided by the number of replicas last seen
// in Redis, an estimate). It must not import the upstream package, net/http
// or anything gRPC.
package redisbudget
