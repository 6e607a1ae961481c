package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/procore-directory/procore-directory/upstream"
)

// ErrorDomain is the google.rpc.ErrorInfo domain of every error this service
// returns: together with the reason it identifies the error for programs.
const ErrorDomain = "procore-directory"

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
)

// ErrStopping is the cause with which a stopping server cancels the calls
// still in flight at its shutdown deadline (context.WithCancelCause). The
// service then answers UNAVAILABLE, with UPSTREAM_OUTCOME_UNKNOWN when a
// PATCH was sent and SHUTTING_DOWN when nothing was, instead of CANCELED
// (the caller did not cancel) or a transport's bare EOF.
var ErrStopping = errors.New("server stopping")

// stopping reports whether ctx was cancelled by a stopping server.
func stopping(ctx context.Context) bool {
	return ctx.Err() != nil && errors.Is(context.Cause(ctx), ErrStopping)
}

// fromWait maps the failure of a wait that is not Procore's (a user's
// lock, another call's answer, the idempotency store): the end of ctx, or
// the store being unreachable. Nothing was sent upstream.
func fromWait(ctx context.Context, op string, err error) error {
	switch {
	case stopping(ctx):
		return NewError(codes.Unavailable, ReasonShuttingDown, op+": the server is stopping; nothing was sent to Procore: retry", nil)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return NewError(codes.DeadlineExceeded, ReasonDeadlineExceeded, op+": the caller's deadline ran out while waiting for another update of this user; nothing was sent", nil)
	case errors.Is(ctx.Err(), context.Canceled):
		return NewError(codes.Canceled, ReasonCanceled, op+": canceled by the caller", nil)
	}
	return NewError(codes.Unavailable, ReasonInternal, op+": shared state unavailable: "+err.Error(), nil)
}

// NewError builds the one shape of every error this service returns: a
// gRPC status with a google.rpc.ErrorInfo (ErrorDomain, reason, metadata)
// first, then the given details. The sub-packages (caller authentication,
// the policy, the gateway) use it too, so a caller can branch on the
// reason whichever layer refused the call.
func NewError(code codes.Code, reason, msg string, meta map[string]string, details ...protoadapt.MessageV1) error {
	st := status.New(code, msg)
	all := append([]protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: reason, Domain: ErrorDomain, Metadata: meta}}, details...)
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
	return NewError(codes.InvalidArgument, ReasonInvalidRequest, msg, nil, &errdetails.BadRequest{FieldViolations: violations})
}

func orRequest(field string) string {
	if field == "" {
		return "request"
	}
	return field
}

// fromUpstream maps an error of the Procore client to a gRPC status, as the
// table of the service's contract says. ctx is the caller's context: when
// its own deadline ran out or it canceled, that is what the caller hears.
func fromUpstream(ctx context.Context, op string, err error) error {
	var uerr *upstream.Error
	hasUpstream := errors.As(err, &uerr)
	meta := map[string]string{}
	if hasUpstream {
		if uerr.StatusCode != 0 {
			meta["upstream_status"] = strconv.Itoa(uerr.StatusCode)
		}
		if uerr.RequestID != "" {
			meta["upstream_request_id"] = uerr.RequestID
		}
		if uerr.Attempts > 0 {
			meta["attempts"] = strconv.Itoa(uerr.Attempts)
		}
	}
	outcomeUnknown := hasUpstream && uerr.Kind == upstream.KindOutcomeUnknown
	if outcomeUnknown {
		meta["outcome"] = "unknown"
	}

	switch {
	case errors.Is(err, upstream.ErrNoToken):
		return NewError(codes.Unauthenticated, ReasonMissingCredentials,
			"no Procore credentials: send `authorization: Bearer <Procore access token>`", nil)
	case stopping(ctx) && outcomeUnknown:
		return NewError(codes.Unavailable, ReasonUpstreamOutcomeUnknown,
			op+": the server stopped before Procore answered, so the update may or may not have been applied. Read the user back (GetCompanyUser) before deciding to retry", meta)
	case stopping(ctx):
		return NewError(codes.Unavailable, ReasonShuttingDown, op+": the server is stopping; nothing was applied: retry", meta)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		msg := op + ": the caller's deadline ran out before Procore answered"
		if outcomeUnknown {
			msg += "; the update may or may not have been applied: read the user back before retrying"
		}
		return NewError(codes.DeadlineExceeded, ReasonDeadlineExceeded, msg, meta)
	case errors.Is(ctx.Err(), context.Canceled):
		return NewError(codes.Canceled, ReasonCanceled, op+": canceled by the caller", meta)
	case !hasUpstream:
		return NewError(codes.Internal, ReasonInternal, op+": internal error", meta)
	}

	msg := op + ": " + uerr.Error()
	switch uerr.Kind {
	case upstream.KindOutcomeUnknown:
		return NewError(codes.Unavailable, ReasonUpstreamOutcomeUnknown,
			op+": Procore's answer was lost, so the update may or may not have been applied; it was not retried. Read the user back (GetCompanyUser) before deciding to retry", meta)
	case upstream.KindRateLimited:
		return rateLimited(msg, uerr, meta)
	case upstream.KindUnavailable:
		return NewError(codes.Unavailable, ReasonUpstreamUnavailable, msg, meta, retryInfo(uerr)...)
	case upstream.KindOverloaded:
		// Every upstream slot stayed busy: the overload is this server's and
		// transient, nothing was sent, so a retry is safe even for an update.
		// RESOURCE_EXHAUSTED stays reserved for Procore's own rate limit.
		return NewError(codes.Unavailable, ReasonOverloaded, msg, meta, retryInfo(uerr)...)
	case upstream.KindCircuitOpen:
		return NewError(codes.Unavailable, ReasonUpstreamCircuitOpen, msg, meta, retryInfo(uerr)...)
	case upstream.KindBadResponse:
		return NewError(codes.Internal, ReasonUpstreamBadResponse, msg, meta)
	case upstream.KindStatus:
		return fromStatus(msg, uerr, meta)
	default:
		return NewError(codes.Internal, ReasonInternal, msg, meta)
	}
}

