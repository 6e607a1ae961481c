// Package procoretest is a faithful in-process fake of the upstream Procore
// "Update Company User" and "Sync Company Users" API, in the spirit of
// net/http/httptest: the real client talks HTTP to it exactly as it talks
// to Procore, so client tests
// exercise the wire format, the error shapes, rate limits and faults that the
// contract in CONTRACT.md describes.
//
// Routes:
//
//	POST   /oauth/token                                   client_credentials grant
//	PATCH  /rest/v1.3/companies/{company_id}/users/{id}    update a company user
//	PATCH  /rest/v1.3/companies/{company_id}/users/sync    sync: up to 1,000 updates or creates
//	GET    /rest/v1.3/companies/{company_id}/users/{id}    show
//	GET    /rest/v1.3/companies/{company_id}/users         index (page, per_page, filters[id][], filters[origin_id])
//	GET    /_emulator/requests                            request log (JSON array)
//	DELETE /_emulator/requests                            clear the request log
//	GET    /_emulator/avatars/...                         uploaded avatars (signed URLs)
//
// Order of checks for the API routes, as the Rails application would do it:
// fault injection (scripted, then probabilistic), authentication (401), rate
// limit (429; every authenticated call counts, failed ones too),
// Procore-Company-Id header (400 missing, 403 disagreeing), company (404),
// client access to the company (403), user (404), body parsing (400),
// required fields (400), admin-only fields (403), validations (422), apply (200).
// Sync: after client access, the Directory Admin rule (403 for the whole
// request; every credential with [SyncForbidden]), body parsing and the
// item limit (400), then each item in order: matched by id or origin_id,
// validated by the same code as the single update, applied or reported in
// the answer's errors. One sync request counts once in the rate limit.
//
// Faults: a scripted [Fault] (see [Emulator.Script]) is taken by the next API
// request before anything else, so it applies whatever the request's token;
// [FaultDropAfterApply], [FaultMalformed] and [FaultApplyThenStatus] are the
// exceptions: the request is processed normally (a valid PATCH is applied,
// every item of a sync) and only then the answer is lost, mangled or
// replaced by a 5xx; [FaultApplyHalfThenStatus] processes the first half of
// a sync's items before its 5xx ([Request.Applied] names what was written);
// [FaultStall] applies the request late, even after its client gave up ([Emulator.WaitStalls]). Probabilistic [Faults] are rolled only when no scripted
// fault is pending. Requests answered by a fault before the application ran
// do not count against the rate limit, as they never reached Procore's app.
//
// Where the published contract is ambiguous, options choose the reading
// (CONTRACT.md, "Emulator switches" and "Sync company users"):
// [WithAdminFields], [WithResponseShape], [WithErrorBody], [WithNullClears],
// [WithSync], [WithSyncOrder], [WithSyncAllFailedStatus] and
// [WithSyncMaxItems]; the defaults follow the published
// response shape and the emulator's original modelled behaviour otherwise.
//
// Use in tests: [NewServer](t) serves on a loopback port and closes when the
// test ends; [Token] fetches a token over HTTP as a client would, and
// [Emulator.AdminClient] / [Emulator.NonAdminClient] pick seeded
// credentials. Programs without a testing.TB use [Start] or [New].
//
// Imports: the standard library (testing only for the test helpers) and
// package upstream for shared, dependency-free data (ISO 3166 codes). It
// must not import service, cmd or any gRPC package, and must not depend on
// upstream's client behaviour: it plays the server the client is tested
// against.
package procoretest
