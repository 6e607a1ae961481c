package server_test

import (
	"context"
	"net/http"
	"sync"
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

// TestRateLimitStormAbsorbedByPacing: more concurrent callers than the
// credential's spike budget (5 per 10s window). Without pacing, the first
// burst would draw a storm of 429s; with it, one probe learns the budget,
// the budget is spent without overshooting, and the rest wait for the next
// window (within their deadlines): every call succeeds, and Procore answers
// no 429 at all.
func TestRateLimitStormAbsorbedByPacing(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a 10s rate-limit window")
	}
	s := startStack(t, withOps(), withoutRateLimits(), withEmulator(procoretest.WithSpikeLimit(5)), withRequired(service.RequiredFieldsFill))
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	const callers = 8
	var wg sync.WaitGroup
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.client.GetCompanyUser(ctx, &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("caller %d: %v", i, err)
		}
	}
	reqs := apiRequests(s.emu)
	var tooMany int
	for _, r := range reqs {
		if r.Status == http.StatusTooManyRequests {
			tooMany++
		}
	}
	if tooMany != 0 || len(reqs) != callers {
		t.Fatalf("%d requests, %d answered 429; want %d and 0", len(reqs), tooMany, callers)
	}
}

// TestRateLimitWaitPastDeadlineFailsAtOnce: when the budget is spent until
// after the caller's deadline, the call fails at once with
// RESOURCE_EXHAUSTED and RetryInfo, and nothing is sent.
func TestRateLimitWaitPastDeadlineFailsAtOnce(t *testing.T) {
	s := startStack(t, withOps(), withoutRateLimits(), withEmulator(procoretest.WithSpikeLimit(1)), withRequired(service.RequiredFieldsFill))
	get := &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001}
	if _, err := s.client.GetCompanyUser(context.Background(), get); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := s.client.GetCompanyUser(ctx, get)
	st := status.Convert(err)
	var retry bool
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			retry = ri.GetRetryDelay().AsDuration() > 0
		}
	}
	if st.Code() != codes.ResourceExhausted || !retry {
		t.Fatalf("%v (RetryInfo %v)", err, retry)
	}
	if ctx.Err() != nil {
		t.Fatal("the call waited until its deadline instead of failing at once")
	}
	if n := len(apiRequests(s.emu)); n != 1 {
		t.Fatalf("%d API requests, want 1", n)
	}
}

// apiRequests are the emulator's logged requests to the API routes (not
// the token endpoint).
func apiRequests(emu *procoretest.Server) []procoretest.Request {
	var out []procoretest.Request
	for _, r := range emu.Requests() {
		if r.Path != "/oauth/token" {
			out = append(out, r)
		}
	}
	return out
}
