package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/upstream"
)

// TestErrorMapping covers every row of the service's error table.
func TestErrorMapping(t *testing.T) {
	rl := upstream.RateLimit{Known: true, Limit: 25, Remaining: 0, Reset: time.Unix(1_900_000_000, 0)}
	tests := []struct {
		name       string
		err        error
		code       codes.Code
		reason     string
		retryDelay time.Duration
		quota      bool
		violations []string
	}{
		{"400", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 400, Message: "Missing Procore-Company-Id header!"}, codes.InvalidArgument, apierr.ReasonUpstreamBadRequest, 0, false, []string{"user"}},
		{"400 field", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 400, FieldErrors: []upstream.FieldError{{Field: "last_name", Messages: []string{"can't be blank"}}}}, codes.InvalidArgument, apierr.ReasonUpstreamBadRequest, 0, false, []string{"user.last_name"}},
		{"401", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 401}, codes.Unauthenticated, apierr.ReasonUpstreamUnauthenticated, 0, false, nil},
		{"403", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 403}, codes.PermissionDenied, apierr.ReasonUpstreamPermissionDenied, 0, false, nil},
		{"404", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 404}, codes.NotFound, apierr.ReasonUpstreamNotFound, 0, false, nil},
		{"409", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 409}, codes.Aborted, apierr.ReasonUpstreamConflict, 0, false, nil},
		{"422", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 422, FieldErrors: []upstream.FieldError{
			{Field: "email_address", Messages: []string{"has already been taken"}},
			{Field: "state_code", Messages: []string{"is invalid", "is not a subdivision"}},
		}}, codes.InvalidArgument, apierr.ReasonUpstreamValidation, 0, false, []string{"user.email_address", "user.state_code", "user.state_code"}},
		{"429", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 429, RetryAfter: 7 * time.Second, RateLimit: rl}, codes.ResourceExhausted, apierr.ReasonUpstreamRateLimited, 7 * time.Second, true, nil},
		{"local rate limit", &upstream.Error{Kind: upstream.KindRateLimited, RetryAfter: 3 * time.Second, RateLimit: rl}, codes.ResourceExhausted, apierr.ReasonUpstreamRateLimited, 3 * time.Second, true, nil},
		{"500", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 500}, codes.Internal, apierr.ReasonUpstreamInternal, 0, false, nil},
		{"503", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 503, RetryAfter: 2 * time.Second}, codes.Unavailable, apierr.ReasonUpstreamUnavailable, 2 * time.Second, false, nil},
		{"502 on get", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 502}, codes.Unavailable, apierr.ReasonUpstreamUnavailable, 0, false, nil},
		{"outcome unknown", &upstream.Error{Kind: upstream.KindOutcomeUnknown, StatusCode: 504}, codes.Unavailable, apierr.ReasonUpstreamOutcomeUnknown, 0, false, nil},
		{"unreachable", &upstream.Error{Kind: upstream.KindUnavailable, Err: errors.New("dial tcp: connection refused")}, codes.Unavailable, apierr.ReasonUpstreamUnavailable, 0, false, nil},
		{"unreadable body", &upstream.Error{Kind: upstream.KindBadResponse, StatusCode: 200}, codes.Internal, apierr.ReasonUpstreamBadResponse, 0, false, nil},
		{"no token", fmt.Errorf("wrapped: %w", upstream.ErrNoToken), codes.Unauthenticated, apierr.ReasonMissingCredentials, 0, false, nil},
		{"unexpected 418", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 418}, codes.Unknown, apierr.ReasonUpstreamUnexpected, 0, false, nil},
		{"301", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 301}, codes.Internal, apierr.ReasonUpstreamRedirect, 0, false, nil},
		{"307", &upstream.Error{Kind: upstream.KindStatus, StatusCode: 307}, codes.Internal, apierr.ReasonUpstreamRedirect, 0, false, nil},
		{"not an upstream error", errors.New("boom"), codes.Internal, apierr.ReasonInternal, 0, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fromUpstream(context.Background(), "update company user", tt.err)
			st := status.Convert(err)
			if st.Code() != tt.code {
				t.Fatalf("code %v, want %v (%v)", st.Code(), tt.code, err)
			}
			var (
				reason     string
				retry      time.Duration
				quota      bool
				violations []string
			)
			for _, d := range st.Details() {
				switch d := d.(type) {
				case *errdetails.ErrorInfo:
					reason = d.GetReason()
					if d.GetDomain() != apierr.Domain {
						t.Errorf("domain %q", d.GetDomain())
					}
				case *errdetails.RetryInfo:
					retry = d.GetRetryDelay().AsDuration()
				case *errdetails.QuotaFailure:
					quota = len(d.GetViolations()) == 1
				case *errdetails.BadRequest:
					for _, v := range d.GetFieldViolations() {
						violations = append(violations, v.GetField())
					}
				}
			}
			if reason != tt.reason || retry != tt.retryDelay || quota != tt.quota || strings.Join(violations, ",") != strings.Join(tt.violations, ",") {
				t.Errorf("reason %q retry %v quota %v violations %q; want %q %v %v %q", reason, retry, quota, violations, tt.reason, tt.retryDelay, tt.quota, tt.violations)
			}
		})
	}
}

// TestCallerContextErrors: the caller's own deadline or cancellation wins
// over whatever the upstream error says.
func TestCallerContextErrors(t *testing.T) {
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	canceled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	uerr := &upstream.Error{Kind: upstream.KindOutcomeUnknown, Err: context.DeadlineExceeded}
	if c := status.Code(fromUpstream(expired, "op", uerr)); c != codes.DeadlineExceeded {
		t.Errorf("expired: %v", c)
	}
	if c := status.Code(fromUpstream(canceled, "op", uerr)); c != codes.Canceled {
		t.Errorf("canceled: %v", c)
	}
}
