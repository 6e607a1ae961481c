package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/upstream"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// fastRetries keeps retry backoff short so fault tests stay quick.
var fastRetries = upstream.WithBackoff(time.Millisecond, 5*time.Millisecond)

// TestFaults drives the whole stack against the emulator's fault injection
// and checks the caller's status, its error details and what went upstream.
// Every case ends with a goroutine-leak check (see withOps).
func TestFaults(t *testing.T) {
	get := func(s *stack, ctx context.Context) error {
		_, err := s.client.GetCompanyUser(ctx, &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001})
		return err
	}
	update := func(s *stack, ctx context.Context) error {
		_, err := s.client.UpdateCompanyUser(ctx, &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001,
			User:       &directoryv1.CompanyUser{JobTitle: ptr("Site Lead")},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}})
		return err
	}
	tests := []struct {
		name    string
		opts    []stackOption // besides withOps and fill
		setup   func(s *stack)
		call    func(s *stack, ctx context.Context) error
		timeout time.Duration
		// then, a second call (e.g. through the open breaker), if any
		then       func(s *stack, ctx context.Context) error
		wantCode   codes.Code
		wantReason string
		wantRetry  bool // RetryInfo expected
		wantSent   int  // API requests the emulator received; -1: not checked
	}{
		{
			name:  "latency past the deadline",
			setup: func(s *stack) { s.emu.SetFaults(procoretest.Faults{Latency: time.Minute}) },
			call:  get, timeout: 200 * time.Millisecond,
			wantCode: codes.DeadlineExceeded, wantReason: apierr.ReasonDeadlineExceeded, wantSent: -1,
		},
		{
			name: "burst of 503s is retried, then UNAVAILABLE",
			opts: []stackOption{withUpstreamOptions(fastRetries)},
			setup: func(s *stack) {
				for range 4 {
					s.emu.Script(procoretest.FaultStatus(http.StatusServiceUnavailable, "text/plain", "busy", nil))
				}
			},
			call:     get,
			wantCode: codes.Unavailable, wantReason: apierr.ReasonUpstreamUnavailable, wantSent: 4,
		},
		{
			name: "sustained 5xx opens the breaker: fail fast with RetryInfo",
			opts: []stackOption{withUpstreamOptions(fastRetries, upstream.WithCircuitBreaker(upstream.BreakerConfig{ConsecutiveFailures: 4, OpenTimeout: time.Hour}))},
			setup: func(s *stack) {
				s.emu.SetFaults(procoretest.Faults{ErrorRate: 1, ErrorStatus: http.StatusBadGateway})
			},
			call:     get,
			then:     get,
			wantCode: codes.Unavailable, wantReason: apierr.ReasonUpstreamCircuitOpen, wantRetry: true, wantSent: 4,
		},
		{
			name: "breaker probes and recovers on its own",
			opts: []stackOption{withUpstreamOptions(fastRetries, upstream.WithCircuitBreaker(upstream.BreakerConfig{ConsecutiveFailures: 4, OpenTimeout: time.Nanosecond}))},
			setup: func(s *stack) {
				for range 4 {
					s.emu.Script(procoretest.FaultStatus(http.StatusServiceUnavailable, "text/plain", "busy", nil))
				}
			},
			call:     get,
			then:     get,
			wantCode: codes.OK, wantSent: 5,
		},
		{
			name:     "dropped connections are retried for a read",
			opts:     []stackOption{withUpstreamOptions(fastRetries)},
			setup:    func(s *stack) { s.emu.Script(procoretest.FaultDropBeforeBody(), procoretest.FaultDropBeforeBody()) },
			call:     get,
			wantCode: codes.OK, wantSent: 3,
		},
		{
			name:     "connections always dropped: UNAVAILABLE",
			opts:     []stackOption{withUpstreamOptions(fastRetries)},
			setup:    func(s *stack) { s.emu.SetFaults(procoretest.Faults{DropRate: 1}) },
			call:     get,
			wantCode: codes.Unavailable, wantReason: apierr.ReasonUpstreamUnavailable, wantSent: 4,
		},
		{
			name:     "update dropped after being applied: not replayed, read back, OK",
			opts:     []stackOption{withRequired(service.RequiredFieldsMaskedOnly), withEmulator(procoretest.WithPartialBodies(true))},
			setup:    func(s *stack) { s.emu.Script(procoretest.FaultDropAfterApply()) },
			call:     update,
			wantCode: codes.OK, wantSent: 2,
		},
		{
			name: "update dropped after being applied, read-back fails: outcome unknown",
			opts: []stackOption{withRequired(service.RequiredFieldsMaskedOnly), withEmulator(procoretest.WithPartialBodies(true))},
			setup: func(s *stack) {
				s.emu.Script(procoretest.FaultDropAfterApply(), procoretest.FaultStatus(404, "application/json", `{"errors":"Not Found"}`, nil))
			},
			call:     update,
			wantCode: codes.Unavailable, wantReason: apierr.ReasonUpstreamOutcomeUnknown, wantSent: 2,
		},
		{
			name:     "502 after apply: read back, OK",
			opts:     []stackOption{withRequired(service.RequiredFieldsMaskedOnly), withEmulator(procoretest.WithPartialBodies(true))},
			setup:    func(s *stack) { s.emu.Script(procoretest.FaultApplyThenStatus(502)) },
			call:     update,
			wantCode: codes.OK, wantSent: 2,
		},
		{
			name:     "malformed body on a read is retried",
			opts:     []stackOption{withUpstreamOptions(fastRetries)},
			setup:    func(s *stack) { s.emu.Script(procoretest.FaultMalformed()) },
			call:     get,
			wantCode: codes.OK, wantSent: 2,
		},
		{
			name:     "malformed bodies throughout: INTERNAL bad response",
			opts:     []stackOption{withUpstreamOptions(fastRetries)},
			setup:    func(s *stack) { s.emu.SetFaults(procoretest.Faults{MalformedRate: 1}) },
			call:     get,
			wantCode: codes.Internal, wantReason: apierr.ReasonUpstreamBadResponse, wantSent: 4,
		},
		{
			name:     "malformed body on an update: read back, OK",
			opts:     []stackOption{withRequired(service.RequiredFieldsMaskedOnly), withEmulator(procoretest.WithPartialBodies(true))},
			setup:    func(s *stack) { s.emu.Script(procoretest.FaultMalformed()) },
			call:     update,
			wantCode: codes.OK, wantSent: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startStack(t, append([]stackOption{withOps(), withRequired(service.RequiredFieldsFill)}, tt.opts...)...)
			tt.setup(s)
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 20 * time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			err := tt.call(s, ctx)
			if tt.then != nil {
				err = tt.then(s, ctx)
			}
			st := status.Convert(err)
			if st.Code() != tt.wantCode {
				t.Fatalf("code %v, want %v: %v", st.Code(), tt.wantCode, err)
			}
			var reason string
			var retry bool
			for _, d := range st.Details() {
				switch d := d.(type) {
				case *errdetails.ErrorInfo:
					reason = d.GetReason()
				case *errdetails.RetryInfo:
					retry = d.GetRetryDelay().AsDuration() > 0
				}
			}
			if tt.wantCode == codes.DeadlineExceeded && reason == "" {
				// The caller's own gRPC deadline fired before the server's
				// answer arrived: that is the promptness wanted.
				reason = tt.wantReason
			}
			if reason != tt.wantReason || retry != tt.wantRetry {
				t.Fatalf("reason %q retry %v, want %q %v: %v", reason, retry, tt.wantReason, tt.wantRetry, err)
			}
			if tt.wantSent >= 0 {
				if n := len(apiRequests(s.emu)); n != tt.wantSent {
					t.Fatalf("emulator received %d API requests, want %d", n, tt.wantSent)
				}
			}
		})
	}
}

