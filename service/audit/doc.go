// Package audit is the trail of every write: one Event per write outcome
// (a single update, each batch item, each fallback PATCH) naming who changed
// which fields of whom and what Procore did, written to every configured
// Sink before the caller is told the outcome; and, when the trail is
// required, a write-ahead record (KindSending) before each request leaves
// for Procore, which refuses the request if a sink cannot take it, so that
// nothing reaches Procore that the trail does not name.
//
// Its one job is the event and where it goes: the schema (Event), the
// context a call carries for it (call id, caller, operation), the sinks
// (stderr, an fsync'd file; the Redis Stream lives in
// service/state/redisstate's neighbour redisaudit) and the Recorder that
// fills the call's context in, writes to each sink and counts what it
// could not write. It never carries a field's value: only names.
//
// It must not import any package of this module but service/apierr, nor
// net/http, Prometheus or OpenTelemetry: the core imports it.
package audit
