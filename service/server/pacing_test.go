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

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

func TestRateLimitedCallerGetsRetryInfo(t *testing.T) {
	s := startStack(t, withoutRateLimits(), withRequired(service.RequiredFieldsMaskedOnly), withEmulator(procoretest.WithSpikeLimit(2)))
	get := &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001}
	var err error
	for range 4 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err = s.client.GetCompanyUser(ctx, get)
		cancel()
		if err != nil {
			break
		}
	}
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted {
		t.Fatalf("after the spike limit: %v", err)
	}
	var retry *errdetails.RetryInfo
	for _, d := range st.Details() {
		if r, ok := d.(*errdetails.RetryInfo); ok {
			retry = r
		}
	}
	if retry == nil || retry.GetRetryDelay().AsDuration() <= 0 || retry.GetRetryDelay().AsDuration() > 11*time.Second {
		// The spike window is 10 s; X-Rate-Limit-Reset has whole seconds.
		t.Errorf("RetryInfo %v", retry)
	}
	code, header, _ := s.do(t, http.MethodGet, "/v1/companies/8089/users/1001", "", "", "Grpc-Timeout", "1S")
	if code != http.StatusTooManyRequests || header.Get("Retry-After") == "" {
		t.Errorf("REST: %d Retry-After %q", code, header.Get("Retry-After"))
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
