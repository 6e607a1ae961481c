package server_test

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/server"
	"github.com/procore-directory/procore-directory/upstream"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// sentPatch is an http.RoundTripper that reports when a PATCH has gone out,
// so a test can stop the server with the PATCH in flight, not before.
type sentPatch struct {
	once sync.Once
	sent chan struct{}
}

func (s *sentPatch) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPatch {
		r = r.WithContext(httptrace.WithClientTrace(r.Context(), &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) { s.once.Do(func() { close(s.sent) }) },
		}))
	}
	return http.DefaultTransport.RoundTrip(r)
}

// probedStack is a stack whose upstream client reports its first PATCH.
func probedStack(t *testing.T) (*stack, *sentPatch) {
	t.Helper()
	probe := &sentPatch{sent: make(chan struct{})}
	s := startStack(t, withoutRateLimits(), withEmulator(procoretest.WithPartialBodies(true)),
		withRequired(service.RequiredFieldsMaskedOnly),
		withUpstreamOptions(upstream.WithHTTPClient(&http.Client{Transport: probe})),
		withConfig(func(cfg *server.Config) { cfg.StopAnswerGrace = 2 * time.Second }))
	return s, probe
}

// TestShutdownNeverMisinforms: at Shutdown, health is NOT_SERVING and no
// new call is admitted at once; a call whose PATCH is in flight at the
// deadline is answered UNAVAILABLE with UPSTREAM_OUTCOME_UNKNOWN through
// its open transport (never a bare EOF); the emulator confirms the write
// may indeed land late.
func TestShutdownNeverMisinforms(t *testing.T) {
	s, probe := probedStack(t)
	health := healthpb.NewHealthClient(dialBufconn(t, s.srv))

	s.emu.Script(procoretest.FaultStall(time.Second))
	type result struct {
		err error
	}
	res := make(chan result, 1)
	go func() {
		_, err := s.client.UpdateCompanyUser(context.Background(), &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001,
			User: &directoryv1.CompanyUser{JobTitle: proto.String("In flight")}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}})
		res <- result{err}
	}()
	<-probe.sent

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	stopped := make(chan bool, 1)
	go func() { stopped <- s.srv.Shutdown(ctx) }()

	r := <-res
	st := status.Convert(r.err)
	if st.Code() != codes.Unavailable || reasonOf(st) != apierr.ReasonUpstreamOutcomeUnknown {
		t.Fatalf("in flight at the deadline: %v (reason %q), want UNAVAILABLE UPSTREAM_OUTCOME_UNKNOWN", r.err, reasonOf(st))
	}
	if drained := <-stopped; drained {
		t.Error("drained = true although a call was cancelled")
	}
	if hc, err := health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: directoryv1.DirectoryService_ServiceDesc.ServiceName}); err == nil && hc.GetStatus() == healthpb.HealthCheckResponse_SERVING {
		t.Error("health SERVING after Shutdown")
	}
	s.emu.WaitStalls()
}

// TestStopGateRefusesNewCalls: once Shutdown has begun, a DirectoryService
// call on a connection that is still open (the in-process channel here,
// as a keep-alive HTTP connection would be) gets UNAVAILABLE SHUTTING_DOWN,
// and nothing reaches Procore.
func TestStopGateRefusesNewCalls(t *testing.T) {
	s, probe := probedStack(t)
	s.emu.Script(procoretest.FaultStall(300 * time.Millisecond))
	res := make(chan error, 1)
	go func() {
		_, err := s.client.UpdateCompanyUser(context.Background(), &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001,
			User: &directoryv1.CompanyUser{JobTitle: proto.String("Drains")}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}})
		res <- err
	}()
	<-probe.sent // the stalled call holds the server open while the gate is tested
	stopped := make(chan bool, 1)
	go func() { stopped <- s.srv.Shutdown(context.Background()) }()
	client := directoryv1.NewDirectoryServiceClient(s.srv.InProcess())
	var err error
	for {
		_, err = client.GetCompanyUser(context.Background(), &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001})
		if status.Code(err) != codes.OK {
			break
		}
	}
	if st := status.Convert(err); st.Code() != codes.Unavailable {
		t.Fatalf("after Shutdown: %v, want UNAVAILABLE", err)
	}
	if err := <-res; err != nil {
		t.Fatalf("the call in flight did not get its answer: %v", err)
	}
	if !<-stopped {
		t.Error("not drained although the call in flight finished")
	}
}
