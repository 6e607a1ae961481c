package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/upstream"
)

// Messages of the mapped errors, after the operation's name: what happened
// to the update, and what the caller can do.
const (
	msgNoCredentials          = "no Procore credentials: send `authorization: Bearer <Procore access token>`"
	msgWaitStopping           = "the server is stopping; nothing was sent to Procore: retry"
	msgWaitDeadline           = "the caller's deadline ran out while waiting for another update of this user; nothing was sent"
	msgStoppedOutcomeUnknown  = "the server stopped before Procore answered, so the update may or may not have been applied. Read the user back (GetCompanyUser) before deciding to retry"
	msgDeadline               = "the caller's deadline ran out before Procore answered"
	msgDeadlineOutcomeUnknown = "the update may or may not have been applied: read the user back before retrying"
	msgOutcomeUnknown         = "Procore's answer was lost, so the update may or may not have been applied; it was not retried. Read the user back (GetCompanyUser) before deciding to retry"
	msgRedirect               = "Procore answered with a redirect, which is never followed (check the upstream URL)"
)

// fromWait maps the failure of a wait that is not Procore's (a user's
// lock, another call's answer, the idempotency store): the end of ctx, or
// the store being unreachable. Nothing was sent upstream.
func fromWait(ctx context.Context, op string, err error) error {
	switch {
	case apierr.Stopping(ctx):
		return apierr.New(codes.Unavailable, apierr.ReasonShuttingDown, op+": "+msgWaitStopping, nil)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return apierr.New(codes.DeadlineExceeded, apierr.ReasonDeadlineExceeded, op+": "+msgWaitDeadline, nil)
	case errors.Is(ctx.Err(), context.Canceled):
		return apierr.New(codes.Canceled, apierr.ReasonCanceled, op+": canceled by the caller", nil)
	}
	return apierr.New(codes.Unavailable, apierr.ReasonInternal, op+": shared state unavailable: "+err.Error(), nil)
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
			meta[apierr.MetaUpstreamStatus] = strconv.Itoa(uerr.StatusCode)
		}
		if n := len(uerr.RedactedBody); n > 0 && n <= apierr.MaxUpstreamBody {
			meta[apierr.MetaUpstreamBody] = string(uerr.RedactedBody)
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
		meta["outcome"] = apierr.OutcomeUnknown
	}

	switch {
	case errors.Is(err, upstream.ErrNoToken):
		return apierr.New(codes.Unauthenticated, apierr.ReasonMissingCredentials,
			msgNoCredentials, nil)
	case apierr.Stopping(ctx) && outcomeUnknown:
		return apierr.New(codes.Unavailable, apierr.ReasonUpstreamOutcomeUnknown,
			op+": "+msgStoppedOutcomeUnknown, meta)
	case apierr.Stopping(ctx):
		return apierr.New(codes.Unavailable, apierr.ReasonShuttingDown, op+": the server is stopping; nothing was applied: retry", meta)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		msg := op + ": " + msgDeadline
		if outcomeUnknown {
			msg += "; " + msgDeadlineOutcomeUnknown
		}
		return apierr.New(codes.DeadlineExceeded, apierr.ReasonDeadlineExceeded, msg, meta)
	case errors.Is(ctx.Err(), context.Canceled):
		return apierr.New(codes.Canceled, apierr.ReasonCanceled, op+": canceled by the caller", meta)
	case !hasUpstream:
		return apierr.New(codes.Internal, apierr.ReasonInternal, op+": internal error", meta)
	}

	msg := op + ": " + uerr.Error()
	switch uerr.Kind {
	case upstream.KindOutcomeUnknown:
		return apierr.New(codes.Unavailable, apierr.ReasonUpstreamOutcomeUnknown,
			op+": "+msgOutcomeUnknown, meta)
	case upstream.KindRateLimited:
		return rateLimited(msg, uerr, meta)
	case upstream.KindUnavailable:
		return apierr.New(codes.Unavailable, apierr.ReasonUpstreamUnavailable, msg, meta, retryInfo(uerr)...)
	case upstream.KindOverloaded:
		// Every upstream slot stayed busy: the overload is this server's and
		// transient, nothing was sent, so a retry is safe even for an update.
		// RESOURCE_EXHAUSTED stays reserved for Procore's own rate limit.
		return apierr.New(codes.Unavailable, apierr.ReasonOverloaded, msg, meta, retryInfo(uerr)...)
	case upstream.KindCircuitOpen:
		return apierr.New(codes.Unavailable, apierr.ReasonUpstreamCircuitOpen, msg, meta, retryInfo(uerr)...)
	case upstream.KindBadResponse:
		return apierr.New(codes.Internal, apierr.ReasonUpstreamBadResponse, msg, meta)
	case upstream.KindStatus:
		return fromStatus(msg, uerr, meta)
	default:
		return apierr.New(codes.Internal, apierr.ReasonInternal, msg, meta)
	}
}

// fromStatus maps Procore's HTTP status (numbers, not net/http's names:
// this package stays free of net/http).
func fromStatus(msg string, uerr *upstream.Error, meta map[string]string) error {
	switch code := uerr.StatusCode; {
	case code == 400:
		return apierr.New(codes.InvalidArgument, apierr.ReasonUpstreamBadRequest, msg, meta, fieldErrors(uerr))
	case code == 401:
		return apierr.New(codes.Unauthenticated, apierr.ReasonUpstreamUnauthenticated, msg, meta)
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
		return apierr.New(codes.PermissionDenied, apierr.ReasonUpstreamPermissionDenied, msg, meta)
	case code == 404:
		return apierr.New(codes.NotFound, apierr.ReasonUpstreamNotFound, msg, meta)
	case code == 409:
		return apierr.New(codes.Aborted, apierr.ReasonUpstreamConflict, msg, meta)
	case code == 422:
		return apierr.New(codes.InvalidArgument, apierr.ReasonUpstreamValidation, msg, meta, fieldErrors(uerr))
	case code == 429:
		return rateLimited(msg, uerr, meta)
	case code == 503, code == 502, code == 504:
		return apierr.New(codes.Unavailable, apierr.ReasonUpstreamUnavailable, msg, meta, retryInfo(uerr)...)
	case code >= 500:
		return apierr.New(codes.Internal, apierr.ReasonUpstreamInternal, msg, meta)
	case code >= 300 && code < 400:
		return apierr.New(codes.Internal, apierr.ReasonUpstreamRedirect,
			msg+": "+msgRedirect, meta)
	default:
		return apierr.New(codes.Unknown, apierr.ReasonUpstreamUnexpected, msg, meta)
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
	return apierr.New(codes.ResourceExhausted, apierr.ReasonUpstreamRateLimited, msg, meta, details...)
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
