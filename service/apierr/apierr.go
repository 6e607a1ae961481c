// Package apierr is the service's error vocabulary: the stable
// google.rpc.ErrorInfo reasons, the one constructor every layer builds its
// gRPC status with (New, InvalidArgument), and the cause a stopping server
// cancels calls with (ErrStopping). It is a leaf: the core, caller
// authentication, the gateway and the server all import it, and it imports
// none of them, so a layer that only refuses calls need not depend on the
// update pipeline.
//
// It must not import any package of this module.
package apierr

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
)

// Domain is the google.rpc.ErrorInfo domain of every error this service
// returns: together with the reason it identifies the error for programs.
const Domain = "procore-directory"

// Stable google.rpc.ErrorInfo reasons. Callers may branch on them; they never
// change meaning.
const (
	ReasonInvalidRequest           = "INVALID_REQUEST"
	ReasonMissingCredentials       = "MISSING_CREDENTIALS"
	ReasonUpstreamBadRequest       = "UPSTREAM_BAD_REQUEST"
	ReasonUpstreamUnauthenticated  = "UPSTREAM_UNAUTHENTICATED"
	ReasonUpstreamPermissionDenied = "UPSTREAM_PERMISSION_DENIED"
	ReasonUpstreamNotFound         = "UPSTREAM_NOT_FOUND"
	ReasonUpstreamConflict         = "UPSTREAM_CONFLICT"
	ReasonUpstreamValidation       = "UPSTREAM_VALIDATION_FAILED"
	ReasonUpstreamRateLimited      = "UPSTREAM_RATE_LIMITED"
	ReasonUpstreamInternal         = "UPSTREAM_INTERNAL_ERROR"
	ReasonUpstreamUnavailable      = "UPSTREAM_UNAVAILABLE"
	ReasonUpstreamCircuitOpen      = "UPSTREAM_CIRCUIT_OPEN"
	ReasonUpstreamOutcomeUnknown   = "UPSTREAM_OUTCOME_UNKNOWN"
	ReasonUpstreamBadResponse      = "UPSTREAM_BAD_RESPONSE"
	ReasonUpstreamUnexpected       = "UPSTREAM_UNEXPECTED_STATUS"
	// ReasonUpstreamRedirect: Procore (or something in front of it)
	// answered 3xx. Redirects are never followed, since a PATCH replayed
	// at another address is a write nobody vetted; the API does not
	// redirect, so it means a wrong --upstream-url or a proxy (INTERNAL).
	ReasonUpstreamRedirect = "UPSTREAM_REDIRECT"
	ReasonDeadlineExceeded = "DEADLINE_EXCEEDED"
	ReasonCanceled         = "CANCELED"
	ReasonInternal         = "INTERNAL"

	// ReasonUpstreamNotApplied: a PATCH's answer was lost, and reading the
	// user back showed it was not applied (ABORTED, with RetryInfo): a
	// retry is safe.
	ReasonUpstreamNotApplied = "UPSTREAM_NOT_APPLIED"
	// ReasonShuttingDown: the server is stopping and the call ended before
	// anything was sent to Procore (UNAVAILABLE): retry on another replica.
	ReasonShuttingDown = "SHUTTING_DOWN"

	// ReasonOverloaded: every upstream slot stayed busy for the queue
	// time-out; nothing was sent, so a retry is safe (UNAVAILABLE).
	ReasonOverloaded = "OVERLOADED"

	// ReasonAuditUnavailable: a configured audit sink cannot be written
	// and --audit-required is on, so the update was refused before
	// anything was sent (UNAVAILABLE): retry later.
	ReasonAuditUnavailable = "AUDIT_UNAVAILABLE"
	// ReasonAuditListOff: ListAuditEvents cannot be served here: in
	// pass-through mode (the trail's callers are token hashes, and Procore
	// judges each token itself), or with no readable sink (--audit=redis
	// or file:PATH) (UNIMPLEMENTED).
	ReasonAuditListOff = "AUDIT_LIST_OFF"

	// ReasonCallerUnauthenticated: caller authentication is on and the call
	// came without a verified client certificate.
	ReasonCallerUnauthenticated = "CALLER_UNAUTHENTICATED"
	// ReasonCallerNotAllowed: the authenticated caller is not in the policy.
	ReasonCallerNotAllowed = "CALLER_NOT_ALLOWED"
	// ReasonCompanyNotAllowed: the caller may not touch this company.
	ReasonCompanyNotAllowed = "COMPANY_NOT_ALLOWED"
	// ReasonAdminFieldNotAllowed: the update changes a directory-admin-only
	// field and the caller has no directory-admin rights.
	ReasonAdminFieldNotAllowed = "ADMIN_FIELD_NOT_ALLOWED"

	// ReasonMethodNotAllowed: a REST request used an HTTP method the route
	// does not serve (HTTP 405 with Allow; UNIMPLEMENTED). Nothing was called.
	ReasonMethodNotAllowed = "METHOD_NOT_ALLOWED"
	// ReasonNotFound: a REST request named no route at all (HTTP 404,
	// NOT_FOUND), as opposed to UPSTREAM_NOT_FOUND, Procore's unknown user.
	ReasonNotFound = "NOT_FOUND"

	// ReasonBatchNoneSucceeded: a batch operation ended with no item
	// applied (ABORTED, AIP-234); each item's error is in the operation's
	// metadata, failed_requests.
	ReasonBatchNoneSucceeded = "BATCH_NONE_SUCCEEDED"
	// ReasonBatchCancelled: a batch operation, or an item of it never
	// sent, was cancelled by CancelOperation (CANCELLED).
	ReasonBatchCancelled = "BATCH_CANCELLED"
)

