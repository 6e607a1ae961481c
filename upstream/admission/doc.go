// Package admission decides whether, and when, one request to Procore may
// go: a concurrency limit on requests in flight (Limiter), Procore's
// per-credential rate limits and the pacing that spreads a credential's
// budget over its window (Limits, Budget), the priority classes that let
// interactive attempts take a credential's budget before batch work
// (Class, WithBatch, WithBatchBudgetShare), and the circuit breaker that
// stops sending while Procore keeps failing (Breaker).
//
// It exists so that these policies, each a small state machine with its own
// tests, are kept apart from the HTTP client that applies them in order:
// concurrency slot, then rate limit and pacing, then breaker, then the
// attempts. Its errors are plain Go values (OverloadedError, Spent) that the
// client turns into its own error kinds.
//
// It must not import the upstream package (which imports it), net/http, or
// anything gRPC: it knows neither the transport nor how the service answers.
package admission