// fromStatus maps Procore's HTTP status (numbers, not net/http's names:
// this package stays free of net/http).
func fromStatus(msg string, uerr *upstream.Error, meta map[string]string) error {
	switch code := uerr.StatusCode; {
	case code == 400:
		return NewError(codes.InvalidArgument, ReasonUpstreamBadRequest, msg, meta, fieldErrors(uerr))
	case code == 401:
		return NewError(codes.Unauthenticated, ReasonUpstreamUnauthenticated, msg, meta)
	case code == 403:
		// Procore's published body names the refused fields; say which, as
		// ADMIN_FIELD_NOT_ALLOWED does.
		if len(uerr.FieldErrors) > 0 {
			names := make([]string, len(uerr.FieldErrors))
			for i, fe := range uerr.FieldErrors {
				names[i] = "user." + fe.Field
			}
			meta["field"], meta["fields"] = names[0], strings.Join(names, ",")
		}
		return NewError(codes.PermissionDenied, ReasonUpstreamPermissionDenied, msg, meta)
	case code == 404:
		return NewError(codes.NotFound, ReasonUpstreamNotFound, msg, meta)
	case code == 409:
		return NewError(codes.Aborted, ReasonUpstreamConflict, msg, meta)
	case code == 422:
		return NewError(codes.InvalidArgument, ReasonUpstreamValidation, msg, meta, fieldErrors(uerr))
	case code == 429:
		return rateLimited(msg, uerr, meta)
	case code == 503, code == 502, code == 504:
		return NewError(codes.Unavailable, ReasonUpstreamUnavailable, msg, meta, retryInfo(uerr)...)
	case code >= 500:
		return NewError(codes.Internal, ReasonUpstreamInternal, msg, meta)
	case code >= 300 && code < 400:
		return NewError(codes.Internal, ReasonUpstreamRedirect,
			msg+": Procore answered with a redirect, which is never followed (check the upstream URL)", meta)
	default:
		return NewError(codes.Unknown, ReasonUpstreamUnexpected, msg, meta)
	}
}

// rateLimited is RESOURCE_EXHAUSTED with RetryInfo (from Retry-After or the
// rate-limit reset) and a QuotaFailure naming the credential's Procore quota.
func rateLimited(msg string, uerr *upstream.Error, meta map[string]string) error {
	desc := "Procore's per-token request limit is spent"
	if rl := uerr.RateLimit; rl.Known {
		desc = fmt.Sprintf("Procore's per-token request limit (%d per window) is spent until %s", rl.Limit, rl.Reset.UTC().Format("2006-01-02T15:04:05Z"))
	}
	details := append(retryInfo(uerr), &errdetails.QuotaFailure{Violations: []*errdetails.QuotaFailure_Violation{{
		Subject:     "procore-access-token",
		Description: desc,
	}}})
	return NewError(codes.ResourceExhausted, ReasonUpstreamRateLimited, msg, meta, details...)
}

// retryInfo returns a RetryInfo detail when Procore said when to retry.
func retryInfo(uerr *upstream.Error) []protoadapt.MessageV1 {
	if uerr.RetryAfter <= 0 {
		return nil
	}
	return []protoadapt.MessageV1{&errdetails.RetryInfo{RetryDelay: durationpb.New(uerr.RetryAfter)}}
}

// fieldErrors turns Procore's field errors into BadRequest violations on
// `user.<field>`, the request field the caller set.
func fieldErrors(uerr *upstream.Error) *errdetails.BadRequest {
	br := &errdetails.BadRequest{}
	for _, fe := range uerr.FieldErrors {
		field := "user." + fe.Field
		if fe.Field == "avatar" {
			field = "avatar.content"
		}
		for _, m := range fe.Messages {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
				Field:       field,
				Description: fe.Field + " " + m,
				Reason:      "UPSTREAM_FIELD_ERROR",
			})
		}
	}
	if len(br.FieldViolations) == 0 {
		br.FieldViolations = []*errdetails.BadRequest_FieldViolation{{Field: "user", Description: uerr.Message, Reason: "UPSTREAM_REJECTED"}}
	}
	return br
}

func joinFields(fields []string) string { return strings.Join(fields, ",") }

func itoa(n int) string { return strconv.Itoa(n) }