// Outcomes of an update whose Procore answer was lost: the values of the
// ErrorInfo metadata key "outcome" (UPSTREAM_OUTCOME_UNKNOWN says unknown,
// UPSTREAM_NOT_APPLIED not_applied), and the results with which the core
// reports each read-back to its observer (the metric's "result" label),
// applied being the one that answers OK.
const (
	// OutcomeApplied: the read-back shows every sent value: OK.
	OutcomeApplied = "applied"
	// OutcomeNotApplied: some value differs: ABORTED, UPSTREAM_NOT_APPLIED.
	OutcomeNotApplied = "not_applied"
	// OutcomeUnknown: no read-back (an avatar, no time left, the read
	// failed): UPSTREAM_OUTCOME_UNKNOWN.
	OutcomeUnknown = "unknown"
)

// ErrorInfo metadata keys that a program (the REST gateway's
// Procore-compatible route among them) reads back, besides reason-specific
// ones such as "field" and "outcome".
const (
	// MetaUpstreamStatus: Procore's HTTP status, when Procore answered.
	MetaUpstreamStatus = "upstream_status"
	// MetaUpstreamBody: Procore's error body, redacted as messages are (a
	// JSON body keeps its shape) and at most MaxUpstreamBody bytes; absent
	// when Procore sent none, or a longer one. The Procore-compatible route
	// answers it as Procore did.
	MetaUpstreamBody = "upstream_body"
)

// MaxUpstreamBody bounds MetaUpstreamBody: ErrorInfo travels in a gRPC
// trailer, which some clients cap at 8 KiB (grpc-java's default), and
// Procore's error bodies are a few hundred bytes.
const MaxUpstreamBody = 4 << 10

// ErrStopping is the cause with which a stopping server cancels the calls
// still in flight at its shutdown deadline (context.WithCancelCause). The
// service then answers UNAVAILABLE, with UPSTREAM_OUTCOME_UNKNOWN when a
// PATCH was sent and SHUTTING_DOWN when nothing was, instead of CANCELED
// (the caller did not cancel) or a transport's bare EOF.
var ErrStopping = errors.New("server stopping")

// Stopping reports whether ctx was cancelled by a stopping server.
func Stopping(ctx context.Context) bool {
	return ctx.Err() != nil && errors.Is(context.Cause(ctx), ErrStopping)
}

// New builds the one shape of every error this service returns: a
// gRPC status with a google.rpc.ErrorInfo (Domain, reason, metadata)
// first, then the given details. The sub-packages (caller authentication,
// the policy, the gateway) use it too, so a caller can branch on the
// reason whichever layer refused the call.
func New(code codes.Code, reason, msg string, meta map[string]string, details ...protoadapt.MessageV1) error {
	st := status.New(code, msg)
	all := append([]protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: reason, Domain: Domain, Metadata: meta}}, details...)
	if withDetails, err := st.WithDetails(all...); err == nil {
		st = withDetails
	}
	return st.Err()
}

// InvalidArgument is the one shape of every invalid-argument error (AIP-193):
// INVALID_ARGUMENT with a google.rpc.BadRequest listing every violation.
func InvalidArgument(violations []*errdetails.BadRequest_FieldViolation) error {
	msg := "invalid request"
	if len(violations) > 0 {
		msg = fmt.Sprintf("invalid %s: %s", orRequest(violations[0].GetField()), violations[0].GetDescription())
		if len(violations) > 1 {
			msg += fmt.Sprintf(" (and %d more violations)", len(violations)-1)
		}
	}
	return New(codes.InvalidArgument, ReasonInvalidRequest, msg, nil, &errdetails.BadRequest{FieldViolations: violations})
}

func orRequest(field string) string {
	if field == "" {
		return "request"
	}
	return field
}

// ProcoreRequestHeader is the response metadata key (over REST, the
// X-Procore-Request header) in which a validate_only update (AIP-163)
// returns, as JSON, the request it would send Procore. It is the caller's
// own data, so it goes to the caller and nowhere else: no log, span or
// metric reads response metadata.
const ProcoreRequestHeader = "x-procore-request"