func TestUpstreamFailures(t *testing.T) {
	update := &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001,
		User: &directoryv1.CompanyUser{LastName: ptr("Okafor"), EmailAddress: ptr(mariaEmail), City: ptr("Bend")}}
	tests := []struct {
		name        string
		faults      []procoretest.Fault
		wantCode    codes.Code
		wantReason  string
		wantPatches int
	}{
		{"503 is retried", []procoretest.Fault{procoretest.FaultStatus(503, "text/plain", "busy", http.Header{"Retry-After": {"0"}})}, codes.OK, "", 2},
		{"429 is retried", []procoretest.Fault{procoretest.FaultStatus(429, "text/plain", "You have surpassed the max number of requests for an hour. Please wait until your limit resets.", http.Header{"Retry-After": {"0"}})}, codes.OK, "", 2},
		{"502 is not replayed; read back: not applied", []procoretest.Fault{procoretest.FaultStatus(502, "text/html", "<html>bad gateway</html>", nil)}, codes.Aborted, apierr.ReasonUpstreamNotApplied, 1},
		{"dropped after apply is not replayed; read back: applied", []procoretest.Fault{procoretest.FaultDropAfterApply()}, codes.OK, "", 1},
		{"500 is not replayed; read back: not applied", []procoretest.Fault{procoretest.FaultStatus(500, "", "", nil)}, codes.Aborted, apierr.ReasonUpstreamNotApplied, 1},
		{"500 after apply; read back: applied", []procoretest.Fault{procoretest.FaultApplyThenStatus(500)}, codes.OK, "", 1},
		{"malformed 200; read back: applied", []procoretest.Fault{procoretest.FaultMalformed()}, codes.OK, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startStack(t, withoutRateLimits(), withRequired(service.RequiredFieldsMaskedOnly))
			s.emu.Script(tt.faults...)
			_, err := s.client.UpdateCompanyUser(context.Background(), update)
			st := status.Convert(err)
			if st.Code() != tt.wantCode {
				t.Fatalf("code %v (%v), want %v", st.Code(), err, tt.wantCode)
			}
			if tt.wantReason != "" {
				var reason string
				for _, d := range st.Details() {
					if info, ok := d.(*errdetails.ErrorInfo); ok {
						reason = info.GetReason()
					}
				}
				if reason != tt.wantReason {
					t.Errorf("reason %q, want %q", reason, tt.wantReason)
				}
			}
			if got := len(s.patches(t)); got != tt.wantPatches {
				t.Errorf("%d PATCHes reached Procore, want %d", got, tt.wantPatches)
			}
		})
	}
}
