// Package upstream is the HTTP client for Procore's Directory endpoints that
// procore-directory fronts: show and update of a company user
// (/rest/v1.3/companies/{company_id}/users/{id}) and the sync of many
// (/rest/v1.3/companies/{company_id}/users/sync). Its one job is to turn a
// request into the exact HTTP exchange with Procore and the answer back into
// users (a *User, a SyncResult) or an *Error.
//
// The client exists so that the service layer never deals with HTTP: it
// authenticates every call (the caller's own token, or the service's OAuth
// client credentials), respects Procore's per-token rate limits before
// Procore has to refuse, retries what is safe to retry and nothing else, and
// turns every answer Procore can give into either a *User or an *Error.
//
// Safety of retries is the central rule. A GET is replayed on any transient
// failure. A PATCH is replayed only when Procore certainly did not apply it
// (429, 503, a 401 followed by a token refresh, or a request that never left
// this process); when its outcome is unknown the client says so with
// KindOutcomeUnknown instead of guessing, because replaying an update that
// did apply can overwrite a change someone else made in between.
//
// Admission (the concurrency limit, Procore's rate limits and pacing, the
// circuit breaker) lives in the admission sub-package and is configured
// here with options (WithConcurrencyLimit, WithPacing, WithCircuitBreaker).
// Field names and types have one source, jsonUser's struct tags, exported
// as Fields.
//
// One request has one path through the package: a builder (request.go;
// sync.go and syncitem.go for a sync) checks it and makes the call, which a
// preview (preview.go) only describes; the call loop (callloop.go) admits
// and retries it; each attempt (attempt.go) sends the body (body.go) and
// classifies the answer (a sync's is matched to its items in
// syncanswer.go). A sync follows the PATCH's retry rule: its outcome
// unknown, it is never resent.
//
// It must not import the service or anything gRPC (status, codes): every
// failure is an *Error with an ErrorKind, which the service maps to a
// status; nor the emulator, procoretest, outside tests.
package upstream
